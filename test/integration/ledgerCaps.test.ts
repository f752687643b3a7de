/**
 * The send ledger's daily caps (per company, mailbox and contact), in memory and in a real PostgreSQL: what a claim
 * answers, what a day's usage reads, an older table upgraded in place, and separate processes racing over the same
 * companies and mailboxes never exceeding a cap together.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLedger, ledgerClaimScope, type ClaimOutcome, type LedgerClaim, type SendLedger } from '../../core/sendLedger';
import { createPostgresLedger, ledgerTableSql, type PostgresConnection } from '../../transport/postgresLedger';
import { postgresBinDir, startPostgres, type PostgresServer } from '../helpers/postgres';
import type { RacerJob, RacerMessage } from '../helpers/ledgerRacer';

const CI = Boolean(process.env.CI);
const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (skipReason && CI) throw new Error(`ledger cap tests are mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[ledger caps] SKIPPED: ${skipReason}`);

const DAY = '2026-12-04';
const sentEvent = (id: string, email: string) => ({ id, type: 'sent' as const, at: `${DAY}T09:00:00.000Z`, email });
const claimOf = (email: string, extra: Partial<LedgerClaim> = {}): LedgerClaim => ({
	email,
	campaign: 'spring',
	day: DAY,
	company: email.split('@')[1],
	mailbox: 'anna@sender.test',
	...extra,
});

/** The cases every ledger must pass; `fresh()` gives an empty ledger. */
function capCases(fresh: () => Promise<SendLedger>) {
	const withLedger = (fn: (l: SendLedger) => Promise<void>) => async () => {
		const l = await fresh();
		try {
			await fn(l);
		} finally {
			await l.close();
		}
	};

	it(
		'a company cap counts the day’s claims of every status for that company, across campaigns and mailboxes',
		withLedger(async (l) => {
			const cap = { companyCap: 3 };
			expect(await l.claim('k1', claimOf('a@acme.test', { ...cap, campaign: 'silent' }))).toBe('claimed');
			expect(await l.claim('k2', claimOf('b@acme.test', { ...cap, campaign: 'read', mailbox: 'bob@sender.test' }))).toBe('claimed');
			await l.settle('k2', 'failed', sentEvent('e2', 'b@acme.test'));
			expect(await l.claim('k3', claimOf('c@acme.test', cap))).toBe('claimed');
			await l.settle('k3', 'sent', sentEvent('e3', 'c@acme.test'));
			expect(await l.claim('k4', claimOf('d@acme.test', cap))).toBe('company-cap');
			expect(await l.claim('k5', claimOf('a@other.test', cap))).toBe('claimed');
			// another day has its own count
			expect(await l.claim('k6', claimOf('d@acme.test', { ...cap, day: '2026-12-05' }))).toBe('claimed');
			// a refused claim leaves nothing: the key is still free
			expect((await l.lookup(['k4'])).size).toBe(0);
			const u = await l.usage(DAY);
			expect(Object.fromEntries(u.companies)).toEqual({ 'acme.test': 3, 'other.test': 1 });
			expect(Object.fromEntries((await l.usage('2026-12-05')).companies)).toEqual({ 'acme.test': 1 });
			expect((await l.usage('2026-12-06')).companies.size).toBe(0);
		}),
	);

	it(
		'a mailbox cap counts the day’s claims through that mailbox, whatever the company',
		withLedger(async (l) => {
			const cap = { mailboxCap: 2, mailbox: 'Anna@Sender.test' };
			expect(await l.claim('k1', claimOf('a@one.test', cap))).toBe('claimed');
			expect(await l.claim('k2', claimOf('a@two.test', cap))).toBe('claimed');
			expect(await l.claim('k3', claimOf('a@three.test', cap))).toBe('mailbox-cap');
			expect(await l.claim('k3', claimOf('a@three.test', { ...cap, mailbox: 'bob@sender.test' }))).toBe('claimed');
			expect(Object.fromEntries((await l.usage(DAY)).mailboxes)).toEqual({ 'anna@sender.test': 2, 'bob@sender.test': 1 });
		}),
	);

	it(
		'a contact cap counts the day’s claims for the contact across campaigns, case-insensitively',
		withLedger(async (l) => {
			expect(await l.claim('silent|a', claimOf('Anna@Acme.test', { contactCap: 1, campaign: 'silent' }))).toBe('claimed');
			expect(await l.claim('read|a', claimOf('anna@acme.test', { contactCap: 1, campaign: 'read' }))).toBe('contact-cap');
			expect(await l.claim('read|a', claimOf('anna@acme.test', { contactCap: 2, campaign: 'read' }))).toBe('claimed');
			expect(await l.claim('next|a', claimOf('anna@acme.test', { contactCap: 1, day: '2026-12-05' }))).toBe('claimed');
			expect(Object.fromEntries((await l.usage(DAY)).contacts)).toEqual({ 'anna@acme.test': 2 });
		}),
	);

	it(
		'a full contact is named before a full company, a full company before a full mailbox',
		withLedger(async (l) => {
			const caps = { contactCap: 1, companyCap: 1, mailboxCap: 1 };
			expect(await l.claim('k1', claimOf('a@acme.test', caps))).toBe('claimed');
			expect(await l.claim('k2', claimOf('a@acme.test', caps))).toBe('contact-cap');
			expect(await l.claim('k2', claimOf('b@acme.test', caps))).toBe('company-cap');
			expect(await l.claim('k2', claimOf('b@other.test', caps))).toBe('mailbox-cap');
			expect(await l.claim('k2', claimOf('b@other.test', { ...caps, mailbox: 'bob@sender.test' }))).toBe('claimed');
		}),
	);

	it(
		'a released claim frees its place; a settled one keeps it',
		withLedger(async (l) => {
			const cap = { companyCap: 2 };
			expect(await l.claim('k1', claimOf('a@acme.test', cap))).toBe('claimed');
			expect(await l.claim('k2', claimOf('b@acme.test', cap))).toBe('claimed');
			expect(await l.claim('k3', claimOf('c@acme.test', cap))).toBe('company-cap');
			await l.release('k2');
			expect(await l.claim('k3', claimOf('c@acme.test', cap))).toBe('claimed');
			await l.settle('k3', 'sent', sentEvent('e3', 'c@acme.test'));
			await l.release('k3'); // a settled key is never given back
			expect(await l.claim('k2', claimOf('b@acme.test', cap))).toBe('company-cap');
			expect(Object.fromEntries((await l.usage(DAY)).companies)).toEqual({ 'acme.test': 2 });
		}),
	);

	it(
		'an existing key is taken, before any cap is looked at',
		withLedger(async (l) => {
			expect(await l.claim('k1', claimOf('a@acme.test', { companyCap: 1 }))).toBe('claimed');
			expect(await l.claim('k1', claimOf('a@acme.test', { companyCap: 1 }))).toBe('taken');
			expect(await l.claim('k1', claimOf('a@acme.test'))).toBe('taken');
			expect(await l.claim('k1', claimOf('a@acme.test', { contactCap: 1, mailboxCap: 1 }))).toBe('taken');
		}),
	);

	it(
		'caps of 0 or undefined mean none; claims without caps still count for later capped ones',
		withLedger(async (l) => {
			for (let i = 0; i < 5; i++)
				expect(await l.claim(`k${i}`, claimOf('a@acme.test', { companyCap: 0, mailboxCap: undefined, contactCap: 0 }))).toBe('claimed');
			expect(await l.claim('k5', claimOf('b@acme.test', { companyCap: 5 }))).toBe('company-cap');
			expect(await l.claim('k5', claimOf('b@acme.test', { companyCap: 6 }))).toBe('claimed');
			expect((await l.usage(DAY)).contacts.get('a@acme.test')).toBe(5);
		}),
	);

	it(
		'a bad cap or day is a RangeError naming it, and nothing is claimed',
		withLedger(async (l) => {
			for (const [extra, message] of [
				[{ companyCap: -1 }, /companyCap -1 is not a whole number/],
				[{ mailboxCap: 2.5 }, /mailboxCap 2.5 is not a whole number/],
				[{ contactCap: Number.NaN }, /contactCap NaN/],
				[{ companyCap: '3' as unknown as number }, /companyCap 3 is not a whole number/],
				[{ day: '4.12.2026', companyCap: 1 }, /day "4.12.2026" is not a YYYY-MM-DD date/],
				[{ company: '', companyCap: 1 }, /companyCap 1 is given without a company/],
				[{ mailbox: '  ', mailboxCap: 1 }, /mailboxCap 1 is given without a mailbox/],
			] as const) {
				await expect(l.claim('bad', claimOf('a@acme.test', extra))).rejects.toThrow(RangeError);
				await expect(l.claim('bad', claimOf('a@acme.test', extra))).rejects.toThrow(message);
			}
			expect((await l.lookup(['bad'])).size).toBe(0);
		}),
	);
}

