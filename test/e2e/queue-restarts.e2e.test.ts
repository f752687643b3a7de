/**
 * Nothing relies on memory across processes: the Postgres templates on n8n's queue mode survive the restarts a team
 * does every week.
 * - A worker killed (SIGKILL) in the middle of a silent-cadence send: n8n does not re-run the job, the next hourly
 *   run does; no contact gets the mail twice, and every message that went out has its `sent` event.
 * - The webhook processor restarted (SIGTERM) under tracking-pixel load: every hit it answered has its event.
 * - The main process restarted: the inbox trigger resumes at the mailbox position it stored, missing nothing and
 *   emitting nothing twice, including mail that arrived while it was down.
 * Mandatory under CI.
 */
import { readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker } from '../../core/tracker';
import { startDovecot, type DovecotServer } from '../helpers/dovecot';
import { n8nDayOfMonth } from '../helpers/n8nInstance';
import { cadenceStoreCredentials, queueStackAvailability, startQueueStack, type QueueStack } from '../helpers/queueStack';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';
import { node, template, waitFor, withWebhookStart, type Json } from './cadenceLoop';

const SCHEMA = readFileSync(join(__dirname, '..', '..', 'workflows', 'postgres', 'schema.sql'), 'utf8');
const availability = queueStackAvailability();
if (!availability.ok) console.log(`[queue restarts] SKIPPED: ${availability.reason}`);

const SECRET = 'restart-secret-with-enough-entropy-2026';
const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const CONTACTS = 300;
const RATE = 40; // messages per second: the send takes ~7.5 s, so the kill lands in the middle
const POOL = 4;

