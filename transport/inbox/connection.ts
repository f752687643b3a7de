/** Connecting to the sender mailbox over IMAP (imapflow), from the fields of the Cadence IMAP credential. */
import { ImapFlow } from 'imapflow';

import { IMAP_TLS_MODES, type ImapTlsMode } from './defaults';

export * from './defaults';

export interface ImapConnectionOptions {
	host: string;
	port: number;
	tls: ImapTlsMode;
	user: string;
	password: string;
	/** Accept self-signed or otherwise unverifiable certificates (own test servers, internal hosts). */
	allowUnauthorizedCerts?: boolean;
	/** Milliseconds for TCP+TLS, for the greeting, and of socket silence before giving up. */
	connectTimeoutMs?: number;
	socketTimeoutMs?: number;
	/** Largest literal (a message body) accepted from the server; never below `DEFAULT_IMAP_MAX_LITERAL_BYTES`. */
	maxLiteralBytes?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_SOCKET_TIMEOUT_MS = 120_000;
/**
 * Longest response line accepted from the server: a SEARCH answer lists every matching UID on one line, so 16 MB
 * is about two million UIDs. A server sending an endless line is cut off there, not at imapflow's 1 GB.
 */
export const IMAP_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Largest literal accepted by default: fetches ask for at most the message size limit (2 MB by default). */
export const DEFAULT_IMAP_MAX_LITERAL_BYTES = 64 * 1024 * 1024;

/** Checks the credential's fields; returns a readable problem or null. */
export function imapOptionsProblem(o: Partial<ImapConnectionOptions>): string | null {
	if (typeof o.host !== 'string' || o.host.trim() === '') return 'the IMAP host is empty';
	if (!Number.isInteger(o.port) || (o.port as number) < 1 || (o.port as number) > 65535) {
		return `the IMAP port must be a whole number from 1 to 65535, got ${String(o.port)}`;
	}
	if (!IMAP_TLS_MODES.includes(o.tls as ImapTlsMode)) return `unknown TLS mode "${String(o.tls)}"`;
	if (typeof o.user !== 'string' || o.user === '') return 'the IMAP user is empty';
	return null;
}

/** A client that is not yet connected. Its `error` events are absorbed: failures surface as rejected commands. */
export function createInboxClient(o: ImapConnectionOptions): ImapFlow {
	const problem = imapOptionsProblem(o);
	if (problem) throw new RangeError(problem);
	const literal = Math.max(DEFAULT_IMAP_MAX_LITERAL_BYTES, Math.floor(Number(o.maxLiteralBytes) || 0));
	const client = new ImapFlow({
		host: o.host.trim(),
		port: o.port,
		secure: o.tls === 'tls',
		doSTARTTLS: o.tls === 'starttls' ? true : o.tls === 'none' ? false : undefined,
		auth: { user: o.user, pass: o.password ?? '' },
		logger: false,
		// A poll is short-lived: IDLE between our own commands would only cost round trips.
		disableAutoIdle: true,
		tls: { rejectUnauthorized: !o.allowUnauthorizedCerts },
		connectionTimeout: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
		greetingTimeout: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
		socketTimeout: o.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
		maxLineLength: IMAP_MAX_LINE_BYTES,
		maxLiteralSize: literal,
		// One response is a line plus its literals (a FETCH of one message has one).
		maxResponseSize: literal + IMAP_MAX_LINE_BYTES,
		clientInfo: { name: 'n8n-nodes-mail-cadence' },
	});
	// Without a listener an 'error' event (e.g. a reset socket) would crash the n8n process.
	client.on('error', () => {});
	return client;
}

/** Connects, runs `work`, and always closes the connection (logout when possible, else a hard close). */
export async function withInboxClient<T>(o: ImapConnectionOptions, work: (client: ImapFlow) => Promise<T>): Promise<T> {
	const client = createInboxClient(o);
	const failure = await client.connect().then(
		() => null,
		(error: unknown) => error,
	);
	if (failure) {
		closeQuietly(client);
		throw new Error(`IMAP connection to ${o.host}:${o.port} failed: ${describeImapError(failure)}`);
	}
	try {
		return await work(client);
	} finally {
		if (client.usable) {
			try {
				await client.logout();
			} catch {
				closeQuietly(client);
			}
		} else closeQuietly(client);
	}
}

function closeQuietly(client: ImapFlow): void {
	try {
		client.close();
	} catch {
		// already closed
	}
}

/** Logs in and out: the credential test. Resolves to null on success, else the reason. */
export async function testInboxConnection(o: ImapConnectionOptions): Promise<string | null> {
	const problem = imapOptionsProblem(o);
	if (problem) return problem;
	try {
		await withInboxClient(o, async () => undefined);
		return null;
	} catch (error) {
		return describeImapError(error);
	}
}

/** imapflow errors carry the server's words in `responseText` and a code; the plain message is often just "Command failed". */
export function describeImapError(error: unknown): string {
	if (!(error instanceof Error)) return String(error);
	const e = error as Error & { responseText?: string; code?: string; serverResponseCode?: string; authenticationFailed?: boolean };
	if (e.authenticationFailed) return `authentication failed${e.responseText ? `: ${e.responseText}` : ''}`;
	const parts = [e.message];
	if (e.responseText && !e.message.includes(e.responseText)) parts.push(e.responseText);
	if (e.serverResponseCode) parts.push(`[${e.serverResponseCode}]`);
	else if (e.code && !e.message.includes(e.code)) parts.push(`(${e.code})`);
	return parts.join(' ');
}
