/**
 * A time budget for classifying one message. The classifier runs in a worker thread, so a message that makes it
 * loop (a parser bug, an input nobody foresaw) stalls only that worker: past the time limit the worker is
 * terminated, the message becomes `other` with a problem, and a fresh worker takes the next message. The main
 * thread (n8n's editor, webhooks, other workflows) never waits on the classifier's CPU.
 *
 * The worker rebuilds the classifier from plain data (`ClassifierSpec`), because functions cannot cross the thread
 * boundary. A pool belongs to one poll or one execution and must be closed when it ends.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Classification, ClassifyOptions, MessageKind } from '../../core/classify';
import type { TrackerOptions } from '../../core/tracker';
import { INBOX_MESSAGE_KINDS } from '../../core/inbox/events';

/** Time one message may take to classify before it is given up as `other`. */
export const DEFAULT_CLASSIFY_TIME_LIMIT_MS = 2000;
/** The longest time limit accepted: longer would let one message hold a poll for minutes. */
export const MAX_CLASSIFY_TIME_LIMIT_MS = 60_000;
/** Time a new worker may take to load the classifier (a loaded machine, a cold disk). */
export const CLASSIFY_WORKER_START_TIMEOUT_MS = 30_000;
/** Heap of the worker: a message that needs more fails alone instead of taking n8n's memory. */
export const CLASSIFY_WORKER_MAX_HEAP_MB = 512;
/** Bytes of a message searched for its Message-ID when the classifier gave up on it. */
export const MESSAGE_ID_SCAN_BYTES = 64 * 1024;
/** RFC 5322 line limit: a longer Message-ID is not one. */
const MAX_HEADER_LINE = 998;

/** Everything the worker needs to build the classifier: structured-cloneable data only. */
export interface ClassifierSpec {
	/** Classifier options without functions; `verifyToken` is rebuilt from `tracker`. */
	options?: Omit<ClassifyOptions, 'verifyToken'>;
	/** Verify tracking tokens with a tracker built from these options. */
	tracker?: Omit<TrackerOptions, 'now'>;
	/**
	 * Tests only: absolute path of a module exporting `classifyMessage(raw, options)`, used instead of the package's
	 * classifier (e.g. one that loops forever). Never set from node parameters.
	 */
	module?: string;
}

export interface BudgetedClassification {
	classification: Classification;
	/** The classifier did not answer (time limit, crash): `classification` is `other` with the problem. */
	failed?: boolean;
}

export interface ClassifierPool {
	/** Classifies one message within the time limit. Rejects only when no worker can be started at all. */
	classify(raw: Buffer): Promise<BudgetedClassification>;
	/** Starts the worker now (it is otherwise started by the first message); rejects when it cannot start. */
	start(): Promise<void>;
	/** Terminates the worker. Idempotent; later `classify` calls reject. */
	close(): Promise<void>;
}

export interface ClassifierPoolOptions {
	timeLimitMs?: number;
	startTimeoutMs?: number;
}

export function isClassifierPool(value: unknown): value is ClassifierPool {
	return !!value && typeof (value as ClassifierPool).classify === 'function' && typeof (value as ClassifierPool).close === 'function';
}

/** A usable time limit from user input: whole milliseconds from 1 to the maximum; anything else is the default. */
export function classifyTimeLimit(ms: unknown): number {
	const n = Number(ms);
	if (ms === undefined || ms === null || ms === '' || !Number.isFinite(n) || n <= 0) return DEFAULT_CLASSIFY_TIME_LIMIT_MS;
	return Math.min(MAX_CLASSIFY_TIME_LIMIT_MS, Math.max(1, Math.round(n)));
}

/**
 * How to start the worker script beside this file: compiled JS in dist as is; the TypeScript source (tests, dev)
 * through tsx's require hook, which a worker does not inherit from the thread that starts it.
 */
function workerEntry(): { entry: string; eval: boolean } {
	// From __filename: some TypeScript loaders (tsx importing this file from ESM) leave __dirname unusable.
	const here = dirname(__filename);
	const js = join(here, 'classifyWorker.js');
	if (existsSync(js)) return { entry: js, eval: false };
	const ts = join(here, 'classifyWorker.ts');
	return { entry: `require('tsx/cjs/api').register(); require(${JSON.stringify(ts)});`, eval: true };
}

