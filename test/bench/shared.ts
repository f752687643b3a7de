/** What several benches share: sizes read from the environment, a process's memory, and a queue stack with its Postgres store. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startQueueStack, type QueueStack, type QueueStackOptions, type StoreConnection } from '../helpers/queueStack';

const ROOT = join(__dirname, '..', '..');

/** A comma-separated list of sizes (`value`, else `fallback`), the positive ones, smallest first. */
export function sizesFromEnv(value: string | undefined, fallback: string): number[] {
	return (value ?? fallback)
		.split(',')
		.map((s) => Number(s.trim()))
		.filter((n) => n > 0)
		.sort((a, b) => a - b);
}

/** A process's resident memory now and at its peak (VmRSS, VmHWM), in MB. */
export interface ProcessMemory {
	rssMB: number;
	peakMB: number;
}

/** The memory of process `pid` from /proc; zeros when it is gone. */
export function processMemory(pid: number): ProcessMemory {
	try {
		const s = readFileSync(`/proc/${pid}/status`, 'utf8');
		const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
		return { rssMB: Math.round(kb('VmRSS') / 1024), peakMB: Math.round(kb('VmHWM') / 1024) };
	} catch {
		return { rssMB: 0, peakMB: 0 };
	}
}

/** The Postgres store's two credentials as the Postgres templates name them (`<idPrefix>Store`, `<idPrefix>Ledger`). */
export function storeCredentials(store: StoreConnection, idPrefix: string): object[] {
	const data = { host: store.host, port: store.port, database: store.database, user: store.user, password: store.password, ssl: 'disable' };
	return [
		{ id: `${idPrefix}Store`, name: 'Cadence store', type: 'postgres', data },
		{ id: `${idPrefix}Ledger`, name: 'Cadence store ledger', type: 'cadencePostgresApi', data },
	];
}

/** The n8n settings of the queue benches: info logs (they carry the per-node times) and a 512 MB payload limit. */
export const BENCH_STACK_ENV = { N8N_LOG_LEVEL: 'info', N8N_PAYLOAD_SIZE_MAX: '512' };

/**
 * Starts a queue stack with the bench settings and no log output, and opens a pool of two connections to its store
 * with workflows/postgres/schema.sql applied. The caller ends the pool and stops the stack.
 */
export async function startBenchStack(
	options: Pick<QueueStackOptions, 'name' | 'workflows' | 'credentials'>,
): Promise<{ stack: QueueStack; db: pg.Pool }> {
	const stack = await startQueueStack({ ...options, env: BENCH_STACK_ENV, log: () => {} });
	const db = new pg.Pool({ connectionString: stack.store.url, max: 2 });
	try {
		await db.query(readFileSync(join(ROOT, 'workflows', 'postgres', 'schema.sql'), 'utf8'));
	} catch (error) {
		await db.end();
		await stack.stop();
		throw error;
	}
	return { stack, db };
}
