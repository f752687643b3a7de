/**
 * A separate process claiming send-ledger keys, for the cross-process race tests (ledgerCaps.test.ts). Started with
 * `fork(…, { execArgv: ['--import', 'tsx'] })`; the parent sends the job, waits for every racer's `ready` (pool
 * connected, table opened), then sends `go` to all at once; each racer answers with its outcomes and exits.
 */
import { createPostgresLedger, type PostgresConnection } from '../../transport/postgresLedger';
import type { ClaimOutcome, LedgerClaim } from '../../core/sendLedger';

export interface RacerJob {
	connection: PostgresConnection;
	table: string;
	claims: Array<{ key: string } & LedgerClaim>;
	/** Claims in flight at once (the ledger's pool size too). */
	concurrency: number;
}

export type RacerMessage = { type: 'ready' } | { type: 'done'; outcomes: Record<string, ClaimOutcome> } | { type: 'error'; message: string };

const send = (m: RacerMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

process.once('message', async (job: RacerJob) => {
	try {
		const ledger = await createPostgresLedger(job.connection, { table: job.table, maxConnections: job.concurrency });
		// Warm the pool so the race starts with every connection open.
		await Promise.all(Array.from({ length: job.concurrency }, () => ledger.lookup(['warm-up'])));
		process.once('message', async () => {
			try {
				const outcomes: Record<string, ClaimOutcome> = {};
				let next = 0;
				await Promise.all(
					Array.from({ length: job.concurrency }, async () => {
						while (next < job.claims.length) {
							const { key, ...claim } = job.claims[next++];
							outcomes[key] = await ledger.claim(key, claim);
						}
					}),
				);
				await ledger.close();
				await send({ type: 'done', outcomes });
			} catch (error) {
				await send({ type: 'error', message: (error as Error).stack ?? String(error) });
			}
			process.exit(0);
		});
		await send({ type: 'ready' });
	} catch (error) {
		await send({ type: 'error', message: (error as Error).stack ?? String(error) });
		process.exit(0);
	}
});
