/**
 * Tracking bench: tracking pixel hits per second in a real n8n (pinned version, package installed from its packed
 * tarball), against n8n's own Webhook → … → Respond to Webhook returning the same GIF, all in one n8n, one run.
 *
 * Scenarios (load from wrk on loopback, same connections and duration for each, rounds interleaved, median kept):
 *   baseline-gif      Webhook → Edit Fields → Convert to File → Respond to Webhook (binary GIF): the n8n-native way
 *                     to answer the same 43-byte GIF; every request is an execution
 *   baseline-minimal  Webhook → Respond to Webhook (no data): n8n's cheapest webhook round trip, for reference
 *   human-open        Cadence Tracking Trigger, Thunderbird open: pixel answered, one execution per hit
 *   machine-dropped   Cadence Tracking Trigger in drop mode, Apple MPP open: pixel answered, no execution
 *   edge-dropped      the tracking edge (bin/mail-cadence-tracking-edge.js with the packed package's dist, its own
 *                     process, machine hits dropped) in front of the drop-mode trigger, Apple MPP open: answered
 *                     by the edge, nothing reaches n8n
 *   edge-human-open   the same edge in front of the emit trigger, Thunderbird open: forwarded to n8n, n8n's answer
 *                     relayed, one execution per hit
 * Also the core alone (handleTrackingRequest in-process, no HTTP) to show where the time goes.
 *
 * Goals: human-open ≥ baseline-gif; dropped machine hits ≥ 10 × baseline-gif (inside n8n the webhook
 * pipeline caps that near 5×, hence the edge).
 * Env: BENCH_SECONDS (default 8), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTracker } from '../../core/tracker';
import { handleTrackingRequest, TRACKING_PIXEL_GIF } from '../../core/trackingHttp';
import { n8nAvailability, N8N_VERSION, startN8nInstance } from '../helpers/n8nInstance';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const THREADS = 2;
const SECRETS = ['bench-secret-0123456789abcdefghij'];
const THUNDERBIRD = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2';
const APPLE_MPP = 'Mozilla/5.0';
const GIF_BASE64 = TRACKING_PIXEL_GIF.toString('base64');

const HOOK = {
	gif: 'b0a7c3e1-0000-4000-8000-00000000b001',
	minimal: 'b0a7c3e1-0000-4000-8000-00000000b002',
	emit: 'b0a7c3e1-0000-4000-8000-00000000b003',
	drop: 'b0a7c3e1-0000-4000-8000-00000000b004',
};
const WF = { gif: 'benchBaselineGif', minimal: 'benchBaselineMin', emit: 'benchTrackEmit01', drop: 'benchTrackDrop01' };
const CREDENTIAL = { id: 'benchTrackCred01', name: 'Cadence Tracking bench' };

const webhookNode = (webhookId: string, path: string) => ({
	id: `${path}-webhook`,
	name: 'Webhook',
	type: 'n8n-nodes-base.webhook',
	typeVersion: 2,
	position: [0, 0],
	webhookId,
	parameters: { httpMethod: 'GET', path, responseMode: 'responseNode', options: {} },
});

function workflows() {
	const chain = (names: string[]) =>
		Object.fromEntries(names.slice(0, -1).map((n, i) => [n, { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] }]));
	const baselineGif = {
		id: WF.gif,
		name: 'Bench baseline: Webhook → Respond GIF',
		nodes: [
			webhookNode(HOOK.gif, 'bench-gif'),
			{
				id: 'gif-set',
				name: 'Edit Fields',
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [200, 0],
				parameters: { mode: 'manual', assignments: { assignments: [{ id: 'g', name: 'gif', value: GIF_BASE64, type: 'string' }] }, options: {} },
			},
			{
				id: 'gif-file',
				name: 'Convert to File',
				type: 'n8n-nodes-base.convertToFile',
				typeVersion: 1.1,
				position: [400, 0],
				parameters: { operation: 'toBinary', sourceProperty: 'gif', options: { mimeType: 'image/gif', fileName: 'pixel.gif' } },
			},
			{
				id: 'gif-respond',
				name: 'Respond to Webhook',
				type: 'n8n-nodes-base.respondToWebhook',
				typeVersion: 1.1,
				position: [600, 0],
				parameters: {
					respondWith: 'binary',
					options: { responseHeaders: { entries: [{ name: 'cache-control', value: 'no-store, no-cache, must-revalidate, max-age=0' }] } },
				},
			},
		],
		connections: chain(['Webhook', 'Edit Fields', 'Convert to File', 'Respond to Webhook']),
		settings: { executionOrder: 'v1' },
	};
	const baselineMinimal = {
		id: WF.minimal,
		name: 'Bench baseline: Webhook → Respond (no data)',
		nodes: [
			webhookNode(HOOK.minimal, 'bench-minimal'),
			{
				id: 'min-respond',
				name: 'Respond to Webhook',
				type: 'n8n-nodes-base.respondToWebhook',
				typeVersion: 1.1,
				position: [200, 0],
				parameters: { respondWith: 'noData', options: {} },
			},
		],
		connections: chain(['Webhook', 'Respond to Webhook']),
		settings: { executionOrder: 'v1' },
	};
	const tracking = (id: string, webhookId: string, machineHits: 'emit' | 'drop') => ({
		id,
		name: `Bench tracking (${machineHits})`,
		nodes: [
			{
				id: `${id}-trigger`,
				name: 'Cadence Tracking Trigger',
				type: 'n8n-nodes-mail-cadence.cadenceTrackingTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters: { machineHits, options: {} },
				credentials: { cadenceTrackingApi: CREDENTIAL },
			},
		],
		connections: {},
		settings: { executionOrder: 'v1' },
	});
	return [baselineGif, baselineMinimal, tracking(WF.emit, HOOK.emit, 'emit'), tracking(WF.drop, HOOK.drop, 'drop')];
}

interface WrkResult {
	reqPerSec: number;
	requests: number;
	errors: number;
	latencyP50Ms: number;
	latencyP99Ms: number;
}

function toMs(value: string, unit: string): number {
	const n = Number(value);
	return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

function wrk(url: string, userAgent: string, seconds: number): WrkResult {
	const r = spawnSync(
		'wrk',
		[`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `User-Agent: ${userAgent}`, '-H', 'Accept: image/*', url],
		{
			encoding: 'utf8',
			timeout: (seconds + 30) * 1000,
		},
	);
	if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.error?.message}`);
	const out = r.stdout;
	const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
	const lat = (pct: string) => {
		const m = new RegExp(`\\s${pct}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
		return m ? toMs(m[1], m[2]) : NaN;
	};
	const errors = num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0;
	const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
	return {
		reqPerSec: num(/Requests\/sec:\s+([\d.]+)/),
		requests: num(/(\d+) requests in/),
		errors: errors + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
		latencyP50Ms: lat('50'),
		latencyP99Ms: lat('99'),
	};
}

interface EdgeProcess {
	url: string;
	/** Stops the edge (SIGTERM) and returns the counters it logs on exit. */
	stop(): Promise<Record<string, unknown> | undefined>;
}

