/**
 * n8n's queue mode on loopback, as a team runs it when one process is not enough: PostgreSQL (n8n's database, and
 * a second database `cadence_store` for contacts, events and follow-up tasks), Redis (the Bull queue), and the
 * pinned n8n as one main process (`n8n start`: editor, REST API, schedules and polling triggers; production
 * webhooks off), one webhook processor (`n8n webhook`: production webhooks such as tracking pixels, redirects and
 * unsubscribe pages) and two workers (`n8n worker`: every execution, manual ones included). All processes share
 * one user folder (the packed package installed in `.n8n/nodes`, as users get it) and one encryption key.
 *
 * The result is a superset of N8nInstance, so a loop written for one n8n runs unchanged here: `webhookUrl` points at
 * the webhook processor, `executions` reads n8n's Postgres database.
 *
 * What n8n 2.8.4 does with the execution of a worker that dies (dist/scaling/scaling.service.js, workflow-runner.js,
 * bull 4.16; shown by test/integration/queueStack.test.ts):
 * - Bull's `maxStalledCount` is forced to 0 (there is no QUEUE_WORKER_MAX_STALLED_COUNT). Once the dead worker's
 *   lock expires (QUEUE_WORKER_LOCK_DURATION), a live worker's stalled-job check (every
 *   QUEUE_WORKER_STALLED_INTERVAL) fails the job ("job stalled more than allowable limit") and removes it. The job is
 *   never run again, from the start or otherwise, on any worker.
 * - The process that enqueued the execution (the webhook processor for webhooks, the main for schedules, polling
 *   triggers and manual runs) hears the failure and saves the execution as status `error`, `finished` false, with
 *   n8n's MaxStalledCountError ("This execution failed to be processed too many times and will no longer retry…").
 *   If that process is gone too, the main's queue recovery marks the execution `crashed` (at the main's start, then
 *   every N8N_EXECUTIONS_QUEUE_RECOVERY_INTERVAL minutes, default 180).
 * - Whatever the killed execution did before it died (mail sent, rows written) stays done: the next run must skip
 *   it (the send ledger), n8n will not.
 * - A worker stopped with SIGTERM stops taking jobs and finishes its running ones (up to N8N_GRACEFUL_SHUTDOWN_TIMEOUT,
 *   30 s) before it exits; past that it exits and its jobs fail as above.
 * The webhook processor stopped with SIGTERM (commands/webhook.js, abstract-server.js, webhook-helpers.js):
 * - It closes its listener but keeps serving requests on open keep-alive connections, and waits for its active
 *   executions; under steady keep-alive load that never drains, so it exits only when N8N_GRACEFUL_SHUTDOWN_TIMEOUT
 *   (30 s) runs out, 2 s after "Shutdown timed out", with exit code 1, cutting the requests then in flight.
 * - Requests answered in the last instant before that forced exit can be lost: a node that writes its own response
 *   and returns `noWebhookResponse` (the Cadence Tracking Trigger) answers before the execution is created, and even
 *   the built-in Webhook node (responseMode onReceived), which answers after queueing, lost 2 answered requests in one
 *   clean-clone CI run; a cut request may also still have been enqueued (the client saw an error, n8n ran it).
 *   So webhook processors are drained before a restart (test/e2e/queue-restarts.e2e.test.ts does, as a load
 *   balancer would).
 * - A starting webhook processor answers /healthz/readiness 200 before its webhook routes are mounted and, for a few
 *   seconds, answers webhooks with Express's 404 "Cannot POST"; start() waits until n8n's own 404 JSON is served.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
	ensureN8n,
	freePorts,
	packPackage,
	prepareUserFolder,
	readExecutionsPg,
	startN8nProcess,
	USERS_DIR,
	webhookWorkflowIds,
	// @ts-expect-error: plain ESM script without type declarations
} from '../../scripts/n8n-runtime.mjs';
import type { ExecutionRecord, N8nInstance } from './n8nInstance';
import { postgresBinDir, startPostgres, type PostgresServer } from './postgres';
import { redisVersion, startRedis, type RedisServer } from './redis';

export type QueueRole = 'main' | 'webhook' | 'worker1' | 'worker2';
export const QUEUE_ROLES: QueueRole[] = ['main', 'webhook', 'worker1', 'worker2'];
const WORKERS = ['worker1', 'worker2'] as const;
type Signal = 'SIGTERM' | 'SIGKILL';

/** What scripts/n8n-runtime.mjs startN8nProcess returns. */
interface N8nProcess {
	baseUrl: string;
	port: number;
	pid: number;
	stop(): Promise<void>;
	kill(signal?: string, opts?: { timeoutMs?: number }): Promise<void>;
	logs(): string;
	exited(): { code: number | null; signal: string | null } | null;
}

