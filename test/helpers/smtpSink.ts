/**
 * A real SMTP server on 127.0.0.1 (random port) for tests and the bench, built on the `smtp-server` package, with
 * hooks to answer 4xx/5xx or drop the connection at the envelope or after the message body.
 *
 * smtp-server waits 100 ms before its greeting on every connection (its "early talker" check; the delay is
 * hard-coded in SMTPConnection.init and has no option). With `greetingDelay: false` (the default) each connection
 * of this sink greets at once: we replace that connection's init() with the same steps minus the timer. Otherwise a
 * sender that opens one connection per message would be measured as 100 ms per message of pure waiting.
 * Reverse DNS lookups of the client are off for the same reason.
 */
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMessage {
	mailFrom: string;
	rcptTo: string[];
	raw: Buffer;
	/** 1-based number of the connection that carried it. */
	connection: number;
}

export type SinkReply = void | undefined | { code: number; message?: string } | 'drop';

export interface SinkContext {
	mailFrom: string;
	rcptTo: string[];
	connection: number;
	/** How many times this recipient was seen at RCPT TO so far (1 on the first). */
	rcptCount: number;
}

export interface SmtpSinkOptions {
	/** Keep smtp-server's 100 ms pause before the greeting. Default false. */
	greetingDelay?: boolean;
	/** Keep each message's bytes (default true); false counts only (bench). */
	keepMessages?: boolean;
	/** Require AUTH PLAIN/LOGIN with these credentials. */
	auth?: { user: string; pass: string };
	/** Offer STARTTLS (smtp-server's built-in self-signed certificate: clients must allow it). Default false. */
	starttls?: boolean;
	onRcptTo?: (address: string, ctx: SinkContext) => SinkReply;
	/** Runs once the whole message was received; 'drop' closes the connection without answering. */
	onData?: (raw: Buffer, ctx: SinkContext) => SinkReply;
}

export interface SmtpSink {
	host: string;
	port: number;
	messages: ReceivedMessage[];
	/** Messages answered with 250. */
	readonly accepted: number;
	/** Connections opened so far. */
	readonly connections: number;
	/** Messages received per recipient (including dropped ones). */
	receivedFor(address: string): number;
	close(): Promise<void>;
}

type InternalConnection = {
	id: string;
	_socket: { destroy(): void };
	_setListeners(cb: () => void): void;
	connectionReady(): void;
	init(): void;
};

function smtpError(code: number, message?: string): Error {
	const err = new Error(message ?? (code >= 500 ? 'Rejected by test' : 'Try again later')) as Error & { responseCode: number };
	err.responseCode = code;
	return err;
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
	const messages: ReceivedMessage[] = [];
	const keep = opts.keepMessages !== false;
	let accepted = 0;
	let connections = 0;
	const connectionNumber = new Map<string, number>();
	const rcptSeen = new Map<string, number>();
	const received = new Map<string, number>();

	const server = new SMTPServer({
		logger: false,
		disableReverseLookup: true,
		disabledCommands: [...(opts.starttls ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])],
		allowInsecureAuth: !opts.starttls,
		authOptional: !opts.auth,
		size: 50 * 1024 * 1024,
		onAuth(auth, _session, cb) {
			if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return cb(null, { user: auth.username });
			return cb(smtpError(535, 'Authentication credentials invalid'));
		},
		onConnect(session, cb) {
			connectionNumber.set(session.id, ++connections);
			cb();
		},
		onRcptTo(address, session, cb) {
			const email = address.address.toLowerCase();
			const n = (rcptSeen.get(email) ?? 0) + 1;
			rcptSeen.set(email, n);
			const reply = opts.onRcptTo?.(email, ctxOf(session, n, email));
			if (reply === 'drop') return dropConnection(session);
			if (reply) return cb(smtpError(reply.code, reply.message));
			cb();
		},
		onData(stream, session, cb) {
			const chunks: Buffer[] = [];
			stream.on('data', (c: Buffer) => keep && chunks.push(c));
			stream.on('end', () => {
				const raw = keep ? Buffer.concat(chunks) : Buffer.alloc(0);
				const rcptTo = session.envelope.rcptTo.map((a) => a.address.toLowerCase());
				for (const r of rcptTo) received.set(r, (received.get(r) ?? 0) + 1);
				const reply = opts.onData?.(raw, ctxOf(session, rcptSeen.get(rcptTo[0]) ?? 0, rcptTo[0]));
				if (reply === 'drop') return dropConnection(session);
				if (reply) return cb(smtpError(reply.code, reply.message));
				accepted++;
				if (keep) {
					messages.push({
						mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
						rcptTo,
						raw,
						connection: connectionNumber.get(session.id) ?? 0,
					});
				}
				cb();
			});
		},
	});

	function ctxOf(session: SMTPServerSession, rcptCount: number, _email: string): SinkContext {
		return {
			mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
			rcptTo: session.envelope.rcptTo.map((a) => a.address.toLowerCase()),
			connection: connectionNumber.get(session.id) ?? 0,
			rcptCount,
		};
	}

	function dropConnection(session: SMTPServerSession): void {
		const connectionsSet = (server as unknown as { connections: Set<InternalConnection> }).connections;
		for (const c of connectionsSet) if (c.id === session.id) c._socket.destroy();
	}

	if (!opts.greetingDelay) {
		const set = (server as unknown as { connections: Set<InternalConnection> }).connections;
		const add = set.add.bind(set);
		set.add = (conn: InternalConnection) => {
			// Same as SMTPConnection.init without the 100 ms early-talker timer (see the note at the top).
			conn.init = () => conn._setListeners(() => conn.connectionReady());
			return add(conn);
		};
	}

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	server.on('error', () => {});
	const address = server.server.address();
	const port = typeof address === 'object' && address ? address.port : 0;

	return {
		host: '127.0.0.1',
		port,
		messages,
		get accepted() {
			return accepted;
		},
		get connections() {
			return connections;
		},
		receivedFor: (a: string) => received.get(a.toLowerCase()) ?? 0,
		close: () =>
			new Promise<void>((resolve) => {
				const set = (server as unknown as { connections: Set<InternalConnection> }).connections;
				for (const c of set) c._socket.destroy();
				server.close(() => resolve());
			}),
	};
}