/** The edge command as users run it: the repo's bin script beside the packed package's dist installed in n8n. */
async function startEdge(dir: string, installedDist: string, env: Record<string, string>): Promise<EdgeProcess> {
	mkdirSync(join(dir, 'bin'), { recursive: true });
	copyFileSync(join(__dirname, '..', '..', 'bin', 'mail-cadence-tracking-edge.js'), join(dir, 'bin', 'mail-cadence-tracking-edge.js'));
	symlinkSync(installedDist, join(dir, 'dist'), 'dir');
	const child: ChildProcess = spawn(process.execPath, [join(dir, 'bin', 'mail-cadence-tracking-edge.js')], {
		env: { PATH: process.env.PATH ?? '', PORT: '0', CADENCE_TRACKING_SECRETS: SECRETS.join('\n'), CADENCE_STATS_SECONDS: '0', ...env },
		stdio: ['ignore', 'ignore', 'pipe'],
	});
	const lines: Array<Record<string, unknown>> = [];
	let buffered = '';
	child.stderr?.on('data', (chunk: Buffer) => {
		buffered += chunk.toString();
		const parts = buffered.split('\n');
		buffered = parts.pop() ?? '';
		for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
	});
	const exited = new Promise<void>((r) => child.on('exit', () => r()));
	const deadline = Date.now() + 10_000;
	while (!lines.some((l) => l.message === 'tracking edge listening')) {
		if (Date.now() > deadline || child.exitCode !== null) {
			child.kill('SIGKILL');
			throw new Error(`the tracking edge did not start: ${JSON.stringify(lines)} ${buffered}`);
		}
		await new Promise((r) => setTimeout(r, 50));
	}
	return {
		url: String(lines.find((l) => l.message === 'tracking edge listening')?.url),
		async stop() {
			if (child.exitCode === null) child.kill('SIGTERM');
			await exited;
			const counters = lines.filter((l) => l.message === 'tracking edge counters').pop();
			if (!counters) return undefined;
			const { time: _time, level: _level, message: _message, ...figures } = counters;
			return figures;
		},
	};
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function coreOpsPerSecond(): number {
	const tracker = createTracker({ secrets: SECRETS, baseUrl: 'http://127.0.0.1/webhook/x/t' });
	const t = new URL(
		tracker.openUrl({ email: 'a@b.example', campaign: 'c', batchTag: 'English-X-Marketing01', variant: 'A', sentAt: Date.now() - 3_600_000 }),
	).searchParams.get('t');
	const req = { method: 'GET', query: { t }, headers: { 'user-agent': THUNDERBIRD, accept: 'image/*' }, ip: '127.0.0.1', now: Date.now() };
	for (let i = 0; i < 5_000; i++) handleTrackingRequest(req, tracker);
	const n = 100_000;
	const t0 = process.hrtime.bigint();
	for (let i = 0; i < n; i++) handleTrackingRequest(req, tracker);
	return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function main() {
	const availability = n8nAvailability();
	if (!availability.ok) {
		console.log(`SKIPPED tracking bench: ${availability.reason}`);
		return;
	}
	const coreOps = coreOpsPerSecond();
	const n8n = await startN8nInstance({
		name: 'bench-tracking',
		credentials: (port) => [
			{
				...CREDENTIAL,
				type: 'cadenceTrackingApi',
				data: { baseUrl: `http://127.0.0.1:${port}/webhook/${HOOK.emit}/t`, secrets: SECRETS.join('\n'), maxAgeDays: 0 },
			},
		],
		workflows,
		// The bench measures request handling, not log output.
		env: { N8N_LOG_LEVEL: 'warn' },
		readyUrls: (base) => [
			`${base}/webhook/bench-gif`,
			`${base}/webhook/bench-minimal`,
			`${base}/webhook/${HOOK.emit}/t`,
			`${base}/webhook/${HOOK.drop}/t`,
		],
	});
	const edgeDir = mkdtempSync(join(tmpdir(), 'cadence-edge-bench-'));
	const edges: EdgeProcess[] = [];
	try {
		const installedDist = join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-mail-cadence', 'dist');
		// One edge per trigger, each configured as its trigger is (the bench triggers emit every event type).
		const edgeDrop = await startEdge(join(edgeDir, 'drop'), installedDist, {
			CADENCE_UPSTREAM_URL: n8n.webhookUrl(HOOK.drop, 't'),
			CADENCE_MACHINE_HITS: 'drop',
		});
		edges.push(edgeDrop);
		const edgeEmit = await startEdge(join(edgeDir, 'emit'), installedDist, {
			CADENCE_UPSTREAM_URL: n8n.webhookUrl(HOOK.emit, 't'),
			CADENCE_MACHINE_HITS: 'emit',
		});
		edges.push(edgeEmit);
		const tracker = createTracker({ secrets: SECRETS, baseUrl: n8n.webhookUrl(HOOK.emit, 't') });
		const dropTracker = createTracker({ secrets: SECRETS, baseUrl: n8n.webhookUrl(HOOK.drop, 't') });
		const edgeDropTracker = createTracker({ secrets: SECRETS, baseUrl: edgeDrop.url });
		const edgeEmitTracker = createTracker({ secrets: SECRETS, baseUrl: edgeEmit.url });
		const data = {
			email: 'bench@dealer.example',
			campaign: 'bench',
			batchTag: 'English-Dealers-Marketing05',
			variant: 'A',
			sentAt: Date.now() - 3_600_000,
		};
		const scenarios = [
			{ name: 'baseline-gif', url: `${n8n.baseUrl}/webhook/bench-gif`, ua: THUNDERBIRD, workflowId: WF.gif },
			{ name: 'baseline-minimal', url: `${n8n.baseUrl}/webhook/bench-minimal`, ua: THUNDERBIRD, workflowId: WF.minimal },
			{ name: 'human-open', url: tracker.openUrl(data), ua: THUNDERBIRD, workflowId: WF.emit },
			{ name: 'machine-dropped', url: dropTracker.openUrl(data), ua: APPLE_MPP, workflowId: WF.drop },
			{ name: 'edge-dropped', url: edgeDropTracker.openUrl(data), ua: APPLE_MPP, workflowId: WF.drop },
			{ name: 'edge-human-open', url: edgeEmitTracker.openUrl(data), ua: THUNDERBIRD, workflowId: WF.emit },
		];

		// Every scenario answers what it should before it is measured.
		for (const s of scenarios) {
			const res = await fetch(s.url, { headers: { 'user-agent': s.ua } });
			const body = Buffer.from(await res.arrayBuffer());
			const ok =
				res.status === 200 &&
				(s.name === 'baseline-minimal' || (res.headers.get('content-type')?.startsWith('image/gif') && body.equals(TRACKING_PIXEL_GIF)));
			if (!ok) throw new Error(`${s.name}: answered ${res.status} ${res.headers.get('content-type')} (${body.length} bytes)`);
		}

		// Resolves when no execution is running and none was added for a second; returns the ms until that began.
		const waitForQuiet = async (): Promise<number> => {
			const start = Date.now();
			let last = -1;
			let stableSince = Date.now();
			for (;;) {
				const rows = n8n.executions();
				const running = rows.some((e) => !e.stoppedAt);
				if (rows.length !== last || running) {
					last = rows.length;
					stableSince = Date.now();
				} else if (Date.now() - stableSince >= 1_000) return Math.max(0, stableSince - start);
				await new Promise((r) => setTimeout(r, 100));
			}
		};
		const results: Record<string, Array<WrkResult & { drainMs: number; sustainedPerSec: number; executions: number }>> = Object.fromEntries(
			scenarios.map((s) => [s.name, []]),
		);
		for (let round = 1; round <= ROUNDS; round++) {
			// Rotate the order so no scenario always runs first (cold) or last (after the database grew).
			const order = scenarios.map((_, i) => scenarios[(i + round - 1) % scenarios.length]);
			for (const s of order) {
				wrk(s.url, s.ua, 2); // warm-up
				await waitForQuiet();
				const executionsBefore = n8n.executions({ workflowId: s.workflowId }).length;
				const r = wrk(s.url, s.ua, SECONDS);
				// Executions started by the load finish and are saved after their answers went out: the sustained rate
				// counts that work too, and the next scenario starts only when n8n is idle again.
				const drainMs = await waitForQuiet();
				const executions = n8n.executions({ workflowId: s.workflowId }).length - executionsBefore;
				const run = { ...r, drainMs, sustainedPerSec: r.requests / (SECONDS + drainMs / 1000), executions };
				results[s.name].push(run);
				console.log(
					`round ${round} ${s.name.padEnd(17)} ${r.reqPerSec.toFixed(1).padStart(8)} req/s answered, ` +
						`${run.sustainedPerSec.toFixed(1).padStart(7)} /s incl. executions (drain ${(drainMs / 1000).toFixed(1)} s)  ` +
						`p50 ${r.latencyP50Ms.toFixed(1)} ms  p99 ${r.latencyP99Ms.toFixed(1)} ms  errors ${r.errors}  executions ${executions}`,
				);
			}
		}

		const summary = Object.fromEntries(
			scenarios.map((s) => {
				const runs = results[s.name];
				return [
					s.name,
					{
						reqPerSecMedian: Math.round(median(runs.map((r) => r.reqPerSec)) * 10) / 10,
						reqPerSec: runs.map((r) => r.reqPerSec),
						sustainedPerSecMedian: Math.round(median(runs.map((r) => r.sustainedPerSec)) * 10) / 10,
						drainMsMedian: median(runs.map((r) => r.drainMs)),
						latencyP50MsMedian: median(runs.map((r) => r.latencyP50Ms)),
						latencyP99MsMedian: median(runs.map((r) => r.latencyP99Ms)),
						requests: runs.reduce((a, r) => a + r.requests, 0),
						errors: runs.reduce((a, r) => a + r.errors, 0),
						// during the measured runs only (warm-ups excluded)
						executionsStarted: runs.reduce((a, r) => a + r.executions, 0),
					},
				];
			}),
		);
		const rps = (name: string) => summary[name].reqPerSecMedian;
		const sus = (name: string) => summary[name].sustainedPerSecMedian;
		const ratios = {
			humanOpenVsBaselineGif: rps('human-open') / rps('baseline-gif'),
			machineDroppedVsBaselineGif: rps('machine-dropped') / rps('baseline-gif'),
			humanOpenVsBaselineMinimal: rps('human-open') / rps('baseline-minimal'),
			machineDroppedVsBaselineMinimal: rps('machine-dropped') / rps('baseline-minimal'),
			sustainedHumanOpenVsBaselineGif: sus('human-open') / sus('baseline-gif'),
			sustainedMachineDroppedVsBaselineGif: sus('machine-dropped') / sus('baseline-gif'),
			sustainedMachineDroppedVsHumanOpen: sus('machine-dropped') / sus('human-open'),
			edgeDroppedVsBaselineGif: rps('edge-dropped') / rps('baseline-gif'),
			edgeDroppedVsMachineDropped: rps('edge-dropped') / rps('machine-dropped'),
			edgeHumanOpenVsBaselineGif: rps('edge-human-open') / rps('baseline-gif'),
			edgeHumanOpenVsHumanOpen: rps('edge-human-open') / rps('human-open'),
			sustainedEdgeHumanOpenVsBaselineGif: sus('edge-human-open') / sus('baseline-gif'),
		};
		const goals = {
			humanAtLeastBaseline: ratios.humanOpenVsBaselineGif >= 1,
			droppedAtLeast10xBaseline: ratios.machineDroppedVsBaselineGif >= 10,
			edgeDroppedAtLeast10xBaseline: ratios.edgeDroppedVsBaselineGif >= 10,
			edgeHumanAtLeastBaseline: ratios.edgeHumanOpenVsBaselineGif >= 1,
		};
		const edgeCounters = { drop: await edgeDrop.stop(), emit: await edgeEmit.stop() };

		console.log(`\nn8n ${N8N_VERSION}, wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} rounds, medians:`);
		for (const s of scenarios) {
			const x = summary[s.name];
			console.log(
				`  ${s.name.padEnd(17)} ${String(x.reqPerSecMedian).padStart(8)} req/s answered  ${String(x.sustainedPerSecMedian).padStart(7)} /s sustained  p50 ${x.latencyP50MsMedian.toFixed(1).padStart(6)} ms  ` +
					`${String(x.requests).padStart(7)} requests, ${x.errors} errors, ${x.executionsStarted} executions started`,
			);
		}
		console.log(`  core only (in-process, no HTTP): ${Math.round(coreOps).toLocaleString('en')} requests/s`);
		console.log(
			`  human open    = ${ratios.humanOpenVsBaselineGif.toFixed(2)}× baseline-gif (goal ≥ 1: ${goals.humanAtLeastBaseline ? 'met' : 'NOT met'}), ${ratios.humanOpenVsBaselineMinimal.toFixed(2)}× baseline-minimal`,
		);
		console.log(
			`  machine drop  = ${ratios.machineDroppedVsBaselineGif.toFixed(1)}× baseline-gif (goal ≥ 10: ${goals.droppedAtLeast10xBaseline ? 'met' : 'NOT met'}), ${ratios.machineDroppedVsBaselineMinimal.toFixed(1)}× baseline-minimal`,
		);
		console.log(
			`  edge dropped  = ${ratios.edgeDroppedVsBaselineGif.toFixed(1)}× baseline-gif (goal ≥ 10: ${goals.edgeDroppedAtLeast10xBaseline ? 'met' : 'NOT met'}), ` +
				`${ratios.edgeDroppedVsMachineDropped.toFixed(1)}× machine-dropped in n8n`,
		);
		console.log(
			`  edge human    = ${ratios.edgeHumanOpenVsBaselineGif.toFixed(2)}× baseline-gif (goal ≥ 1: ${goals.edgeHumanAtLeastBaseline ? 'met' : 'NOT met'}), ` +
				`${ratios.edgeHumanOpenVsHumanOpen.toFixed(2)}× human-open direct, sustained ${ratios.sustainedEdgeHumanOpenVsBaselineGif.toFixed(2)}× baseline-gif`,
		);
		console.log(`  edge counters: drop ${JSON.stringify(edgeCounters.drop)}; emit ${JSON.stringify(edgeCounters.emit)}`);
		if (summary['edge-dropped'].executionsStarted !== 0) throw new Error('dropped hits via the edge started executions');
		console.log(
			`  sustained (answers + executions saved): human open ${ratios.sustainedHumanOpenVsBaselineGif.toFixed(2)}× baseline-gif, ` +
				`machine drop ${ratios.sustainedMachineDroppedVsBaselineGif.toFixed(1)}× baseline-gif and ${ratios.sustainedMachineDroppedVsHumanOpen.toFixed(1)}× human open`,
		);

		mkdirSync('bench-results', { recursive: true });
		writeFileSync(
			join('bench-results', 'tracking.json'),
			`${JSON.stringify(
				{
					bench: 'tracking',
					n8nVersion: N8N_VERSION,
					node: process.version,
					load: { tool: 'wrk', threads: THREADS, connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, warmupSeconds: 2 },
					scenarios: summary,
					coreOnlyRequestsPerSecond: Math.round(coreOps),
					ratios,
					goals,
					edgeCounters,
				},
				null,
				2,
			)}\n`,
		);
	} finally {
		for (const e of edges) await e.stop();
		rmSync(edgeDir, { recursive: true, force: true });
		await n8n.stop();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
