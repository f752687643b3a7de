/**
 * The A/B roll-out in Cadence Send, inside n8n-core's real ExecuteContext with a real SMTP server on loopback: the
 * sample send mails only the sample, each contact with its variant; the roll-out mails the rest with the winner;
 * nobody is mailed twice or gets two variants; held-back contacts take no place under the day's caps; and the Decide
 * A/B Winner operation turns the store's events into the decision event the roll-out reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { IDataObject, INode } from 'n8n-workflow';
import pg from 'pg';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { formatAbDecision, inAbSample } from '../../core/abRollout';
import { chooseVariant } from '../../core/tracker';
import { runNode } from '../helpers/n8n';
import { postgresBinDir } from '../helpers/postgres';
import { runTemplateQuery, usePostgresStore } from '../helpers/postgresStore';
import { sinkSmtpCredential, trackingCredential } from '../helpers/sendNode';
import { useSmtpSink } from '../helpers/smtpSinkHooks';

const node = new CadenceSend();
const TZ = 'Europe/Berlin';
const CAMPAIGN = 'spring';

const sink = useSmtpSink();

const credentials = () => ({
	cadenceSmtpApi: sinkSmtpCredential(sink()),
	cadenceTrackingApi: trackingCredential('https://track.example.com/webhook/abc123/t', 'ab-test-secret-0123456789abcdef'),
});

const variants = {
	variant: [
		{ name: 'A', subject: 'Subject A' },
		{ name: 'B', subject: 'Subject B' },
	],
};
const params = (abRollout: IDataObject, extra: IDataObject = {}) => ({
	subject: 'Base subject',
	html: '<p>Hi</p><a href="[[unsubscribeUrl]]">unsubscribe</a>',
	campaign: CAMPAIGN,
	variants,
	abRollout,
	options: { companyDailyCap: 0 },
	...extra,
});
/** One contact per company, so no cap holds anyone back. */
const people = (n: number) => Array.from({ length: n }, (_, i) => ({ email: `p${i}@c${i}.example` }));
const send = (items: IDataObject[], parameters: IDataObject) => runNode(node, { parameters, items, credentials: credentials(), timezone: TZ });
const subjectOf = (raw: Buffer) => /^Subject: (.*)$/m.exec(raw.toString('utf8'))?.[1]?.trim();
const mailed = () => new Map(sink().messages.map((m) => [m.rcptTo[0], subjectOf(m.raw)]));

