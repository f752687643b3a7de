/**
 * The sending engine of Cadence Send (issue 3): a pool of SMTP connections (nodemailer's SMTPConnection, one
 * per worker, reused for every message it sends), a shared rate limit, bounded retries of 4xx answers, reconnects
 * after dropped connections, and a stop-loss on the share of failed recipients.
 *
 * Exactly-once within a run, as far as SMTP allows: a message counts as handed over only on the server's 2xx reply
 * to the end of DATA. A connection that drops before the message body was fully handed to the socket cannot have
 * delivered it (a server only accepts a message at the final "."), so that message is resent on a new connection.
 * A drop after the whole body was written but before the reply is ambiguous (RFC 1047): the server may have
 * accepted it. Such a message is NOT resent (at most once): it ends `failed` with reason `unconfirmed`, and the
 * output says it may have been delivered, so the workflow can check rather than mail the contact twice.
 */
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { domainOf } from './address';

export type SmtpTlsMode = 'implicit' | 'starttls' | 'none';

export interface SmtpServerConfig {
	host: string;
	port: number;
	/** implicit: TLS from the first byte (465); starttls: upgrade required; none: plain text (never upgrades). */
	tls: SmtpTlsMode;
	user?: string;
	password?: string;
	/** Accept self-signed or otherwise unverifiable server certificates. */
	allowUnauthorizedCerts?: boolean;
	/** Name sent with EHLO; default: this machine's host name. */
	clientName?: string;
	connectionTimeoutMs?: number;
	socketTimeoutMs?: number;
}

export interface SmtpEnvelope {
	from: string;
	to: string[];
}

/** A built message; the envelope may come with it (e.g. a VERP sender that depends on the rendered token). */
export type SmtpPayload = Buffer | { envelope: SmtpEnvelope; raw: Buffer };

export interface SmtpJob {
	/** Required unless `message` is a function that returns the envelope with the bytes. */
	envelope?: SmtpEnvelope;
	/**
	 * The RFC 5322 message. A function is called once, just before the first attempt (so rendering overlaps with
	 * other connections' network waits); retries reuse the same bytes, and so the same Message-ID. Returning null
	 * withdraws the job (e.g. another run holds its idempotency key): it ends `skipped` with reason `withdrawn`.
	 */
	message: Buffer | string | (() => Promise<SmtpPayload | null> | SmtpPayload | null);
}

export type SmtpFailReason =
	/** 5xx: the server refused the recipient or the message. */
	| 'rejected'
	/** 4xx answers until the retries ran out. */
	| 'temporary-failure'
	/** The connection dropped after the whole message was written but before the server answered. */
	| 'unconfirmed'
	/** No connection could be made (or kept) to hand the message over. */
	| 'connection'
	/** The server refused the credentials. */
	| 'auth'
	/** The message could not be built or streamed. */
	| 'message-error';

export type SmtpResult =
	| { status: 'sent'; response: string; attempts: number }
	| { status: 'failed'; reason: SmtpFailReason; error: string; response?: string; responseCode?: number; attempts: number }
	| { status: 'skipped'; reason: 'failure-rate' | 'cancelled' | 'withdrawn'; error: string; response?: string; attempts: number };

export interface SmtpStopLoss {
	/** Stop when failed / (sent + failed) exceeds this share (0.05 = 5%). */
	threshold: number;
	/** ... but only once at least this many messages have a final answer. */
	minimum: number;
}

export interface SmtpSendOptions {
	/** Connections used in parallel. Default 5. */
	poolSize?: number;
	/** Messages per second across the pool; 0 or undefined: no limit. */
	ratePerSecond?: number;
	/** Retries after a 4xx answer. Default 3. */
	maxTemporaryRetries?: number;
	/** Backoff after a 4xx: base × 2^(attempt-1), capped. Defaults 2,000 ms and 30,000 ms. */
	retryBaseMs?: number;
	retryMaxMs?: number;
	/** Failed connection attempts in a row (no message sent in between) before the run gives up. Default 5. */
	maxConnectionFailures?: number;
	/** Backoff between reconnects: base × 2^(failures-1). Default 250 ms. */
	reconnectBaseMs?: number;
	/** Default 5% after 50 messages; false turns it off. */
	stopLoss?: SmtpStopLoss | false;
	/** Aborting stops handing out messages; the rest end `skipped` with reason `cancelled`. */
	signal?: AbortSignal;
	/** Called as each job gets its final result. */
	onResult?: (index: number, result: SmtpResult) => void;
}