export interface QueueStackOptions {
	/** Names the shared user folder (<n8n version's folder>/users/<name>). */
	name: string;
	/** Workflows in n8n's export format with ids, imported into Postgres and published. Gets the webhook processor's port. */
	workflows: (webhookPort: number) => object[];
	/** Credentials in n8n's export format, `data` plain. Gets the webhook processor's port and the store database. */
	credentials?: (webhookPort: number, store: StoreConnection) => object[];
	/** Extra environment for every process (wins over the stack's, e.g. QUEUE_WORKER_LOCK_DURATION). */
	env?: Record<string, string>;
	/** Extra environment for one role only (wins over `env`). */
	roleEnv?: Partial<Record<QueueRole, Record<string, string>>>;
	/** Executions each worker runs at once (N8N_CONCURRENCY_PRODUCTION_LIMIT; n8n's default is 10). */
	workerConcurrency?: number;
	/** N8N_LOG_LEVEL of every process (default info). `workerOf` needs info or debug on the workers. */
	logLevel?: 'error' | 'warn' | 'info' | 'debug';
	log?: (message: string) => void;
}

export interface StoreConnection {
	host: string;
	port: number;
	database: string;
	user: string;
	password: string;
	url: string;
}

export interface QueueProcess {
	role: QueueRole;
	command: 'start' | 'webhook' | 'worker';
	/** HTTP port: the editor (main), webhooks (webhook) or the health server /healthz (workers). */
	port: number;
	/** The current process's pid (0 while stopped); it changes on restart. */
	readonly pid: number;
	running(): boolean;
	/** Everything this role printed, across restarts. */
	logs(): string;
}

export interface QueueStack extends N8nInstance {
	postgres: PostgresServer;
	/** The cadence store database (contacts, events, follow_up_tasks), in the same cluster as n8n's. */
	storeDatabase: StoreConnection;
	/** Same as storeDatabase. */
	store: StoreConnection;
	redis: RedisServer;
	/** The four processes by role. */
	processes: Record<QueueRole, QueueProcess>;
	webhookPort: number;
	/** The environment every process shares (before role-specific settings), for recipes and debugging. */
	env: Record<string, string>;
	pid(role: QueueRole): number;
	roleLogs(role: QueueRole): string;
	/** Signals a process's group (SIGTERM: graceful; SIGKILL: a crash) and waits until it is gone. */
	kill(role: QueueRole, signal?: Signal): Promise<void>;
	/** Starts a stopped process again on the same ports; resolves when it is ready. */
	start(role: QueueRole): Promise<void>;
	restart(role: QueueRole, opts?: Signal | { signal?: Signal }): Promise<void>;
	/** The worker whose log says it started this execution ("Worker started execution <id> (job <n>)"), or null. */
	workerOf(executionId: string | number): 'worker1' | 'worker2' | null;
	/** workerOf, waiting up to `timeoutMs` for the worker's log line (stdout arrives after the database write). */
	waitForWorkerOf(executionId: string | number, timeoutMs?: number): Promise<'worker1' | 'worker2' | null>;
	/** Every worker that started this execution (more than one would mean n8n re-ran it). */
	workersOf(executionId: string | number): Array<'worker1' | 'worker2'>;
}