describe('A/B roll-out in Send', () => {
	const batch = people(120);
	const sampled = new Set(batch.filter((p) => inAbSample(p.email, CAMPAIGN, 20)).map((p) => p.email));

	it('the sample send mails only the sample, each with its variant; the others are skipped as hold-outs', async () => {
		expect(sampled.size).toBeGreaterThan(10);
		expect(sampled.size).toBeLessThan(40);
		const { json } = await send(batch, params({ phase: 'sample', samplePercent: 20 }));
		const sent = json.filter((e) => e.type === 'sent');
		expect(new Set(sent.map((e) => e.email))).toEqual(sampled);
		for (const e of json.filter((x) => x.type !== 'sent')) expect(e).toMatchObject({ type: 'skipped', reason: 'ab-holdout' });
		const got = mailed();
		expect(new Set(got.keys())).toEqual(sampled);
		for (const [to, subject] of got) expect(subject).toBe(`Subject ${chooseVariant(to, CAMPAIGN, ['A', 'B'])}`);
		expect(new Set(sent.map((e) => e.variant))).toEqual(new Set(['A', 'B']));
	});

	it('the roll-out mails the rest with the winner and skips the sample; nobody is mailed twice or gets two variants', async () => {
		await send(batch, params({ phase: 'sample' }));
		const first = mailed();
		sink().messages.length = 0;
		const { json } = await send(batch, params({ phase: 'rollout', winnerVariant: 'B' }));
		const rest = mailed();
		expect(rest.size).toBe(batch.length - sampled.size);
		for (const to of rest.keys()) expect(first.has(to)).toBe(false);
		for (const subject of rest.values()) expect(subject).toBe('Subject B');
		expect(new Set([...first.keys(), ...rest.keys()]).size).toBe(batch.length);
		for (const e of json) {
			if (sampled.has(String(e.email))) expect(e).toMatchObject({ type: 'skipped', reason: 'ab-sample' });
			else expect(e).toMatchObject({ type: 'sent', variant: 'B' });
		}
	});

	it('takes the decision event itself as the winner, and without a winner the rest keeps its own variants', async () => {
		await send(batch, params({ phase: 'rollout', winnerVariant: { type: 'ab_decided', winner: 'A' } }));
		expect(new Set(mailed().values())).toEqual(new Set(['Subject A']));
		sink().messages.length = 0;
		await send(batch, params({ phase: 'rollout', winnerVariant: '' }));
		const rest = mailed();
		expect(new Set(rest.values())).toEqual(new Set(['Subject A', 'Subject B']));
		for (const [to, subject] of rest) expect(subject).toBe(`Subject ${chooseVariant(to, CAMPAIGN, ['A', 'B'])}`);
	});

	it('a winner that is not a variant, or a bad percent, fails the node before anything is sent', async () => {
		await expect(send(batch, params({ phase: 'rollout', winnerVariant: 'C' }))).rejects.toThrow(
			/The winner "C" is not one of the A\/B variants \(A, B\)/,
		);
		await expect(send(batch, params({ phase: 'sample', samplePercent: 120 }))).rejects.toThrow(/from 0 to 100/);
		expect(sink().messages).toHaveLength(0);
	});

	it('hold-outs take no place under the day’s caps', async () => {
		const one = Array.from({ length: 60 }, (_, i) => ({ email: `q${i}@one.example` }));
		const inSample = one.filter((p) => inAbSample(p.email, CAMPAIGN, 20)).length;
		const { json } = await send(one, params({ phase: 'sample' }, { options: { companyDailyCap: inSample } }));
		expect(json.filter((e) => e.type === 'sent')).toHaveLength(inSample);
		expect(json.filter((e) => e.reason === 'company-cap')).toHaveLength(0);
	});

	it('with content per language, the roll-out sends the winner’s entry', async () => {
		const contentEntries = {
			entry: [
				{ language: 'English', variant: 'A', subject: 'English A', html: '<p>A</p><a href="[[unsubscribeUrl]]">u</a>' },
				{ language: 'English', variant: 'B', subject: 'English B', html: '<p>B</p><a href="[[unsubscribeUrl]]">u</a>' },
			],
		};
		const items = batch.map((p) => ({ ...p, language: 'English' }));
		const { json } = await send(items, params({ phase: 'rollout', winnerVariant: 'B' }, { content: 'perLanguage', contentEntries }));
		expect(new Set(mailed().values())).toEqual(new Set(['English B']));
		expect(json.filter((e) => e.type === 'sent').every((e) => e.variant === 'B')).toBe(true);
	});

	it('with content per language, a group without the winner is skipped and one without variants gets its base', async () => {
		const u = '<a href="[[unsubscribeUrl]]">u</a>';
		const contentEntries = {
			entry: [
				{ language: 'English', variant: 'A', subject: 'English A', html: `<p>A</p>${u}` },
				{ language: 'English', variant: 'b', subject: 'English b', html: `<p>b</p>${u}` },
				{ language: 'French', variant: 'A', subject: 'French A', html: `<p>A</p>${u}` },
				{ language: 'German', subject: 'German', html: `<p>G</p>${u}` },
			],
		};
		const langs = ['English', 'French', 'German'];
		const items = batch.map((p, i) => ({ ...p, language: langs[i % 3] }));
		const { json } = await send(items, params({ phase: 'rollout', winnerVariant: 'B' }, { content: 'perLanguage', contentEntries }));
		for (const e of json) {
			if (sampled.has(String(e.email))) continue;
			const lang = langs[batch.findIndex((p) => p.email === e.email) % 3];
			if (lang === 'French') expect(e).toMatchObject({ type: 'skipped', reason: 'ab-no-winner-content' });
			else expect(e).toMatchObject({ type: 'sent', variant: lang === 'English' ? 'b' : '' });
		}
		expect(new Set(mailed().values())).toEqual(new Set(['English b', 'German']));
	});
});