/**
 * The Message-ID from the header section, found with one linear pass over at most `MESSAGE_ID_SCAN_BYTES`, for a
 * message the classifier could not read.
 */
export function scanMessageId(raw: Buffer): string | undefined {
	const text = raw.subarray(0, MESSAGE_ID_SCAN_BYTES).toString('latin1');
	let value: string | undefined;
	let start = 0;
	while (start < text.length) {
		let end = text.indexOf('\n', start);
		if (end < 0) end = text.length;
		const line = text.slice(start, end).replace(/\r$/, '');
		start = end + 1;
		if (line === '') break;
		if (line[0] === ' ' || line[0] === '\t') {
			if (value !== undefined && value.length + line.length <= MAX_HEADER_LINE) value += line;
			continue;
		}
		if (value !== undefined) break;
		if (line.slice(0, 11).toLowerCase() === 'message-id:') value = line.slice(11);
	}
	const id = value?.trim();
	// eslint-disable-next-line no-control-regex
	return id && id.length <= MAX_HEADER_LINE && !/[\x00-\x1f\x7f]/.test(id) ? id : undefined;
}

function failure(raw: Buffer, problem: string): BudgetedClassification {
	const messageId = scanMessageId(raw);
	return { classification: { kind: 'other', bounces: [], problem, ...(messageId ? { messageId } : {}) }, failed: true };
}

const KINDS = new Set<MessageKind>(INBOX_MESSAGE_KINDS);

function isClassification(value: unknown): value is Classification {
	const c = value as Classification;
	return !!c && typeof c === 'object' && KINDS.has(c.kind) && Array.isArray(c.bounces);
}

type WorkerReply = { type: 'ready' } | { type: 'fatal'; error: string } | { id: number; classification?: unknown; error?: string };

/**
 * A worker that classifies one message at a time, replaced after a message it could not finish. Messages are
 * queued: each one's time limit starts when the worker takes it, and a new worker's start-up is not counted.
 */
export function createClassifierPool(spec: ClassifierSpec, options: ClassifierPoolOptions = {}): ClassifierPool {
	const pool = new WorkerPool(spec, classifyTimeLimit(options.timeLimitMs), options.startTimeoutMs ?? CLASSIFY_WORKER_START_TIMEOUT_MS);
	// Plain functions, not the class's methods: callers may copy or pass them on without the pool as `this`.
	return {
		classify: (raw) => pool.classify(raw),
		start: () => pool.start(),
		close: () => pool.close(),
	};
}

/** The state of one pool: the current worker, the message queue, and the workers still being terminated. */
class WorkerPool {
	private readonly script = workerEntry();
	private current: Promise<Worker> | undefined;
	private closed = false;
	private next = 0;
	private queue: Promise<unknown> = Promise.resolve();
	private readonly live = new Set<Worker>();
	private readonly stopping = new Set<Promise<unknown>>();

	constructor(
		private readonly spec: ClassifierSpec,
		private readonly timeLimitMs: number,
		private readonly startTimeoutMs: number,
	) {}

	/** Messages wait for the one before them, so a time limit only ever counts one message's work. */
	classify(raw: Buffer): Promise<BudgetedClassification> {
		const result = this.queue.then(() => this.classifyOne(raw));
		this.queue = result.catch(() => undefined);
		return result;
	}

	/** Starting is loading the worker now instead of on the first message. */
	async start(): Promise<void> {
		await this.ready();
	}

	/** Closing terminates every worker, running or starting, and waits until each has ended. */
	async close(): Promise<void> {
		this.closed = true;
		this.current = undefined;
		for (const worker of [...this.live]) this.stop(worker);
		await Promise.all([...this.stopping]);
	}

	/** The current worker, or a new one when there is none; a worker that failed to start is not kept. */
	private ready(): Promise<Worker> {
		if (this.closed) return Promise.reject(new Error('the classifier is closed'));
		if (!this.current) {
			const starting = this.launch();
			this.current = starting;
			starting.catch(() => {
				if (this.current === starting) this.current = undefined;
			});
		}
		return this.current;
	}

