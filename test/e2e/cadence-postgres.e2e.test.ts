/**
 * The cadence loop (cadenceLoop.ts) with the Postgres templates (workflows/postgres/) on one n8n process: the store
 * (contacts, events, follow_up_tasks and Cadence Send's ledger) in a real PostgreSQL set up with schema.sql, n8n's
 * own database left SQLite. The same loop runs on n8n's queue mode in queue.e2e.test.ts. Mandatory under CI;
 * elsewhere skipped with the reason printed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { MailStack } from '../helpers/mailStack';
import { n8nAvailability, startN8nInstance, type N8nInstance } from '../helpers/n8nInstance';
import { postgresBinDir, startPostgres } from '../helpers/postgres';
import { cadenceLoop, mailLoopMissing, postgresCadenceStore } from './cadenceLoop';

const SCHEMA = readFileSync(join(__dirname, '..', '..', 'workflows', 'postgres', 'schema.sql'), 'utf8');

function why(): string | null {
	const missing = mailLoopMissing();
	if (missing) return missing;
	if (!postgresBinDir()) return 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
	const n8n = n8nAvailability();
	return n8n.ok ? null : n8n.reason;
}

const skipReason = why();
if (skipReason && process.env.CI) throw new Error(`Postgres-store end-to-end test is mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[e2e postgres] SKIPPED: ${skipReason}`);

describe.skipIf(Boolean(skipReason))('the cadence end to end: Postgres templates, one n8n (Postfix, Dovecot, Chromium, PostgreSQL)', () => {
	let db: pg.Pool;
	let n8nUnderTest: N8nInstance;
	let mailStack: MailStack;

	cadenceLoop({
		templateDir: 'postgres',
		async start(wf, credentials, mail) {
			mailStack = mail;
			const store = await startPostgres({ database: 'cadence_store' });
			db = new pg.Pool({ connectionString: store.url, max: 2 });
			try {
				await db.query(SCHEMA);
				// The templates name two credentials for the same database: n8n's Postgres type for the store
				// nodes, Cadence Postgres for Send's ledger.
				const storeData = {
					host: store.host,
					port: store.port,
					database: store.database,
					user: store.user,
					password: store.password,
					ssl: 'disable',
				};
				const n8n = await startN8nInstance({
					name: 'e2e-cadence-postgres',
					workflows: () => [wf.silent, wf.tracking, wf.inbox, wf.report],
					credentials: (port) => [
						...credentials(`http://127.0.0.1:${port}`),
						{ id: 'e2eStore', name: 'Cadence store', type: 'postgres', data: storeData },
						{ id: 'e2eStoreLedger', name: 'Cadence store ledger', type: 'cadencePostgresApi', data: storeData },
					],
				});
				n8nUnderTest = n8n;
				return {
					n8n,
					store: postgresCadenceStore(db),
					async stop() {
						await n8n.stop();
						await db.end();
						await store.stop();
					},
				};
			} catch (error) {
				await db.end();
				await store.stop();
				throw error;
			}
		},
	});

	// Runs after the loop's tests, on what they left: a run cut short after sending and before its events were
	// saved (a worker restart in queue mode) is what the hourly schedule and the send ledger heal.
	it('a run cut short before saving its events: the next run sends nothing and re-saves the same event and lastSentAt', async () => {
		const sent = (await db.query(`SELECT event_id, email FROM events WHERE type = 'sent' ORDER BY email`)).rows;
		expect(sent.map((r) => r.email)).toEqual(['anna@customer.test', 'li@chinese-dealer.test', 'nobody@customer.test', 'vacation@customer.test']);
		const ledger = (await db.query(`SELECT email, status, event->>'id' AS "eventId" FROM cadence_send_ledger ORDER BY email`)).rows;
		expect(ledger, 'Send recorded each message in its ledger').toEqual(sent.map((r) => ({ email: r.email, status: 'sent', eventId: r.event_id })));
		const mailboxes = {
			anna: (await mailStack.readMailbox('anna')).length,
			vacation: (await mailStack.readMailbox('vacation')).length,
			li: (await mailStack.readMailbox('li')).length,
		};
		await db.query(`DELETE FROM events WHERE type = 'sent'`);
		await db.query('UPDATE contacts SET last_sent_at = NULL');
		const res = await fetch(n8nUnderTest.webhookUrl('e2e-silent'), { method: 'POST' });
		expect(res.status, await res.clone().text()).toBe(200);
		await new Promise((r) => setTimeout(r, 3000));
		expect((await mailStack.readMailbox('anna')).length).toBe(mailboxes.anna);
		expect((await mailStack.readMailbox('vacation')).length).toBe(mailboxes.vacation);
		expect((await mailStack.readMailbox('li')).length).toBe(mailboxes.li);
		// anna replied (Intent-Replied), li replied not interested (风险-不感兴趣) and nobody@ bounced (Risk-Hard bounce)
		// since: the views keep them out now. The vacation contact is still due: its message is not sent again, its
		// event comes back from the ledger, same id.
		expect((await db.query(`SELECT event_id, email FROM events WHERE type = 'sent' ORDER BY email`)).rows).toEqual(
			sent.filter((r) => r.email === 'vacation@customer.test'),
		);
		const mailed = (await db.query('SELECT email FROM contacts WHERE last_sent_at IS NOT NULL ORDER BY email')).rows.map((r) => r.email);
		expect(mailed).toEqual(['vacation@customer.test']);
	}, 60_000);
});