describe.skipIf(!availability.ok)('queue mode: restarts lose no event and send nothing twice', () => {
	let stack: QueueStack;
	let sink: SmtpSink;
	let dovecot: DovecotServer;
	let db: pg.Pool;
	let trackingBase = '';
	const due = `English-Equipment Dealers-Marketing${String(Math.min(n8nDayOfMonth(), 30)).padStart(2, '0')}`;

	beforeAll(async () => {
		sink = await startSmtpSink({});
		dovecot = await startDovecot({ users: { outreach: 'outreach-pw' } });
		const silent = withWebhookStart(template('postgres', '2-silent-cadence.json', 'rsSilent'), 'Every morning', 'rs-silent');
		Object.assign(node(silent, 'Send').parameters.options, { ratePerSecond: RATE, concurrency: POOL });
		node(silent, 'Views').parameters.domainCap = 0;
		const tracking = template('postgres', '4-tracking-events.json', 'rsTracking');
		const inbox = template('postgres', '5-inbox-attribution.json', 'rsInbox');
		Object.assign(node(inbox, 'New mail').parameters, { startFrom: 'date', startDate: new Date(Date.now() - 60_000).toISOString() });
		const trackingHook = node(tracking, 'Tracking hits').webhookId;
		stack = await startQueueStack({
			name: 'e2e-queue-restarts',
			workflows: () => [silent, tracking, inbox],
			credentials: (webhookPort, store) => {
				trackingBase = `http://127.0.0.1:${webhookPort}/webhook/${trackingHook}/t`;
				return [
					{
						id: 'rsSmtp',
						name: 'Cadence SMTP',
						type: 'cadenceSmtpApi',
						data: { host: sink.host, port: sink.port, tls: 'none', user: '', password: '', poolSize: POOL, maxPerSecond: 0 },
					},
					{ id: 'rsTrack', name: 'Cadence Tracking', type: 'cadenceTrackingApi', data: { baseUrl: trackingBase, secrets: SECRET, maxAgeDays: 0 } },
					{
						id: 'rsImap',
						name: 'Cadence IMAP',
						type: 'cadenceImapApi',
						data: { host: '127.0.0.1', port: dovecot.port, secure: 'none', user: 'outreach', password: 'outreach-pw' },
					},
					...cadenceStoreCredentials(store),
				];
			},
		});
		db = new pg.Pool({ connectionString: stack.store.url, max: 2 });
		await db.query(SCHEMA);
		await db.query(
			`INSERT INTO contacts (email, tags, language, segment, company)
			 SELECT 'buyer' || g || '@dealer' || g || '.test', $1, 'English', 'Equipment Dealers', 'Dealer ' || g FROM generate_series(1, ${CONTACTS}) g`,
			[due],
		);
	}, 900_000);
	afterAll(async () => {
		await db?.end();
		await stack?.stop();
		await sink?.close();
		await dovecot?.stop();
	});

	const count = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params)).rows[0].n);

	it('a worker killed mid-send: the next run finishes the batch, nobody is mailed twice, every sent mail has its event', async () => {
		const since = Number(stack.executions().at(-1)?.id ?? 0);
		// The webhook answers when the run ends, which this run never does: do not wait for it.
		void fetch(stack.webhookUrl('rs-silent'), { method: 'POST', signal: AbortSignal.timeout(120_000) }).catch(() => {});
		await waitFor('the first 60 messages', async () => sink.accepted >= 60, 60_000);
		const [first] = stack.executions({ workflowId: 'rsSilent', sinceId: since });
		const worker = stack.workerOf(first.id);
		expect(worker).toMatch(/^worker[12]$/);
		await stack.kill(worker!, 'SIGKILL');
		const atKill = sink.accepted;
		expect(atKill).toBeLessThan(CONTACTS);
		await stack.start(worker!);

		// The next run (the template runs hourly in the sending window; here, now).
		const res = await fetch(stack.webhookUrl('rs-silent'), { method: 'POST' });
		expect(res.status, await res.clone().text()).toBe(200);
		const runs = await stack.waitForExecutions('rsSilent', 1, { sinceId: Number(first.id), timeoutMs: 120_000 });
		expect(runs.map((r) => r.status)).toEqual(['success']);
		expect(stack.executions({ workflowId: 'rsSilent', sinceId: since }).find((e) => e.id === first.id)?.status).not.toBe('success');

		const emails = Array.from({ length: CONTACTS }, (_, i) => `buyer${i + 1}@dealer${i + 1}.test`);
		const twice = emails.filter((e) => sink.receivedFor(e) > 1);
		expect(twice, 'mailed twice').toEqual([]);
		const ledger = (await db.query('SELECT email, status FROM cadence_send_ledger')).rows as Array<{ email: string; status: string }>;
		const sentInLedger = ledger
			.filter((r) => r.status === 'sent')
			.map((r) => r.email)
			.sort();
		const unsettled = ledger.filter((r) => r.status === 'claimed').map((r) => r.email);
		// Only messages in flight when the worker died are unsettled, and they are reported, not resent.
		expect(unsettled.length).toBeLessThanOrEqual(POOL);
		expect(sentInLedger.length + unsettled.length).toBe(CONTACTS);
		for (const e of sentInLedger) expect(sink.receivedFor(e), e).toBe(1);
		// Every message that went out has exactly one sent event, including those the killed run sent and never saved.
		const sentEvents = (await db.query(`SELECT email FROM events WHERE type = 'sent' ORDER BY email`)).rows.map((r) => r.email);
		expect(sentEvents).toEqual(sentInLedger);
		expect(await count(`SELECT count(*) AS n FROM events WHERE type = 'failed' AND reason = 'unconfirmed'`)).toBe(unsettled.length);
		expect(await count(`SELECT count(*) AS n FROM contacts WHERE last_sent_at IS NOT NULL`)).toBe(sentInLedger.length);
		console.log(
			`[queue restarts] killed ${worker} after ${atKill} of ${CONTACTS} messages; next run: ${sentInLedger.length} sent in all, ${unsettled.length} unconfirmed, none twice`,
		);
	}, 300_000);

	it('the webhook processor restarted under pixel load behind a draining proxy: every answered hit has its event', async () => {
		// A load balancer's rolling restart: hold new requests, let the processor finish what it has, restart it,
		// release. Without the drain, n8n 2.8 exits while a trigger that answered its hit is still queueing the
		// execution (see README, Scaling), so an undrained SIGTERM can lose a few answered hits.
		const proxy = await startDrainingProxy(stack.webhookPort);
		const tracker = createTracker({ secrets: [SECRET], baseUrl: trackingBase.replace(`:${stack.webhookPort}/`, `:${proxy.port}/`) });
		const sentAt = Date.now() - 3_600_000;
		let next = 0;
		let answered = 0;
		let refused = 0;
		let stop = false;
		const loop = async () => {
			while (!stop) {
				const url = tracker.openUrl({ email: `reader${next++}@dealer.test`, campaign: 'restart', batchTag: due, variant: '', sentAt });
				try {
					const r = await fetch(url, { headers: { 'user-agent': DESKTOP_UA }, signal: AbortSignal.timeout(60_000) });
					const body = Buffer.from(await r.arrayBuffer());
					if (r.status === 200 && body.subarray(0, 6).toString() === 'GIF89a') answered++;
					else refused++;
				} catch {
					refused++;
					await new Promise((r) => setTimeout(r, 50));
				}
			}
		};
		const loops = Array.from({ length: 6 }, loop);
		try {
			await new Promise((r) => setTimeout(r, 3000));
			const before = answered;
			await proxy.hold();
			await stack.restart('webhook', 'SIGTERM');
			proxy.release();
			await new Promise((r) => setTimeout(r, 3000));
			stop = true;
			await Promise.all(loops);
			expect(answered - before, 'hits answered after the restart').toBeGreaterThan(5);
		} finally {
			stop = true;
			await proxy.close();
		}
		expect(refused).toBe(0);
		const opened = await waitFor(
			'the events of every answered hit',
			async () => {
				const n = await count(`SELECT count(*) AS n FROM events WHERE type = 'opened' AND campaign = 'restart'`);
				return n >= answered ? n : null;
			},
			180_000,
		).catch(async () => count(`SELECT count(*) AS n FROM events WHERE type = 'opened' AND campaign = 'restart'`));
		console.log(`[queue restarts] pixel hits answered ${answered} (none refused), opened events ${opened}`);
		expect(opened).toBe(answered);
	}, 300_000);

	it('the main process restarted: the inbox trigger resumes where it stopped, including mail that came meanwhile', async () => {
		const mail = (n: number) =>
			`From: Customer ${n} <customer${n}@client.test>\r\nTo: outreach@sender.test\r\nSubject: Re: Spare parts ${n}\r\nMessage-ID: <restart-${n}@client.test>\r\nIn-Reply-To: <offer-${n}@sender.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\nYes, please send the price list (${n}).\r\n`;
		const inbound = async () =>
			(await db.query(`SELECT message_id FROM events WHERE type = 'replied' AND message_id LIKE '<restart-%' ORDER BY message_id`)).rows.map(
				(r) => r.message_id,
			);
		dovecot.writeMaildir('outreach', 'INBOX', [mail(1), mail(2)]);
		await waitFor('two reply events', async () => (await inbound()).length >= 2, 150_000);
		await stack.kill('main', 'SIGTERM');
		dovecot.writeMaildir('outreach', 'INBOX', [mail(3)]);
		await stack.start('main');
		dovecot.writeMaildir('outreach', 'INBOX', [mail(4)]);
		await waitFor('four reply events', async () => (await inbound()).length >= 4, 200_000);
		await new Promise((r) => setTimeout(r, 5000));
		expect(await inbound()).toEqual([1, 2, 3, 4].map((n) => `<restart-${n}@client.test>`));
		// The store drops a replayed event id, so count what the trigger emitted: each message exactly once.
		const emitted = stack
			.executions({ workflowId: 'rsInbox', withData: true })
			.flatMap((e) => ((e.data?.resultData?.runData?.['New mail'] as Json[] | undefined)?.[0]?.data?.main?.[0] ?? []) as Json[])
			.map((i) => i.json.messageId)
			.filter((id) => String(id).startsWith('<restart-'))
			.sort();
		expect(emitted).toEqual([1, 2, 3, 4].map((n) => `<restart-${n}@client.test>`));
	}, 420_000);
});

