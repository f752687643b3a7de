/**
 * n8n's queue mode on loopback (test/helpers/queueStack.ts): a production webhook is answered by the webhook
 * processor, never the main; executions run on the workers; both workers take jobs; a worker killed mid-execution
 * fails that job (n8n 2.8 never re-runs a stalled job) while the other worker goes on.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueStackAvailability, startQueueStack, type QueueStack } from '../helpers/queueStack';

const availability = queueStackAvailability();
if (!availability.ok) console.log(`[queue stack] SKIPPED: ${availability.reason}`);

const hook = (id: string, path: string, extra: object[] = [], extraConnections: object = {}) => ({
	id,
	name: `Queue ${id}`,
	active: true,
	settings: { executionOrder: 'v1' },
	nodes: [
		{ id: `${id}-h`, name: 'Hook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: path, parameters: { httpMethod: 'POST', path, responseMode: 'onReceived', options: {} } },
		...extra,
	],
	connections: extraConnections,
});

describe.skipIf(!availability.ok)('n8n queue mode: main, webhook processor, two workers', () => {
	let stack: QueueStack;
	let store: pg.Pool;
	beforeAll(async () => {
		stack = await startQueueStack({
			name: 'queue-stack-test',
			workerConcurrency: 4,
			workflows: () => [
				hook('qPing', 'q-ping', [
					{ id: 'qPing-s', name: 'Record', type: 'n8n-nodes-base.postgres', typeVersion: 2.6, position: [200, 0], credentials: { postgres: { id: 'qStore', name: 'Cadence store' } },
						parameters: { operation: 'executeQuery', query: "INSERT INTO pings (n, at) VALUES ($1, now())", options: { queryReplacement: '={{ $json.body.n }}' } } },
				], { Hook: { main: [[{ node: 'Record', type: 'main', index: 0 }]] } }),
				hook('qSlow', 'q-slow', [
					{ id: 'qSlow-w', name: 'Wait', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode: 'await new Promise((r) => setTimeout(r, 8000)); return $input.all();' } },
				], { Hook: { main: [[{ node: 'Wait', type: 'main', index: 0 }]] } }),
			],
			credentials: (_port, s) => [{ id: 'qStore', name: 'Cadence store', type: 'postgres', data: { host: s.host, port: s.port, database: s.database, user: s.user, password: s.password, ssl: 'disable' } }],
		});
		store = new pg.Pool({ connectionString: stack.store.url, max: 2 });
		await store.query('CREATE TABLE pings (n int, at timestamptz)');
	}, 600_000);
	afterAll(async () => {
		await store?.end();
		await stack?.stop();
	});

	it('production webhooks are served by the webhook processor, and executions run on both workers', async () => {
		expect((await fetch(`${stack.baseUrl}/webhook/q-ping`, { method: 'POST' })).status).toBe(404);
		const answers = await Promise.all(
			Array.from({ length: 40 }, (_, n) =>
				fetch(stack.webhookUrl('q-ping'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }).then((r) => r.status),
			),
		);
		expect(answers.every((s) => s === 200)).toBe(true);
		const runs = await stack.waitForExecutions('qPing', 40, { timeoutMs: 120_000 });
		expect(runs.every((r) => r.status === 'success')).toBe(true);
		const rows = await store.query('SELECT count(DISTINCT n)::int AS n FROM pings');
		expect(rows.rows[0].n).toBe(40);
		const byWorker = runs.map((r) => stack.workerOf(r.id));
		expect(byWorker.every((w) => w === 'worker1' || w === 'worker2'), JSON.stringify(byWorker)).toBe(true);
		expect(new Set(byWorker).size, 'both workers took jobs').toBe(2);
		expect(stack.roleLogs('main')).not.toMatch(/Worker started execution/);
	}, 180_000);

	it('a worker killed mid-execution: that job fails (not re-run), the other worker keeps working', async () => {
		const since = Number(stack.executions().at(-1)?.id ?? 0);
		expect((await fetch(stack.webhookUrl('q-slow'), { method: 'POST' })).status).toBe(200);
		let victim: ReturnType<QueueStack['workerOf']> = null;
		let execId = '';
		for (let i = 0; i < 100 && !victim; i++) {
			await new Promise((r) => setTimeout(r, 100));
			const e = stack.executions({ workflowId: 'qSlow', sinceId: since })[0];
			if (e) [execId, victim] = [e.id, stack.workerOf(e.id)];
		}
		expect(victim).toBeTruthy();
		await stack.kill(victim!, 'SIGKILL');
		// the other worker still serves new jobs
		await fetch(stack.webhookUrl('q-ping'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: 1000 }) });
		const [ping] = await stack.waitForExecutions('qPing', 1, { sinceId: since, timeoutMs: 60_000 });
		expect(stack.workerOf(ping.id)).not.toBe(victim);
		// the killed execution is never finished by anyone: n8n does not re-run stalled jobs
		await new Promise((r) => setTimeout(r, 12_000));
		const killed = stack.executions({ workflowId: 'qSlow', sinceId: since }).find((e) => e.id === execId)!;
		expect(killed.status).not.toBe('success');
		expect(stack.executions({ workflowId: 'qSlow', sinceId: since })).toHaveLength(1);
		await stack.start(victim!);
	}, 180_000);
});
