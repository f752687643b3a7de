/** One SMTP connection: opening (with authentication), the credential check, and how its errors are read. */
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { Readable } from 'node:stream';
import { DEFAULT_CONNECTION_TIMEOUT_MS, DEFAULT_SOCKET_TIMEOUT_MS, type SmtpEnvelope, type SmtpServerConfig } from './types';

export type SmtpError = Error & { code?: string; responseCode?: number; response?: string; command?: string };

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
		connectionTimeout: server.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
		greetingTimeout: server.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
		socketTimeout: server.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
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

/** For the credential test: connects, authenticates, says QUIT. Throws an error that says in words what failed. */
export async function verifySmtpServer(server: SmtpServerConfig): Promise<void> {
	let conn: SMTPConnection;
	try {
		conn = await openSmtpConnection(server);
	} catch (error) {
		const err = error as SmtpError;
		throw Object.assign(new Error(explainSmtpConnectionError(err, server), { cause: err }), { code: err?.code });
	}
	if (server.user && !conn.authenticated) {
		conn.close();
		throw new Error(
			`Connected to ${server.host}:${server.port}, but the server offers no login on this connection — choose TLS mode STARTTLS or Implicit TLS`,
		);
	}
	conn.quit();
}

/** Certificate problems Node's TLS reports: the connection worked, the server's certificate was not accepted. */
const CERTIFICATE_CODES = new Set([
	'CERT_HAS_EXPIRED',
	'CERT_NOT_YET_VALID',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_UNTRUSTED',
	'CERT_REVOKED',
	'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The underlying cause's code: the system or TLS code nodemailer keeps as `originalCode` (ECONNREFUSED,
 * CERT_HAS_EXPIRED), else one named in the message ("connect ECONNREFUSED 127.0.0.1:25"), else nodemailer's own.
 */
function rootCode(err: ErrorFacts): string {
	if (err.originalCode) return err.originalCode;
	const named = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|ECONNABORTED|EPIPE)\b/.exec(err.message);
	return named ? named[1] : err.code;
}

/** The fields of a thrown value the explanation reads, as plain strings and numbers whatever was thrown. */
interface ErrorFacts {
	message: string;
	code: string;
	originalCode: string;
	response: string;
	responseCode?: number;
	command: string;
}

function factsOf(error: unknown): ErrorFacts {
	const o = error && typeof error === 'object' ? (error as Record<string, unknown>) : { message: String(error) };
	const text = (v: unknown) => (typeof v === 'string' ? v : '');
	return {
		message: text(o.message),
		code: text(o.code),
		originalCode: text(o.originalCode),
		response: text(o.response),
		responseCode: typeof o.responseCode === 'number' ? o.responseCode : undefined,
		command: text(o.command),
	};
}

/**
 * What a failed connect or login means, in one sentence: what failed at host:port, what to check, and the error's
 * code in parentheses. For the credential tests, where a bare "ECONNREFUSED" tells a user nothing. Never throws.
 */
export function explainSmtpConnectionError(error: unknown, server: Pick<SmtpServerConfig, 'host' | 'port' | 'tls' | 'connectionTimeoutMs'>): string {
	const err = factsOf(error);
	const where = `${server.host}:${server.port}`;
	const code = rootCode(err);
	const tail = code ? ` (${code})` : '';
	const message = err.message.trim();
	const answer = err.response.trim() || message || 'no details';
	const seconds = (server.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS) / 1000;
	const noConnection = (what: string, check: string) => `Could not connect to ${where}: ${what} — ${check}${tail}`;

	// The server answered: the connection works, the SMTP dialogue failed.
	if (err.code === 'ETLS') {
		return `Connected to ${where}, but TLS could not be started: ${answer} — on port 465 choose Implicit TLS; None is only for a relay on a trusted network${tail}`;
	}
	if (err.code === 'EAUTH' || (err.command.startsWith('AUTH') && (err.responseCode ?? 0) >= 500)) {
		const status = err.responseCode ?? 0;
		if (/STARTTLS/i.test(answer))
			return `Connected to ${where}, but the server asks for TLS before login: ${answer} — choose TLS mode STARTTLS${tail}`;
		if ([500, 502, 504].includes(status)) {
			return `Connected to ${where}, but the server offers no login on this connection: ${answer} — many servers offer login only after STARTTLS; leave User empty for a relay that needs none${tail}`;
		}
		if (status >= 400 && status < 500) return `Connected to ${where}, but the login failed for now: ${answer} — try again later${tail}`;
		return `Connected to ${where}, but the login was refused: ${answer} — check user and password${tail}`;
	}
	if (err.code === 'EPROTOCOL') return `${where} did not answer as an SMTP server: ${answer} — check the port${tail}`;

	// No SMTP dialogue: name resolution, the TCP connection or the TLS handshake failed.
	switch (code) {
		case 'ECONNREFUSED':
			return noConnection('connection refused', 'check host and port');
		case 'ENOTFOUND':
			return noConnection(`the host name ${server.host} was not found in DNS`, 'check the host name');
		case 'EAI_AGAIN':
			return noConnection(`the host name ${server.host} could not be looked up (DNS did not answer)`, "check the host name and this machine's DNS");
		case 'EHOSTUNREACH':
		case 'ENETUNREACH':
			return noConnection('no route to the host', 'check the host, and the network or firewall between this machine and the server');
		case 'ECONNRESET':
			return noConnection('the server reset the connection', 'check the port and the TLS mode');
	}
	if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
		return noConnection(
			`the server's TLS certificate is not for ${server.host}`,
			'use the host name the certificate names, or turn on Allow Self-Signed Certificates if you trust this server',
		);
	}
	if (CERTIFICATE_CODES.has(code)) {
		return noConnection(
			`the server's TLS certificate was not accepted: ${message}`,
			"renew or fix the server's certificate, or turn on Allow Self-Signed Certificates if you trust this server",
		);
	}
	if (/wrong version number|packet length too long|unknown protocol/i.test(message)) {
		return noConnection(
			'the server does not speak TLS from the first byte on this port',
			'with port 587 or 25 choose TLS mode STARTTLS; Implicit TLS is for port 465',
		);
	}
	if (code.startsWith('ERR_SSL_') || /SSL routines/.test(message)) {
		return noConnection(`the TLS handshake failed: ${message}`, 'check the TLS mode and port');
	}
	if (err.code === 'ETIMEDOUT' || code === 'ETIMEDOUT') {
		if (/greeting/i.test(message)) {
			const hint = server.tls === 'implicit' ? 'check the port' : 'on a port for implicit TLS (usually 465) choose TLS mode Implicit TLS';
			return `Connected to ${where}, but the server sent no SMTP greeting within ${seconds} s — ${hint}${tail}`;
		}
		return noConnection(`no answer within ${seconds} s`, 'check host and port, and that no firewall drops the connection');
	}
	if (err.code === 'ECONNECTION') {
		return noConnection(`the server closed the connection: ${message}`, 'check the port and the TLS mode');
	}
	return `SMTP check of ${where} failed: ${answer}${tail}`;
}

