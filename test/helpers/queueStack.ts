/**
 * n8n's queue mode on loopback, as a team runs it when one process is not enough: PostgreSQL (n8n's database, and
 * a second database `cadence_store` for contacts, events and follow-up tasks), Redis (the Bull queue), and the
 * pinned n8n as one main process (editor, REST API, schedules and polling triggers; production webhooks off), one
 * webhook processor (`n8n webhook`: tracking pixels, redirects, unsubscribe pages) and two workers (`n8n worker`:
 * every execution). All processes share one user folder (the packed package installed in `.n8n/nodes`, as users get
 * it) and one encryption key.
 *
 * The result is a superset of N8nInstance, so a loop written for one n8n runs unchanged here: `webhookUrl` points at
 * the webhook processor, `executions` reads n8n's Postgres database.
 *
 * What n8n 2.8 does when a worker dies (read in dist/scaling/scaling.service.js and verified by the tests): Bull's
 * `maxStalledCount` is forced to 0, so a job whose worker stopped renewing its lock is failed, never run again; the
 * main's queue recovery later marks the execution crashed. A killed execution is therefore not retried by n8n: the
 * next run of the workflow (the next schedule, or a retry) must skip what was done, which the send ledger does.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
	ensureN8n,
	freePort,
	packPackage,
	prepareUserFolder,
	RUNTIME_DIR,
	startN8n,
	// @ts-expect-error: plain ESM script without type declarations
} from '../../scripts/n8n-runtime.mjs';
import type { ExecutionRecord, N8nInstance } from './n8nInstance';
import { postgresBinDir, startPostgres, type PostgresServer } from './postgres';
import { redisVersion, startRedis, type RedisServer } from './redis';

export type QueueRole = 'main' | 'webhook' | 'worker1' | 'worker2';
const ROLES: QueueRole[] = ['main', 'webhook', 'worker1', 'worker2'];

interface N8nProcess {
	baseUrl: string;
	port: number;
	pid: number;
	stop(): Promise<void>;
	kill(signal?: string): Promise<void>;
	logs(): string;
	exited(): { code: number | null; signal: string | null } | null;
}

export interface QueueStackOptions {
	name: string;
	workflows: (webhookPort: number) => object[];
	credentials?: (webhookPort: number, store: StoreConnection) => object[];
	env?: Record<string, string>;
	/** Executions each worker runs at once (n8n's default is 10). */
	workerConcurrency?: number;
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

