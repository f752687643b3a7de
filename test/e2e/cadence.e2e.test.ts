/**
 * The cadence loop (cadenceLoop.ts) with the Data-table templates on one n8n process: the embedded default that
 * `npm start` sets up. Mandatory under CI; elsewhere skipped with the reason printed.
 */
import { describe } from 'vitest';
import { n8nAvailability, startN8nInstance } from '../helpers/n8nInstance';
// @ts-expect-error: plain ESM script without type declarations
import { ensureDataTables, ensureOwner, insertRows, readRows } from '../../scripts/cadence-setup.mjs';
import { cadenceLoop, mailLoopMissing, type Json } from './cadenceLoop';

function why(): string | null {
	const missing = mailLoopMissing();
	if (missing) return missing;
	const n8n = n8nAvailability();
	return n8n.ok ? null : n8n.reason;
}

const skipReason = why();
if (skipReason && process.env.CI) throw new Error(`end-to-end test is mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[e2e] SKIPPED: ${skipReason}`);

describe.skipIf(Boolean(skipReason))('the cadence end to end: Data tables, one n8n (Postfix, Dovecot, Chromium)', () => {
	cadenceLoop({
		templateDir: '',
		async start(wf, credentials) {
			const n8n = await startN8nInstance({
				name: 'e2e-cadence',
				workflows: () => [wf.silent, wf.tracking, wf.inbox, wf.report],
				credentials: (port) => credentials(`http://127.0.0.1:${port}`),
			});
			const api = await ensureOwner(n8n.baseUrl);
			const tables = await ensureDataTables(api);
			return {
				n8n,
				store: {
					rows: async (table) => (await readRows(api, tables.projectId, tables.ids[table])) as Json[],
					insertContacts: async (rows) => void (await insertRows(api, tables.projectId, tables.ids.contacts, rows)),
				},
				stop: () => n8n.stop(),
			};
		},
	});
});