export const DEFAULT_STOP_LOSS: SmtpStopLoss = { threshold: 0.05, minimum: 50 };

type SmtpError = Error & { code?: string; responseCode?: number; response?: string; command?: string };

const CONNECTION_ERROR_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EPROTOCOL', 'ETLS', 'EDNS', 'ECONNREFUSED']);

function connectionOptions(server: SmtpServerConfig): SMTPConnection.Options {
	return {
		host: server.host,
		port: server.port,
		secure: server.tls === 'implicit',
		requireTLS: server.tls === 'starttls',
		ignoreTLS: server.tls === 'none',
		tls: { rejectUnauthorized: !server.allowUnauthorizedCerts },
		name: server.clientName || undefined,
		connectionTimeout: server.connectionTimeoutMs ?? 30_000,
		greetingTimeout: server.connectionTimeoutMs ?? 30_000,
		socketTimeout: server.socketTimeoutMs ?? 120_000,
		logger: false,
	};
}

/** Opens and (when a user is set) authenticates one connection. */
export function openSmtpConnection(server: SmtpServerConfig): Promise<SMTPConnection> {
	const conn = new SMTPConnection(connectionOptions(server));
	return new Promise((resolve, reject) => {
		let settled = false;
		const fail = (err: Error) => {
			if (settled) return;
			settled = true;
			conn.close();
			reject(err);
		};
		// Keep a listener for the connection's whole life: an 'error' event without one would crash the process.
		// Errors during a send reach the send callback as well.
		conn.on('error', fail);
		conn.connect((err) => {
			if (err) return fail(err);
			if (!server.user) {
				settled = true;
				return resolve(conn);
			}
			conn.login({ user: server.user, pass: server.password ?? '' }, (loginErr) => {
				if (loginErr) return fail(loginErr);
				settled = true;
				resolve(conn);
			});
		});
	});
}

