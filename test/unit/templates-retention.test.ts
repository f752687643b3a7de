/**
 * Retention and erasure as templates 9 (purge old events) and 10 (erase a person) ship them, in both stores: the
 * pseudonym rule (core/erasure.ts) and the templates' own Crypto and Set nodes, run as n8n runs them, agree; static
 * checks on the JSON (what the purge spares, what the erasure touches); and the Postgres templates' SQL run against a
 * real PostgreSQL with the query parameters n8n would build: after an erasure the address is in no text column of any
 * table, another person is untouched, and the figures over the events are the same.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { IDataObject, INode } from 'n8n-workflow';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
	ERASED_PREFIX,
	ERASURE_HASH_HEX_CHARS,
	RETENTION_DEFAULT_DAYS,
	RETENTION_KEPT_TYPES,
	RETENTION_MIN_DAYS,
	erasedMessageRef,
	erasurePseudonym,
} from '../../core/erasure';
import { computeMetrics } from '../../core/metrics';
// @ts-expect-error: plain ESM script without type declarations
import { DATA_TABLES } from '../../scripts/cadence-setup.mjs';
import { runNode } from '../helpers/n8n';
import { baseNodeVersions } from '../helpers/baseNodeVersions';
import { postgresBinDir } from '../helpers/postgres';
import { runTemplateQuery, usePostgresStore } from '../helpers/postgresStore';
import { evaluateAfter } from '../helpers/templateExpressions';
import { node as nodeOf, stickyNotes } from '../helpers/templates';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ROOT = join(__dirname, '..', '..');
const WORKFLOWS = join(ROOT, 'workflows');
const STORES = ['', 'postgres'] as const;
const SECRET = 'test-erasure-secret-0123456789';

const load = (dir: string, file: string): Json => JSON.parse(readFileSync(join(WORKFLOWS, dir, file), 'utf8'));
const targets = (wf: Json, from: string): string[] => (wf.connections[from]?.main?.[0] ?? []).map((c: Json) => c.node);

// n8n's own Crypto and Set nodes from the pinned runtime, run in a real ExecuteContext
const versioned = baseNodeVersions();
const CRYPTO = versioned('./dist/nodes/Crypto/Crypto.node.js', 'Crypto', 2);
const SET = versioned('./dist/nodes/Set/Set.node.js', 'Set', 3.4);

/** The template's form → Pseudonym (Crypto HMAC) → Erased person (Set), as n8n runs them. */
async function erasedPerson(dir: string, form: IDataObject, secret = SECRET): Promise<IDataObject> {
	const wf = load(dir, '10-erase-person.json');
	const hmac = nodeOf(wf, 'Pseudonym');
	const crypto = await runNode(CRYPTO, {
		parameters: hmac.parameters,
		items: [form],
		credentials: { crypto: { hmacSecret: secret } },
		typeVersion: 2,
	});
	const person = await runNode(SET, { parameters: nodeOf(wf, 'Erased person').parameters, items: crypto.json, typeVersion: 3.4 });
	expect(person.json).toHaveLength(1);
	return person.json[0];
}

