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

/** For the credential test: connects, authenticates, says QUIT. Throws with the server's reason. */
export async function verifySmtpServer(server: SmtpServerConfig): Promise<void> {
	const conn = await openSmtpConnection(server);
	if (server.user && !conn.authenticated) {
		conn.close();
		throw new Error('The server offers no authentication on this connection (try TLS mode STARTTLS or implicit)');
	}
	conn.quit();
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