/** For the credential test: connects, authenticates, says QUIT. Throws with the server's reason. */
export async function verifySmtpServer(server: SmtpServerConfig): Promise<void> {
	const conn = await openSmtpConnection(server);
	if (server.user && !conn.authenticated) {
		conn.close();
		throw new Error('The server offers no authentication on this connection (try TLS mode STARTTLS or implicit)');
	}
	conn.quit();
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	if (ms <= 0) return Promise.resolve();
	return new Promise((resolve) => {
		const done = () => {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal?.addEventListener('abort', done, { once: true });
	});
}

/** Spaces message starts evenly: at most `perSecond` per second across all workers. */
function createRateLimiter(perSecond: number | undefined) {
	const interval = perSecond && perSecond > 0 ? 1000 / perSecond : 0;
	let next = 0;
	return async (signal?: AbortSignal) => {
		if (interval === 0) return;
		const now = Date.now();
		const at = Math.max(now, next);
		next = at + interval;
		await sleep(at - now, signal);
	};
}

function describe(err: SmtpError): string {
	return (err.response || err.message || String(err)).trim();
}

/** Per-recipient-domain cap for one run: true for items past the first `cap` of their domain (0: no cap). */
export function overDomainCap(emails: readonly string[], cap: number): boolean[] {
	const counts = new Map<string, number>();
	return emails.map((email) => {
		if (!cap || cap <= 0) return false;
		const domain = domainOf(email);
		const n = (counts.get(domain) ?? 0) + 1;
		counts.set(domain, n);
		return n > cap;
	});
}

interface JobState {
	attempts: number;
	/** Resends after a dropped connection (the message was not handed over). */
	resends: number;
	bytes?: Buffer;
	envelope?: SmtpEnvelope;
	lastResponse?: string;
}

/**
 * Sends every job; resolves with one result per job, in job order, once each has a final result. Never rejects
 * because of SMTP: refusals, drops and an unreachable server are results.
 */
export async function sendSmtpBatch(server: SmtpServerConfig, jobs: readonly SmtpJob[], opts: SmtpSendOptions = {}): Promise<SmtpResult[]> {
	const poolSize = Math.max(1, Math.min(Math.floor(opts.poolSize ?? 5), 50));
	const maxTemp = opts.maxTemporaryRetries ?? 3;
	const retryBase = opts.retryBaseMs ?? 2_000;
	const retryMax = opts.retryMaxMs ?? 30_000;
	const maxConnFailures = opts.maxConnectionFailures ?? 5;
	const reconnectBase = opts.reconnectBaseMs ?? 250;
	const stopLoss = opts.stopLoss === false ? null : (opts.stopLoss ?? DEFAULT_STOP_LOSS);
	const signal = opts.signal;
	const takeSlot = createRateLimiter(opts.ratePerSecond);

	const results: Array<SmtpResult | undefined> = new Array(jobs.length);
	const state: JobState[] = jobs.map(() => ({ attempts: 0, resends: 0 }));
	const queue: number[] = jobs.map((_, i) => i);
	let queueHead = 0;
	let delayed = 0;
	let inFlight = 0;
	let sent = 0;
	let failedRecipients = 0;
	let connFailuresInARow = 0;
	/** Once set, no new message is handed out; what is left ends with this outcome. */
	let halt: { status: 'failed'; reason: SmtpFailReason; error: string } | { status: 'skipped'; reason: 'failure-rate' | 'cancelled'; error: string } | null =
		null;
	let waiters: Array<() => void> = [];
	const wake = () => {
		const w = waiters;
		waiters = [];
		for (const fn of w) fn();
	};

	const finish = (i: number, result: SmtpResult) => {
		results[i] = result;
		// The bytes were only kept for retries: a run of 30,000 messages must not hold 30,000 messages.
		state[i].bytes = undefined;
		if (result.status === 'sent') {
			sent++;
			connFailuresInARow = 0;
		} else if (result.status === 'failed' && (result.reason === 'rejected' || result.reason === 'temporary-failure')) {
			failedRecipients++;
		}
		if (stopLoss && !halt && sent + failedRecipients >= stopLoss.minimum && failedRecipients / (sent + failedRecipients) > stopLoss.threshold) {
			const pct = ((100 * failedRecipients) / (sent + failedRecipients)).toFixed(1);
			halt = {
				status: 'skipped',
				reason: 'failure-rate',
				error: `Stopped: ${failedRecipients} of ${sent + failedRecipients} recipients failed (${pct}%, limit ${(stopLoss.threshold * 100).toFixed(1)}%)`,
			};
		}
		opts.onResult?.(i, result);
	};
	const finishHalted = (i: number) => {
		const h = halt!;
		const s = state[i];
		finish(i, { ...h, attempts: s.attempts, ...(s.lastResponse ? { response: s.lastResponse } : {}) } as SmtpResult);
	};
	const onAbort = () => {
		if (!halt) halt = { status: 'skipped', reason: 'cancelled', error: 'The execution was cancelled before this message was sent' };
		wake();
	};
	if (signal?.aborted) onAbort();
	else signal?.addEventListener('abort', onAbort, { once: true });

	/** The next job to send, or null when every job has a final result (or will get one from another worker). */
	const takeJob = async (): Promise<number | null> => {
		for (;;) {
			if (queueHead < queue.length) {
				inFlight++;
				return queue[queueHead++];
			}
			if (delayed === 0 && inFlight === 0) {
				wake();
				return null;
			}
			await new Promise<void>((resolve) => waiters.push(resolve));
		}
	};
	const requeueFront = (i: number) => {
		if (queueHead > 0) queue[--queueHead] = i;
		else queue.unshift(i);
	};
	const release = () => {
		inFlight--;
		wake();
	};
	const retryLater = (i: number, ms: number) => {
		delayed++;
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', fire);
			fire();
		}, ms);
		function fire() {
			clearTimeout(timer);
			delayed--;
			queue.push(i);
			wake();
		}
		signal?.addEventListener('abort', fire, { once: true });
	};
	const messageOf = async (i: number): Promise<{ bytes: Buffer; envelope: SmtpEnvelope } | null> => {
		const s = state[i];
		if (!s.bytes) {
			const m = jobs[i].message;
			const value = typeof m === 'function' ? await m() : m;
			if (value === null) return null;
			if (typeof value === 'string') s.bytes = Buffer.from(value, 'utf8');
			else if (Buffer.isBuffer(value)) s.bytes = value;
			else {
				s.bytes = value.raw;
				s.envelope = value.envelope;
			}
			s.envelope ??= jobs[i].envelope;
			if (!s.envelope?.from || !s.envelope.to?.length) throw new Error('the job has no envelope (sender and recipients)');
		}
		return { bytes: s.bytes, envelope: s.envelope! };
	};

	const worker = async () => {
		let conn: SMTPConnection | null = null;
		const drop = () => {
			conn?.close();
			conn = null;
		};
		try {
			for (;;) {
				const i = await takeJob();
				if (i === null) return;
				if (halt) {
					finishHalted(i);
					release();
					continue;
				}
				await takeSlot(signal);
				if (halt) {
					finishHalted(i);
					release();
					continue;
				}
				// A server may close a connection that sat idle (e.g. while 4xx retries waited): open a new one.
				if (conn?.destroyed) conn = null;
				if (!conn) {
					try {
						conn = await openSmtpConnection(server);
					} catch (err) {
						const e = err as SmtpError;
						if (e.code === 'EAUTH' || (e.responseCode && e.responseCode >= 500 && e.command?.startsWith('AUTH'))) {
							halt ??= { status: 'failed', reason: 'auth', error: `SMTP authentication failed: ${describe(e)}` };
							finishHalted(i);
						} else if (++connFailuresInARow > maxConnFailures) {
							halt ??= { status: 'failed', reason: 'connection', error: `Could not connect to ${server.host}:${server.port}: ${describe(e)}` };
							finishHalted(i);
						} else {
							requeueFront(i);
							release();
							await sleep(reconnectBase * 2 ** (connFailuresInARow - 1), signal);
							continue;
						}
						release();
						continue;
					}
				}

				let payload: { bytes: Buffer; envelope: SmtpEnvelope } | null;
				try {
					payload = await messageOf(i);
				} catch (err) {
					finish(i, { status: 'failed', reason: 'message-error', error: `Could not build the message: ${(err as Error).message}`, attempts: 0 });
					release();
					continue;
				}
				if (!payload) {
					finish(i, { status: 'skipped', reason: 'withdrawn', error: 'The message was withdrawn before sending', attempts: 0 });
					release();
					continue;
				}
				const { bytes, envelope } = payload;
				const s = state[i];
				s.attempts++;
				let bodyWritten = false;
				const source = new Readable({
					read() {
						this.push(bytes);
						this.push(null);
					},
				});
				source.once('end', () => (bodyWritten = true));
				const active: SMTPConnection = conn;
				const { err, info } = await new Promise<{ err: SmtpError | null; info?: SMTPConnection.SentMessageInfo }>((resolve) =>
					active.send(envelope, source, (e, inf) => resolve({ err: e as SmtpError | null, info: inf })),
				);

				if (!err) {
					finish(i, { status: 'sent', response: String(info?.response ?? ''), attempts: s.attempts });
					release();
					continue;
				}
				const code = err.responseCode;
				if (code && code >= 500) {
					finish(i, { status: 'failed', reason: 'rejected', error: describe(err), response: err.response, responseCode: code, attempts: s.attempts });
					release();
					// The session stays usable after a refused transaction: reset it instead of reconnecting.
					await new Promise<void>((resolve) => active.reset((resetErr) => (resetErr && drop(), resolve())));
					continue;
				}
				if (code && code >= 400) {
					s.lastResponse = err.response ?? describe(err);
					if (code === 421) drop(); // the server is closing this session
					else await new Promise<void>((resolve) => active.reset((resetErr) => (resetErr && drop(), resolve())));
					if (s.attempts > maxTemp) {
						finish(i, { status: 'failed', reason: 'temporary-failure', error: describe(err), response: err.response, responseCode: code, attempts: s.attempts });
					} else {
						retryLater(i, Math.min(retryBase * 2 ** (s.attempts - 1), retryMax));
					}
					release();
					continue;
				}
				drop();
				if (CONNECTION_ERROR_CODES.has(err.code ?? '') || /connection|socket/i.test(err.message)) {
					if (bodyWritten) {
						finish(i, {
							status: 'failed',
							reason: 'unconfirmed',
							error: `The connection dropped after the message was sent but before the server confirmed it (${describe(err)}); it may have been delivered, so it is not sent again`,
							attempts: s.attempts,
						});
					} else if (++s.resends > maxConnFailures) {
						finish(i, { status: 'failed', reason: 'connection', error: `The connection kept dropping: ${describe(err)}`, attempts: s.attempts });
					} else {
						s.attempts--; // never reached the server as a message: not an attempt
						requeueFront(i);
					}
					release();
					continue;
				}
				finish(i, { status: 'failed', reason: 'message-error', error: describe(err), attempts: s.attempts });
				release();
			}
		} finally {
			const c = conn as SMTPConnection | null;
			c?.quit();
		}
	};

	try {
		await Promise.all(Array.from({ length: Math.min(poolSize, Math.max(jobs.length, 1)) }, worker));
	} finally {
		signal?.removeEventListener('abort', onAbort);
	}
	return results.map(
		(r) => r ?? { status: 'failed', reason: 'connection', error: 'The message was not sent (internal: no result)', attempts: 0 },
	) as SmtpResult[];
}