describe('Decide A/B Winner', () => {
	const decide = (events: IDataObject[], extra: IDataObject = {}) =>
		runNode(node, {
			parameters: { operation: 'decideAbWinner', abCampaign: CAMPAIGN, abVariants: 'A, B', abOptions: { minSample: 20 }, ...extra },
			items: events,
			timezone: TZ,
		});

	it('from the sample’s events and the clicks, outputs one ab_decided event the roll-out reads', async () => {
		const batch = people(300);
		const { json: events } = await send(batch, params({ phase: 'sample', samplePercent: 50 }));
		const sent = events.filter((e) => e.type === 'sent');
		// Data-table rows: the event id in eventId, the row id in id; B is clicked far more often
		const rows: IDataObject[] = events.map((e, k) => ({ ...e, eventId: e.id, id: k + 1 }));
		sent.forEach((e, k) => {
			if (e.variant === 'B' ? k % 2 === 0 : k % 12 === 0)
				rows.push({
					id: 1000 + k,
					eventId: `click-${k}`,
					type: 'clicked',
					class: 'human',
					at: new Date().toISOString(),
					email: e.email,
					campaign: CAMPAIGN,
					variant: e.variant,
					token: e.token,
				});
		});
		const { json } = await decide(rows);
		expect(json).toHaveLength(1);
		expect(json[0]).toMatchObject({ type: 'ab_decided', campaign: CAMPAIGN, winner: 'B', variant: 'B', decided: true, significant: true });
		expect(String(json[0].reason)).toMatch(/^B wins on clickRate/);

		sink().messages.length = 0;
		await send(batch, params({ phase: 'rollout', samplePercent: 50, winnerVariant: json[0].winner as string }));
		expect(new Set(mailed().values())).toEqual(new Set(['Subject B']));
		expect(sink().messages).toHaveLength(batch.length - sent.length);
	});

	it('keep testing: no winner yet, decided false', async () => {
		const { json } = await decide([], { abNoWinner: 'keepTesting' });
		expect(json[0]).toMatchObject({ type: 'ab_decided', winner: null, variant: '', decided: false });
		const byDefault = await decide([], { abDefaultVariant: 'A' });
		expect(byDefault.json[0]).toMatchObject({ winner: 'A', decided: true, significant: false });
	});

	it('a row that is not an event fails the node naming the item', async () => {
		await expect(decide([{ type: 'teleported', at: new Date().toISOString() }])).rejects.toThrow(/Input item 1: unknown event type "teleported"/);
		await expect(decide([], { abCampaign: ' ' })).rejects.toThrow(/Set the Campaign/);
	});
});