describe('the erasure pseudonym', () => {
	const address = fc
		.tuple(fc.stringMatching(/^[a-z0-9._+-]{1,20}$/), fc.stringMatching(/^[a-z0-9-]{1,15}\.[a-z]{2,6}$/))
		.map(([local, host]) => `${local}@${host}`);

	it('is stable, ignores case and spaces, is keyed by the secret, and never contains the address', () => {
		fc.assert(
			fc.property(address, fc.string({ minLength: 16, maxLength: 40 }), fc.string({ minLength: 16, maxLength: 40 }), (email, s1, s2) => {
				const p = erasurePseudonym(email, s1);
				expect(p).toMatch(new RegExp(`^${ERASED_PREFIX}[0-9a-f]{${ERASURE_HASH_HEX_CHARS}}$`));
				expect(erasurePseudonym(`  ${email.toUpperCase()} `, s1)).toBe(p);
				expect(p).not.toContain(email);
				expect(p).not.toContain(email.split('@')[1]);
				if (s1 !== s2) expect(erasurePseudonym(email, s2)).not.toBe(p);
			}),
			{ numRuns: 100 },
		);
	});

	it('cannot be matched by hashing guessed addresses without the secret; with it, it can', () => {
		const target = erasurePseudonym('anna.berg@dealer.example', SECRET);
		const guesses = ['anna.berg@dealer.example', 'Anna.Berg@dealer.example', 'anna@dealer.example', 'a.berg@dealer.example'];
		const unkeyed = guesses.flatMap((g) => [
			ERASED_PREFIX + createHash('sha256').update(g.toLowerCase()).digest('hex').slice(0, ERASURE_HASH_HEX_CHARS),
			ERASED_PREFIX + createHmac('sha256', '').update(g.toLowerCase()).digest('hex').slice(0, ERASURE_HASH_HEX_CHARS),
			erasurePseudonym(g, 'a-different-secret-of-length'),
		]);
		expect(unkeyed).not.toContain(target);
		expect(guesses.map((g) => erasurePseudonym(g, SECRET))).toContain(target);
	});

	it('refuses what is not an address, and a short secret', () => {
		expect(() => erasurePseudonym('not-an-address', SECRET)).toThrow(/email address/);
		expect(() => erasurePseudonym('a@b.test', 'short')).toThrow(/at least 16/);
	});

	it('a token or Message-ID becomes a stable hash; empty stays empty', () => {
		expect(erasedMessageRef('')).toBe('');
		expect(erasedMessageRef('<tok@x>')).toBe(erasedMessageRef('<tok@x>'));
		expect(erasedMessageRef('<tok@x>')).not.toBe(erasedMessageRef('<tok@y>'));
		expect(erasedMessageRef('<tok@x>')).toMatch(/^erased-[0-9a-f]{24}$/);
	});

	for (const dir of STORES) {
		it(`${dir || 'data tables'}: the template’s Crypto and Set nodes compute the same pseudonym, and keep the address out of who asked`, async () => {
			const person = await erasedPerson(dir, {
				Email: ' Anna.Berg@Dealer.Example ',
				'Asked by': 'Anna.Berg@dealer.example herself',
				Reference: 'DSR-7',
			});
			expect(person.pseudonym).toBe(erasurePseudonym('anna.berg@dealer.example', SECRET));
			expect(person.email).toBe('anna.berg@dealer.example');
			expect(person.by).toBe(`${person.pseudonym} herself`);
			expect(person.reference).toBe('DSR-7');
			expect(String(person.auditId).startsWith(String(person.pseudonym))).toBe(true);
			const other = await erasedPerson(dir, { Email: 'anna.berg@dealer.example', 'Asked by': 'x', Reference: 'y' }, 'another-secret-0123456789');
			expect(other.pseudonym).not.toBe(person.pseudonym);
		});
	}
});

/** A Data table column expression of template 10 evaluated by n8n for one input item, with `Erased person` having produced `person`. */
const evaluateWithPerson = (value: string, input: IDataObject, person: IDataObject): unknown =>
	evaluateAfter({ name: 'erase' }, { name: 'Erased person', type: 'n8n-nodes-base.set', json: person }, 'Column', value, input);

describe('data tables: template 10 anonymises an event as the Postgres SQL does', () => {
	it('the hashed token and Message-ID, the pseudonym, no link, the address out of the reason; an empty token stays empty', async () => {
		const wf = load('', '10-erase-person.json');
		const person = await erasedPerson('', { Email: 'Anna@Dealer.Example', 'Asked by': 'Anna', Reference: 'R1' });
		const columns = nodeOf(wf, 'Anonymise event').parameters.columns.value as Record<string, string>;
		const rows = [
			{ id: 7, type: 'bounced', email: 'anna@dealer.example', token: '', messageId: '<TOK@x>', url: '', reason: '550 <ANNA@dealer.example> unknown' },
			{ id: 8, type: 'clicked', email: 'anna@dealer.example', token: 'TOK', messageId: '', url: 'https://x.test/?e=anna@dealer.example', reason: '' },
		];
		for (const row of rows) {
			let item: IDataObject = row;
			for (const name of ['Hash token', 'Hash Message-ID'])
				item = (await runNode(CRYPTO, { parameters: nodeOf(wf, name).parameters, items: [item], typeVersion: 2 })).json[0];
			const out = Object.fromEntries(Object.entries(columns).map(([c, v]) => [c, evaluateWithPerson(v, item, person)]));
			expect(out).toEqual({
				email: person.pseudonym,
				token: erasedMessageRef(row.token),
				messageId: erasedMessageRef(row.messageId),
				url: '',
				reason: row.reason.toLowerCase().split('anna@dealer.example').join(String(person.pseudonym)),
				subject: '',
				visitorId: '',
			});
			expect(JSON.stringify(out).toLowerCase()).not.toContain('anna@dealer.example');
		}
		expect(evaluateWithPerson(nodeOf(wf, "Person's events").parameters.filters.conditions[0].keyValue, {}, person)).toBe('anna@dealer.example');
	});
});