/** A random day of claims, settles and releases over few companies/mailboxes/contacts with small caps. */
const operations = fc.array(
	fc.oneof(
		fc.record({
			op: fc.constant('claim' as const),
			key: fc.integer({ min: 0, max: 14 }),
			contact: fc.integer({ min: 0, max: 5 }),
			company: fc.integer({ min: 0, max: 2 }),
			mailbox: fc.integer({ min: 0, max: 1 }),
			day: fc.integer({ min: 0, max: 1 }),
			companyCap: fc.integer({ min: 0, max: 4 }),
			mailboxCap: fc.integer({ min: 0, max: 5 }),
			contactCap: fc.integer({ min: 0, max: 2 }),
		}),
		fc.record({ op: fc.constantFrom('settle' as const, 'release' as const), key: fc.integer({ min: 0, max: 14 }) }),
	),
	{ maxLength: 30 },
);

type Operation = typeof operations extends fc.Arbitrary<Array<infer T>> ? T : never;

const claimFor = (o: Extract<Operation, { op: 'claim' }>): LedgerClaim => ({
	email: `P${o.contact}@c${o.contact % 3}.test`,
	campaign: 'c',
	day: `2026-12-0${4 + o.day}`,
	company: `c${o.company}.test`,
	mailbox: `m${o.mailbox}@sender.test`,
	companyCap: o.companyCap,
	mailboxCap: o.mailboxCap,
	contactCap: o.contactCap,
});