describe('template 11 as shipped: its sends and its decision, run by n8n', () => {
	type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
	const nodeParams = (store: string, name: string): IDataObject => {
		const wf = JSON.parse(readFileSync(join(__dirname, '..', '..', 'workflows', store, '11-ab-rollout.json'), 'utf8')) as Json;
		const parameters = { ...wf.nodes.find((n: Json) => n.name === name).parameters } as IDataObject;
		delete parameters.senderStatus; // reads another node's output
		delete parameters.sendLedger; // needs the Postgres store
		return parameters;
	};
	const items = people(80).map((p) => ({ ...p, company: 'Customer', dueTag: 'English-Equipment Dealers-Marketing09' }));
	const campaign = () => `ab-${DateTime.now().setZone(TZ).toFormat('yyyy-MM')}`;

	for (const store of ['', 'postgres']) {
		it(`${store || 'data tables'}: the sample send, then the roll-out with the winner, mail everyone once`, async () => {
			const { json: sample } = await send(items, nodeParams(store, 'Sample send'));
			const first = mailed();
			expect(first.size).toBe(items.filter((p) => inAbSample(p.email, campaign(), 20)).length);
			expect(sample.filter((e) => e.reason === 'ab-holdout')).toHaveLength(items.length - first.size);
			sink().messages.length = 0;
			const rollout = nodeParams(store, 'Roll-out send');
			(rollout.abRollout as IDataObject).winnerVariant = 'B'; // the template reads it from the decision
			await send(items, rollout);
			const rest = mailed();
			expect(rest.size + first.size).toBe(items.length);
			expect(new Set(rest.values())).toEqual(new Set(['Dealer prices on spare parts for Customer']));
		});

		it(`${store || 'data tables'}: the decision node reads the month's campaign`, async () => {
			const { json: sample } = await send(items, { ...nodeParams(store, 'Sample send'), abRollout: { phase: 'all' } });
			const { json } = await runNode(node, { parameters: nodeParams(store, 'Decide A/B winner'), items: sample, timezone: TZ });
			expect(json[0]).toMatchObject({ type: 'ab_decided', campaign: campaign(), winner: 'A', decided: true, significant: false });
			expect(String(json[0].reason)).toMatch(/too small/);
		});
	}
});

const noPostgres = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (noPostgres && process.env.CI) throw new Error(`template SQL tests are mandatory under CI: ${noPostgres}`);

describe.skipIf(Boolean(noPostgres))('template 11 on Postgres: the sample saved, read back, decided, the decision saved', () => {
	type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
	const wf = JSON.parse(readFileSync(join(__dirname, '..', '..', 'workflows', 'postgres', '11-ab-rollout.json'), 'utf8')) as Json;
	const nodeOf = (name: string): Json => wf.nodes.find((n: Json) => n.name === name);
	let db: pg.Pool;
	usePostgresStore('cadence_ab', 2, async (store) => {
		db = store.db;
		await db.query(readFileSync(join(__dirname, '..', '..', 'workflows', 'postgres', 'schema.sql'), 'utf8'));
	});

	const run = (name: string, items: IDataObject[]): Promise<Json[]> => runTemplateQuery(db, nodeOf(name) as unknown as INode, items, TZ);

	it('B, clicked five times as often, wins; the decision row holds the winner and the reason', async () => {
		const campaign = `ab-${DateTime.now().setZone(TZ).toFormat('yyyy-MM')}`;
		const events: IDataObject[] = [];
		for (const v of ['A', 'B'])
			for (let i = 0; i < 300; i++) {
				const base = { email: `${v}${i}@x.example`, campaign, variant: v, token: `${v}-${i}` };
				events.push({ ...base, id: `s-${v}-${i}`, type: 'sent', at: new Date().toISOString() });
				if (i % (v === 'A' ? 30 : 6) === 0)
					events.push({ ...base, id: `c-${v}-${i}`, type: 'clicked', class: 'human', at: new Date().toISOString() });
			}
		events.push({ id: 'other', type: 'sent', at: new Date().toISOString(), email: 'z@x.example', campaign: 'another', variant: 'A', token: 'z' });
		await run('Save decision', events); // the same SQL as Save events and lastSentAt
		const stored = await run('Campaign events', [{}]);
		expect(stored).toHaveLength(events.length - 1);
		const { json } = await runNode(node, { parameters: nodeOf('Decide A/B winner').parameters, items: stored, timezone: TZ });
		expect(json[0]).toMatchObject({ type: 'ab_decided', winner: 'B', decided: true });
		await run('Save decision', json);
		await run('Save decision', json); // a second run the same day stores it once
		const rows = (await db.query(`SELECT campaign, variant, reason FROM events WHERE type = 'ab_decided'`)).rows;
		expect(rows).toEqual([{ campaign, variant: 'B', reason: json[0].reason }]);
		expect(formatAbDecision(rows[0])).toMatch(new RegExp(`^A/B decision: campaign ${campaign}, winner B \\(B wins on clickRate`));
	}, 60_000);
});