export interface QueueStack extends N8nInstance {
	postgres: PostgresServer;
	/** The cadence store database (contacts, events, follow_up_tasks), in the same cluster as n8n's. */
	store: StoreConnection;
	redis: RedisServer;
	webhookPort: number;
	pid(role: QueueRole): number;
	roleLogs(role: QueueRole): string;
	/** Stops a process (SIGTERM: graceful; SIGKILL: a crash) and waits until it is gone. */
	kill(role: QueueRole, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
	/** Starts a stopped process again on the same ports. */
	start(role: QueueRole): Promise<void>;
	restart(role: QueueRole, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
	/** The worker whose log says it started this execution. */
	workerOf(executionId: string | number): QueueRole | null;
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

function psqlJson(pgServer: PostgresServer, sql: string): unknown[] {
	const r = spawnSync(
		process.getuid?.() === 0 ? 'runuser' : 'psql',
		[...(process.getuid?.() === 0 ? ['-u', 'postgres', '--', 'psql'] : []), '-X', '-q', '-At', '-h', pgServer.dir, '-p', String(pgServer.port), '-U', pgServer.user, '-d', 'n8n'],
		{ input: `SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`, encoding: 'utf8', maxBuffer: 512 << 20 },
	);
	if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
	return JSON.parse(r.stdout.trim() || '[]');
}

export async function startQueueStack(opts: QueueStackOptions): Promise<QueueStack> {
	const log = opts.log ?? ((m: string) => console.log(`[queue] ${m}`));
	ensureN8n({ install: true, log });
	const tgz = packPackage({ log });
	const postgres = await startPostgres({ database: 'n8n', settings: ['max_connections = 300'] });
	postgres.createDatabase('cadence_store');
	const redis = await startRedis();
	const store: StoreConnection = {
		host: postgres.host,
		port: postgres.port,
		database: 'cadence_store',
		user: postgres.user,
		password: postgres.password,
		url: `postgres://${postgres.user}:${postgres.password}@127.0.0.1:${postgres.port}/cadence_store`,
	};
	const userFolder = join(RUNTIME_DIR, 'users', opts.name);
	// A key from an earlier run in the folder's config would not match this run's database: start from the env's.
	const dotN8n = join(userFolder, '.n8n');
	if (existsSync(dotN8n)) for (const f of readdirSync(dotN8n)) if (f === 'config' || f.startsWith('database.sqlite')) rmSync(join(dotN8n, f));

	const ports = { main: await freePort(), webhook: await freePort(), worker1: await freePort(), worker2: await freePort() };
	const brokers = { main: await freePort(), webhook: await freePort(), worker1: await freePort(), worker2: await freePort() };
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
		OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
		// A dead worker's lock expires after 5 s instead of 60 s, so tests see its job fail quickly.
		QUEUE_WORKER_LOCK_DURATION: '5000',
		QUEUE_WORKER_LOCK_RENEW_TIME: '2000',
		QUEUE_WORKER_STALLED_INTERVAL: '3000',
		// Links in mail and the tracking credential point at the webhook processor.
		WEBHOOK_URL: `http://127.0.0.1:${ports.webhook}/`,
		N8N_LOG_LEVEL: 'info',
		...opts.env,
	};
	prepareUserFolder({
		userFolder,
		tgz,
		credentials: opts.credentials?.(ports.webhook, store) ?? [],
		workflows: opts.workflows(ports.webhook),
		log,
		port: ports.main,
		brokerPort: brokers.main,
		env: shared,
	});

	const procs = new Map<QueueRole, N8nProcess>();
	const allLogs = new Map<QueueRole, string>();
	const startRole = async (role: QueueRole) => {
		const command = role === 'main' ? 'start' : role === 'webhook' ? 'webhook' : 'worker';
		const env: Record<string, string> = { ...shared };
		if (role === 'main') env.N8N_DISABLE_PRODUCTION_MAIN_PROCESS = 'true';
		if (command === 'worker') {
			env.QUEUE_HEALTH_CHECK_ACTIVE = 'true';
			env.QUEUE_HEALTH_CHECK_PORT = String(ports[role]);
			env.N8N_WORKER_SERVER_ADDRESS = '127.0.0.1';
			if (opts.workerConcurrency) env.N8N_CONCURRENCY_PRODUCTION_LIMIT = String(opts.workerConcurrency);
		}
		const marker = command === 'worker' ? /n8n worker is now ready/ : command === 'webhook' ? /Webhook listener waiting for requests/ : null;
		const p: N8nProcess = await startN8n({
			userFolder,
			port: ports[role],
			brokerPort: brokers[role],
			env,
			log,
			command,
			...(marker ? { ready: async (out: string) => marker.test(out) } : {}),
		});
		procs.set(role, p);
	};
	const keepLogs = (role: QueueRole) => {
		const p = procs.get(role);
		if (p) allLogs.set(role, (allLogs.get(role) ?? '') + p.logs());
	};

	try {
		// Main first: it runs the database migrations the others expect.
		await startRole('main');
		await Promise.all([startRole('webhook'), startRole('worker1'), startRole('worker2')]);
	} catch (error) {
		for (const p of procs.values()) await p.stop();
		await redis.stop();
		await postgres.stop();
		throw error;
	}

	const executions = (o: { workflowId?: string; withData?: boolean; sinceId?: number } = {}): ExecutionRecord[] => {
		const where = [`e.id > ${Number(o.sinceId ?? 0)}`];
		if (o.workflowId) where.push(`e."workflowId" = '${o.workflowId.replace(/'/g, "''")}'`);
		const rows = psqlJson(
			postgres,
			`SELECT e.id::text AS id, e."workflowId", e.status, e.mode, e."startedAt", e."stoppedAt"${o.withData ? ', d.data' : ''}
			 FROM execution_entity e ${o.withData ? 'LEFT JOIN execution_data d ON d."executionId" = e.id' : ''}
			 WHERE ${where.join(' AND ')} ORDER BY e.id`,
		) as Array<ExecutionRecord & { data?: string | null }>;
		if (!o.withData) return rows;
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { parse } = require(join(RUNTIME_DIR, 'node_modules', 'flatted'));
		return rows.map((r) => ({ ...r, data: r.data ? parse(r.data) : null }));
	};

	const stack: QueueStack = {
		baseUrl: `http://127.0.0.1:${ports.main}`,
		port: ports.main,
		userFolder,
		webhookPort: ports.webhook,
		postgres,
		store,
		redis,
		webhookUrl: (webhookId, path) => `http://127.0.0.1:${ports.webhook}/webhook/${webhookId}${path ? `/${path}` : ''}`,
		executions,
		async waitForExecutions(workflowId, count, { timeoutMs = 30_000, sinceId = 0 } = {}) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const done = executions({ workflowId, withData: true, sinceId }).filter((e) => e.stoppedAt);
				if (done.length >= count) return done;
				if (Date.now() > deadline) throw new Error(`expected ${count} executions of ${workflowId}, found ${done.length} after ${timeoutMs} ms`);
				await new Promise((r) => setTimeout(r, 250));
			}
		},
		logs: () => ROLES.map((r) => `---- ${r}\n${stack.roleLogs(r)}`).join('\n'),
		roleLogs: (role) => (allLogs.get(role) ?? '') + (procs.get(role)?.logs() ?? ''),
		pid: (role) => procs.get(role)?.pid ?? 0,
		async kill(role, signal = 'SIGKILL') {
			const p = procs.get(role);
			if (!p) return;
			await p.kill(signal);
			keepLogs(role);
			procs.delete(role);
		},
		start: startRole,
		async restart(role, signal = 'SIGTERM') {
			await stack.kill(role, signal);
			await startRole(role);
		},
		workerOf(executionId) {
			for (const role of ['worker1', 'worker2'] as const) {
				if (new RegExp(`Worker started execution ${executionId} \\(`).test(stack.roleLogs(role))) return role;
			}
			return null;
		},
		async stop() {
			await Promise.all([...procs.values()].map((p) => p.stop()));
			procs.clear();
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