async function play(l: SendLedger, ops: Operation[], tag: string): Promise<ClaimOutcome[]> {
	const out: ClaimOutcome[] = [];
	for (const o of ops) {
		const key = `${tag}|k${o.key}`;
		if (o.op === 'claim') out.push(await l.claim(key, claimFor(o)));
		else if (o.op === 'settle') await l.settle(key, 'sent', sentEvent(`e${o.key}`, 'x@y.test'));
		else await l.release(key);
	}
	return out;
}

/** The rule written out plainly: the outcome each claim should get, from the rows alive at that moment. */
function expectedOutcomes(ops: Operation[]): ClaimOutcome[] {
	const rows = new Map<number, { status: string; day: string; email: string; company: string; mailbox: string }>();
	const out: ClaimOutcome[] = [];
	for (const o of ops) {
		if (o.op === 'claim') {
			const c = claimFor(o);
			const row = { status: 'claimed', day: c.day!, email: c.email.toLowerCase(), company: c.company!, mailbox: c.mailbox! };
			const used = (f: 'email' | 'company' | 'mailbox') => [...rows.values()].filter((r) => r.day === row.day && r[f] === row[f]).length;
			const outcome: ClaimOutcome = rows.has(o.key)
				? 'taken'
				: o.contactCap && used('email') >= o.contactCap
					? 'contact-cap'
					: o.companyCap && used('company') >= o.companyCap
						? 'company-cap'
						: o.mailboxCap && used('mailbox') >= o.mailboxCap
							? 'mailbox-cap'
							: 'claimed';
			if (outcome === 'claimed') rows.set(o.key, row);
			out.push(outcome);
		} else if (o.op === 'settle') {
			const r = rows.get(o.key);
			if (r) r.status = 'sent';
		} else if (rows.get(o.key)?.status === 'claimed') rows.delete(o.key);
	}
	return out;
}

