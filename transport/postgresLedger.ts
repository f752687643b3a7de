/**
 * The send ledger in PostgreSQL (see sendLedger.ts): one row per idempotency key. A claim is an
 * `INSERT … ON CONFLICT DO NOTHING`, so of two runs racing for a key exactly one wins, whichever process or host
 * they run in; settle and release touch only rows still in the state they expect.
 */
import pg from 'pg';
import type { CadenceEvent } from '../core/events';
import type { LedgerEntry, LedgerStatus, SendLedger } from '../core/sendLedger';

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

/** The ledger's DDL (idempotent), for README and for teams that create tables by migration. */
export function ledgerTableSql(table = DEFAULT_LEDGER_TABLE): string {
	const t = quoteTableName(table);
	return `CREATE TABLE IF NOT EXISTS ${t} (
  key          text PRIMARY KEY,
  status       text NOT NULL CHECK (status IN ('claimed', 'sent', 'failed', 'unconfirmed')),
  email        text NOT NULL,
  campaign     text NOT NULL DEFAULT '',
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  settled_at   timestamptz,
  execution_id text NOT NULL DEFAULT '',
  event        jsonb
)`;
}

export async function createPostgresLedger(connection: PostgresConnection, options: PostgresLedgerOptions = {}): Promise<SendLedger> {
	const table = quoteTableName(options.table ?? DEFAULT_LEDGER_TABLE);
	const pool = new pg.Pool(postgresPoolConfig(connection, options.maxConnections ?? 4));
	// An idle client's error (server restart) must not crash the process; the next query reconnects.
	pool.on('error', () => {});
	const exists = () =>
		pool.query(`SELECT 1 FROM ${table} LIMIT 0`).then(
			() => null,
			(error: Error) => error,
		);
	// Two runs creating the table at once: the loser of CREATE TABLE IF NOT EXISTS sees a duplicate type, relation or
	// catalog key (Postgres does not serialise it); what matters is that the table is there afterwards.
	const opened =
		options.createTable !== false ? await pool.query(ledgerTableSql(options.table ?? DEFAULT_LEDGER_TABLE)).then(() => null, exists) : await exists();
	if (opened) {
		await pool.end().catch(() => {});
		throw new Error(`cannot open ${table}: ${opened.message}`);
	}
	const toEntry = (r: Record<string, unknown>): LedgerEntry => ({
		key: String(r.key),
		status: r.status as LedgerStatus,
		email: String(r.email),
		campaign: String(r.campaign ?? ''),
		event: (r.event as CadenceEvent | null) ?? null,
		claimedAt: r.claimed_at instanceof Date ? r.claimed_at.toISOString() : String(r.claimed_at),
		executionId: String(r.execution_id ?? ''),
	});
	return {
		async lookup(keys) {
			const out = new Map<string, LedgerEntry>();
			// Chunks keep each parameter array well below what one statement should carry.
			for (let i = 0; i < keys.length; i += 10_000) {
				const res = await pool.query(
					`SELECT key, status, email, campaign, event, claimed_at, execution_id FROM ${table} WHERE key = ANY($1::text[])`,
					[keys.slice(i, i + 10_000)],
				);
				for (const r of res.rows) out.set(String(r.key), toEntry(r));
			}
			return out;
		},
		async claim(key, c) {
			const res = await pool.query(
				`INSERT INTO ${table} (key, status, email, campaign, execution_id) VALUES ($1, 'claimed', $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
				[key, c.email, c.campaign, c.executionId ?? ''],
			);
			return res.rowCount === 1;
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
