/**
 * The send ledger against a real PostgreSQL: the core ledger (atomic claims, settle, release), and Cadence Send with
 * the ledger on, in n8n-core's real ExecuteContext, sending to a real SMTP server on loopback. What a retried or
 * repeated execution does: skip what went out, re-emit its events, never mail a contact twice.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ICredentialDataDecryptedObject, ICredentialsDecrypted, ICredentialTestFunctions, IDataObject } from 'n8n-workflow';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { createPostgresLedger, quoteTableName } from '../../transport/postgresLedger';
import { createMemoryLedger, localDay, sendIdempotencyKey, type SendLedger } from '../../core/sendLedger';
import { runNode } from '../helpers/n8n';
import { postgresBinDir, startPostgres, type PostgresServer } from '../helpers/postgres';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const CI = Boolean(process.env.CI);
const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (skipReason && CI) throw new Error(`send ledger tests are mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[send ledger] SKIPPED: ${skipReason}`);

const node = new CadenceSend();
const SECRET = 'ledger-test-secret-0123456789abcdef';

describe('localDay and the default key', () => {
	it('takes the calendar day in the workflow’s zone', () => {
		const at = new Date('2026-03-09T23:30:00Z');
		expect(localDay(at, 'UTC')).toBe('2026-03-09');
		expect(localDay(at, 'Europe/Berlin')).toBe('2026-03-10');
		expect(localDay(at, 'America/Los_Angeles')).toBe('2026-03-09');
		expect(localDay(at, 'Not/AZone')).toBe('2026-03-09');
		expect(sendIdempotencyKey(' Anna@Example.COM ', 'spring', '2026-03-09')).toBe('2026-03-09|spring|anna@example.com');
	});

	it('the memory ledger has the same claim semantics', async () => {
		const l = createMemoryLedger();
		expect(await l.claim('k', { email: 'a@x.test', campaign: 'c' })).toBe('claimed');
		expect(await l.claim('k', { email: 'a@x.test', campaign: 'c' })).toBe('taken');
		await l.release('k');
		expect(await l.claim('k', { email: 'a@x.test', campaign: 'c' })).toBe('claimed');
		await l.settle('k', 'sent', { id: 'e1', type: 'sent', at: '2026-01-01T00:00:00Z', email: 'a@x.test' });
		await l.release('k'); // a settled key is never given back
		expect((await l.lookup(['k', 'other'])).get('k')).toMatchObject({ status: 'sent', event: { id: 'e1' } });
	});
});

describe.skipIf(Boolean(skipReason))('send ledger in PostgreSQL', () => {
	let server: PostgresServer;
	let sink: SmtpSink;
	let db: pg.Pool;
	let rejectAddresses = new Set<string>();
	let tempFailAddresses = new Set<string>();

	beforeAll(async () => {
		server = await startPostgres({ database: 'ledger' });
		db = new pg.Pool({ connectionString: server.url, max: 2 });
		sink = await startSmtpSink({
			onRcptTo: (a) =>
				rejectAddresses.has(a)
					? { code: 550, message: '5.1.1 User unknown' }
					: tempFailAddresses.has(a)
						? { code: 451, message: '4.3.0 Try later' }
						: undefined,
		});
	}, 120_000);
	afterAll(async () => {
		await db?.end();
		await sink?.close();
		await server?.stop();
	});
	beforeEach(() => {
		sink.messages.length = 0;
		rejectAddresses = new Set();
		tempFailAddresses = new Set();
	});

	const connection = () => ({ host: server.host, port: server.port, database: server.database, user: server.user, password: server.password });
	const credentials = (pgOverride: IDataObject = {}) => ({
		cadenceSmtpApi: {
			host: sink.host,
			port: sink.port,
			tls: 'none',
			user: '',
			password: '',
			defaultFrom: 'Sales <sales@sender.example.com>',
			poolSize: 3,
			maxPerSecond: 0,
		},
		cadenceTrackingApi: { baseUrl: 'https://track.example.com/webhook/abc/t', secrets: SECRET, maxAgeDays: 0 },
		cadencePostgresApi: { ...connection(), ssl: 'disable', ...pgOverride },
	});
	const params = (table: string, extra: IDataObject = {}) => ({
		subject: '={{ "Hello " + $json.name }}',
		html: '=<p>Dear {{ $json.name }}</p><a href="https://shop.example.com/">Shop</a> <a href="[[unsubscribeUrl]]">unsubscribe</a>',
		campaign: 'spring',
		sendLedger: 'postgres',
		ledgerTable: table,
		options: { retryDelay: 0, maxRetries: 0, companyDailyCap: 0 },
		...extra,
	});
	const contacts = (n: number) => Array.from({ length: n }, (_, i) => ({ email: `person${i}@example.com`, name: `Person ${i}` }));
	const received = (address: string) => sink.messages.filter((m) => m.rcptTo.includes(address)).length;

	describe('the core ledger', () => {
		let ledger: SendLedger;
		beforeAll(async () => (ledger = await createPostgresLedger(connection(), { table: 'core_ledger' })));
		afterAll(async () => ledger?.close());

		it('of many simultaneous claims of one key exactly one wins, from separate pools', async () => {
			const other = await createPostgresLedger(connection(), { table: 'core_ledger' });
			try {
				const wins = await Promise.all(
					Array.from({ length: 20 }, (_, i) =>
						(i % 2 ? other : ledger).claim('race-key', { email: 'a@x.test', campaign: 'c', executionId: String(i) }),
					),
				);
				expect(wins.filter((w) => w === 'claimed')).toHaveLength(1);
				expect(wins.filter((w) => w === 'taken')).toHaveLength(19);
			} finally {
				await other.close();
			}
		});

		it('many runs opening a new ledger table at once all succeed (CREATE TABLE IF NOT EXISTS races in Postgres)', async () => {
			for (let round = 0; round < 3; round++) {
				const ledgers = await Promise.all(Array.from({ length: 8 }, () => createPostgresLedger(connection(), { table: `fresh_${round}` })));
				await Promise.all(ledgers.map((l) => l.close()));
			}
		});

		it('settle keeps the event; release frees only an unsettled claim', async () => {
			expect(await ledger.claim('k1', { email: 'a@x.test', campaign: 'c', executionId: '7' })).toBe('claimed');
			await ledger.settle('k1', 'sent', { id: 'ev1', type: 'sent', at: '2026-11-22T08:00:00.000Z', email: 'a@x.test', token: 'tok' });
			await ledger.release('k1');
			expect(await ledger.claim('k2', { email: 'b@x.test', campaign: 'c' })).toBe('claimed');
			await ledger.release('k2');
			const found = await ledger.lookup(['k1', 'k2', 'k3']);
			expect([...found.keys()]).toEqual(['k1']);
			expect(found.get('k1')).toMatchObject({ status: 'sent', executionId: '7', event: { id: 'ev1', token: 'tok' } });
		});

		it('refuses table names that are not plain identifiers', async () => {
			expect(quoteTableName('cadence.send_ledger')).toBe('"cadence"."send_ledger"');
			for (const bad of ['x; DROP TABLE contacts', 'a.b.c', '"quoted"', '', '1abc'])
				expect(() => quoteTableName(bad)).toThrow(/not a valid table name/);
			await expect(createPostgresLedger(connection(), { table: 'ledger; DROP TABLE x' })).rejects.toThrow(/not a valid table name/);
		});
	});

	it('a second run of the same items sends nothing and re-emits the same events', async () => {
		const first = await runNode(node, { parameters: params('run_twice'), items: contacts(4), credentials: credentials() });
		expect(first.json.map((e) => e.type)).toEqual(['sent', 'sent', 'sent', 'sent']);
		expect(sink.messages).toHaveLength(4);
		const second = await runNode(node, { parameters: params('run_twice'), items: contacts(4), credentials: credentials() });
		expect(sink.messages).toHaveLength(4);
		expect(second.json.map((e) => e.id)).toEqual(first.json.map((e) => e.id));
		expect(second.json.map((e) => [e.type, e.messageId, e.token, e.replayed])).toEqual(first.json.map((e) => ['sent', e.messageId, e.token, true]));
		expect(second.outputs[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }, { item: 3 }]);
		const rows = await db.query(`SELECT key, status, execution_id FROM run_twice ORDER BY key`);
		const day = localDay(new Date(), 'UTC');
		expect(rows.rows.map((r) => [r.key, r.status])).toEqual(contacts(4).map((c) => [`${day}|spring|${c.email}`, 'sent']));
	});

	it('new contacts in a repeated run are sent; known ones are not', async () => {
		await runNode(node, { parameters: params('grow'), items: contacts(2), credentials: credentials() });
		const again = await runNode(node, { parameters: params('grow'), items: contacts(5), credentials: credentials() });
		expect(again.json.map((e) => `${e.type}${e.replayed ? ':replayed' : ''}`)).toEqual(['sent:replayed', 'sent:replayed', 'sent', 'sent', 'sent']);
		for (const c of contacts(5)) expect(received(c.email), c.email).toBe(1);
	});

	it('a claim left by a run that died mid-transaction is reported unconfirmed, never resent', async () => {
		await createPostgresLedger(connection(), { table: 'crashed' }).then((l) => l.close());
		const key = sendIdempotencyKey('person1@example.com', 'spring', localDay(new Date(), 'UTC'));
		await db.query(
			`INSERT INTO crashed (key, status, email, campaign, execution_id) VALUES ($1, 'claimed', 'person1@example.com', 'spring', '4711')`,
			[key],
		);
		const { json } = await runNode(node, { parameters: params('crashed'), items: contacts(3), credentials: credentials() });
		expect(json.map((e) => `${e.type}:${e.reason ?? ''}`)).toEqual(['sent:', 'failed:unconfirmed', 'sent:']);
		expect(json[1].error).toMatch(/execution 4711.*may have been delivered. Not sent again/);
		expect(received('person1@example.com')).toBe(0);
	});

	it('an unsettled claim of a live run is in flight (already claimed); of a stopped run, unconfirmed; once settled, replayed', async () => {
		const [busy, gone] = ['person0@example.com', 'person1@example.com'];
		const key = (email: string) => sendIdempotencyKey(email, 'spring', localDay(new Date(), 'UTC'));
		const live = await createPostgresLedger(connection(), { table: 'in_flight', runId: 'run-live' });
		expect(await live.claim(key(busy), { email: busy, campaign: 'spring', executionId: 'run-live' })).toBe('claimed');
		// A run that stopped between claim and settle: its claim stays, its session and lock are gone.
		const stopped = await createPostgresLedger(connection(), { table: 'in_flight', runId: 'run-stopped' });
		expect(await stopped.claim(key(gone), { email: gone, campaign: 'spring', executionId: 'run-stopped' })).toBe('claimed');
		await stopped.close();

		const first = await runNode(node, { parameters: params('in_flight'), items: contacts(3), credentials: credentials() });
		expect(first.json.map((e) => `${e.type}:${e.reason ?? ''}`)).toEqual(['skipped:already-claimed', 'failed:unconfirmed', 'sent:']);
		expect(first.json[0].error).toMatch(/execution run-live\).*still running/);
		expect(first.json[1].error).toMatch(/execution run-stopped.*may have been delivered/);
		expect([received(busy), received(gone)]).toEqual([0, 0]);

		await live.settle(key(busy), 'sent', { id: 'sent-by-live-run', type: 'sent', at: new Date().toISOString(), email: busy, campaign: 'spring' });
		await live.close();
		const second = await runNode(node, { parameters: params('in_flight'), items: contacts(3), credentials: credentials() });
		expect(second.json.map((e) => `${e.type}:${e.reason ?? ''}:${e.replayed ?? false}`)).toEqual([
			'sent::true',
			'failed:unconfirmed:true',
			'sent::true',
		]);
		expect(second.json[0].id).toBe('sent-by-live-run');
		expect([received(busy), received(gone)]).toEqual([0, 0]);
	});

	it('a 5xx refusal is kept (no retry today); a 4xx that ran out of retries is given back and sent next time', async () => {
		rejectAddresses = new Set(['person0@example.com']);
		tempFailAddresses = new Set(['person1@example.com']);
		const first = await runNode(node, { parameters: params('outcomes'), items: contacts(3), credentials: credentials() });
		expect(first.json.map((e) => `${e.type}:${e.reason ?? ''}`)).toEqual(['failed:rejected', 'failed:temporary-failure', 'sent:']);
		const rows = await db.query(`SELECT email, status FROM outcomes ORDER BY email`);
		expect(rows.rows).toEqual([
			{ email: 'person0@example.com', status: 'failed' },
			{ email: 'person2@example.com', status: 'sent' },
		]);
		rejectAddresses = new Set();
		tempFailAddresses = new Set();
		const second = await runNode(node, { parameters: params('outcomes'), items: contacts(3), credentials: credentials() });
		expect(second.json.map((e) => `${e.type}:${e.reason ?? ''}:${e.replayed ?? false}`)).toEqual([
			'failed:rejected:true',
			'sent::false',
			'sent::true',
		]);
		expect(received('person1@example.com')).toBe(1);
		expect(received('person2@example.com')).toBe(1);
	});

	it('two runs racing over the same contacts mail each contact once; the loser says why', async () => {
		const items = contacts(30);
		const [a, b] = await Promise.all([
			runNode(node, { parameters: params('race'), items, credentials: credentials() }),
			runNode(node, { parameters: params('race'), items, credentials: credentials() }),
		]);
		for (const c of items) expect(received(c.email), c.email).toBe(1);
		const outcome = (i: number) =>
			[a.json[i], b.json[i]]
				.map((e) => `${e.type}:${e.reason ?? ''}`)
				.sort()
				.join(' ');
		for (let i = 0; i < items.length; i++) {
			// each contact: one run sent it; the other lost the claim or saw it claimed by the running other (both: already
			// claimed, never unconfirmed), replayed its event, or counted it among today's messages to the contact
			expect(['sent: skipped:already-claimed', 'sent: sent:', 'sent: skipped:contact-cap'], outcome(i)).toContain(outcome(i));
		}
		const sentTwice = items.filter((_, i) => a.json[i].type === 'sent' && b.json[i].type === 'sent');
		for (const c of sentTwice) {
			const [ea, eb] = [a.json, b.json].map((j) => j.find((e) => e.email === c.email)!);
			expect(ea.replayed || eb.replayed, `${c.email}: one of the two is a replay`).toBe(true);
		}
	});

	it('a custom idempotency key: one message per key', async () => {
		const items = [
			{ email: 'x1@example.com', name: 'X', company: 'acme' },
			{ email: 'x2@example.com', name: 'Y', company: 'acme' },
			{ email: 'x3@example.com', name: 'Z', company: 'other' },
		];
		const { json } = await runNode(node, {
			parameters: params('custom_key', { idempotencyKey: '={{ $json.company }}' }),
			items,
			credentials: credentials(),
		});
		expect(json.map((e) => `${e.type}:${e.reason ?? ''}`)).toEqual(['sent:', 'skipped:already-claimed', 'sent:']);
	});

	it('an unreachable ledger stops the node before anything is sent', async () => {
		await expect(
			runNode(node, { parameters: params('nowhere'), items: contacts(2), credentials: credentials({ password: 'wrong' }) }),
		).rejects.toThrow(/Send ledger: .*password authentication failed/);
		expect(sink.messages).toHaveLength(0);
	});

	it('a dry run neither reads nor writes the ledger', async () => {
		const { json } = await runNode(node, {
			parameters: params('dry', { options: { dryRun: true } }),
			items: contacts(2),
			credentials: credentials({ password: 'wrong' }),
		});
		expect(json.map((e) => e.reason)).toEqual(['dry-run', 'dry-run']);
	});

	it('credential test: connects for real and says whether the table can be created', async () => {
		const test = node.methods.credentialTest.cadencePostgresCredentialTest;
		const cred = (data: ICredentialDataDecryptedObject): ICredentialsDecrypted => ({ id: '1', name: 'pg', type: 'cadencePostgresApi', data });
		const ok = await test.call({} as ICredentialTestFunctions, cred(credentials().cadencePostgresApi));
		expect(ok).toMatchObject({ status: 'OK', message: expect.stringMatching(/^Connected to PostgreSQL 15/) });
		const wrong = await test.call({} as ICredentialTestFunctions, cred({ ...credentials().cadencePostgresApi, password: 'nope' }));
		expect(wrong).toMatchObject({ status: 'Error', message: expect.stringMatching(/password authentication failed/) });
		const empty = await test.call({} as ICredentialTestFunctions, cred({ host: '', database: '', user: '' }));
		expect(empty.status).toBe('Error');
	});
});