describe('ledger caps in memory', () => {
	capCases(async () => createMemoryLedger());

	it('the claim is checked and normalised the same way for every ledger', () => {
		const s = ledgerClaimScope({
			email: ' Anna@Acme.TEST ',
			campaign: 'c',
			company: 'Acme.test',
			mailbox: 'Bob@S.test',
			companyCap: 2,
			mailboxCap: 0,
		});
		expect(s).toMatchObject({ email: 'anna@acme.test', company: 'acme.test', mailbox: 'bob@s.test', caps: [{ scope: 'company', cap: 2 }] });
		expect(s.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
	});

	it('every claim gets the outcome the rule gives from the rows alive at that moment (random days of claims, settles, releases)', async () => {
		await fc.assert(
			fc.asyncProperty(operations, async (ops) => {
				expect(await play(createMemoryLedger(), ops, 'm')).toEqual(expectedOutcomes(ops));
			}),
			{ numRuns: 200 },
		);
	});
});

describe.skipIf(Boolean(skipReason))('ledger caps in PostgreSQL', () => {
	let server: PostgresServer;
	let db: pg.Pool;
	let tables = 0;
	const connection = (): PostgresConnection => ({
		host: server.host,
		port: server.port,
		database: server.database,
		user: server.user,
		password: server.password,
	});

	beforeAll(async () => {
		server = await startPostgres({ database: 'ledger_caps' });
		db = new pg.Pool({ connectionString: server.url, max: 2 });
	}, 120_000);
	afterAll(async () => {
		await db?.end();
		await server?.stop();
	});

	capCases(() => createPostgresLedger(connection(), { table: `caps_${++tables}`, maxConnections: 2 }));

	it('answers exactly as the memory ledger on random days of claims, settles and releases', async () => {
		const ledger = await createPostgresLedger(connection(), { table: 'caps_differential', maxConnections: 2 });
		let run = 0;
		try {
			await fc.assert(
				fc.asyncProperty(operations, async (ops) => {
					const tag = `r${++run}`;
					const memory = createMemoryLedger();
					expect(await play(ledger, ops, tag)).toEqual(await play(memory, ops, tag));
					// usage of this run's rows only: tags keep runs apart by key, so compare the rows themselves
					const rows = (await db.query(`SELECT key, status FROM caps_differential WHERE key LIKE $1 ORDER BY key`, [`${tag}|%`])).rows;
					expect(rows).toEqual(
						memory
							.entries()
							.map((e) => ({ key: e.key, status: e.status }))
							.sort((a, b) => (a.key < b.key ? -1 : 1)),
					);
					await db.query(`DELETE FROM caps_differential`);
				}),
				{ numRuns: 50 },
			);
		} finally {
			await ledger.close();
		}
	}, 120_000);

	it('keys and names with quotes, backslashes and any other text are stored and counted as given', async () => {
		const l = await createPostgresLedger(connection(), { table: 'caps_quoting', maxConnections: 1 });
		try {
			const piece = fc.oneof(fc.constantFrom("'", '\\', "''", "\\'", '$1', "E'", ';--', '"', '\n'), fc.string({ unit: 'grapheme', maxLength: 4 }));
			const text = fc
				.array(piece, { minLength: 1, maxLength: 4 })
				.map((p) => p.join(''))
				.filter((x) => x.length > 0 && !x.includes('\u0000') && x.trim() === x);
			let n = 0;
			await fc.assert(
				fc.asyncProperty(fc.tuple(text, text, text, text), async ([key, local, company, mailbox]) => {
					const tag = `q${++n}`;
					const claim = {
						email: `${tag}${local}@x.test`,
						campaign: `${key}'\\`,
						day: DAY,
						company: `${tag}${company}`.toLowerCase(),
						mailbox: `${tag}${mailbox}`.toLowerCase(),
						companyCap: 1,
						mailboxCap: 2,
						contactCap: 1,
					};
					expect(await l.claim(`${tag}${key}`, claim)).toBe('claimed');
					expect(await l.claim(`${tag}${key}`, claim)).toBe('taken');
					expect(await l.claim(`${tag}${key}-2`, claim)).toBe('contact-cap');
					expect(await l.claim(`${tag}${key}-3`, { ...claim, email: 'other@x.test' })).toBe('company-cap');
					const found = (await l.lookup([`${tag}${key}`])).get(`${tag}${key}`);
					expect(found).toMatchObject({ email: claim.email.trim().toLowerCase(), campaign: claim.campaign });
					const u = await l.usage(DAY);
					expect(u.companies.get(claim.company)).toBe(1);
					expect(u.mailboxes.get(claim.mailbox)).toBe(1);
				}),
				{ numRuns: 60 },
			);
		} finally {
			await l.close();
		}
	});

	it('usage groups the day’s rows by company, mailbox and contact, every status counted', async () => {
		const l = await createPostgresLedger(connection(), { table: 'caps_usage', maxConnections: 2 });
		const m = createMemoryLedger();
		try {
			for (const ledger of [l, m]) {
				for (let i = 0; i < 12; i++)
					await ledger.claim(
						`k${i}`,
						claimOf(`p${i % 4}@x.test`, { company: `c${i % 3}.test`, mailbox: `m${i % 2}@s.test`, day: i < 10 ? DAY : '2026-12-05' }),
					);
				await ledger.settle('k1', 'sent', sentEvent('e1', 'p1@x.test'));
				await ledger.settle('k2', 'failed', sentEvent('e2', 'p2@x.test'));
				await ledger.settle('k3', 'unconfirmed', sentEvent('e3', 'p3@x.test'));
				await ledger.release('k4');
			}
			const [a, b] = [await l.usage(DAY), await m.usage(DAY)];
			expect(a).toEqual(b);
			// k0–k9 on DAY (k4 released), k10–k11 the next day
			expect(Object.fromEntries(a.companies)).toEqual({ 'c0.test': 4, 'c1.test': 2, 'c2.test': 3 });
			expect(Object.fromEntries(a.mailboxes)).toEqual({ 'm0@s.test': 4, 'm1@s.test': 5 });
			expect(Object.fromEntries(a.contacts)).toEqual({ 'p0@x.test': 2, 'p1@x.test': 3, 'p2@x.test': 2, 'p3@x.test': 2 });
		} finally {
			await l.close();
		}
	});

	it('a table created by the earlier DDL gets the day, company and mailbox columns and their indexes, and keeps its rows', async () => {
		await db.query(`CREATE TABLE old_ledger (
  key          text PRIMARY KEY,
  status       text NOT NULL CHECK (status IN ('claimed', 'sent', 'failed', 'unconfirmed')),
  email        text NOT NULL,
  campaign     text NOT NULL DEFAULT '',
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  settled_at   timestamptz,
  execution_id text NOT NULL DEFAULT '',
  event        jsonb
)`);
		await db.query(`INSERT INTO old_ledger (key, status, email, campaign) VALUES ('old', 'sent', 'a@acme.test', 'c')`);
		// without permission to create, the missing columns are a clear error
		await expect(createPostgresLedger(connection(), { table: 'old_ledger', createTable: false })).rejects.toThrow(
			/cannot open "old_ledger": column "day" does not exist \(an older ledger table: run the DDL of ledgerTableSql\(\)/,
		);
		const ledgers = await Promise.all(
			Array.from({ length: 4 }, () => createPostgresLedger(connection(), { table: 'old_ledger', maxConnections: 1 })),
		);
		try {
			const l = ledgers[0];
			expect(await l.claim('old', claimOf('a@acme.test', { companyCap: 1 }))).toBe('taken');
			expect(await l.claim('new', claimOf('a@acme.test', { companyCap: 1 }))).toBe('claimed');
			expect(await l.claim('new2', claimOf('b@acme.test', { companyCap: 1 }))).toBe('company-cap');
			const indexes = (await db.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'old_ledger' ORDER BY indexname`)).rows.map(
				(r) => r.indexname,
			);
			expect(indexes).toEqual(['old_ledger_day_company_idx', 'old_ledger_day_email_idx', 'old_ledger_day_mailbox_idx', 'old_ledger_pkey']);
			// the documented DDL is the same upgrade, safe to run again
			await db.query(ledgerTableSql('old_ledger'));
			expect((await l.lookup(['old'])).get('old')).toMatchObject({ status: 'sent', email: 'a@acme.test' });
			await expect(createPostgresLedger(connection(), { table: 'old_ledger', createTable: false }).then((x) => x.close())).resolves.toBeUndefined();
		} finally {
			await Promise.all(ledgers.map((x) => x.close()));
		}
	});

	it('long table names get distinct index names within 63 bytes', async () => {
		const long = `t${'x'.repeat(61)}`;
		const l = await createPostgresLedger(connection(), { table: long, maxConnections: 1 });
		try {
			expect(await l.claim('k', claimOf('a@acme.test', { companyCap: 1, mailboxCap: 1, contactCap: 1 }))).toBe('claimed');
			const indexes = (await db.query(`SELECT indexname FROM pg_indexes WHERE tablename = $1`, [long])).rows.map((r) => String(r.indexname));
			expect(new Set(indexes).size).toBe(4);
			for (const i of indexes) expect(i.length).toBeLessThanOrEqual(63);
		} finally {
			await l.close();
		}
	});

	it('an unreachable database surfaces its error from claim and usage', async () => {
		const l = await createPostgresLedger(connection(), { table: 'caps_down', maxConnections: 1 });
		const other = await startPostgres({ database: 'gone' });
		const gone = await createPostgresLedger(
			{ host: other.host, port: other.port, database: other.database, user: other.user, password: other.password, connectionTimeoutMs: 2_000 },
			{ table: 'caps_down', maxConnections: 1 },
		);
		await other.stop();
		try {
			await expect(gone.claim('k', claimOf('a@acme.test', { companyCap: 1 }))).rejects.toThrow();
			await expect(gone.claim('k', claimOf('a@acme.test'))).rejects.toThrow();
			await expect(gone.usage(DAY)).rejects.toThrow();
			expect(await l.claim('k', claimOf('a@acme.test', { companyCap: 1 }))).toBe('claimed');
		} finally {
			await gone.close().catch(() => {});
			await l.close();
		}
	}, 120_000);

	describe('separate processes racing', () => {
		const COMPANIES = 20;
		const KEYS = 200;
		const RACERS = 3;

		/** Forks the racers, starts them together, returns each one's outcomes. */
		async function race(table: string, claimsOf: (racer: number) => RacerJob['claims']): Promise<Array<Record<string, ClaimOutcome>>> {
			const children: ChildProcess[] = [];
			try {
				const ready: Promise<void>[] = [];
				const done: Promise<Record<string, ClaimOutcome>>[] = [];
				for (let r = 0; r < RACERS; r++) {
					const child = fork(join(__dirname, '..', 'helpers', 'ledgerRacer.ts'), [], {
						execArgv: ['--import', 'tsx'],
						stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
					});
					children.push(child);
					let onReady!: () => void;
					ready.push(new Promise<void>((resolve) => (onReady = resolve)));
					done.push(
						new Promise((resolve, reject) => {
							child.on('message', (m: RacerMessage) => {
								if (m.type === 'ready') onReady();
								else if (m.type === 'done') resolve(m.outcomes);
								else reject(new Error(`racer ${r}: ${m.message}`));
							});
							child.on('exit', (code) => reject(new Error(`racer ${r} exited (${code}) before answering`)));
						}),
					);
					const job: RacerJob = { connection: connection(), table, claims: claimsOf(r), concurrency: 4 };
					child.send(job);
				}
				await Promise.race([Promise.all(ready), Promise.all(done)]);
				for (const c of children) c.send('go');
				return await Promise.all(done);
			} finally {
				for (const c of children) if (c.exitCode === null) c.kill();
			}
		}

		const keyClaim = (i: number, round: number, mailboxOf: (i: number) => number) => ({
			key: `r${round}|k${i}`,
			email: `p${i}@company${i % COMPANIES}.test`,
			campaign: 'race',
			day: `2026-12-${String(round + 1).padStart(2, '0')}`,
			company: `company${i % COMPANIES}.test`,
			mailbox: `m${mailboxOf(i)}@sender.test`,
			companyCap: 7,
			mailboxCap: 60,
			contactCap: 1,
		});

		async function check(table: string, round: number, outcomes: Array<Record<string, ClaimOutcome>>, mailboxOf: (i: number) => number) {
			const day = `2026-12-${String(round + 1).padStart(2, '0')}`;
			const rows = (await db.query(`SELECT key, company, mailbox, email FROM ${table} WHERE day = $1`, [day])).rows;
			const perCompany = new Map<string, number>();
			const perMailbox = new Map<string, number>();
			for (const r of rows) {
				perCompany.set(r.company, (perCompany.get(r.company) ?? 0) + 1);
				perMailbox.set(r.mailbox, (perMailbox.get(r.mailbox) ?? 0) + 1);
			}
			for (const n of perCompany.values()) expect(n).toBeLessThanOrEqual(7);
			for (const n of perMailbox.values()) expect(n).toBeLessThanOrEqual(60);
			// every key claimed at most once, and every row is some racer's 'claimed'
			const claimed = outcomes.flatMap((o) =>
				Object.entries(o)
					.filter(([, v]) => v === 'claimed')
					.map(([k]) => k),
			);
			expect(new Set(claimed).size).toBe(claimed.length);
			expect(claimed.sort()).toEqual(rows.map((r) => String(r.key)).sort());
			// no refusal without a reason that still holds: taken keys are rows, refused caps are full
			const rowKeys = new Set(rows.map((r) => String(r.key)));
			const byKey = new Map(rows.map((r) => [String(r.key), r]));
			for (const o of outcomes)
				for (const [key, v] of Object.entries(o)) {
					const i = Number(key.split('|k')[1]);
					if (v === 'taken') expect(rowKeys.has(key)).toBe(true);
					if (v === 'company-cap') expect(perCompany.get(`company${i % COMPANIES}.test`)).toBe(7);
					if (v === 'contact-cap') expect(byKey.get(key)).toBeDefined();
					if (v === 'mailbox-cap') expect(perMailbox.get(`m${mailboxOf(i)}@sender.test`)).toBe(60);
				}
			return { rows: rows.length, perCompany, perMailbox };
		}

		it('three processes claiming the same 200 keys in the same order: exactly 7 per company, ≤ 60 per mailbox', async () => {
			const table = 'race_ordered';
			await createPostgresLedger(connection(), { table }).then((l) => l.close());
			// mailbox of key i: m0 for every third block of 20 (80 keys), m1 and m2 60 keys each
			const mailboxOf = (i: number) => Math.floor(i / COMPANIES) % 3;
			for (let round = 0; round < 3; round++) {
				const outcomes = await race(table, () => Array.from({ length: KEYS }, (_, i) => keyClaim(i, round, mailboxOf)));
				const { rows, perCompany, perMailbox } = await check(table, round, outcomes, mailboxOf);
				expect(rows).toBe(COMPANIES * 7);
				expect([...perCompany.values()]).toEqual(Array(COMPANIES).fill(7));
				expect(Math.max(...perMailbox.values())).toBeLessThanOrEqual(60);
			}
		}, 120_000);

		it('three processes claiming in their own random orders over two mailboxes: no cap exceeded, none refused below it', async () => {
			const table = 'race_shuffled';
			await createPostgresLedger(connection(), { table }).then((l) => l.close());
			const mailboxOf = (i: number) => Math.floor(i / COMPANIES) % 2;
			for (let round = 0; round < 3; round++) {
				const outcomes = await race(table, (racer) => {
					const claims = Array.from({ length: KEYS }, (_, i) => keyClaim(i, round, mailboxOf));
					// a fixed shuffle per racer and round (no timing in the data)
					let seed = 7919 * (round + 1) + racer;
					for (let i = claims.length - 1; i > 0; i--) {
						seed = (seed * 1103515245 + 12345) % 2 ** 31;
						const j = seed % (i + 1);
						[claims[i], claims[j]] = [claims[j], claims[i]];
					}
					return claims;
				});
				const { rows, perMailbox } = await check(table, round, outcomes, mailboxOf);
				// 20 companies × 7 = 140 > 2 mailboxes × 60: the mailboxes fill first
				expect(rows).toBe(120);
				expect([...perMailbox.values()]).toEqual([60, 60]);
			}
		}, 120_000);
	});
});
