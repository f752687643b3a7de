/**
 * The simulated month (test/helpers/cadenceSim.ts, describeSimulatedMonth) on n8n Data tables: the pinned n8n with
 * the templates' data tables (scripts/cadence-setup.mjs) is the store, read and written through its REST API with
 * the Data-table templates' filters and column mappings; the Cadence nodes run in-process in n8n-core's
 * ExecuteContext, as in the Postgres month. No send ledger: the day's counts come only from the Sender Status, and
 * the runs are serialised (one process), as the Data-table templates document. Twelve days instead of thirty keep
 * the time down while still reaching the read cadence (from the 11th) and the breaker (bounces from day 3).
 * Mandatory under CI; elsewhere skipped with the reason printed.
 */
import { dataTableStore, describeSimulatedMonth, type RestApi } from '../helpers/cadenceSim';
import { n8nAvailability, startN8nInstance } from '../helpers/n8nInstance';
// @ts-expect-error: plain ESM script without type declarations
import { ensureDataTables, ensureOwner } from '../../scripts/cadence-setup.mjs';

const n8n = n8nAvailability();
const skipReason = n8n.ok ? null : n8n.reason;
if (skipReason && process.env.CI) throw new Error(`the Data-table month is mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[sender month] SKIPPED: ${skipReason}`);

describeSimulatedMonth(
	'a simulated month of both cadences on n8n Data tables (12 days, no ledger)',
	{
		name: 'data tables',
		async start() {
			const instance = await startN8nInstance({ name: 'sender-month', workflows: () => [] });
			const api = (await ensureOwner(instance.baseUrl)) as RestApi;
			const tables = (await ensureDataTables(api)) as { projectId: string; ids: Record<'contacts' | 'events', string> };
			return { store: dataTableStore(api, tables.projectId, tables.ids), stop: () => instance.stop() };
		},
	},
	{ days: 12, bounceFromDay: 3, bounceEvery: 12, busyDayAfterTrip: 1, resumeDayAfterTrip: 2 },
	Boolean(skipReason),
);
