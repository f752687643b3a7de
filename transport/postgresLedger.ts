/**
 * The send ledger in PostgreSQL (see sendLedger.ts): one row per idempotency key, with the day, company and mailbox
 * it counts in. A claim is an `INSERT … ON CONFLICT DO NOTHING`, so of two runs racing for a key exactly one wins,
 * whichever process or host they run in; a claim with caps first takes a transaction-scoped advisory lock per capped
 * company, mailbox and contact of its day, so the count it reads and the row it adds are one step for every other
 * claim of that scope. Settle and release touch only rows still in the state they expect.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { CadenceEvent } from '../core/events';
import { ledgerClaimScope, type LedgerCapScope, type LedgerEntry, type LedgerStatus, type LedgerUsage, type SendLedger } from '../core/sendLedger';

/** The ledger table when none is named (the Send node's Ledger Table parameter defaults to it too). */
export const DEFAULT_LEDGER_TABLE = 'cadence_send_ledger';
/** PostgreSQL's port when the credential gives none. */
export const DEFAULT_POSTGRES_PORT = 5432;

export interface PostgresConnection {
	host: string;
	port?: number;
	database: string;
	user: string;
	password?: string;
	/** `disable` (default), `require` (TLS, certificate checked unless allowUnauthorizedCerts), */
	ssl?: 'disable' | 'require';
	allowUnauthorizedCerts?: boolean;
	connectionTimeoutMs?: number;
}

