/**
 * The SMTP credential test says in words what failed (refused, not found, timed out, TLS, login) with the error's
 * code in parentheses. Real failures against loopback servers (closed port, a silent server, a plain server asked
 * for TLS, an expired certificate, wrong password), and the system errors that need a network as nodemailer
 * reports them.
 */
import fc from 'fast-check';
import { createServer, type Server } from 'node:net';
import type { ICredentialsDecrypted, ICredentialTestFunctions } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cadenceSmtpConnectionTest } from '../../nodes/CadenceSend/send/credentials';
import { explainSmtpConnectionError, verifySmtpServer } from '../../transport/smtp/connection';
import type { SmtpServerConfig } from '../../transport/smtp/types';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const HOST = '127.0.0.1';

async function listen(onConnection: (socket: import('node:net').Socket) => void): Promise<{ server: Server; port: number }> {
	const server = createServer(onConnection);
	await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
	return { server, port: (server.address() as { port: number }).port };
}

async function closedPort(): Promise<number> {
	const { server, port } = await listen(() => undefined);
	await new Promise((resolve) => server.close(resolve));
	return port;
}

async function failure(server: SmtpServerConfig): Promise<Error & { cause?: unknown }> {
	try {
		await verifySmtpServer({ connectionTimeoutMs: 2_000, ...server });
	} catch (error) {
		return error as Error;
	}
	throw new Error('verifySmtpServer did not fail');
}

