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
import { cadenceLoop, mailLoopMissing } from './cadenceLoop';

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

/** The store's rows under the Data tables' field names, so the loop's checks read the same either way. */
const SELECT: Record<string, string> = {
	contacts: 'SELECT email, tags, language, segment, company, last_sent_at AS "lastSentAt" FROM contacts',
	events: `SELECT event_id AS "eventId", type, at, email, campaign, batch_tag AS "batchTag", variant, message_id AS "messageId", token, class, url,
	         reason, bounce_hard AS "bounceHard", bounce_status AS "bounceStatus", channel, is_unique AS "unique" FROM events`,
	follow_up_tasks: 'SELECT event_id AS "eventId", email, kind, campaign, detail, status FROM follow_up_tasks',
};


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
				store: {
					rows: async (table) => (await db.query(SELECT[table])).rows.map((r) => ({ ...r, lastSentAt: r.lastSentAt?.toISOString?.() ?? r.lastSentAt })),
					async insertContacts(rows) {
						await db.query(
							`INSERT INTO contacts (email, tags, language, segment, company) SELECT email, tags, language, segment, company
							 FROM jsonb_to_recordset($1::jsonb) AS c(email text, tags text, language text, segment text, company text)`,
							[JSON.stringify(rows)],
						);
					},
				},
				async stop() {
					await db.end();
					await stack.stop();
				},
			};
		},
	});
});
