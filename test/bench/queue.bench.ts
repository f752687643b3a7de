/**
 * Queue-mode bench: a million-contact base in Postgres, run by the Postgres templates on n8n's queue mode (main,
 * webhook processor, two workers; Redis; the packed package), all on this 2-core machine.
 *
 *   day      the silent cadence's daily batch (≈ 33,000 due of 1,000,000): selected by the GIN-indexed tag query,
 *            filtered by Cadence Views, sent by Cadence Send (with the send ledger) to a local SMTP sink in its own
 *            process, events and last_sent_at written in one statement. Wall time, per-node times, peak memory
 *            (VmHWM) per process.
 *   pixels   tracking-pixel load from wrk against the webhook processor: idle first, then while the day's send
 *            runs on a worker (same run, same URL mix).
 * Baselines in the same run: the due-tag query alone through `pg` (the floor of the selection), and the idle pixel
 * rate. The single-process figures of the earlier benches (bench-results/n8n.json, tracking.json) are printed
 * beside them when present.
 * Env: BENCH_CONTACTS (1000000), BENCH_WRK_SECONDS (10), BENCH_LEDGER (postgres; `none` turns the send ledger off),
 * The cost of counting from the store: after the day, the store is reset and the same day runs again with the day
 * caps off (each ledger claim a plain insert) and once more with them on; the ratio of the two is in `caps`.
 * BENCH_CAPS_REPEATS (1) sets how often that pair runs.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTracker } from '../../core/tracker';
import { node, template, withWebhookStart } from '../helpers/templates';
import { processMemory, startBenchStack, storeCredentials } from './shared';
import { queueStackAvailability, type QueueRole } from '../helpers/queueStack';
import { startSmtpSink } from '../helpers/smtpSink';

const N = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 10);
const ROOT = join(__dirname, '..', '..');
const SECRET = 'queue-bench-secret-0123456789abcdef';
const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
const DAY = 9; // the bench's calendar day: contacts tagged Marketing09 are due
const ROLES: QueueRole[] = ['main', 'webhook', 'worker1', 'worker2'];

// ---- the sink, in a child process (it must not share an event loop with anything measured) ----------------------
async function runSinkProcess(): Promise<void> {
	const sink = await startSmtpSink({ keepMessages: false });
	process.on('message', () => process.send!({ accepted: sink.accepted }));
	process.on('disconnect', () => process.exit(0));
	process.send!({ port: sink.port });
}
const ask = (child: ChildProcess) =>
	new Promise<{ accepted: number }>((r) => (child.once('message', (m) => r(m as { accepted: number })), child.send({})));

function wrk(url: string, seconds: number): { rps: number; p50ms: number; non2xx: number } {
	const r = spawnSync('wrk', ['-t2', '-c16', `-d${seconds}s`, '--latency', '-H', `User-Agent: ${DESKTOP_UA}`, url], {
		encoding: 'utf8',
		timeout: (seconds + 30) * 1000,
	});
	const out = r.stdout ?? '';
	const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
	const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
	const p50ms = p50 ? Number(p50[1]) * (p50[2] === 'us' ? 0.001 : p50[2] === 's' ? 1000 : 1) : 0;
	const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
	return { rps: Math.round(rps), p50ms, non2xx };
}

async function main() {
	const availability = queueStackAvailability();
	if (!availability.ok) {
		console.log(`queue bench skipped: ${availability.reason}`);
		return;
	}
	const sinkChild = fork(__filename, ['--sink'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	const { port: sinkPort } = await new Promise<{ port: number }>((r) => sinkChild.once('message', (m) => r(m as { port: number })));

	const silent = withWebhookStart(template('postgres', '2-silent-cadence.json', 'benchQueueSilent'), 'Every morning', 'bench-queue-silent');
	// The bench's calendar day, so the batch size does not depend on today's date.
	node(silent, 'Due tags').parameters.calendar = { date: `2026-07-${String(DAY).padStart(2, '0')}` };
	node(silent, 'Exactly due').parameters.calendar = { date: `2026-07-${String(DAY).padStart(2, '0')}` };
	Object.assign(node(silent, 'Send').parameters.options, { concurrency: 5 });
	// BENCH_LEDGER=none measures the send without the send ledger (what the ledger costs).
	if (process.env.BENCH_LEDGER === 'none') node(silent, 'Send').parameters.sendLedger = 'none';
	// The same day with the day caps off: the ledger claims are plain inserts, as before caps were counted.
	const uncapped = withWebhookStart(template('postgres', '2-silent-cadence.json', 'benchQueueUncapped'), 'Every morning', 'bench-queue-uncapped');
	for (const name of ['Due tags', 'Exactly due']) node(uncapped, name).parameters.calendar = node(silent, name).parameters.calendar;
	Object.assign(node(uncapped, 'Send').parameters.options, { concurrency: 5, companyDailyCap: 0, contactDailyCap: 0 });
	node(uncapped, 'Send').parameters.sendLedger = node(silent, 'Send').parameters.sendLedger;
	const tracking = template('postgres', '4-tracking-events.json', 'benchQueueTracking');
	const trackingHook = node(tracking, 'Tracking hits').webhookId as string;
	let trackingBase = '';
	const { stack, db } = await startBenchStack({
		name: 'bench-queue',
		workflows: () => [silent, uncapped, tracking],
		credentials: (webhookPort, s) => {
			trackingBase = `http://127.0.0.1:${webhookPort}/webhook/${trackingHook}/t`;
			return [
				{
					id: 'bqSmtp',
					name: 'Cadence SMTP',
					type: 'cadenceSmtpApi',
					data: { host: '127.0.0.1', port: sinkPort, tls: 'none', user: '', password: '', poolSize: 5, maxPerSecond: 0 },
				},
				{ id: 'bqTrack', name: 'Cadence Tracking', type: 'cadenceTrackingApi', data: { baseUrl: trackingBase, secrets: SECRET, maxAgeDays: 0 } },
				...storeCredentials(s, 'bq'),
			];
		},
	});
	try {
		// A million contacts: 50,000 domains, 30 marketing batches, 1 in 7 also a reader, some intent and risk tags.
		let t = Date.now();
		await db.query(`
			INSERT INTO contacts (email, tags, language, segment, company)
			SELECT (ARRAY['info','sales','john','maria','hr','purchasing','noreply','ivan','ceo','office'])[1 + g % 10] || g || '@company' || (g * 7919 % 50000) || '.' ||
			       (ARRAY['com','de','co.uk','ru','es','com.br','cn','qq.com','org','in'])[1 + (g * 7919 % 50000) % 10],
			       concat_ws(', ', 'English-Equipment Dealers-Marketing' || lpad((1 + (g * 31) % 30)::text, 2, '0'),
			                 CASE WHEN g % 7 = 0 THEN 'English-Equipment Dealers-Read' || lpad((1 + ((g * 31) % 30) % 10)::text, 2, '0') END,
			                 CASE WHEN g % 23 = 0 THEN 'Risk-Unsubscribed' END, CASE WHEN g % 29 = 0 THEN 'Intent-Asked price' END, 'Trade show 2025'),
			       'English', 'Equipment Dealers', 'Company ' || g
			FROM generate_series(1::bigint, ${N}::bigint) g`);
		await db.query('ANALYZE contacts');
		const loadMs = Date.now() - t;
		const tag = `English-Equipment Dealers-Marketing${String(DAY).padStart(2, '0')}`;
		const dueQuery = (node(silent, 'Due contacts').parameters.query as string)
			.replace(/\$1::jsonb->>'tag'/g, '$1')
			.replace(/\$1::jsonb->>'zone'/g, '$2');
		const plan = (await db.query(`EXPLAIN ${dueQuery}`, [tag, 'UTC'])).rows.map((r) => r['QUERY PLAN']).join('\n');
		t = Date.now();
		const floor = await db.query(dueQuery, [tag, 'UTC']);
		const floorMs = Date.now() - t;
		console.log(
			`base: ${N.toLocaleString()} contacts loaded in ${(loadMs / 1000).toFixed(1)} s; due-tag query alone ${floorMs} ms for ${floor.rowCount} rows; index used: ${/contacts_tag_list_idx/.test(plan)}`,
		);

		// Pixel load with nothing else running (baseline of this run).
		const tracker = createTracker({ secrets: [SECRET], baseUrl: trackingBase });
		const pixel = tracker.openUrl({ email: 'reader@company1.com', campaign: 'bench', batchTag: tag, variant: '', sentAt: Date.now() - 3_600_000 });
		const idle = wrk(pixel, WRK_SECONDS);
		console.log(`pixels, idle stack: ${idle.rps} req/s (p50 ${idle.p50ms} ms, non-2xx ${idle.non2xx})`);
		const memBefore = Object.fromEntries(ROLES.map((r) => [r, processMemory(stack.pid(r))]));

		// The day's send, with pixel load against the webhook processor while it runs.
		const since = Number(stack.executions().at(-1)?.id ?? 0);
		t = Date.now();
		const started = fetch(stack.webhookUrl('bench-queue-silent'), { method: 'POST', signal: AbortSignal.timeout(1_800_000) }).then((r) => r.text());
		await new Promise((r) => setTimeout(r, 3000));
		const busy = wrk(pixel, WRK_SECONDS);
		console.log(`pixels, while the send runs: ${busy.rps} req/s (p50 ${busy.p50ms} ms, non-2xx ${busy.non2xx})`);
		await started;
		const [run] = await stack.waitForExecutions('benchQueueSilent', 1, { sinceId: since, timeoutMs: 1_800_000 });
		const wallMs = Date.now() - t;
		if (run.status !== 'success') throw new Error(`the day's run ended ${run.status}: ${JSON.stringify(run.data?.resultData?.error)?.slice(0, 500)}`);
		const runData = run.data?.resultData?.runData as Record<string, Array<{ executionTime: number; data: { main: Array<unknown[] | null> } }>>;
		const nodeMs = Object.fromEntries(Object.entries(runData).map(([k, v]) => [k, v[0].executionTime]));
		const counts = Object.fromEntries(Object.entries(runData).map(([k, v]) => [k, v[0].data.main.map((o) => (o ?? []).length)]));
		const { accepted } = await ask(sinkChild);
		const sentEvents = Number((await db.query(`SELECT count(*) AS n FROM events WHERE type = 'sent'`)).rows[0].n);
		const memAfter = Object.fromEntries(ROLES.map((r) => [r, processMemory(stack.pid(r))]));
		const worker = stack.workerOf(run.id);
		const execMs = Date.parse(String(run.stoppedAt)) - Date.parse(String(run.startedAt));

		// The day again on a reset store, caps off then on, so both pay the same warm-up.
		const rerun = async (workflowId: string, path: string) => {
			await db.query(`TRUNCATE events; UPDATE contacts SET last_sent_at = NULL WHERE last_sent_at IS NOT NULL`);
			await db.query(`DELETE FROM cadence_send_ledger`);
			const before = (await ask(sinkChild)).accepted;
			const from = Number(stack.executions().at(-1)?.id ?? 0);
			const res = await fetch(stack.webhookUrl(path), { method: 'POST', signal: AbortSignal.timeout(1_800_000) });
			await res.text();
			const [r] = await stack.waitForExecutions(workflowId, 1, { sinceId: from, timeoutMs: 1_800_000 });
			if (r.status !== 'success') throw new Error(`${workflowId} ended ${r.status}`);
			const sendMs = (r.data?.resultData?.runData as Record<string, Array<{ executionTime: number }>>).Send[0].executionTime;
			return { execMs: Date.parse(String(r.stoppedAt)) - Date.parse(String(r.startedAt)), sendMs, sent: (await ask(sinkChild)).accepted - before };
		};
		const pairs: Array<{ off: Awaited<ReturnType<typeof rerun>>; on: Awaited<ReturnType<typeof rerun>> }> = [];
		// Without the ledger the caps count only the Sender Status, which costs the same either way.
		const repeats = process.env.BENCH_LEDGER === 'none' ? 0 : Number(process.env.BENCH_CAPS_REPEATS ?? 1);
		for (let k = 0; k < repeats; k++) {
			const off = await rerun('benchQueueUncapped', 'bench-queue-uncapped');
			const on = await rerun('benchQueueSilent', 'bench-queue-silent');
			pairs.push({ off, on });
			console.log(
				`  caps off: Send ${(off.sendMs / 1000).toFixed(1)} s for ${off.sent}; caps on: Send ${(on.sendMs / 1000).toFixed(1)} s for ${on.sent} → ${(on.sendMs / off.sendMs).toFixed(2)}× (execution ${(on.execMs / off.execMs).toFixed(2)}×)`,
			);
		}
		const sum = (f: (p: (typeof pairs)[number]) => number) => pairs.reduce((a, p) => a + f(p), 0);
		const caps = {
			pairs,
			sendRatio: pairs.length ? +(sum((p) => p.on.sendMs) / sum((p) => p.off.sendMs)).toFixed(2) : null,
			executionRatio: pairs.length ? +(sum((p) => p.on.execMs) / sum((p) => p.off.execMs)).toFixed(2) : null,
		};

		const single = (f: string) =>
			existsSync(join(ROOT, 'bench-results', f)) ? JSON.parse(readFileSync(join(ROOT, 'bench-results', f), 'utf8')) : null;
		const n8nSingle = single('n8n.json');
		const trackingSingle = single('tracking.json');
		const out = {
			contacts: N,
			sendLedger: process.env.BENCH_LEDGER === 'none' ? 'none' : 'postgres',
			loadSeconds: +(loadMs / 1000).toFixed(1),
			dueTagQuery: { rows: floor.rowCount, ms: floorMs, ginIndexUsed: /contacts_tag_list_idx/.test(plan) },
			day: {
				execution: run.id,
				worker,
				execMs,
				wallMs,
				nodeMs,
				counts,
				sinkAccepted: accepted,
				sentEvents,
				msgPerSecondOverall: Math.round(accepted / (execMs / 1000)),
			},
			memoryMB: { before: memBefore, after: memAfter },
			pixels: { idle, duringSend: busy, ratioDuringSendVsIdle: +(busy.rps / Math.max(idle.rps, 1)).toFixed(2) },
			caps,
			singleProcess: { n8nBench: n8nSingle?.day ?? null, trackingBench: trackingSingle ?? null },
		};
		console.log(
			`\nthe day (${floor.rowCount} due of ${N.toLocaleString()}) on ${worker}: execution ${(execMs / 1000).toFixed(1)} s (wall ${(wallMs / 1000).toFixed(1)} s), ${accepted} messages accepted by the sink, ${sentEvents} sent events`,
		);
		console.log(`  node times (ms): ${JSON.stringify(nodeMs)}`);
		console.log(`  items per node: ${JSON.stringify(counts)}`);
		for (const r of ROLES)
			console.log(`  ${r.padEnd(8)} RSS ${memBefore[r].rssMB} MB before → ${memAfter[r].rssMB} MB after, peak ${memAfter[r].peakMB} MB`);
		console.log(`  pixels while sending: ${busy.rps} req/s = ${out.pixels.ratioDuringSendVsIdle}× the idle ${idle.rps} req/s`);
		if (n8nSingle?.day)
			console.log(
				`  single process (bench-results/n8n.json, 30,000 due from a Code node): ${JSON.stringify(n8nSingle.day.nodeMs)}, main peak ${n8nSingle.day.mainRssPeakMB} MB`,
			);
		writeFileSync(
			join(ROOT, 'bench-results', process.env.BENCH_LEDGER === 'none' ? 'queue-no-ledger.json' : 'queue.json'),
			JSON.stringify(out, null, 2),
		);
	} finally {
		await db.end();
		await stack.stop();
		sinkChild.kill();
	}
}

if (process.argv.includes('--sink')) void runSinkProcess();
else
	main().then(
		() => process.exit(0),
		(error) => {
			console.error(error);
			process.exit(1);
		},
	);
