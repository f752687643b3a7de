/**
 * Report bench: 30 days of a million-contact base (about 3,000,000 events: sends, opens of every class, clicks,
 * bounces, replies, auto-replies, unsubscribes, complaints) in Postgres, and the daily report template
 * (workflows/postgres/6-daily-report.json, its email step left out) run on n8n's queue mode (test/helpers/queueStack.ts).
 *
 *   floor    the report's metrics SQL (transport/metricsSql.ts, as the template ships it) run directly through `pg`,
 *            before and after the report, in the same run
 *   report   the template's execution on a worker: wall time, per-node times, the worker's peak memory (VmHWM)
 *   items    the way the report counted before, and the Data-table report still does: every event of the range as an
 *            n8n item into Cadence Metrics (Input: Events), on the same stack for BENCH_ITEM_EVENTS events (each a
 *            separate run, smallest first), to measure what an event costs a worker and where 1 GB runs out
 * Goals: report execution ≤ 60 s, worker peak ≤ 1 GB.
 * Env: BENCH_CONTACTS (1000000), BENCH_ITEM_EVENTS (50000,150000; empty skips), BENCH_REPORT_REPEATS (1).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { queueStackAvailability, type QueueRole } from '../helpers/queueStack';
import { node, template, withWebhookStart, type Json } from '../helpers/templates';
import { processMemory, sizesFromEnv, startBenchStack, storeCredentials } from './shared';

const N = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const ITEM_EVENTS = sizesFromEnv(process.env.BENCH_ITEM_EVENTS, '50000,150000');
const REPEATS = Number(process.env.BENCH_REPORT_REPEATS ?? 1);
const ROOT = join(__dirname, '..', '..');
const ROLES: QueueRole[] = ['main', 'webhook', 'worker1', 'worker2'];
const ZONE = 'UTC';
const GOAL_MS = 60_000;
const GOAL_MB = 1024;

// Each contact g got one send in the last 29 days; the other events follow from g, so the mix is fixed:
// opens 80 % (a second for 60 %, a third for 20 %; classes human, Apple MPP, image proxy, scanner), clicks 30 % (human
// or scanner; a second for 5 %), bounces 2.5 % (half hard, named by Message-ID as the inbox finds them), replies 3.3 %,
// auto-replies 1.1 %, unsubscribes 0.7 %, complaints 0.05 %.
const COMMON = `
	FROM generate_series(1::bigint, ${N}::bigint) g,
	     LATERAL (SELECT now() - make_interval(secs => (g * 2591) % (29 * 86400)) AS sent_at,
	                     abs(hashint8(g)::bigint) % 1000 AS h, abs(hashint8(g + 7777777)::bigint) % 10000 AS h2) t`;
const COLUMNS = '(event_id, type, at, email, campaign, batch_tag, variant, message_id, token, class, bounce_hard, mailbox)';
const BASE = (kind: string, type: string, atOffset: string) => `
	SELECT '${kind}' || g, '${type}', t.sent_at + ${atOffset},
	       (ARRAY['info','sales','john','maria','hr','purchasing','noreply','ivan','ceo','office'])[1 + g % 10] || g || '@company' || (g * 7919 % 50000) || '.com',
	       'bench-' || (g % 4), 'English-Equipment Dealers-Marketing' || lpad((1 + g % 30)::text, 2, '0'), CASE WHEN g % 2 = 0 THEN 'A' ELSE 'B' END`;
const LOADS: Array<[string, string]> = [
	['sent', `${BASE('s', 'sent', "interval '0'")}, '<' || g || '@bench>', 'tk' || g, '', false, 'sales@sender.test' ${COMMON}`],
	[
		'opened (1st)',
		`${BASE('o1-', 'opened', "interval '1 hour'")}, '', 'tk' || g, (ARRAY['human','apple_mpp','image_proxy','scanner','human'])[1 + t.h % 5], false, '' ${COMMON} WHERE t.h < 800`,
	],
	[
		'opened (2nd)',
		`${BASE('o2-', 'opened', "interval '5 hours'")}, '', 'tk' || g, CASE WHEN t.h % 3 = 0 THEN 'apple_mpp' ELSE 'human' END, false, '' ${COMMON} WHERE t.h < 600`,
	],
	['opened (3rd)', `${BASE('o3-', 'opened', "interval '1 day'")}, '', 'tk' || g, 'human', false, '' ${COMMON} WHERE t.h < 200`],
	[
		'clicked',
		`${BASE('c1-', 'clicked', "interval '2 hours'")}, '', 'tk' || g, CASE WHEN t.h % 3 = 0 THEN 'scanner' ELSE 'human' END, false, '' ${COMMON} WHERE t.h < 300`,
	],
	['clicked (2nd)', `${BASE('c2-', 'clicked', "interval '3 hours'")}, '', 'tk' || g, 'human', false, '' ${COMMON} WHERE t.h < 50`],
	['bounced', `${BASE('b', 'bounced', "interval '10 minutes'")}, '<' || g || '@bench>', '', '', t.h2 < 125, '' ${COMMON} WHERE t.h2 < 250`],
	['replied', `${BASE('r', 'replied', "interval '6 hours'")}, '', 'tk' || g, '', false, '' ${COMMON} WHERE t.h2 >= 250 AND t.h2 < 580`],
	['auto_replied', `${BASE('a', 'auto_replied', "interval '20 minutes'")}, '', 'tk' || g, '', false, '' ${COMMON} WHERE t.h2 >= 580 AND t.h2 < 690`],
	['unsubscribed', `${BASE('u', 'unsubscribed', "interval '7 hours'")}, '', 'tk' || g, '', false, '' ${COMMON} WHERE t.h2 >= 690 AND t.h2 < 760`],
	['complained', `${BASE('x', 'complained', "interval '8 hours'")}, '', 'tk' || g, '', false, '' ${COMMON} WHERE t.h2 >= 760 AND t.h2 < 765`],
];

/** The report template for the bench: a webhook start beside the schedule, and no email step (it needs an SMTP server). */
function reportWorkflow(id: string, path: string): Json {
	const wf = withWebhookStart(template('postgres', '6-daily-report.json', id), 'Every morning', path);
	wf.nodes = wf.nodes.filter((n: Json) => n.name !== 'Email the report');
	wf.connections['Add paused senders'] = { main: [[]] };
	return wf;
}

