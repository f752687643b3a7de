/**
 * n8n's queue mode on loopback (test/helpers/queueStack.ts), with what the cadence relies on:
 * - a production webhook is answered by the webhook processor, never by the main, and its execution runs on a worker;
 * - both workers take jobs under load;
 * - a worker SIGKILLed mid-execution: n8n never re-runs that execution (not on the other worker, not on the restarted
 *   one); the webhook processor that enqueued it saves it as `error` (MaxStalledCountError); the other worker goes on;
 * - stop() leaves no process behind.
 * Mandatory under CI; elsewhere skipped with the reason when Postgres, Redis or n8n is missing.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueStackAvailability, startQueueStack, QUEUE_ROLES, type QueueStack } from '../helpers/queueStack';

const availability = queueStackAvailability();
if (!availability.ok) console.log(`[queue stack] SKIPPED: ${availability.reason}`);

const SLOW_WAIT_S = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const webhookNode = (id: string, path: string) => ({
	id: `${id}-hook`,
	name: 'Hook',
	type: 'n8n-nodes-base.webhook',
	typeVersion: 2,
	position: [0, 0],
	webhookId: path,
	parameters: { httpMethod: 'POST', path, responseMode: 'onReceived', options: {} },
});
/** Records the request's number and the execution id in the store database. */
const recordNode = (id: string, n: string) => ({
	id: `${id}-record`,
	name: 'Record',
	type: 'n8n-nodes-base.postgres',
	typeVersion: 2.6,
	position: [400, 0],
	credentials: { postgres: { id: 'qStore', name: 'Cadence store' } },
	parameters: {
		operation: 'executeQuery',
		query: 'INSERT INTO pings (n, execution_id) VALUES ($1, $2)',
		options: { queryReplacement: `={{ ${n} }},{{ $execution.id }}` },
	},
});
const link = (from: string, to: string) => ({ [from]: { main: [[{ node: to, type: 'main', index: 0 }]] } });

/** Webhook → Postgres insert. */
const pingWorkflow = {
	id: 'qPing',
	name: 'Queue ping',
	active: true,
	settings: { executionOrder: 'v1' },
	nodes: [webhookNode('qPing', 'q-ping'), recordNode('qPing', '$json.body.n')],
	connections: link('Hook', 'Record'),
};
/** Webhook → Wait (in the worker's memory: under 65 s) → Postgres insert: a long execution to kill. */
const slowWorkflow = {
	id: 'qSlow',
	name: 'Queue slow',
	active: true,
	settings: { executionOrder: 'v1' },
	nodes: [
		webhookNode('qSlow', 'q-slow'),
		{
			id: 'qSlow-wait',
			name: 'Wait',
			type: 'n8n-nodes-base.wait',
			typeVersion: 1.1,
			position: [200, 0],
			webhookId: 'q-slow-wait',
			parameters: { resume: 'timeInterval', amount: SLOW_WAIT_S, unit: 'seconds' },
		},
		recordNode('qSlow', '-1'),
	],
	connections: { ...link('Hook', 'Wait'), ...link('Wait', 'Record') },
};

