/**
 * The day's caps hold across processes: the Postgres silent-cadence template on n8n's queue mode, started twice at
 * the same moment (two webhook calls, one execution on each worker), over one due set of 12 companies × 30 contacts
 * with a mailbox cap on the SMTP credential. Both runs take the companies in the same order but each company's
 * contacts in its own random order (the Due contacts query gets ORDER BY company, random()), so at each moment they
 * plan different contacts of the same company and race for its last places and the mailbox's; only the send
 * ledger's atomic claims keep them within the caps together. The mailbox cap (150) is below the companies' room
 * (12 × 20), so it binds: the mailbox ends exactly at its cap, every company at or below 20, and every company whose
 * claim the database refused for its cap exactly at 20. Also asserted: no contact mailed twice, the ledger's counts
 * equal to what the SMTP sink received, every due contact with a `sent` or a capped/claimed `skipped` event (nothing
 * lost), and a third run the same day sends nothing. Mandatory under CI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companyOf } from '../../core/company';
import { DEFAULT_COMPANY_DAILY_CAP } from '../../core/senderProtection';
import type { ExecutionRecord } from '../helpers/n8nInstance';
import { cadenceStoreCredentials, queueStackAvailability, startQueueStack, type QueueStack } from '../helpers/queueStack';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { node, template, withWebhookStart, type Json } from '../helpers/templates';

const SCHEMA = readFileSync(join(__dirname, '..', '..', 'workflows', 'postgres', 'schema.sql'), 'utf8');
const availability = queueStackAvailability();
if (!availability.ok) console.log(`[queue caps] SKIPPED: ${availability.reason}`);

/** Each company's hosts: sub-domains of one registrable domain are one company; x.github.io and y.github.io are two. */
const COMPANIES: Array<{ company: string; hosts: string[] }> = [
	{ company: 'big12.co.uk', hosts: ['a.big12.co.uk', 'b.big12.co.uk', 'big12.co.uk'] },
	{ company: 'fleet.com.au', hosts: ['sydney.fleet.com.au', 'perth.fleet.com.au'] },
	{ company: 'one.github.io', hosts: ['one.github.io'] },
	{ company: 'two.github.io', hosts: ['two.github.io', 'mail.two.github.io'] },
	{ company: 'dealer5.test', hosts: ['east.dealer5.test', 'west.dealer5.test'] },
	...[6, 7, 8, 9, 10, 11, 12].map((k) => ({ company: `dealer${k}.test`, hosts: [`dealer${k}.test`] })),
];
const DUE_PER_COMPANY = 30;
const COMPANY_CAP = DEFAULT_COMPANY_DAILY_CAP;
const MAILBOX_CAP = 150;
const MAILBOX = 'outreach@sender.test';
/** Slow enough that each run's ~75 messages take seconds, so the two runs' claims interleave. */
const RATE = 12;
const POOL = 3;
/** Why a due contact may go unsent today. */
const SKIP_REASONS = ['company-cap', 'mailbox-cap', 'contact-cap', 'already-claimed'];

const contacts = COMPANIES.flatMap(({ company, hosts }, c) =>
	Array.from({ length: DUE_PER_COMPANY }, (_, k) => ({ email: `buyer${c + 1}-${k + 1}@${hosts[k % hosts.length]}`, company })),
);
const expectedTotal = Math.min(
	MAILBOX_CAP,
	COMPANIES.reduce((n) => n + Math.min(COMPANY_CAP, DUE_PER_COMPANY), 0),
);

/**
 * A workflow time zone where today is a sending day (not the 31st) and midnight is more than 15 minutes away, so
 * every run of the test counts in one calendar day.
 */
function sendingZone(now = new Date()): { zone: string; day: string } {
	for (const zone of ['UTC', 'Etc/GMT+12', 'Etc/GMT-14']) {
		const parts = new Intl.DateTimeFormat('en-CA', {
			timeZone: zone,
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
			hourCycle: 'h23',
		}).formatToParts(now);
		const get = (t: string) => parts.find((p) => p.type === t)!.value;
		const minutesLeft = 24 * 60 - (Number(get('hour')) * 60 + Number(get('minute')));
		if (get('day') !== '31' && minutesLeft > 15) return { zone, day: `${get('year')}-${get('month')}-${get('day')}` };
	}
	throw new Error('no sending zone'); // unreachable: the three zones are 12 to 14 hours apart
}