/**
 * A load balancer in front of the webhook processor that can drain it: `hold()` queues new requests and resolves once
 * the ones in flight are answered; `release()` lets the queue through to whatever listens on the port then.
 */
async function startDrainingProxy(upstreamPort: number) {
	let agent = new Agent({ keepAlive: true, maxSockets: 32 });
	let held: Array<() => void> | null = null;
	let inFlight = 0;
	const idle: Array<() => void> = [];
	const server = createServer(async (req, res) => {
		if (held) await new Promise<void>((go) => held!.push(go));
		inFlight++;
		const done = () => {
			if (--inFlight === 0) for (const f of idle.splice(0)) f();
		};
		const up = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (upRes) => {
			res.writeHead(upRes.statusCode ?? 502, upRes.headers);
			upRes.pipe(res);
			upRes.on('end', done);
		});
		up.on('error', () => {
			res.writeHead(502).end();
			done();
		});
		req.pipe(up);
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
	return {
		port: (server.address() as { port: number }).port,
		async hold() {
			held = [];
			if (inFlight > 0) await new Promise<void>((r) => idle.push(r));
			// the processor's own queueing of the last executions after answering
			await new Promise((r) => setTimeout(r, 1000));
			agent.destroy();
		},
		release() {
			agent = new Agent({ keepAlive: true, maxSockets: 32 });
			const waiting = held ?? [];
			held = null;
			for (const go of waiting) go();
		},
		close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
	};
}