describe('templates 9 and 10 (static)', () => {
	it('purge, data tables: one delete of events older than the retention, never paused, resumed or erased', () => {
		const wf = load('', '9-purge-events.json');
		expect(targets(wf, 'Every week')).toEqual(['Retention']);
		expect(targets(wf, 'Retention')).toEqual(['Delete old events']);
		const deletes = wf.nodes.filter((n: Json) => n.type === 'n8n-nodes-base.dataTable');
		expect(deletes.map((n: Json) => n.name)).toEqual(['Delete old events']);
		const del = deletes[0].parameters;
		expect(del).toMatchObject({ operation: 'deleteRows', dataTableId: { value: 'events' }, matchType: 'allConditions' });
		const conditions = del.filters.conditions as Json[];
		for (const type of RETENTION_KEPT_TYPES) expect(conditions).toContainEqual({ keyName: 'type', condition: 'neq', keyValue: type });
		expect(RETENTION_KEPT_TYPES).toEqual(expect.arrayContaining(['paused', 'resumed']));
		const at = conditions.find((c) => c.keyName === 'at')!;
		expect(at.condition).toBe('lt');
		expect(at.keyValue).toContain(`Math.max(Number($json.retentionDays) || ${RETENTION_DEFAULT_DAYS}, ${RETENTION_MIN_DAYS})`);
		// every other condition narrows the delete ("all conditions"), none widens it
		expect(conditions).toHaveLength(1 + RETENTION_KEPT_TYPES.length);
	});

	for (const dir of STORES) {
		it(`${dir || 'data tables'}: the purge names its default and why, and says where unsubscribes and complaints live`, () => {
			const wf = load(dir, '9-purge-events.json');
			expect(nodeOf(wf, 'Retention').parameters.jsonOutput).toBe(`={{ { retentionDays: ${RETENTION_DEFAULT_DAYS} } }}`);
			expect(nodeOf(wf, 'Every week').parameters.rule.interval[0].field).toBe('weeks');
			const text = stickyNotes(wf);
			for (const s of [
				`${RETENTION_DEFAULT_DAYS} days`,
				'28 days',
				'30',
				'13 months',
				`at least ${RETENTION_MIN_DAYS}`,
				'`paused`',
				'`resumed`',
				'Risk-Unsubscribed',
				'Risk-Complained',
			])
				expect(text).toContain(s);
		});

		it(`${dir || 'data tables'}: the erasure touches contacts, tasks, events (and the ledger), writes an audit line and a suppression, saves no execution data`, () => {
			const wf = load(dir, '10-erase-person.json');
			expect(targets(wf, 'Erase form')).toEqual(['Pseudonym']);
			expect(targets(wf, 'Pseudonym')).toEqual(['Erased person']);
			expect(nodeOf(wf, 'Pseudonym')).toMatchObject({
				type: 'n8n-nodes-base.crypto',
				parameters: { action: 'hmac', type: 'SHA256', encoding: 'hex' },
				credentials: { crypto: { name: 'Cadence erasure secret' } },
			});
			expect(wf.settings).toMatchObject({ saveDataSuccessExecution: 'none', saveDataErrorExecution: 'none', saveManualExecutions: false });
			const labels = nodeOf(wf, 'Erase form').parameters.formFields.values.map((f: Json) => f.fieldLabel);
			expect(labels).toEqual(['Email', 'Asked by', 'Reference']);
			if (!dir) {
				const ops = wf.nodes
					.filter((n: Json) => n.type === 'n8n-nodes-base.dataTable')
					.map((n: Json) => `${n.parameters.operation} ${n.parameters.dataTableId.value}`)
					.sort();
				expect(ops).toEqual([
					'deleteRows contacts',
					'deleteRows follow_up_tasks',
					'get events',
					'insert events',
					'update events',
					'upsert suppressed',
				]);
				expect(nodeOf(wf, 'Save audit line').parameters.columns.value.type).toBe('erased');
				expect(Object.keys(nodeOf(wf, 'Anonymise event').parameters.columns.value).sort()).toEqual([
					'email',
					'messageId',
					'reason',
					'subject',
					'token',
					'url',
					'visitorId',
				]);
				const tables = DATA_TABLES as Record<string, Array<[string, string]>>;
				for (const n of wf.nodes.filter((x: Json) => x.type === 'n8n-nodes-base.dataTable')) {
					const known = ['id', ...tables[n.parameters.dataTableId.value].map(([c]) => c)];
					const used = [...Object.keys(n.parameters.columns?.value ?? {}), ...(n.parameters.filters?.conditions ?? []).map((c: Json) => c.keyName)];
					for (const c of used) expect(known, `${n.name} uses ${c}`).toContain(c);
				}
				// the deletes go on when nothing matched, so the audit line and the suppression are always written
				for (const name of ['Delete contact', 'Delete tasks']) expect(nodeOf(wf, name).alwaysOutputData).toBe(true);
			} else {
				const sql = String(nodeOf(wf, 'Erase').parameters.query);
				for (const s of [
					'DELETE FROM contacts',
					'DELETE FROM follow_up_tasks',
					'UPDATE events',
					'UPDATE cadence_send_ledger',
					'INSERT INTO events',
					'INSERT INTO suppressed',
				])
					expect(sql).toContain(s);
				const purge = String(nodeOf(load(dir, '9-purge-events.json'), 'Purge').parameters.query);
				expect(purge).toContain(`NOT IN (${RETENTION_KEPT_TYPES.map((t) => `'${t}'`).join(', ')})`);
				expect(purge).toContain(`greatest(x.days, ${RETENTION_MIN_DAYS})`);
				expect(purge).toContain('DELETE FROM cadence_send_ledger');
			}
		});
	}
});