/** The report counting from items: the range's events selected into items (LIMIT n) and counted by Cadence Metrics. */
function itemsWorkflow(id: string, path: string): Json {
	const wf = reportWorkflow(id, path);
	const counting = node(wf, 'Count the last 30 days');
	counting.parameters.query = `SELECT event_id AS id, type, at, email, campaign, batch_tag AS "batchTag", variant, message_id AS "messageId", token, class, url, reason,
       bounce_hard AS "bounceHard", bounce_status AS "bounceStatus", channel, is_unique AS "unique"
FROM events
WHERE at >= ($1::jsonb->>'from')::timestamptz
ORDER BY at DESC
LIMIT ($1::jsonb->>'limit')::int`;
	counting.parameters.options = {
		queryReplacement: "={{ JSON.stringify({ from: $today.minus({ days: 30 }).toISO(), limit: $('E2E start').first().json.body.limit }) }}",
	};
	node(wf, 'Metrics').parameters.input = 'events';
	return wf;
}

async function main() {
	const availability = queueStackAvailability();
	if (!availability.ok) {
		console.log(`report bench skipped: ${availability.reason}`);
		return;
	}
	const report = reportWorkflow('benchReport', 'bench-report');
	const items = itemsWorkflow('benchReportItems', 'bench-report-items');
	const { stack, db } = await startBenchStack({
		name: 'bench-report',
		workflows: () => [report, items],
		credentials: (_port, s) => storeCredentials(s, 'br'),
	});
	try {
		let t = Date.now();
		const loads: Record<string, number> = {};
		for (const [name, select] of LOADS) {
			const r = await db.query(`INSERT INTO events ${COLUMNS} ${select}`);
			loads[name] = r.rowCount ?? 0;
		}
		await db.query('ANALYZE events');
		const loadMs = Date.now() - t;
		const total = Object.values(loads).reduce((a, b) => a + b, 0);
		const tableMB = Math.round(Number((await db.query(`SELECT pg_total_relation_size('events') AS b`)).rows[0].b) / 1048576);
		console.log(
			`base: ${N.toLocaleString()} contacts, ${total.toLocaleString()} events (${tableMB} MB with indexes) loaded in ${(loadMs / 1000).toFixed(1)} s`,
		);
		console.log(`  ${JSON.stringify(loads)}`);

		// The floor: the template's own SQL with the parameter its expression gives, straight through pg.
		const counting = node(report, 'Count the last 30 days');
		const sql = String(counting.parameters.query);
		const today = new Date();
		today.setUTCHours(0, 0, 0, 0);
		const parameter = JSON.stringify({ from: new Date(today.getTime() - 30 * 86_400_000).toISOString(), zone: ZONE });
		const floor = async () => {
			const s = Date.now();
			const r = await db.query(sql, [parameter]);
			return { ms: Date.now() - s, rows: r.rows as Array<Record<string, unknown>> };
		};
		const floorBefore = await floor();
		console.log(`floor (the metrics SQL through pg): ${floorBefore.ms} ms for ${floorBefore.rows.length} rows`);

		const runs: Array<Record<string, unknown>> = [];
		let reportRows: Array<Record<string, unknown>> = [];
		for (let k = 0; k < REPEATS; k++) {
			const memBefore = Object.fromEntries(ROLES.map((r) => [r, processMemory(stack.pid(r))]));
			const since = Number(stack.executions().at(-1)?.id ?? 0);
			t = Date.now();
			await (await fetch(stack.webhookUrl('bench-report'), { method: 'POST', signal: AbortSignal.timeout(1_800_000) })).text();
			const [run] = await stack.waitForExecutions('benchReport', 1, { sinceId: since, timeoutMs: 1_800_000 });
			const wallMs = Date.now() - t;
			if (run.status !== 'success') throw new Error(`the report ended ${run.status}: ${JSON.stringify(run.data?.resultData?.error)?.slice(0, 500)}`);
			const runData = run.data?.resultData?.runData as Record<
				string,
				Array<{ executionTime: number; data: { main: Array<Array<{ json: Json }> | null> } }>
			>;
			const nodeMs = Object.fromEntries(Object.entries(runData).map(([name, v]) => [name, v[0].executionTime]));
			reportRows = (runData.Metrics[0].data.main[0] ?? []).map((i) => i.json);
			const worker = stack.workerOf(run.id) as QueueRole;
			const execMs = Date.parse(String(run.stoppedAt)) - Date.parse(String(run.startedAt));
			const memAfter = Object.fromEntries(ROLES.map((r) => [r, processMemory(stack.pid(r))]));
			runs.push({ execution: run.id, worker, execMs, wallMs, nodeMs, memBefore, memAfter, workerPeakMB: memAfter[worker]?.peakMB ?? null });
			console.log(
				`report on ${worker}: execution ${(execMs / 1000).toFixed(1)} s (wall ${(wallMs / 1000).toFixed(1)} s), worker peak ${memAfter[worker]?.peakMB} MB (before the run: peak ${memBefore[worker]?.peakMB} MB, RSS ${memBefore[worker]?.rssMB} MB)`,
			);
			console.log(`  node times (ms): ${JSON.stringify(nodeMs)}`);
		}
		const floorAfter = await floor();
		console.log(`floor again after the report: ${floorAfter.ms} ms`);
		// the Metrics output is the SQL's rows with the same figures
		const sameFigures = isDeepStrictEqual(reportRows, floorAfter.rows);
		console.log(`  the report's Metrics rows equal the SQL's: ${sameFigures}`);

		// Counting from items, as the Data-table report does: what an event in an execution costs a worker.
		const itemRuns: Array<Record<string, unknown>> = [];
		for (const limit of ITEM_EVENTS) {
			const memBefore = Object.fromEntries(ROLES.map((r) => [r, processMemory(stack.pid(r))]));
			const since = Number(stack.executions().at(-1)?.id ?? 0);
			t = Date.now();
			const res = await fetch(stack.webhookUrl('bench-report-items'), {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ limit }),
				signal: AbortSignal.timeout(1_800_000),
			});
			await res.text();
			const [run] = await stack.waitForExecutions('benchReportItems', 1, { sinceId: since, timeoutMs: 1_800_000 });
			const wallMs = Date.now() - t;
			const worker = stack.workerOf(run.id) as QueueRole;
			const memAfter = Object.fromEntries(ROLES.map((r) => [r, processMemory(stack.pid(r))]));
			const execMs = Date.parse(String(run.stoppedAt)) - Date.parse(String(run.startedAt));
			const runData = run.data?.resultData?.runData as Record<string, Array<{ executionTime: number }>> | undefined;
			const nodeMs = runData ? Object.fromEntries(Object.entries(runData).map(([name, v]) => [name, v[0].executionTime])) : {};
			itemRuns.push({
				events: limit,
				status: run.status,
				worker,
				execMs,
				wallMs,
				nodeMs,
				workerRssBeforeMB: memBefore[worker]?.rssMB,
				workerPeakBeforeMB: memBefore[worker]?.peakMB,
				workerPeakMB: memAfter[worker]?.peakMB,
				// what the run added to the worker: its peak over the memory it held when the run started (meaningful when
				// the run set a new peak)
				growthMB:
					(memAfter[worker]?.peakMB ?? 0) > (memBefore[worker]?.peakMB ?? 0)
						? (memAfter[worker]?.peakMB ?? 0) - (memBefore[worker]?.rssMB ?? 0)
						: null,
			});
			console.log(
				`items: ${limit.toLocaleString()} events on ${worker}: ${run.status}, execution ${(execMs / 1000).toFixed(1)} s, worker peak ${memAfter[worker]?.peakMB} MB (before: peak ${memBefore[worker]?.peakMB} MB, RSS ${memBefore[worker]?.rssMB} MB)`,
			);
			console.log(`  node times (ms): ${JSON.stringify(nodeMs)}`);
		}
		// the worker's memory per event: the slope of the runs' growth between the two largest runs (a run's fixed cost, the
		// chart and the report, drops out), and where a worker that starts at the report's pre-run RSS reaches 1 GB
		let perEventKB: number | null = null;
		let ceilingEvents: number | null = null;
		const ok = itemRuns.filter((r) => r.status === 'success' && r.growthMB !== null) as Array<{
			events: number;
			growthMB: number;
			workerRssBeforeMB: number;
		}>;
		if (ok.length >= 2) {
			const [a, b] = ok.slice(-2);
			if (b.growthMB > a.growthMB) {
				perEventKB = +(((b.growthMB - a.growthMB) * 1024) / (b.events - a.events)).toFixed(2);
				ceilingEvents = Math.round(b.events + ((GOAL_MB - b.workerRssBeforeMB - b.growthMB) * 1024) / perEventKB);
			}
		}
		if (perEventKB !== null)
			console.log(`  items cost ${perEventKB} KB of worker peak per event: 1 GB is reached near ${ceilingEvents?.toLocaleString()} events`);

		const best = runs.reduce((a, r) => ((r.execMs as number) < (a.execMs as number) ? r : a), runs[0]);
		const floorMs = Math.min(floorBefore.ms, floorAfter.ms);
		const out = {
			contacts: N,
			events: total,
			eventsByKind: loads,
			tableMB,
			loadSeconds: +(loadMs / 1000).toFixed(1),
			floor: { beforeMs: floorBefore.ms, afterMs: floorAfter.ms, rows: floorAfter.rows.length },
			report: runs,
			reportExecMs: best.execMs,
			reportWorkerPeakMB: best.workerPeakMB,
			ratioToFloor: +((best.execMs as number) / floorMs).toFixed(2),
			goals: { execMs: GOAL_MS, workerPeakMB: GOAL_MB, met: (best.execMs as number) <= GOAL_MS && (best.workerPeakMB as number) <= GOAL_MB },
			metricsRowsEqualSql: sameFigures,
			items: { runs: itemRuns, perEventKB, ceilingEventsAt1GB: ceilingEvents },
		};
		console.log(
			`\nreport of ${total.toLocaleString()} events: execution ${((best.execMs as number) / 1000).toFixed(1)} s on ${best.worker} (goal ≤ 60 s), worker peak ${best.workerPeakMB} MB (goal ≤ 1024 MB); the SQL alone ${floorMs} ms → ${out.ratioToFloor}× the floor`,
		);
		writeFileSync(join(ROOT, 'bench-results', 'report.json'), JSON.stringify(out, null, 2));
	} finally {
		await db.end();
		await stack.stop();
	}
}

main().then(
	() => process.exit(0),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