	/** A new worker, resolved once it reports the classifier loaded; stopped when it cannot start. */
	private launch(): Promise<Worker> {
		const worker = new Worker(this.script.entry, {
			eval: this.script.eval,
			workerData: { spec: this.spec },
			resourceLimits: { maxOldGenerationSizeMb: CLASSIFY_WORKER_MAX_HEAP_MB },
			stdout: true,
			stderr: true,
		});
		this.live.add(worker);
		// The classifier has nothing to say on n8n's console; piped output that nobody reads would fill up.
		worker.stdout.resume();
		worker.stderr.resume();
		return awaitWorkerReady(worker, this.startTimeoutMs, () => this.stop(worker));
	}

	/** One message on the current worker; the time limit starts once the worker is ready. */
	private async classifyOne(raw: Buffer): Promise<BudgetedClassification> {
		const worker = await this.ready();
		const id = ++this.next;
		return await this.awaitReply(worker, id, raw);
	}

	/**
	 * The worker's answer to message `id`; a worker that errs, exits or overruns the time limit is discarded and the
	 * message becomes `other` with the problem.
	 */
	private awaitReply(worker: Worker, id: number, raw: Buffer): Promise<BudgetedClassification> {
		// A copy of just these bytes (fetched buffers may be views of a larger one), moved rather than cloned.
		const bytes = new Uint8Array(raw);
		return new Promise<BudgetedClassification>((resolve) => {
			const finish = (result: BudgetedClassification) => {
				clearTimeout(timer);
				worker.off('message', onMessage);
				worker.off('error', onError);
				worker.off('exit', onExit);
				resolve(result);
			};
			const onMessage = (m: WorkerReply) => {
				if (!('id' in m) || m.id !== id) return;
				if (m.error !== undefined) finish(failure(raw, `classifier failed: ${m.error}`));
				else if (!isClassification(m.classification)) finish(failure(raw, 'classifier failed: it returned no classification'));
				else finish({ classification: m.classification });
			};
			const onError = (error: Error) => {
				this.discard(worker);
				finish(failure(raw, `classifier failed: ${error.message}`));
			};
			const onExit = (code: number) => {
				this.discard(worker);
				finish(failure(raw, `classifier failed: the worker stopped (exit code ${code})`));
			};
			const timer = setTimeout(() => {
				this.discard(worker);
				finish(failure(raw, `classification time limit hit: gave up after ${this.timeLimitMs} ms`));
			}, this.timeLimitMs);
			worker.on('message', onMessage);
			worker.on('error', onError);
			worker.on('exit', onExit);
			worker.postMessage({ id, raw: bytes }, [bytes.buffer]);
		});
	}

	/** A worker that failed a message is never reused: the next message starts a fresh one. */
	private discard(worker: Worker): void {
		this.current = undefined;
		this.stop(worker);
	}

	/** Terminates a live worker once; `close` waits for the terminations still under way. */
	private stop(worker: Worker): void {
		if (!this.live.delete(worker)) return;
		const done = worker.terminate().catch(() => undefined);
		this.stopping.add(done);
		void done.then(() => this.stopping.delete(done));
	}
}

/**
 * Resolves with the worker once it reports `ready`; rejects (after `stop`) when it reports a fatal error, errs,
 * exits, or stays silent past the start timeout.
 */
function awaitWorkerReady(worker: Worker, startTimeoutMs: number, stop: () => void): Promise<Worker> {
	return new Promise<Worker>((resolve, reject) => {
		const timer = setTimeout(() => fail(new Error(`the classification worker did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
		const cleanup = () => {
			clearTimeout(timer);
			worker.off('message', onMessage);
			worker.off('error', fail);
			worker.off('exit', onExit);
		};
		function fail(error: Error): void {
			cleanup();
			stop();
			reject(new Error(`could not start the classifier: ${error.message}`));
		}
		function onMessage(m: WorkerReply): void {
			if ('type' in m && m.type === 'ready') {
				cleanup();
				resolve(worker);
			} else if ('type' in m && m.type === 'fatal') fail(new Error(m.error));
		}
		function onExit(code: number): void {
			fail(new Error(`the worker exited with code ${code}`));
		}
		worker.on('message', onMessage);
		worker.on('error', fail);
		worker.on('exit', onExit);
	});
}
