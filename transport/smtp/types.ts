/** The sending engine's public types and every default it applies (the Send node's parameters use the same ones). */

export type SmtpTlsMode = 'implicit' | 'starttls' | 'none';

/** TLS mode when none is given: upgrade required, as on a submission port. */
export const DEFAULT_SMTP_TLS: SmtpTlsMode = 'starttls';
/** Port for STARTTLS or no TLS when none is given (message submission, RFC 6409). */
export const SMTP_SUBMISSION_PORT = 587;
/** Port for implicit TLS when none is given (RFC 8314). */
export const SMTP_IMPLICIT_TLS_PORT = 465;
/** Connect and greeting timeout. */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 30_000;
/** Idle time on an open connection before it counts as dropped. */
export const DEFAULT_SOCKET_TIMEOUT_MS = 120_000;

/** Connections used in parallel when none is set (also the credential's pool size and the node's concurrency). */
export const DEFAULT_POOL_SIZE = 5;
/** Most connections one run opens, whatever is asked. */
export const MAX_POOL_SIZE = 50;
/** Messages per second when none is set: 0 means no limit. */
export const DEFAULT_RATE_PER_SECOND = 0;
/** Retries after a 4xx answer. */
export const DEFAULT_MAX_TEMPORARY_RETRIES = 3;
/** First pause before retrying a 4xx; it doubles with each attempt up to DEFAULT_RETRY_MAX_MS. */
export const DEFAULT_RETRY_BASE_MS = 2_000;
export const DEFAULT_RETRY_MAX_MS = 30_000;
/** Failed connection attempts in a row (no message sent in between) before the run gives up. */
export const DEFAULT_MAX_CONNECTION_FAILURES = 5;
/** First pause before reconnecting; it doubles with each failure in a row. */
export const DEFAULT_RECONNECT_BASE_MS = 250;
/** Stop-loss: stop when more than this share of recipients failed (in percent) ... */
export const DEFAULT_STOP_LOSS_PERCENT = 5;
/** ... once at least this many messages have a final answer. */
export const DEFAULT_STOP_LOSS_MINIMUM = 50;

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

export const DEFAULT_STOP_LOSS: Readonly<SmtpStopLoss> = Object.freeze({
	threshold: DEFAULT_STOP_LOSS_PERCENT / 100,
	minimum: DEFAULT_STOP_LOSS_MINIMUM,
});

export interface SmtpSendOptions {
	/** Connections used in parallel. Default DEFAULT_POOL_SIZE, at most MAX_POOL_SIZE. */
	poolSize?: number;
	/** Messages per second across the pool; 0 or undefined: no limit. */
	ratePerSecond?: number;
	/** Retries after a 4xx answer. Default DEFAULT_MAX_TEMPORARY_RETRIES. */
	maxTemporaryRetries?: number;
	/** Backoff after a 4xx: base × 2^(attempt-1), capped. Defaults DEFAULT_RETRY_BASE_MS and DEFAULT_RETRY_MAX_MS. */
	retryBaseMs?: number;
	retryMaxMs?: number;
	/** Failed connection attempts in a row before the run gives up. Default DEFAULT_MAX_CONNECTION_FAILURES. */
	maxConnectionFailures?: number;
	/** Backoff between reconnects: base × 2^(failures-1). Default DEFAULT_RECONNECT_BASE_MS. */
	reconnectBaseMs?: number;
	/** Default DEFAULT_STOP_LOSS; false turns it off. */
	stopLoss?: SmtpStopLoss | false;
	/** Aborting stops handing out messages; the rest end `skipped` with reason `cancelled`. */
	signal?: AbortSignal;
	/** Called as each job gets its final result. */
	onResult?: (index: number, result: SmtpResult) => void;
}
