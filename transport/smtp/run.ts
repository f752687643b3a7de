/** What the workers of one run share: the limits, the queue, each job's state and result, and the halt. */
import { JobQueue } from './queue';
import { createRateLimiter, stopLossReason, type RateLimiter } from './pacing';
import {
	DEFAULT_MAX_CONNECTION_FAILURES,
	DEFAULT_MAX_TEMPORARY_RETRIES,
	DEFAULT_POOL_SIZE,
	DEFAULT_RECONNECT_BASE_MS,
	DEFAULT_RETRY_BASE_MS,
	DEFAULT_RETRY_MAX_MS,
	DEFAULT_STOP_LOSS,
	MAX_POOL_SIZE,
	type SmtpEnvelope,
	type SmtpFailReason,
	type SmtpJob,
	type SmtpResult,
	type SmtpSendOptions,
	type SmtpStopLoss,
} from './types';

/** The options with their defaults applied. */
export interface RunLimits {
	poolSize: number;
	maxTemporaryRetries: number;
	retryBaseMs: number;
	retryMaxMs: number;
	maxConnectionFailures: number;
	reconnectBaseMs: number;
	stopLoss: SmtpStopLoss | null;
}

export function runLimits(opts: SmtpSendOptions): RunLimits {
	return {
		poolSize: Math.max(1, Math.min(Math.floor(opts.poolSize ?? DEFAULT_POOL_SIZE), MAX_POOL_SIZE)),
		maxTemporaryRetries: opts.maxTemporaryRetries ?? DEFAULT_MAX_TEMPORARY_RETRIES,
		retryBaseMs: opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS,
		retryMaxMs: opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS,
		maxConnectionFailures: opts.maxConnectionFailures ?? DEFAULT_MAX_CONNECTION_FAILURES,
		reconnectBaseMs: opts.reconnectBaseMs ?? DEFAULT_RECONNECT_BASE_MS,
		stopLoss: opts.stopLoss === false ? null : (opts.stopLoss ?? DEFAULT_STOP_LOSS),
	};
}

export interface JobState {
	attempts: number;
	/** Resends after a dropped connection (the message was not handed over). */
	resends: number;
	bytes?: Buffer;
	envelope?: SmtpEnvelope;
	lastResponse?: string;
}

/** Why the run stopped handing out messages; every job left ends with this outcome. */
export type Halt =
	| { status: 'failed'; reason: SmtpFailReason; error: string }
	| { status: 'skipped'; reason: 'failure-rate' | 'cancelled'; error: string };

export interface BuiltMessage {
	bytes: Buffer;
	envelope: SmtpEnvelope;
}

export class BatchRun {
	readonly limits: RunLimits;
	readonly signal: AbortSignal | undefined;
	readonly takeSlot: RateLimiter;
	readonly queue: JobQueue;
	readonly results: Array<SmtpResult | undefined>;
	readonly state: JobState[];
	/** Once set, no new message is handed out. */
	halt: Halt | null = null;
	/** Connection attempts that failed since the last message went out (any worker). */
	connFailuresInARow = 0;
	private sent = 0;
	private failedRecipients = 0;
	private readonly onAbort = () => this.cancel();

	constructor(
		private readonly jobs: readonly SmtpJob[],
		private readonly opts: SmtpSendOptions,
	) {
		this.limits = runLimits(opts);
		this.signal = opts.signal;
		this.takeSlot = createRateLimiter(opts.ratePerSecond);
		this.queue = new JobQueue(jobs.length, opts.signal);
		this.results = new Array(jobs.length);
		this.state = jobs.map(() => ({ attempts: 0, resends: 0 }));
	}

	/** Cancellation halts the run: messages not yet handed out end `cancelled`. */
	listenForAbort(): void {
		if (this.signal?.aborted) this.cancel();
		else this.signal?.addEventListener('abort', this.onAbort, { once: true });
	}

	stopListening(): void {
		this.signal?.removeEventListener('abort', this.onAbort);
	}

	private cancel(): void {
		this.halt ??= { status: 'skipped', reason: 'cancelled', error: 'The execution was cancelled before this message was sent' };
		this.queue.wake();
	}

	/** The first reason to halt wins. */
	haltWith(halt: Halt): void {
		this.halt ??= halt;
	}

	/** Records a job's final result, counts it for the stop-loss and reports it. */
	finish(i: number, result: SmtpResult): void {
		this.results[i] = result;
		// The bytes were only kept for retries: a run of 30,000 messages must not hold 30,000 messages.
		this.state[i].bytes = undefined;
		this.count(result);
		this.opts.onResult?.(i, result);
	}

	/** Stop-loss accounting: refused and temporarily failed recipients against sent ones; a sent message also ends a run of connection failures. */
	private count(result: SmtpResult): void {
		if (result.status === 'sent') {
			this.sent++;
			this.connFailuresInARow = 0;
		} else if (result.status === 'failed' && (result.reason === 'rejected' || result.reason === 'temporary-failure')) {
			this.failedRecipients++;
		}
		const stopLoss = this.limits.stopLoss;
		if (!stopLoss || this.halt) return;
		const error = stopLossReason(stopLoss, this.sent, this.failedRecipients);
		if (error) this.halt = { status: 'skipped', reason: 'failure-rate', error };
	}

	/** Ends a job with the halt's outcome, keeping its attempts and the last server answer. */
	finishHalted(i: number): void {
		const s = this.state[i];
		this.finish(i, { ...this.halt!, attempts: s.attempts, ...(s.lastResponse ? { response: s.lastResponse } : {}) } as SmtpResult);
	}

	/** The job's bytes and envelope, built on first use and kept for its retries; null when the job withdrew. */
	async message(i: number): Promise<BuiltMessage | null> {
		const s = this.state[i];
		if (!s.bytes) {
			const job = this.jobs[i];
			const m = job.message;
			const value = typeof m === 'function' ? await m() : m;
			if (value === null) return null;
			if (typeof value === 'string') s.bytes = Buffer.from(value, 'utf8');
			else if (Buffer.isBuffer(value)) s.bytes = value;
			else {
				s.bytes = value.raw;
				s.envelope = value.envelope;
			}
			s.envelope ??= job.envelope;
			if (!s.envelope?.from || !s.envelope.to?.length) throw new Error('the job has no envelope (sender and recipients)');
		}
		return { bytes: s.bytes, envelope: s.envelope! };
	}

	/** One result per job in job order; a job without one (which should not happen) counts as not sent. */
	assembleResults(): SmtpResult[] {
		return this.results.map(
			(r) => r ?? { status: 'failed', reason: 'connection', error: 'The message was not sent (internal: no result)', attempts: 0 },
		) as SmtpResult[];
	}
}