/** The server's answer when there is one, else the error's message. */
export function describeSmtpError(err: SmtpError): string {
	return (err.response || err.message || String(err)).trim();
}

/** The credentials were refused: trying again with the same ones cannot succeed. */
export function isAuthError(err: SmtpError): boolean {
	return err.code === 'EAUTH' || Boolean(err.responseCode && err.responseCode >= 500 && err.command?.startsWith('AUTH'));
}

/** The connection dropped or broke (as opposed to an SMTP answer or a message that could not be streamed). */
export function isConnectionError(err: SmtpError): boolean {
	return CONNECTION_ERROR_CODES.has(err.code ?? '') || /connection|socket/i.test(err.message);
}

export interface TransactionOutcome {
	err: SmtpError | null;
	info?: SMTPConnection.SentMessageInfo;
	/** The whole message reached the socket: after a drop, the server may have accepted it. */
	bodyWritten: boolean;
}

/**
 * One MAIL/RCPT/DATA transaction; never rejects (the error is part of the outcome). Read `bodyWritten` once the
 * promise settles: the stream's 'end' event may come just after the callback.
 */
export function sendTransaction(conn: SMTPConnection, envelope: SmtpEnvelope, bytes: Buffer): Promise<TransactionOutcome> {
	const outcome: TransactionOutcome = { err: null, bodyWritten: false };
	const source = new Readable({
		read() {
			this.push(bytes);
			this.push(null);
		},
	});
	source.once('end', () => (outcome.bodyWritten = true));
	return new Promise((resolve) =>
		conn.send(envelope, source, (err, info) => {
			outcome.err = err as SmtpError | null;
			outcome.info = info;
			resolve(outcome);
		}),
	);
}

/** RSET after a refused transaction keeps the session usable; `onFail` runs when the reset itself fails. */
export function resetSession(conn: SMTPConnection, onFail: () => void): Promise<void> {
	return new Promise<void>((resolve) => conn.reset((resetErr) => (resetErr && onFail(), resolve())));
}