// ------------------------------------------------------------------------------------------------------------------
// The Postgres templates' SQL against a real PostgreSQL

const CI = Boolean(process.env.CI);
const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (skipReason && CI) throw new Error(`template SQL tests are mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[templates retention] SKIPPED the Postgres part: ${skipReason}`);

const SCHEMA = readFileSync(join(WORKFLOWS, 'postgres', 'schema.sql'), 'utf8');

describe.skipIf(Boolean(skipReason))('templates 9 and 10 on a real PostgreSQL', () => {
	let db: pg.Pool;
	usePostgresStore('cadence_retention', 2, async (store) => {
		db = store.db;
		await db.query(SCHEMA);
		await db.query(SCHEMA);
	});

	const run = (file: string, name: string, items: IDataObject[]): Promise<Json[]> =>
		runTemplateQuery(db, nodeOf(load('postgres', file), name) as INode, items);
	const all = async (sql: string, values: unknown[] = []) => (await db.query(sql, values)).rows as Json[];

	const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
	async function insertEvents(events: Json[]) {
		const full = events.map((e) => ({
			email: '',
			campaign: 'c1',
			batch_tag: 'T05',
			message_id: '',
			token: '',
			class: '',
			url: '',
			reason: '',
			bounce_hard: false,
			mailbox: '',
			...e,
		}));
		await db.query(
			`INSERT INTO events (event_id, type, at, email, campaign, batch_tag, message_id, token, class, url, reason, bounce_hard, mailbox)
			 SELECT event_id, type, at::timestamptz, email, campaign, batch_tag, message_id, token, class, url, reason, bounce_hard, mailbox
			 FROM jsonb_to_recordset($1::jsonb) AS e(event_id text, type text, at text, email text, campaign text, batch_tag text, message_id text,
			   token text, class text, url text, reason text, bounce_hard boolean, mailbox text)`,
			[JSON.stringify(full)],
		);
	}
	/** The events as the report reads them, for computeMetrics. */
	const metricsEvents = async () =>
		(await all('SELECT * FROM events ORDER BY event_id')).map((r) => ({
			id: r.event_id,
			type: r.type,
			at: new Date(r.at).toISOString(),
			email: r.email,
			campaign: r.campaign,
			batchTag: r.batch_tag,
			messageId: r.message_id,
			token: r.token,
			class: r.class,
			url: r.url,
			bounce: { hard: r.bounce_hard },
		}));

	/** Every row of every table where a text, json or array column holds `needle` (any case). */
	async function rowsMentioning(needle: string): Promise<string[]> {
		const columns = await all(
			`SELECT table_name, column_name FROM information_schema.columns
			 WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')`,
		);
		const hits: string[] = [];
		for (const { table_name: t, column_name: c } of columns) {
			const [{ n }] = await all(`SELECT count(*)::int AS n FROM "${t}" WHERE strpos(lower("${c}"::text), $1) > 0`, [needle.toLowerCase()]);
			if (n > 0) hits.push(`${t}.${c}: ${n}`);
		}
		return hits;
	}

	it('template 10 erases one person everywhere; another person is untouched; the figures stay the same; an audit line remains', async () => {
		const anna = 'anna.berg@dealer.example';
		const ben = 'ben@other.example';
		const today = new Date().toISOString().slice(0, 10);
		await db.query(
			`INSERT INTO contacts (email, tags, company) VALUES ($1, 'English-Dealers-Marketing05', 'dealer.example'), ($2, 'English-Dealers-Marketing05', 'other.example')`,
			[anna, ben],
		);
		const both = (email: string, p: string) => [
			{ event_id: `${p}-s1`, type: 'sent', at: ago(3), email, token: `${p}TOK1`, message_id: `<${p}TOK1@mail.test>`, mailbox: 'sales@us.test' },
			{ event_id: `${p}-o1`, type: 'opened', at: ago(2.9), email, token: `${p}TOK1`, class: 'human' },
			{ event_id: `${p}-o2`, type: 'opened', at: ago(2.8), email, token: `${p}TOK1`, class: 'apple_mpp' },
			{ event_id: `${p}-c1`, type: 'clicked', at: ago(2.7), email, token: `${p}TOK1`, class: 'human', url: `https://us.test/offer?who=${email}` },
			{ event_id: `${p}-s2`, type: 'sent', at: ago(1), email, token: `${p}TOK2`, message_id: `<${p}TOK2@mail.test>`, mailbox: 'sales@us.test' },
			{
				event_id: `${p}-b2`,
				type: 'bounced',
				at: ago(0.9),
				email,
				message_id: `<${p}TOK2@mail.test>`,
				bounce_hard: true,
				reason: `550 5.1.1 <${email.toUpperCase()}>: user unknown`,
			},
			// a reply saved without the address, found by its message's Message-ID
			{ event_id: `${p}-r2`, type: 'replied', at: ago(0.8), email: '', message_id: `<${p}TOK2@mail.test>` },
			// one in another campaign, with the address in another case
			{
				event_id: `${p}-s3`,
				type: 'sent',
				at: ago(10),
				email: email.toUpperCase(),
				campaign: 'c2',
				token: `${p}TOK3`,
				message_id: `<${p}TOK3@mail.test>`,
			},
		];
		await insertEvents([...both(anna, 'a'), ...both(ben, 'b')]);
		await db.query(
			`INSERT INTO follow_up_tasks (event_id, email, kind, detail, status) VALUES
			('a-c1', $1, 'click', 'clicked https://us.test/offer', 'closed'), ('a-x', $1, 'reply', 'Re: offer', 'open'), ('b-c1', $2, 'click', 'x', 'open')`,
			[anna, ben],
		);
		const ledgerRow = (email: string, day: string, status: string) => ({
			key: `${day}|c1|${email}`,
			status,
			email,
			campaign: 'c1',
			day,
			company: email.split('@')[1],
			mailbox: 'sales@us.test',
			event: JSON.stringify({ type: 'sent', email, subject: `Hello ${email}` }),
		});
		for (const row of [ledgerRow(anna, today, 'sent'), ledgerRow(anna, '2026-01-05', 'sent'), ledgerRow(ben, today, 'sent')])
			await db.query(
				`INSERT INTO cadence_send_ledger (key, status, email, campaign, day, company, mailbox, event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
				[row.key, row.status, row.email, row.campaign, row.day, row.company, row.mailbox, row.event],
			);

		const before = await metricsEvents();
		const benBefore = {
			events: await all(`SELECT * FROM events WHERE event_id LIKE 'b-%' ORDER BY event_id`),
			contact: await all(`SELECT * FROM contacts WHERE email = $1`, [ben]),
			tasks: await all(`SELECT * FROM follow_up_tasks WHERE email = $1`, [ben]),
			ledger: await all(`SELECT * FROM cadence_send_ledger WHERE email = $1`, [ben]),
		};
		const capsBefore = await all(`SELECT day, company, mailbox, count(*)::int AS n FROM cadence_send_ledger GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
		expect(await rowsMentioning(anna)).not.toEqual([]);

		const person = await erasedPerson('postgres', { Email: ' Anna.Berg@Dealer.Example', 'Asked by': `${anna} by email`, Reference: 'DSR-2026-014' });
		const [result] = await run('10-erase-person.json', 'Erase', [person]);
		expect(result).toMatchObject({
			pseudonym: erasurePseudonym(anna, SECRET),
			contactsDeleted: 1,
			tasksDeleted: 2,
			eventsAnonymised: 8,
			ledgerRowsAnonymised: 2,
			auditLines: 1,
			suppressed: 1,
		});

		// the address is nowhere: not in any text, json or array column of any table, not even in a reason or a key
		expect(await rowsMentioning(anna)).toEqual([]);
		expect(await rowsMentioning('anna.berg')).toEqual([]);
		// the other person is untouched
		expect(await all(`SELECT * FROM events WHERE event_id LIKE 'b-%' ORDER BY event_id`)).toEqual(benBefore.events);
		expect(await all(`SELECT * FROM contacts WHERE email = $1`, [ben])).toEqual(benBefore.contact);
		expect(await all(`SELECT * FROM follow_up_tasks WHERE email = $1`, [ben])).toEqual(benBefore.tasks);
		expect(await all(`SELECT * FROM cadence_send_ledger WHERE email = $1`, [ben])).toEqual(benBefore.ledger);
		// the figures over the events are the same, overall, per campaign and per batch
		const after = await metricsEvents();
		for (const groupBy of [[], ['campaign'], ['campaign', 'batchTag']])
			expect(computeMetrics(after, { groupBy })).toEqual(computeMetrics(before, { groupBy }));
		expect(computeMetrics(after)[0]).toMatchObject({ sent: 6 });
		// a bounce still finds its send by the (hashed) Message-ID
		const annaSends = await all(`SELECT message_id FROM events WHERE type = 'sent' AND email = $1 ORDER BY at`, [result.pseudonym]);
		expect(annaSends.map((r) => r.message_id)).toEqual(['<aTOK3@mail.test>', '<aTOK1@mail.test>', '<aTOK2@mail.test>'].map(erasedMessageRef));
		expect(await all(`SELECT type FROM events WHERE message_id = $1 ORDER BY type`, [erasedMessageRef('<aTOK2@mail.test>')])).toEqual([
			{ type: 'bounced' },
			{ type: 'replied' },
			{ type: 'sent' },
		]);
		// today's caps count the same rows
		expect(await all(`SELECT day, company, mailbox, count(*)::int AS n FROM cadence_send_ledger GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)).toEqual(
			capsBefore,
		);
		expect(await all(`SELECT key, event FROM cadence_send_ledger WHERE email = $1 ORDER BY key`, [result.pseudonym])).toEqual([
			{ key: `2026-01-05|c1|${result.pseudonym}`, event: null },
			{ key: `${today}|c1|${result.pseudonym}`, event: null },
		]);
		// the audit line: pseudonym, who asked (the address replaced), when, the reference
		const audit = await all(`SELECT event_id, type, at, email, reason FROM events WHERE type = 'erased'`);
		expect(audit).toEqual([
			{
				event_id: person.auditId,
				type: 'erased',
				at: new Date(String(person.at)),
				email: result.pseudonym,
				reason: `asked by ${result.pseudonym} by email; reference DSR-2026-014`,
			},
		]);
		expect(await all('SELECT pseudonym FROM suppressed')).toEqual([{ pseudonym: result.pseudonym }]);

		// a second request for the same address finds nothing more to erase, and keeps its own audit line
		const again = await erasedPerson('postgres', { Email: anna, 'Asked by': 'DPO', Reference: 'DSR-2026-015' });
		const [second] = await run('10-erase-person.json', 'Erase', [{ ...again, auditId: `${again.auditId}-2` }]);
		expect(second).toMatchObject({ contactsDeleted: 0, tasksDeleted: 0, ledgerRowsAnonymised: 0, auditLines: 1, suppressed: 0 });
		expect(computeMetrics(await metricsEvents())).toEqual(computeMetrics(before));
		// without a pseudonym (no secret applied), nothing happens
		expect(await run('10-erase-person.json', 'Erase', [{ email: ben, pseudonym: '', auditId: 'x', at: ago(0) }])).toEqual([]);
		expect(await all(`SELECT count(*)::int AS n FROM contacts WHERE email = $1`, [ben])).toEqual([{ n: 1 }]);
	}, 60_000);

	it('template 9 deletes old events and ledger rows, keeps pauses, resumes, audit lines and everything recent', async () => {
		await db.query('TRUNCATE events, cadence_send_ledger');
		await insertEvents([
			{ event_id: 'old-sent', type: 'sent', at: ago(500), email: 'x@a.test' },
			{ event_id: 'old-open', type: 'opened', at: ago(401), email: 'x@a.test' },
			{ event_id: 'old-unsub', type: 'unsubscribed', at: ago(450), email: 'x@a.test' },
			{ event_id: 'old-paused', type: 'paused', at: ago(700), mailbox: 'sales@us.test', reason: 'hard-bounce rate 3 %' },
			{ event_id: 'old-resumed', type: 'resumed', at: ago(600), mailbox: 'us.test' },
			{ event_id: 'old-erased', type: 'erased', at: ago(900), email: 'erased-0123456789abcdef01234567' },
			{ event_id: 'recent-sent', type: 'sent', at: ago(399), email: 'y@a.test' },
			{ event_id: 'month-sent', type: 'sent', at: ago(40), email: 'y@a.test' },
			{ event_id: 'week-open', type: 'opened', at: ago(20), email: 'y@a.test' },
		]);
		await db.query(`INSERT INTO cadence_send_ledger (key, status, email, claimed_at) VALUES
			('old', 'sent', 'x@a.test', now() - interval '500 days'), ('new', 'sent', 'y@a.test', now() - interval '10 days')`);
		const wf = load('postgres', '9-purge-events.json');
		const retention = (await runNode(SET, { parameters: nodeOf(wf, 'Retention').parameters, items: [{}], typeVersion: 3.4 })).json;
		expect(retention).toEqual([{ retentionDays: RETENTION_DEFAULT_DAYS }]);
		const ids = async () => (await all('SELECT event_id FROM events ORDER BY event_id')).map((r) => r.event_id);

		const [first] = await run('9-purge-events.json', 'Purge', retention);
		expect(first).toMatchObject({ eventsDeleted: 3, ledgerRowsDeleted: 1 });
		expect(await ids()).toEqual(['month-sent', 'old-erased', 'old-paused', 'old-resumed', 'recent-sent', 'week-open']);
		expect(await all('SELECT key FROM cadence_send_ledger')).toEqual([{ key: 'new' }]);

		// a retention below the minimum is raised to it: the report's 30 days stay whole
		const [short] = await run('9-purge-events.json', 'Purge', [{ retentionDays: 5 }]);
		expect(short).toMatchObject({ eventsDeleted: 2 });
		expect(await ids()).toEqual(['old-erased', 'old-paused', 'old-resumed', 'week-open']);
		// no setting, no purge
		expect(await run('9-purge-events.json', 'Purge', [{}])).toEqual([expect.objectContaining({ eventsDeleted: 0, before: null })]);
	}, 60_000);
});
