/**
 * The same cadence loop (cadenceLoop.ts), unchanged, with the Postgres templates on n8n's queue mode: Postgres (n8n's
 * database and the cadence store), Redis, a main process, a webhook processor serving the pixel, clicks and
 * unsubscribe pages, and two workers running every execution. Mandatory under CI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe } from 'vitest';
import { cadenceStoreCredentials, queueStackAvailability, startQueueStack } from '../helpers/queueStack';
import { cadenceLoop, mailLoopMissing, postgresCadenceStore } from './cadenceLoop';

const SCHEMA = readFileSync(join(__dirname, '..', '..', 'workflows', 'postgres', 'schema.sql'), 'utf8');

function why(): string | null {
	const missing = mailLoopMissing();
	if (missing) return missing;
	const stack = queueStackAvailability();
	return stack.ok ? null : stack.reason;
}
const skipReason = why();
if (skipReason && process.env.CI) throw new Error(`queue-mode end-to-end test is mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[queue e2e] SKIPPED: ${skipReason}`);

describe.skipIf(Boolean(skipReason))('the cadence end to end: Postgres templates on n8n queue mode (webhook processor, two workers)', () => {
	cadenceLoop({
		templateDir: 'postgres',
		async start(wf, credentials) {
			const stack = await startQueueStack({
				name: 'e2e-queue',
				workflows: () => [wf.silent, wf.tracking, wf.inbox, wf.report],
				credentials: (webhookPort, store) => [...credentials(`http://127.0.0.1:${webhookPort}`), ...cadenceStoreCredentials(store)],
			});
			const db = new pg.Pool({ connectionString: stack.store.url, max: 2 });
			await db.query(SCHEMA);
			return {
				n8n: stack,
				store: postgresCadenceStore(db),
				async stop() {
					await db.end();
					await stack.stop();
				},
			};
		},
	});
});