export type Availability = { ok: true } | { ok: false; reason: string };

/** Whether the queue stack can run here (Postgres, Redis, n8n); throws under CI instead of skipping. */
export function queueStackAvailability(): Availability {
	const missing = [postgresBinDir() ? '' : 'postgresql', redisVersion() ? '' : 'redis-server'].filter(Boolean);
	let reason = missing.length ? `Debian packages missing: ${missing.join(', ')} (scripts/install-system-deps.sh installs them)` : '';
	if (!reason) {
		try {
			ensureN8n({ install: true, log: (m: string) => console.log(`[n8n] ${m}`) });
		} catch (error) {
			reason = `n8n could not be installed: ${(error as Error).message.split('\n')[0]}`;
		}
	}
	if (reason && process.env.CI) throw new Error(`queue-mode tests are mandatory under CI: ${reason}`);
	return reason ? { ok: false, reason } : { ok: true };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function startQueueStack(opts: QueueStackOptions): Promise<QueueStack> {
	const log = opts.log ?? ((m: string) => console.log(`[queue] ${m}`));
	ensureN8n({ install: true, log });
	const tgz = packPackage({ log });
	// Four n8n processes with a pool each, and the tests' own pools.
	const postgres = await startPostgres({ database: 'n8n', settings: ['max_connections = 300'] });
	let redis: RedisServer | undefined;
	const procs = new Map<QueueRole, N8nProcess>();
	try {
		postgres.createDatabase('cadence_store');
		redis = await startRedis();
		return await startProcesses(opts, log, tgz, postgres, redis, procs);
	} catch (error) {
		for (const p of procs.values()) await p.stop();
		await redis?.stop();
		await postgres.stop();
		throw error;
	}
}

async function startProcesses(
	opts: QueueStackOptions,
	log: (m: string) => void,
	tgz: string,
	postgres: PostgresServer,
	redis: RedisServer,
	procs: Map<QueueRole, N8nProcess>,
): Promise<QueueStack> {
	const store: StoreConnection = {
		host: postgres.host,
		port: postgres.port,
		database: 'cadence_store',
		user: postgres.user,
		password: postgres.password,
		url: `postgres://${postgres.user}:${postgres.password}@127.0.0.1:${postgres.port}/cadence_store`,
	};
	const n8nDb = { host: postgres.host, port: postgres.port, database: 'n8n', user: postgres.user, password: postgres.password };
	const userFolder = join(USERS_DIR as string, opts.name);
	// A key from an earlier run in the folder's config would not match this run's database: start from the env's.
	const dotN8n = join(userFolder, '.n8n');
	if (existsSync(dotN8n)) {
		for (const f of readdirSync(dotN8n))
			if (f === 'config' || f.startsWith('database.sqlite') || f.startsWith('n8nEventLog')) rmSync(join(dotN8n, f));
	}

	// Eight distinct ports: an HTTP port and a task-runner broker port per process (a clash kills a worker).
	const [mainPort, webhookPort, health1, health2, ...brokerPorts] = (await freePorts(8)) as number[];
	const ports: Record<QueueRole, number> = { main: mainPort, webhook: webhookPort, worker1: health1, worker2: health2 };
	const brokers: Record<QueueRole, number> = { main: brokerPorts[0], webhook: brokerPorts[1], worker1: brokerPorts[2], worker2: brokerPorts[3] };
	const shared: Record<string, string> = {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: postgres.host,
		DB_POSTGRESDB_PORT: String(postgres.port),
		DB_POSTGRESDB_DATABASE: 'n8n',
		DB_POSTGRESDB_USER: postgres.user,
		DB_POSTGRESDB_PASSWORD: postgres.password,
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: redis.host,
		QUEUE_BULL_REDIS_PORT: String(redis.port),
		N8N_ENCRYPTION_KEY: `queue-stack-${randomBytes(12).toString('hex')}`,
		// Manual runs from the editor go to the workers too, so no execution runs on the main.
		OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
		// A dead worker's job fails within lock + 2 × stalled interval (≤ 12 s) instead of up to 120 s; a live worker
		// renews its lock every 1.5 s, so only an event loop blocked for 4.5 s would be taken for dead.
		QUEUE_WORKER_LOCK_DURATION: '6000',
		QUEUE_WORKER_LOCK_RENEW_TIME: '1500',
		QUEUE_WORKER_STALLED_INTERVAL: '3000',
		// Links in mail and the tracking credential point at the webhook processor.
		WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/`,
		N8N_LOG_LEVEL: opts.logLevel ?? 'info',
		...opts.env,
	};
	const workflows = opts.workflows(webhookPort);
	// The main registers the published workflows' webhooks, the webhook processor serves them: both wait for them.
	const webhookWorkflows: string[] = webhookWorkflowIds(workflows);
	prepareUserFolder({
		userFolder,
		tgz,
		credentials: opts.credentials?.(webhookPort, store) ?? [],
		workflows,
		log,
		port: mainPort,
		brokerPort: brokers.main,
		env: shared,
	});

	const commandOf = (role: QueueRole) => (role === 'main' ? 'start' : role === 'webhook' ? 'webhook' : 'worker') as QueueProcess['command'];
	const earlierLogs = new Map<QueueRole, string>();
	const roleLogs = (role: QueueRole) => (earlierLogs.get(role) ?? '') + (procs.get(role)?.logs() ?? '');
	const startRole = async (role: QueueRole) => {
		if (procs.get(role) && !procs.get(role)!.exited()) throw new Error(`${role} is already running (pid ${procs.get(role)!.pid})`);
		retire(role);
		const command = commandOf(role);
		const env: Record<string, string> = { ...shared };
		// The webhook processor serves production webhooks; the main must not race it for them.
		if (role === 'main') env.N8N_DISABLE_PRODUCTION_MAIN_PROCESS = 'true';
		if (command === 'worker') {
			env.QUEUE_HEALTH_CHECK_ACTIVE = 'true';
			env.QUEUE_HEALTH_CHECK_PORT = String(ports[role]);
			env.N8N_WORKER_SERVER_ADDRESS = '127.0.0.1';
			if (opts.workerConcurrency) env.N8N_CONCURRENCY_PRODUCTION_LIMIT = String(opts.workerConcurrency);
		}
		Object.assign(env, opts.roleEnv?.[role]);
		const p: N8nProcess = await startN8nProcess({
			command,
			userFolder,
			port: ports[role],
			brokerPort: brokers[role],
			env,
			log,
			webhookWorkflows: command === 'worker' ? [] : webhookWorkflows,
		});
		procs.set(role, p);
	};
	/** Moves a stopped process's output to the role's history. */
	const retire = (role: QueueRole) => {
		const p = procs.get(role);
		if (!p) return;
		earlierLogs.set(role, `${earlierLogs.get(role) ?? ''}${p.logs()}\n---- ${role} exited (${JSON.stringify(p.exited())})\n`);
		procs.delete(role);
	};
	const kill = async (role: QueueRole, signal: Signal = 'SIGKILL') => {
		const p = procs.get(role);
		if (!p) return;
		// n8n gives running work N8N_GRACEFUL_SHUTDOWN_TIMEOUT (30 s) after SIGTERM, then exits on its own.
		await p.kill(signal, { timeoutMs: signal === 'SIGKILL' ? 30_000 : 60_000 });
		if (!p.exited()) throw new Error(`${role} (pid ${p.pid}) did not exit after ${signal}:\n${p.logs().slice(-3000)}`);
		retire(role);
	};

	// Main first: it runs the migrations and activates the workflows (their webhooks land in the database, where the
	// webhook processor looks them up). Then the others together.
	await startRole('main');
	await Promise.all([startRole('webhook'), startRole('worker1'), startRole('worker2')]);

	const executions = (o: { workflowId?: string; withData?: boolean; sinceId?: number } = {}) => readExecutionsPg(n8nDb, o) as ExecutionRecord[];
	const workersOf = (executionId: string | number) =>
		WORKERS.filter((w) => new RegExp(`Worker started execution ${escapeRe(String(executionId))} \\(`).test(roleLogs(w)));
	const processes = Object.fromEntries(
		QUEUE_ROLES.map((role) => [
			role,
			{
				role,
				command: commandOf(role),
				port: ports[role],
				get pid() {
					const p = procs.get(role);
					return p && !p.exited() ? p.pid : 0;
				},
				running: () => Boolean(procs.get(role) && !procs.get(role)!.exited()),
				logs: () => roleLogs(role),
			} satisfies QueueProcess,
		]),
	) as Record<QueueRole, QueueProcess>;

	const stack: QueueStack = {
		baseUrl: `http://127.0.0.1:${mainPort}`,
		port: mainPort,
		userFolder,
		webhookPort,
		env: shared,
		postgres,
		storeDatabase: store,
		store,
		redis,
		processes,
		webhookUrl: (webhookId, path) => `http://127.0.0.1:${webhookPort}/webhook/${webhookId}${path ? `/${path}` : ''}`,
		executions,
		async waitForExecutions(workflowId, count, { timeoutMs = 30_000, sinceId = 0 } = {}) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const done = executions({ workflowId, sinceId }).filter((e) => e.stoppedAt);
				if (done.length >= count) return executions({ workflowId, withData: true, sinceId }).filter((e) => e.stoppedAt);
				if (Date.now() > deadline) throw new Error(`expected ${count} executions of ${workflowId}, found ${done.length} after ${timeoutMs} ms`);
				await sleep(250);
			}
		},
		logs: () => QUEUE_ROLES.map((r) => `---- ${r}\n${roleLogs(r)}`).join('\n'),
		roleLogs,
		pid: (role) => processes[role].pid,
		kill,
		start: startRole,
		async restart(role, o) {
			await kill(role, (typeof o === 'string' ? o : o?.signal) ?? 'SIGTERM');
			await startRole(role);
		},
		workerOf: (executionId) => workersOf(executionId)[0] ?? null,
		workersOf,
		async waitForWorkerOf(executionId, timeoutMs = 5000) {
			for (const until = Date.now() + timeoutMs; ; await sleep(100)) {
				const worker = workersOf(executionId)[0] ?? null;
				if (worker || Date.now() > until) return worker;
			}
		},
		async stop() {
			// Workers and the webhook processor first, so nothing is left waiting on the main.
			const end = async (role: QueueRole) => {
				const p = procs.get(role);
				if (!p) return;
				await p.stop(); // SIGTERM, SIGKILL after 10 s
				if (!p.exited()) await p.kill('SIGKILL');
			};
			await Promise.all((['webhook', 'worker1', 'worker2'] as const).map(end));
			await end('main');
			for (const role of QUEUE_ROLES) retire(role);
			await redis.stop();
			await postgres.stop();
		},
	};
	return stack;
}

/** The two credentials of the Postgres templates: n8n's own Postgres type ("Cadence store") for the queries, and the
 *  Cadence Postgres credential ("Cadence store ledger") for Cadence Send's send ledger, both on the store database. */
export function cadenceStoreCredentials(s: { host: string; port: number; database: string; user: string; password: string }): object[] {
	const data = { host: s.host, port: s.port, database: s.database, user: s.user, password: s.password, ssl: 'disable' };
	return [
		{ id: 'cadenceStore', name: 'Cadence store', type: 'postgres', data },
		{ id: 'cadenceStoreLedger', name: 'Cadence store ledger', type: 'cadencePostgresApi', data },
	];
}