describe.skipIf(!availability.ok)('queue mode: two workers on the same due set keep the day caps exactly', () => {
	let stack: QueueStack;
	let sink: SmtpSink;
	let db: pg.Pool;
	const { zone, day } = sendingZone();
	const due = `English-Equipment Dealers-Marketing${day.slice(8)}`;
	/** Sink messages before the pair that counts (a retried pair starts from a clean store). */
	let sinkMark = 0;
	let pair: ExecutionRecord[] = [];

	beforeAll(async () => {
		sink = await startSmtpSink({});
		const silent = withWebhookStart(template('postgres', '2-silent-cadence.json', 'qcSilent'), 'Every morning', 'qc-silent');
		silent.settings = { ...silent.settings, timezone: zone };
		const send = node(silent, 'Send');
		Object.assign(send.parameters.options, { ratePerSecond: RATE, concurrency: POOL });
		if (!silent.nodes.some((n: Json) => n.name === 'Sender status')) delete send.parameters.senderStatus;
		// Only the Send node's store-counted caps act.
		node(silent, 'Views').parameters.domainCap = 0;
		// Company by company, each run its own random pick of contacts: both plan 20 of the same company at once, mostly
		// different ones, so only the ledger's claim keeps their sum at 20. (The contacts' `company` column is the
		// registrable domain in this test's data.)
		const dueContacts = node(silent, 'Due contacts');
		dueContacts.parameters.query = `${dueContacts.parameters.query}\nORDER BY company, random()`;
		stack = await startQueueStack({
			name: 'e2e-queue-caps',
			workflows: () => [silent],
			// One execution per worker at a time: the second of two simultaneous runs goes to the other worker.
			workerConcurrency: 1,
			credentials: (webhookPort, store) => [
				{
					id: 'qcSmtp',
					name: 'Cadence SMTP',
					type: 'cadenceSmtpApi',
					data: {
						host: sink.host,
						port: sink.port,
						tls: 'none',
						user: '',
						password: '',
						poolSize: POOL,
						maxPerSecond: 0,
						dailyCap: MAILBOX_CAP,
						warmupStart: '',
					},
				},
				{
					id: 'qcTrack',
					name: 'Cadence Tracking',
					type: 'cadenceTrackingApi',
					data: {
						baseUrl: `http://127.0.0.1:${webhookPort}/webhook/qc-track/t`,
						secrets: 'queue-caps-secret-with-enough-entropy-2026',
						maxAgeDays: 0,
					},
				},
				...cadenceStoreCredentials(store),
			],
		});
		db = new pg.Pool({ connectionString: stack.store.url, max: 2 });
		await db.query(SCHEMA);
		await db.query(
			`INSERT INTO contacts (email, tags, language, segment, company)
			 SELECT e, $2, 'English', 'Equipment Dealers', c FROM unnest($1::text[], $3::text[]) AS t(e, c)`,
			[contacts.map((c) => c.email), due, contacts.map((c) => c.company)],
		);
	}, 900_000);
	afterAll(async () => {
		await db?.end();
		await stack?.stop();
		await sink?.close();
	});

	const rows = async <T = Json>(sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows as T[];
	const lastId = () => Number(stack.executions({ workflowId: 'qcSilent' }).at(-1)?.id ?? 0);
	const start = async () => {
		const res = await fetch(stack.webhookUrl('qc-silent'), { method: 'POST', signal: AbortSignal.timeout(180_000) });
		return { status: res.status, body: await res.text() };
	};
	/** Messages the sink received per recipient since the pair that counts. */
	const received = () => {
		const n = new Map<string, number>();
		for (const m of sink.messages.slice(sinkMark)) for (const r of m.rcptTo) n.set(r.toLowerCase(), (n.get(r.toLowerCase()) ?? 0) + 1);
		return n;
	};

	it('two runs at once on two workers: no cap passed, the mailbox cap reached exactly, nobody mailed twice, nothing lost', async () => {
		let workers: Array<string | null> = [];
		let retried = false;
		for (let attempt = 1; ; attempt++) {
			const since = lastId();
			sinkMark = sink.messages.length;
			const answers = await Promise.all([start(), start()]);
			for (const a of answers) expect(a.status, a.body.slice(0, 500)).toBe(200);
			pair = await stack.waitForExecutions('qcSilent', 2, { sinceId: since, timeoutMs: 120_000 });
			workers = await Promise.all(pair.map((e) => stack.waitForWorkerOf(e.id, 10_000)));
			if (!workers[0] || workers[0] !== workers[1] || attempt === 2) break;
			// n8n gave both jobs to one worker (the other had not polled yet): one retry on a clean day.
			console.log(`[queue caps] both executions ran on ${workers[0]}; retrying the pair once`);
			retried = true;
			await db.query(`TRUNCATE cadence_send_ledger; DELETE FROM events; UPDATE contacts SET last_sent_at = NULL`);
		}
		expect(pair.map((e) => e.status)).toEqual(['success', 'success']);
		expect([...workers].sort(), `workers of executions ${pair.map((e) => e.id).join(', ')}`).toEqual(['worker1', 'worker2']);

		// What went out: per recipient, per company.
		const got = received();
		const twice = [...got].filter(([, n]) => n > 1).map(([e]) => e);
		expect(twice, 'mailed twice').toEqual([]);
		if (!retried) for (const c of contacts) expect(sink.receivedFor(c.email), c.email).toBe(got.get(c.email) ?? 0);
		const sentTo = new Set(got.keys());
		expect([...sentTo].filter((e) => !contacts.some((c) => c.email === e))).toEqual([]);
		const perCompany = new Map(COMPANIES.map((c) => [c.company, 0]));
		for (const e of sentTo) perCompany.set(companyOf(e), (perCompany.get(companyOf(e)) ?? 0) + 1);
		expect(perCompany.size, 'companies as the public suffix list counts them').toBe(COMPANIES.length);
		for (const [company, n] of perCompany) expect(n, company).toBeLessThanOrEqual(Math.min(COMPANY_CAP, DUE_PER_COMPANY));
		expect(sentTo.size).toBeLessThanOrEqual(MAILBOX_CAP);
		expect(sentTo.size).toBe(expectedTotal);

		// The ledger holds exactly what the sink received: per company, per mailbox, per contact, all sent, all today.
		const ledger = await rows<{
			email: string;
			status: string;
			day: string;
			company: string;
			mailbox: string;
			execution_id: string;
			claimed_at: Date;
		}>(`SELECT email, status, day, company, mailbox, execution_id, claimed_at FROM cadence_send_ledger`);
		expect(ledger.filter((r) => r.status !== 'sent' || r.day !== day || r.mailbox !== MAILBOX)).toEqual([]);
		expect(ledger.map((r) => r.email).sort()).toEqual([...sentTo].sort());
		const ledgerPerCompany = new Map(COMPANIES.map((c) => [c.company, 0]));
		for (const r of ledger) ledgerPerCompany.set(r.company, (ledgerPerCompany.get(r.company) ?? 0) + 1);
		expect(Object.fromEntries(ledgerPerCompany)).toEqual(Object.fromEntries(perCompany));

		// Both runs claimed, and their claims interleaved in time: the caps were raced for, not taken in turn.
		const byRun = pair.map((e) => ledger.filter((r) => r.execution_id === String(e.id)));
		expect(byRun.map((r) => r.length).reduce((a, b) => a + b)).toBe(ledger.length);
		for (const [k, r] of byRun.entries()) expect(r.length, `claims of execution ${pair[k].id}`).toBeGreaterThan(0);
		const span = (r: typeof ledger) => [Math.min(...r.map((x) => +x.claimed_at)), Math.max(...r.map((x) => +x.claimed_at))];
		const [[a0, a1], [b0, b1]] = byRun.map(span);
		expect(Math.max(a0, b0), 'the two runs claimed at the same time').toBeLessThan(Math.min(a1, b1));

		// Every due contact has its event: sent (exactly the mailed ones, with the mailbox), or skipped by a cap or by
		// the other run's claim. Neither run stopped mid-way, so no claim is reported unconfirmed: the other run's claims
		// in flight are `already-claimed`, told apart by that run's ledger lock.
		const events = await rows<{ email: string; type: string; reason: string; mailbox: string }>(
			`SELECT email, type, reason, mailbox FROM events WHERE email = ANY($1::text[])`,
			[contacts.map((c) => c.email)],
		);
		const sentEvents = events.filter((e) => e.type === 'sent');
		expect(sentEvents.map((e) => e.email).sort()).toEqual([...sentTo].sort());
		expect(sentEvents.filter((e) => e.mailbox !== MAILBOX)).toEqual([]);
		const skipped = events.filter((e) => e.type === 'skipped');
		expect(skipped.filter((e) => !SKIP_REASONS.includes(e.reason))).toEqual([]);
		const failed = events.filter((e) => e.type === 'failed');
		expect(failed).toEqual([]);
		expect(events.filter((e) => !['sent', 'skipped', 'failed'].includes(e.type))).toEqual([]);
		const lost = contacts.filter((c) => !sentTo.has(c.email) && !skipped.some((e) => e.email === c.email)).map((c) => c.email);
		expect(lost, 'due contacts without an event').toEqual([]);
		// A key held by the other run means that run sent it.
		const claimedElsewhere = skipped.filter((e) => e.reason === 'already-claimed' && !sentTo.has(e.email));
		expect(claimedElsewhere, 'already-claimed but mailed by nobody').toEqual([]);
		// The race, as each run saw it (its Send output): what it sent, and what the database refused at claim time
		// because the other run had just taken the key or the last place under a cap. A cap refused at claim time was
		// full in the ledger, whose rows are never given back here (every message reached the sink): so that company
		// has exactly its cap, that mailbox exactly its cap.
		const outputs = pair.map(
			(e) => ((e.data?.resultData?.runData?.Send as Json[] | undefined)?.[0]?.data?.main?.[0] ?? []).map((i: Json) => i.json) as Json[],
		);
		const sentBy = outputs.map((o) => o.filter((ev) => ev.type === 'sent' && !ev.replayed).map((ev) => String(ev.email)));
		expect([...sentBy[0], ...sentBy[1]].sort(), 'each message sent by exactly one run').toEqual([...sentTo].sort());
		for (const [k, o] of outputs.entries()) {
			const odd = o.filter(
				(ev) => !(ev.type === 'sent' || (ev.type === 'skipped' && SKIP_REASONS.includes(ev.reason)) || (ev.replayed && ev.type === 'failed')),
			);
			expect(odd, `unexpected events of execution ${pair[k].id}`).toEqual([]);
		}
		const atClaim = (reason: string) =>
			outputs.flat().filter((ev) => ev.type === 'skipped' && ev.reason === reason && /^Another run/.test(String(ev.error)));
		const companyRefused = atClaim('company-cap');
		const mailboxRefused = atClaim('mailbox-cap');
		const keyRefused = atClaim('already-claimed');
		for (const ev of companyRefused) expect(perCompany.get(companyOf(ev.email)), `${ev.email} refused at claim time`).toBe(COMPANY_CAP);
		if (mailboxRefused.length > 0) expect(sentTo.size).toBe(MAILBOX_CAP);
		// The company caps were really raced for: the database refused places the other run had just taken.
		expect(companyRefused.length, 'claims refused by a full company cap').toBeGreaterThan(0);
		expect([...perCompany.values()].filter((n) => n === COMPANY_CAP).length, 'companies at their cap').toBeGreaterThan(0);
		const contactsSent = await rows<{ n: number }>(`SELECT count(*)::int AS n FROM contacts WHERE last_sent_at IS NOT NULL`);
		expect(contactsSent[0].n).toBe(sentTo.size);

		const reasonCounts = Object.fromEntries(SKIP_REASONS.map((r) => [r, new Set(skipped.filter((e) => e.reason === r).map((e) => e.email)).size]));
		console.log(
			`[queue caps] ${contacts.length} due in ${COMPANIES.length} companies, caps ${COMPANY_CAP}/company and ${MAILBOX_CAP}/mailbox: ` +
				`${sentTo.size} sent (${[...perCompany].map(([c, n]) => `${c} ${n}`).join(', ')}), skipped contacts per reason ${JSON.stringify(reasonCounts)}, ` +
				`refused at claim time: ${companyRefused.length} company-cap, ` +
				`${mailboxRefused.length} mailbox-cap, ${keyRefused.length} already-claimed; ` +
				`${pair.map((e, k) => `execution ${e.id} on ${workers[k]} sent ${sentBy[k].length}`).join(', ')}${retried ? ' (pair retried once: both first ran on one worker)' : ''}; zone ${zone}`,
		);
	}, 300_000);

	it('a third run the same day sends nothing new', async () => {
		expect(pair.length, 'the pair ran').toBe(2);
		const mailed = sink.messages.length;
		const ledgerBefore = (await rows<{ n: number }>(`SELECT count(*)::int AS n FROM cadence_send_ledger`))[0].n;
		const sentBefore = (await rows<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE type = 'sent'`))[0].n;
		const since = lastId();
		const answer = await start();
		expect(answer.status, answer.body.slice(0, 500)).toBe(200);
		const [third] = await stack.waitForExecutions('qcSilent', 1, { sinceId: since, timeoutMs: 120_000 });
		expect(third.status).toBe('success');
		expect(sink.messages.length).toBe(mailed);
		expect((await rows<{ n: number }>(`SELECT count(*)::int AS n FROM cadence_send_ledger`))[0].n).toBe(ledgerBefore);
		expect((await rows<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE type = 'sent'`))[0].n).toBe(sentBefore);
		// Its output: only skips by a cap (the contacts mailed today are not due again).
		const out = ((third.data?.resultData?.runData?.Send as Json[] | undefined)?.[0]?.data?.main?.[0] ?? []) as Json[];
		const types = out.map((i) => `${i.json.type}:${i.json.reason ?? ''}`);
		expect(types.length).toBe(contacts.length - sentBefore);
		expect(types.filter((t) => !['skipped:company-cap', 'skipped:mailbox-cap'].includes(t))).toEqual([]);
		console.log(`[queue caps] third run (execution ${third.id} on ${stack.workerOf(third.id)}): ${types.length} skipped by caps, nothing sent`);
	}, 180_000);
});
