/** A real PostgreSQL with a pool for one test file, and a template's Postgres query run on it as n8n's Postgres node runs it. */
import type { IDataObject, INode } from 'n8n-workflow';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresServer } from './postgres';
import { pgpFormat, queryValues } from './postgresTemplates';

/** How long starting PostgreSQL (initdb included) may take. */
export const POSTGRES_START_TIMEOUT_MS = 120_000;

export interface PostgresStore {
	server: PostgresServer;
	db: pg.Pool;
}

/**
 * Registers the hooks of the current suite: before its tests, start PostgreSQL with `database`, open a pool of
 * `maxConnections` and hand both to `ready` (which may set the schema up); after them, end the pool and stop the server.
 */
export function usePostgresStore(database: string, maxConnections: number, ready: (store: PostgresStore) => void | Promise<void>): void {
	let store: PostgresStore | undefined;
	beforeAll(async () => {
		const server = await startPostgres({ database });
		store = { server, db: new pg.Pool({ connectionString: server.url, max: maxConnections }) };
		await ready(store);
	}, POSTGRES_START_TIMEOUT_MS);
	afterAll(async () => {
		await store?.db.end();
		await store?.server.stop();
	});
}

/**
 * Runs a template's Postgres node query for these input items as the node does (one query per item, or one with
 * Execute Once) and returns the rows of every statement, in order.
 */
export async function runTemplateQuery(db: pg.Pool, node: INode, items: readonly IDataObject[], timezone = 'UTC'): Promise<IDataObject[]> {
	const query = String(node.parameters.query);
	const rows: IDataObject[] = [];
	for (const values of queryValues(node, items, timezone)) {
		const res = pgpFormat ? await db.query(pgpFormat(query, values)) : await db.query(query, values);
		for (const r of Array.isArray(res) ? res : [res]) rows.push(...(r.rows as IDataObject[]));
	}
	return rows;
}