export interface PostgresLedgerOptions {
	/** Table name, optionally schema-qualified (`cadence.send_ledger`). Default DEFAULT_LEDGER_TABLE. */
	table?: string;
	/** Connections the ledger may use at once. Default 4. */
	maxConnections?: number;
	/** Create the table when it is missing (default true). */
	createTable?: boolean;
	/**
	 * This run's id, as its claims record it (the n8n execution id). While the ledger is open, one session holds a
	 * lock named by it, so another run can tell the unsettled claims of a live run (in flight) from those of a run
	 * that stopped between claim and settle (unconfirmed).
	 */
	runId?: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** `schema.table` or `table` as a quoted SQL identifier; throws on anything else (the name is never interpolated raw). */
export function quoteTableName(name: string): string {
	const parts = name.trim().split('.');
	if (parts.length > 2 || parts.some((p) => !IDENTIFIER.test(p))) {
		throw new Error(`Ledger table "${name}" is not a valid table name (letters, digits and _, optionally schema.table)`);
	}
	return parts.map((p) => `"${p}"`).join('.');
}

export function postgresPoolConfig(c: PostgresConnection, max = 4): pg.PoolConfig {
	return {
		host: c.host,
		port: c.port || DEFAULT_POSTGRES_PORT,
		database: c.database,
		user: c.user,
		password: c.password,
		ssl: c.ssl === 'require' ? { rejectUnauthorized: !c.allowUnauthorizedCerts } : undefined,
		max,
		connectionTimeoutMillis: c.connectionTimeoutMs ?? 15_000,
		idleTimeoutMillis: 10_000,
		application_name: 'n8n-nodes-mail-cadence',
	};
}

/** The columns a capped claim counts by, each with its index on (day, column). */
const SCOPE_COLUMNS = ['company', 'mailbox', 'email'] as const;
/** Columns added after the first version of the table; an existing table gets them when the ledger opens it. */
const ADDED_COLUMNS = ['day', 'company', 'mailbox'] as const;

/** The name of the index on (day, column): `<table>_day_<column>_idx`, shortened with a hash to fit 63 bytes. */
function ledgerIndexName(table: string, column: string): string {
	const base = table.trim().split('.').pop()!;
	const suffix = `_day_${column}_idx`;
	if (base.length + suffix.length <= 63) return `${base}${suffix}`;
	const hash = createHash('sha256').update(base).digest('hex').slice(0, 8);
	return `${base.slice(0, 63 - suffix.length - 9)}_${hash}${suffix}`;
}

/** The ledger's DDL statements, in order: the table, the columns an older table lacks, the indexes. All idempotent. */
function ledgerDdl(table: string): string[] {
	const t = quoteTableName(table);
	return [
		`CREATE TABLE IF NOT EXISTS ${t} (
  key          text PRIMARY KEY,
  status       text NOT NULL CHECK (status IN ('claimed', 'sent', 'failed', 'unconfirmed')),
  email        text NOT NULL,
  campaign     text NOT NULL DEFAULT '',
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  settled_at   timestamptz,
  execution_id text NOT NULL DEFAULT '',
  event        jsonb,
  day          text NOT NULL DEFAULT '',
  company      text NOT NULL DEFAULT '',
  mailbox      text NOT NULL DEFAULT ''
)`,
		`ALTER TABLE ${t}\n${ADDED_COLUMNS.map((c) => `  ADD COLUMN IF NOT EXISTS ${c} text NOT NULL DEFAULT ''`).join(',\n')}`,
		...SCOPE_COLUMNS.map((c) => `CREATE INDEX IF NOT EXISTS "${ledgerIndexName(table, c)}" ON ${t} (day, ${c})`),
	];
}

/** The ledger's DDL (idempotent; it also upgrades a table of an earlier version), for README and for teams that create tables by migration. */
export function ledgerTableSql(table = DEFAULT_LEDGER_TABLE): string {
	return `${ledgerDdl(table).join(';\n')};`;
}

/** A stable 64-bit advisory lock key (signed, as Postgres takes it) for one cap of one day in one table. */
function capLockKey(tableOid: string, day: string, scope: string, name: string): bigint {
	return createHash('sha256').update(`${tableOid}\u0000${day}\u0000${scope}\u0000${name}`).digest().readBigInt64BE(0);
}

/** The session advisory lock a run holds while its ledger is open, in the table's namespace. */
function runLockKey(tableOid: string, runId: string): string {
	return createHash('sha256').update(`${tableOid}\u0000run\u0000${runId}`).digest().readBigInt64BE(0).toString();
}

/**
 * Holds the run's lock on a connection of its own until `release`. Null when another session holds it already (the
 * same execution id running twice): the claims are then told apart as before, by their settle alone.
 */
async function holdRunLock(connection: PostgresConnection, key: string): Promise<{ release(): Promise<void> } | null> {
	const client = new pg.Client(postgresPoolConfig(connection, 1));
	client.on('error', () => {});
	try {
		await client.connect();
		const r = await client.query('SELECT pg_try_advisory_lock($1::bigint) AS held', [key]);
		if (r.rows[0]?.held === true) return { release: () => client.end().catch(() => {}) };
	} catch {
		// Without the lock, other runs see this run's unsettled claims as unconfirmed: reported, never resent.
	}
	await client.end().catch(() => {});
	return null;
}

export async function createPostgresLedger(connection: PostgresConnection, options: PostgresLedgerOptions = {}): Promise<SendLedger> {
	const tableName = options.table ?? DEFAULT_LEDGER_TABLE;
	const table = quoteTableName(tableName);
	const pool = new pg.Pool(postgresPoolConfig(connection, options.maxConnections ?? 4));
	// An idle client's error (server restart) must not crash the process; the next query reconnects.
	pool.on('error', () => {});
	const [createTableSql, addColumnsSql, ...indexSql] = ledgerDdl(tableName);
	// What a claim needs: the columns, the indexes, and the table's oid (the lock keys' namespace, the same however the
	// table is spelled). Null when something is missing.
	const inspect = async (): Promise<string | null> => {
		await pool.query(`SELECT key, ${ADDED_COLUMNS.join(', ')} FROM ${table} LIMIT 0`);
		const r = await pool.query(
			`SELECT c.oid::text AS oid, (SELECT count(*) FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid WHERE i.indrelid = c.oid AND x.relname = ANY($2::text[]))::int AS indexes
			 FROM pg_class c WHERE c.oid = to_regclass($1)`,
			[table, SCOPE_COLUMNS.map((c) => ledgerIndexName(tableName, c))],
		);
		return r.rows[0]?.indexes === SCOPE_COLUMNS.length ? String(r.rows[0].oid) : null;
	};
	const open = async (): Promise<string> => {
		if (options.createTable !== false) {
			// Two runs creating the table or an index at once: the loser of CREATE … IF NOT EXISTS may see a duplicate type,
			// relation or catalog key (Postgres does not serialise it); what matters is that they are there afterwards.
			await pool.query(createTableSql).catch(() => {});
			const ready = await inspect().catch(() => null);
			if (ready) return ready;
			// An older table: ALTER and CREATE INDEX lock it, so they run only when something is missing.
			await pool.query(addColumnsSql).catch(() => {});
			for (const sql of indexSql) await pool.query(sql).catch(() => {});
		}
		const oid = await inspect();
		if (oid) return oid;
		throw new Error(`the indexes on (day, company), (day, mailbox), (day, email) are missing (create them with the DDL of ledgerTableSql())`);
	};
	const tableOid = await open().catch(async (error: Error) => {
		await pool.end().catch(() => {});
		const hint =
			(error as { code?: string }).code === '42703' ? ' (an older ledger table: run the DDL of ledgerTableSql() to add the columns and indexes)' : '';
		throw new Error(`cannot open ${table}: ${error.message}${hint}`);
	});
	const runLock = options.runId ? await holdRunLock(connection, runLockKey(tableOid, options.runId)) : null;
	const toEntry = (r: Record<string, unknown>): LedgerEntry => ({
		key: String(r.key),
		status: r.status as LedgerStatus,
		email: String(r.email),
		campaign: String(r.campaign ?? ''),
		event: (r.event as CadenceEvent | null) ?? null,
		claimedAt: r.claimed_at instanceof Date ? r.claimed_at.toISOString() : String(r.claimed_at),
		executionId: String(r.execution_id ?? ''),
	});
	// One capped claim as one simple-protocol message: the locks, then the count-and-insert. Postgres runs the statements
	// of one message as one transaction, each with its own snapshot, so the second sees every claim committed before the
	// locks were granted; the locks go with the transaction. Values are quoted literals (simple protocol has no
	// parameters); counts stop at the cap (LIMIT), so a claim reads at most `cap` index entries per scope.
	const cappedClaimSql = (
		locks: readonly bigint[],
		v: Record<'key' | 'email' | 'campaign' | 'executionId' | 'day' | 'company' | 'mailbox', string>,
		caps: Record<LedgerCapScope, number>,
	) => {
		const q = (s: string) => pg.escapeLiteral(s);
		const used = (column: string, value: string, cap: number) =>
			`(SELECT count(*) FROM (SELECT 1 FROM ${table} WHERE day = ${q(v.day)} AND ${column} = ${q(value)} LIMIT ${cap}) x)::int`;
		const below = (column: string, cap: number) => (cap > 0 ? ` AND ${column} < ${cap}` : '');
		return `SELECT ${locks.map((k) => `pg_advisory_xact_lock(${k})`).join(', ')};
WITH state AS (
  SELECT EXISTS (SELECT 1 FROM ${table} WHERE key = ${q(v.key)}) AS taken,
    ${used('email', v.email, caps.contact)} AS contact_used,
    ${used('company', v.company, caps.company)} AS company_used,
    ${used('mailbox', v.mailbox, caps.mailbox)} AS mailbox_used
), ins AS (
  INSERT INTO ${table} (key, status, email, campaign, execution_id, day, company, mailbox)
  SELECT ${[v.key, 'claimed', v.email, v.campaign, v.executionId, v.day, v.company, v.mailbox].map(q).join(', ')} FROM state
  WHERE NOT taken${below('contact_used', caps.contact)}${below('company_used', caps.company)}${below('mailbox_used', caps.mailbox)}
  ON CONFLICT (key) DO NOTHING RETURNING 1
)
SELECT taken, contact_used, company_used, mailbox_used, (SELECT count(*) FROM ins)::int AS inserted FROM state`;
	};
	const read = async (keys: readonly string[], out: Map<string, LedgerEntry>) => {
		// Chunks keep each parameter array well below what one statement should carry.
		for (let i = 0; i < keys.length; i += 10_000) {
			const res = await pool.query(`SELECT key, status, email, campaign, event, claimed_at, execution_id FROM ${table} WHERE key = ANY($1::text[])`, [
				keys.slice(i, i + 10_000),
			]);
			for (const r of res.rows) out.set(String(r.key), toEntry(r));
		}
	};
	/** The runs among `runIds` whose lock is free: each stopped, or never held one. */
	const stoppedRuns = async (runIds: string[]): Promise<Set<string>> => {
		const res = await pool.query(
			`SELECT run, CASE WHEN pg_try_advisory_lock(k) THEN pg_advisory_unlock(k) ELSE false END AS stopped
			 FROM unnest($1::text[], $2::bigint[]) AS t(run, k)`,
			[runIds, runIds.map((id) => runLockKey(tableOid, id))],
		);
		return new Set(res.rows.filter((r) => r.stopped === true).map((r) => String(r.run)));
	};
	return {
		async lookup(keys) {
			const out = new Map<string, LedgerEntry>();
			await read(keys, out);
			// An unsettled claim of another run: in flight while that run holds its lock. A run settles before it lets the
			// lock go, so a claim read again after its lock was found free shows its settle, or stays unsettled for good.
			const unsettled = [...out.values()].filter((e) => e.status === 'claimed' && e.executionId && e.executionId !== options.runId);
			if (unsettled.length === 0) return out;
			const stopped = await stoppedRuns([...new Set(unsettled.map((e) => e.executionId))]);
			for (const e of unsettled) if (!stopped.has(e.executionId)) e.inFlight = true;
			const again = unsettled.filter((e) => stopped.has(e.executionId)).map((e) => e.key);
			for (const key of again) out.delete(key);
			await read(again, out);
			return out;
		},
		async claim(key, c) {
			const scope = ledgerClaimScope(c);
			const row = [key, scope.email, c.campaign ?? '', c.executionId ?? '', scope.day, scope.company, scope.mailbox];
			if (scope.caps.length === 0) {
				const res = await pool.query(
					`INSERT INTO ${table} (key, status, email, campaign, execution_id, day, company, mailbox) VALUES ($1, 'claimed', $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
					row,
				);
				return res.rowCount === 1 ? 'claimed' : 'taken';
			}
			// Every claim that carries a cap takes that cap's lock for the day, in one global order (no deadlock), before the
			// statement that counts and inserts.
			const locks = scope.caps.map((cap) => capLockKey(tableOid, scope.day, cap.scope, cap.name)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
			const caps = { contact: 0, company: 0, mailbox: 0 };
			for (const cap of scope.caps) caps[cap.scope] = cap.cap;
			const values = {
				key: String(key),
				email: scope.email,
				campaign: String(c.campaign ?? ''),
				executionId: String(c.executionId ?? ''),
				day: scope.day,
				company: scope.company,
				mailbox: scope.mailbox,
			};
			const results = (await pool.query(cappedClaimSql(locks, values, caps))) as unknown as pg.QueryResult[];
			const r = results[results.length - 1].rows[0];
			if (r.inserted === 1) return 'claimed';
			if (r.taken) return 'taken';
			for (const cap of scope.caps) if (Number(r[`${cap.scope}_used`]) >= cap.cap) return cap.outcome;
			// The key was inserted by a claim that took no lock of ours (uncapped, or another day) meanwhile.
			return 'taken';
		},
		async usage(day) {
			const res = await pool.query(
				`SELECT company, mailbox, email, GROUPING(company, mailbox, email) AS g, count(*)::int AS n FROM ${table}
				 WHERE day = $1 GROUP BY GROUPING SETS ((company), (mailbox), (email))`,
				[day],
			);
			const out: LedgerUsage = { companies: new Map(), mailboxes: new Map(), contacts: new Map() };
			for (const r of res.rows) {
				// GROUPING's bits: company 4, mailbox 2, email 1; a set's own column has its bit clear.
				const [map, name] = r.g === 3 ? [out.companies, r.company] : r.g === 5 ? [out.mailboxes, r.mailbox] : [out.contacts, r.email];
				if (name) map.set(String(name), r.n);
			}
			return out;
		},
		async settle(key, status, event) {
			await pool.query(`UPDATE ${table} SET status = $2, event = $3::jsonb, settled_at = now() WHERE key = $1 AND status = 'claimed'`, [
				key,
				status,
				JSON.stringify(event),
			]);
		},
		async release(key) {
			await pool.query(`DELETE FROM ${table} WHERE key = $1 AND status = 'claimed'`, [key]);
		},
		async close() {
			await pool.end();
			await runLock?.release();
		},
	};
}

/** For the credential test: connects, and says whether this user may create the ledger table in the schema. */
export async function checkPostgresConnection(connection: PostgresConnection): Promise<{ canCreate: boolean; version: string }> {
	const client = new pg.Client({ ...postgresPoolConfig(connection, 1) });
	client.on('error', () => {});
	await client.connect();
	try {
		const r = await client.query(`SELECT version() AS version, has_schema_privilege(current_schema(), 'CREATE') AS can_create`);
		return { canCreate: r.rows[0].can_create === true, version: String(r.rows[0].version).split(' on ')[0] };
	} finally {
		await client.end().catch(() => {});
	}
}
