/**
 * A real n8n (the version CADENCE_N8N selects in scripts/n8n-runtime.mjs: the oldest supported unless it says
 * `latest` or a version) with this package installed from its packed tarball, for end-to-end tests and benchmarks.
 * One user folder per `name` under the version's users/ folder, each start with a new database, on free loopback
 * ports; started means the workflows' webhooks answer.
 *
 * Availability: with `CI` set, n8n is mandatory (installed if missing; problems fail the suite). Elsewhere n8n is
 * installed if missing, and when that is impossible the suite skips with the printed reason.
 */
import { join } from 'node:path';
import {
	ensureN8n,
	freePort,
	N8N_TIME_ZONE,
	N8N_VERSION,
	nodeOutput,
	packPackage,
	prepareUserFolder,
	readExecutions,
	startN8n,
	USERS_DIR,
	webhookWorkflowIds,
	// @ts-expect-error: plain ESM script without type declarations
} from '../../scripts/n8n-runtime.mjs';

export { N8N_TIME_ZONE, N8N_VERSION, nodeOutput };

/** Today's day of the month in the test instances' workflow time zone, the day their schedules and caps use. */
export function n8nDayOfMonth(now: Date = new Date()): number {
	return Number(new Intl.DateTimeFormat('en-GB', { timeZone: N8N_TIME_ZONE as string, day: 'numeric' }).format(now));
}

export interface ExecutionRecord {
	id: string;
	workflowId: string;
	status: string;
	mode: string;
	startedAt: string;
	stoppedAt: string | null;
	data?: { resultData?: { runData?: Record<string, unknown>; error?: unknown } } | null;
}

export interface N8nInstance {
	baseUrl: string;
	port: number;
	userFolder: string;
	/** Production URL of a webhook: `/webhook/<webhookId>/<path>` for nodes with a webhookId. */
	webhookUrl(webhookId: string, path?: string): string;
	executions(opts?: { workflowId?: string; withData?: boolean; sinceId?: number }): ExecutionRecord[];
	/** Waits until at least `count` finished executions of the workflow exist (n8n saves them after answering). */
	waitForExecutions(workflowId: string, count: number, opts?: { timeoutMs?: number; sinceId?: number }): Promise<ExecutionRecord[]>;
	logs(): string;
	stop(): Promise<void>;
}

export interface StartOptions {
	/** Names the user folder (<version's folder>/users/<name>). */
	name: string;
	/** Workflows in n8n's export format with ids; they are imported and published. Gets the port to build URLs. */
	workflows: (port: number) => object[];
	/** Credentials in n8n's export format, `data` as a plain object. Gets the port to build URLs. */
	credentials?: (port: number) => object[];
	env?: Record<string, string>;
	/** Below log level info: webhook URLs that answer something other than 404 once the workflows are live. */
	readyUrls?: (baseUrl: string) => string[];
	log?: (message: string) => void;
}

export type Availability = { ok: true } | { ok: false; reason: string };

/** Whether a real n8n can run here; installs it once if it is missing. Throws under CI instead of skipping. */
export function n8nAvailability(log: (m: string) => void = (m) => console.log(`[n8n] ${m}`)): Availability {
	try {
		ensureN8n({ install: true, log });
		return { ok: true };
	} catch (error) {
		const reason = `n8n ${N8N_VERSION} is not installed and could not be installed: ${(error as Error).message.split('\n')[0]}`;
		if (process.env.CI) throw new Error(`${reason} (mandatory under CI)`);
		return { ok: false, reason };
	}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startN8nInstance(opts: StartOptions): Promise<N8nInstance> {
	const log = opts.log ?? ((m: string) => console.log(`[n8n] ${m}`));
	ensureN8n({ install: true, log });
	const tgz = packPackage({ log });
	const userFolder = join(USERS_DIR as string, opts.name);
	const port: number = await freePort();
	const brokerPort: number = await freePort();
	const workflows = opts.workflows(port);
	prepareUserFolder({
		userFolder,
		tgz,
		credentials: opts.credentials?.(port) ?? [],
		workflows,
		fresh: true,
		log,
		port,
		brokerPort,
	});
	const n8n = await startN8n({
		userFolder,
		port,
		brokerPort,
		env: opts.env,
		log,
		readyUrls: opts.readyUrls?.(`http://127.0.0.1:${port}`) ?? [],
		webhookWorkflows: webhookWorkflowIds(workflows),
	});
	const executions = (o: { workflowId?: string; withData?: boolean; sinceId?: number } = {}) => readExecutions(userFolder, o) as ExecutionRecord[];
	return {
		baseUrl: n8n.baseUrl,
		port,
		userFolder,
		webhookUrl: (webhookId, path) => `${n8n.baseUrl}/webhook/${webhookId}${path ? `/${path}` : ''}`,
		executions,
		async waitForExecutions(workflowId, count, { timeoutMs = 30_000, sinceId = 0 } = {}) {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const done = executions({ workflowId, withData: true, sinceId }).filter((e) => e.stoppedAt);
				if (done.length >= count) return done;
				if (Date.now() > deadline) {
					throw new Error(`expected ${count} executions of ${workflowId}, found ${done.length} after ${timeoutMs} ms`);
				}
				await sleep(100);
			}
		},
		logs: n8n.logs,
		stop: n8n.stop,
	};
}