describe('verifySmtpServer: failures in words, the code in parentheses (loopback servers)', () => {
	let plain: SmtpSink;
	let withTls: SmtpSink;
	const servers: Server[] = [];

	beforeAll(async () => {
		plain = await startSmtpSink({});
		withTls = await startSmtpSink({ starttls: true, auth: { user: 'mailer', pass: 'right' } });
	});
	afterAll(async () => {
		await plain?.close();
		await withTls?.close();
		for (const s of servers) s.close();
	});

	it('a closed port: connection refused, check host and port', async () => {
		const port = await closedPort();
		const err = await failure({ host: HOST, port, tls: 'none' });
		expect(err.message).toBe(`Could not connect to ${HOST}:${port}: connection refused — check host and port (ECONNREFUSED)`);
		expect((err.cause as { code?: string }).code).toBe('ESOCKET');
	});

	it('a server that never greets: no greeting within the time limit, with the implicit-TLS hint', async () => {
		const { server, port } = await listen(() => undefined);
		servers.push(server);
		const err = await failure({ host: HOST, port, tls: 'starttls', connectionTimeoutMs: 300 });
		expect(err.message).toBe(
			`Connected to ${HOST}:${port}, but the server sent no SMTP greeting within 0.3 s — on a port for implicit TLS (usually 465) choose TLS mode Implicit TLS (ETIMEDOUT)`,
		);
	});

	it('Implicit TLS on a plain SMTP port: the server does not speak TLS there, choose STARTTLS', async () => {
		const err = await failure({ host: plain.host, port: plain.port, tls: 'implicit' });
		expect(err.message).toMatch(
			new RegExp(`^Could not connect to ${HOST}:${plain.port}: the server does not speak TLS from the first byte on this port`),
		);
		expect(err.message).toMatch(/choose TLS mode STARTTLS.*\(ERR_SSL_WRONG_VERSION_NUMBER\)$/);
	});

	it('STARTTLS on a server that does not offer it: TLS could not be started, with the server answer', async () => {
		const err = await failure({ host: plain.host, port: plain.port, tls: 'starttls' });
		expect(err.message).toMatch(new RegExp(`^Connected to ${HOST}:${plain.port}, but TLS could not be started: 500 .* \\(ETLS\\)$`));
	});

	it('a certificate the client does not trust: says so and names Allow Self-Signed Certificates', async () => {
		const err = await failure({ host: withTls.host, port: withTls.port, tls: 'starttls', user: 'mailer', password: 'right' });
		expect(err.message).toMatch(
			/^Could not connect to .*: the server's TLS certificate was not accepted: .*Allow Self-Signed Certificates.*\([A-Z_]+\)$/,
		);
	});

	it('a wrong password: the login was refused, with the 535 answer, check user and password', async () => {
		const err = await failure({
			host: withTls.host,
			port: withTls.port,
			tls: 'starttls',
			allowUnauthorizedCerts: true,
			user: 'mailer',
			password: 'wrong',
		});
		expect(err.message).toMatch(
			new RegExp(`^Connected to ${HOST}:${withTls.port}, but the login was refused: 535 .* — check user and password \\(EAUTH\\)$`),
		);
		await expect(
			verifySmtpServer({ host: withTls.host, port: withTls.port, tls: 'starttls', allowUnauthorizedCerts: true, user: 'mailer', password: 'right' }),
		).resolves.toBeUndefined();
	});

	it('a user set for a server without AUTH: no login on this connection', async () => {
		const err = await failure({ host: plain.host, port: plain.port, tls: 'none', user: 'mailer', password: 'x' });
		expect(err.message).toMatch(/but the server offers no login on this connection: 500 .*leave User empty for a relay that needs none \(EAUTH\)$/);
	});

	it('a server that hangs up, and one that is not SMTP', async () => {
		const closer = await listen((socket) => socket.destroy());
		const http = await listen((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
		servers.push(closer.server, http.server);
		expect((await failure({ host: HOST, port: closer.port, tls: 'none' })).message).toMatch(
			/^Could not connect to .*: the server closed the connection: .* — check the port and the TLS mode \(ECONNECTION\)$/,
		);
		expect((await failure({ host: HOST, port: http.port, tls: 'none' })).message).toBe(
			`${HOST}:${http.port} did not answer as an SMTP server: HTTP/1.1 400 Bad Request — check the port (EPROTOCOL)`,
		);
	});

	it('the credential test returns the sentence', async () => {
		const port = await closedPort();
		const credential: ICredentialsDecrypted = {
			id: '1',
			name: 'smtp',
			type: 'cadenceSmtpApi',
			data: { host: HOST, port, tls: 'none', user: '', password: '' },
		};
		const result = await cadenceSmtpConnectionTest.call({} as ICredentialTestFunctions, credential);
		expect(result).toEqual({
			status: 'Error',
			message: `Could not connect to ${HOST}:${port}: connection refused — check host and port (ECONNREFUSED)`,
		});
	});
});

/** An error shaped as nodemailer reports a failed socket: its own code, the system's kept as originalCode. */
function socketError(message: string, originalCode?: string, code = 'ESOCKET'): Error {
	return Object.assign(new Error(message), { code, command: 'CONN', ...(originalCode ? { originalCode } : {}) });
}

describe('explainSmtpConnectionError: errors that need a network, as nodemailer reports them', () => {
	const server = { host: 'smtp.example.com', port: 587, tls: 'starttls' as const };

	it('refused, not found, DNS down, unreachable, connect timeout', () => {
		expect(explainSmtpConnectionError(socketError('connect ECONNREFUSED 192.0.2.1:587', 'ECONNREFUSED'), server)).toBe(
			'Could not connect to smtp.example.com:587: connection refused — check host and port (ECONNREFUSED)',
		);
		expect(explainSmtpConnectionError(socketError('getaddrinfo ENOTFOUND smtp.example.com', 'ENOTFOUND', 'EDNS'), server)).toBe(
			'Could not connect to smtp.example.com:587: the host name smtp.example.com was not found in DNS — check the host name (ENOTFOUND)',
		);
		expect(explainSmtpConnectionError(socketError('getaddrinfo EAI_AGAIN smtp.example.com', undefined, 'EDNS'), server)).toMatch(
			/could not be looked up \(DNS did not answer\) — check the host name and this machine's DNS \(EAI_AGAIN\)$/,
		);
		expect(explainSmtpConnectionError(socketError('connect EHOSTUNREACH 192.0.2.1:587', 'EHOSTUNREACH'), server)).toMatch(
			/: no route to the host — .* \(EHOSTUNREACH\)$/,
		);
		expect(explainSmtpConnectionError(socketError('Connection timeout', undefined, 'ETIMEDOUT'), { ...server, connectionTimeoutMs: 10_000 })).toBe(
			'Could not connect to smtp.example.com:587: no answer within 10 s — check host and port, and that no firewall drops the connection (ETIMEDOUT)',
		);
	});

	it('a certificate for another name, and a server that wants STARTTLS before login', () => {
		const altname = socketError("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID');
		expect(explainSmtpConnectionError(altname, server)).toBe(
			"Could not connect to smtp.example.com:587: the server's TLS certificate is not for smtp.example.com — use the host name the certificate names, or turn on Allow Self-Signed Certificates if you trust this server (ERR_TLS_CERT_ALTNAME_INVALID)",
		);
		const starttlsFirst = Object.assign(new Error('Invalid login: 530 5.7.0 Must issue a STARTTLS command first'), {
			code: 'EAUTH',
			response: '530 5.7.0 Must issue a STARTTLS command first',
			responseCode: 530,
			command: 'AUTH PLAIN',
		});
		expect(explainSmtpConnectionError(starttlsFirst, { ...server, tls: 'none' })).toBe(
			'Connected to smtp.example.com:587, but the server asks for TLS before login: 530 5.7.0 Must issue a STARTTLS command first — choose TLS mode STARTTLS (EAUTH)',
		);
	});

	it('never throws; always names host:port; a code, when there is one, ends the sentence in parentheses', () => {
		const code = fc.constantFrom(
			'ESOCKET',
			'EDNS',
			'ETIMEDOUT',
			'ETLS',
			'EAUTH',
			'EPROTOCOL',
			'ECONNECTION',
			'ECONNREFUSED',
			'ENOTFOUND',
			'CERT_HAS_EXPIRED',
		);
		const errorLike = fc.oneof(
			fc.anything(),
			fc.record(
				{
					message: fc.string(),
					code,
					originalCode: code,
					response: fc.string(),
					responseCode: fc.integer({ min: 200, max: 599 }),
					command: fc.constantFrom('CONN', 'AUTH PLAIN', 'STARTTLS'),
				},
				{ requiredKeys: [] },
			),
		);
		fc.assert(
			fc.property(errorLike, fc.integer({ min: 1, max: 65535 }), (error, port) => {
				const text = explainSmtpConnectionError(error, { host: 'mx.example.net', port, tls: 'starttls' });
				expect(text).toContain(`mx.example.net:${port}`);
				const e = error as { code?: unknown; originalCode?: unknown } | null;
				if (e && typeof e === 'object' && (typeof e.code === 'string' || typeof e.originalCode === 'string')) expect(text).toMatch(/\([A-Z_]+\)$/);
			}),
			{ numRuns: 200 },
		);
	});
});