describe.skipIf(!availability.ok)('n8n queue mode: main, webhook processor, two workers', () => {
	let stack: QueueStack;
	let store: pg.Pool;
	let killed: { id: string; worker: string } | null = null;
	const rowsOf = async (sql: string, params: unknown[] = []) => (await store.query(sql, params)).rows;
	const ping = (n: number, timeoutMs = 30_000) =>
		fetch(stack.webhookUrl('q-ping'), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ n }),
			signal: AbortSignal.timeout(timeoutMs),
		});

	beforeAll(async () => {
		stack = await startQueueStack({
			name: 'queue-stack-test',
			workerConcurrency: 5,
			workflows: () => [pingWorkflow, slowWorkflow],
			credentials: (_port, s) => [
				{
					id: 'qStore',
					name: 'Cadence store',
					type: 'postgres',
					data: { host: s.host, port: s.port, database: s.database, user: s.user, password: s.password, ssl: 'disable' },
				},
			],
		});
		store = new pg.Pool({ connectionString: stack.storeDatabase.url, max: 2 });
		await store.query('CREATE TABLE pings (n int NOT NULL, execution_id text NOT NULL)');
	}, 300_000);
	afterAll(async () => {
		if (!store?.ended) await store?.end();
		await stack?.stop();
	});

	it('production webhooks: answered by the webhook processor (not the main), run on workers, both workers busy', async () => {
		// The main does not serve production webhooks at all (N8N_DISABLE_PRODUCTION_MAIN_PROCESS).
		expect((await fetch(`${stack.baseUrl}/webhook/q-ping`, { method: 'POST' })).status).toBe(404);
		expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
		const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => ping(n).then((r) => r.status)));
		expect(answers).toEqual(Array(40).fill(200));

		const runs = await stack.waitForExecutions('qPing', 40, { timeoutMs: 90_000 });
		expect(runs.map((r) => r.status)).toEqual(Array(40).fill('success'));
		expect(new Set(runs.map((r) => r.mode))).toEqual(new Set(['webhook']));
		const rows = await rowsOf('SELECT n, execution_id FROM pings ORDER BY n');
		expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 40 }, (_, n) => n));
		expect(new Set(rows.map((r) => r.execution_id))).toEqual(new Set(runs.map((r) => r.id)));

		const enqueuedBy = (id: string) => QUEUE_ROLES.filter((r) => new RegExp(`Enqueued execution ${id} \\(`).test(stack.processes[r].logs()));
		const byWorker = await Promise.all(runs.map((r) => stack.waitForWorkerOf(r.id)));
		for (const r of runs) {
			expect(enqueuedBy(r.id), `execution ${r.id} enqueued by`).toEqual(['webhook']);
			expect(stack.workersOf(r.id), `execution ${r.id} ran on`).toHaveLength(1);
		}
		const share = { worker1: byWorker.filter((w) => w === 'worker1').length, worker2: byWorker.filter((w) => w === 'worker2').length };
		console.log(`[queue stack] 40 webhook calls: worker1 ran ${share.worker1}, worker2 ran ${share.worker2}`);
		expect(share.worker1 + share.worker2).toBe(40);
		expect(share.worker1, 'worker1 took jobs').toBeGreaterThan(0);
		expect(share.worker2, 'worker2 took jobs').toBeGreaterThan(0);
		expect(stack.processes.main.logs()).not.toMatch(/Worker started execution/);
	}, 150_000);

	it('a worker SIGKILLed mid-execution: the execution is failed, never re-run; the other worker goes on', async () => {
		const since = Number(stack.executions().at(-1)?.id ?? 0);
		expect((await fetch(stack.webhookUrl('q-slow'), { method: 'POST' })).status).toBe(200);
		let id = '';
		let victim: 'worker1' | 'worker2' | null = null;
		for (let i = 0; i < 200 && !victim; i++) {
			await sleep(100);
			id = stack.executions({ workflowId: 'qSlow', sinceId: since })[0]?.id ?? '';
			if (id) victim = stack.workerOf(id); // the log line comes as the Wait node starts
		}
		expect(victim, 'a worker started the slow execution').toBeTruthy();
		const survivor = victim === 'worker1' ? 'worker2' : 'worker1';
		await sleep(1000); // inside the Wait node
		const killedAt = Date.now();
		await stack.kill(victim!, 'SIGKILL');
		killed = { id, worker: victim! };
		expect(stack.processes[victim!].pid).toBe(0);

		// The survivor's stalled-job check fails the job once the dead worker's lock expires; the webhook processor,
		// which enqueued it, saves the execution as an error.
		let record = stack.executions({ workflowId: 'qSlow', sinceId: since, withData: true }).find((e) => e.id === id)!;
		for (let i = 0; i < 240 && record.status !== 'error'; i++) {
			await sleep(250);
			record = stack.executions({ workflowId: 'qSlow', sinceId: since, withData: true }).find((e) => e.id === id)!;
		}
		const failedAfterMs = Date.now() - killedAt;
		expect(record.status, JSON.stringify(record).slice(0, 500)).toBe('error');
		expect(String((record.data?.resultData?.error as { message?: string })?.message)).toMatch(
			/failed to be processed too many times and will no longer retry/,
		);
		console.log(`[queue stack] execution ${id} on ${victim} SIGKILLed: saved as error ${failedAfterMs} ms later`);

		// The survivor still takes new jobs.
		expect((await ping(1000)).status).toBe(200);
		const [next] = await stack.waitForExecutions('qPing', 1, { sinceId: Number(id), timeoutMs: 60_000 });
		expect(await stack.waitForWorkerOf(next.id)).toBe(survivor);

		// The killed worker comes back; neither it nor the survivor ever starts the killed execution again.
		await stack.start(victim!);
		await sleep(4000);
		expect(stack.workersOf(id)).toEqual([victim]);
		expect(stack.executions({ workflowId: 'qSlow', sinceId: since }).map((e) => [e.id, e.status])).toEqual([[id, 'error']]);
	}, 150_000);

	it('stop() ends every process and server', async () => {
		// The killed execution never reached its last node, on any worker.
		expect(killed).toBeTruthy();
		expect(await rowsOf('SELECT n FROM pings WHERE execution_id = $1', [killed!.id])).toEqual([]);
		expect(stack.workersOf(killed!.id)).toEqual([killed!.worker]);

		const pids = QUEUE_ROLES.map((r) => stack.processes[r].pid);
		expect(pids.every((p) => p > 0)).toBe(true);
		const ports = [...QUEUE_ROLES.map((r) => stack.processes[r].port), stack.redis.port, stack.postgres.port];
		await store.end();
		await stack.stop();
		const alive = (pid: number) => {
			try {
				process.kill(-pid, 0); // the process group: n8n and its task runner
				return true;
			} catch {
				return false;
			}
		};
		expect(pids.filter(alive)).toEqual([]);
		const listening = await Promise.all(
			ports.map((port) =>
				fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).then(
					() => port,
					(error) => (((error as Error).cause as { code?: string })?.code === 'ECONNREFUSED' ? null : port),
				),
			),
		);
		expect(listening.filter(Boolean)).toEqual([]);
	}, 60_000);
});
