/**
 * Connection bounds. Every client connection is closed after `idleTimeoutMs` without a request in flight (counted
 * from accept), and at most `maxConnections` are open: at that limit a new connection closes the one idle the
 * longest rather than being refused, so idle or trickling sockets cannot lock real clicks out; it is refused only
 * when every open connection has a request in flight.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RESERVED_FILE_DESCRIPTORS } from './limits';
import type { ResolvedEdgeOptions } from './options';
import type { TrackingEdgeStats } from './types';

/** What the connection bounds need of the edge's options. */
export type ConnectionSettings = Pick<ResolvedEdgeOptions, 'timeoutMs' | 'idleTimeoutMs'>;

interface Connection {
	/** Requests received and not yet answered (or abandoned). */
	inFlight: number;
	/** When the oldest of those started (performance.now()). */
	busySince: number;
}

/** The process's open-file limit (Linux), or undefined where it cannot be read or is unlimited. */
function openFileLimit(): number | undefined {
	try {
		const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
		return m ? Number(m[1]) : undefined;
	} catch {
		return undefined;
	}
}

/** The connection limit in force: the option, lowered (with a warning) so that connections cannot use up the file descriptors. */
export function connectionLimit(o: Pick<ResolvedEdgeOptions, 'maxConnections' | 'sockets' | 'log'>): number {
	const fileLimit = openFileLimit();
	const fileCap = fileLimit === undefined ? Infinity : Math.max(1, fileLimit - o.sockets - RESERVED_FILE_DESCRIPTORS);
	const maxConnections = Math.min(o.maxConnections, fileCap);
	if (maxConnections < o.maxConnections) {
		o.log('warn', `connection limit lowered to ${maxConnections}: the open-file limit is ${String(fileLimit)} (raise it with ulimit -n)`, {
			maxConnections: o.maxConnections,
		});
	}
	return maxConnections;
}

/** What a client that broke the protocol or ran out of time is told before its connection closes. */
function clientErrorStatus(error: NodeJS.ErrnoException): string {
	if (error.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
	if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
	return '400 Bad Request';
}

/** Every open client connection; `idle` holds those with no request in flight, longest idle first. */
export class ConnectionTable {
	private readonly connections = new Map<Socket, Connection>();
	private readonly idle = new Set<Socket>();

	constructor(
		private readonly maxConnections: number,
		private readonly settings: ConnectionSettings,
		private readonly counters: TrackingEdgeStats,
	) {}

	/** Client connections open now. */
	get size(): number {
		return this.connections.size;
	}

	/** A new connection starts idle; at the limit it takes the place of the longest idle one, or is refused. */
	accept(socket: Socket): void {
		socket.on('error', () => socket.destroy());
		if (this.connections.size >= this.maxConnections && !this.evictOne()) {
			this.counters.connectionsRefused++;
			socket.destroy();
			return;
		}
		this.counters.connectionsAccepted++;
		this.connections.set(socket, { inFlight: 0, busySince: 0 });
		this.idle.add(socket);
		socket.once('close', () => this.forget(socket));
	}

	/** A connection with a request in flight is busy, so never evicted, until its last answer closes. */
	requestStarted(req: IncomingMessage, res: ServerResponse): void {
		const socket = req.socket;
		const state = this.connections.get(socket);
		if (!state) return;
		if (state.inFlight++ === 0) {
			this.idle.delete(socket);
			state.busySince = performance.now();
		}
		res.once('close', () => {
			state.inFlight--;
			if (state.inFlight === 0 && !socket.destroyed && this.connections.has(socket)) this.idle.add(socket);
		});
	}

	/** The idle timeout closes an idle connection, and a busy one only once its answer is abandoned. */
	timedOut(socket: Socket): void {
		const state = this.connections.get(socket);
		const { timeoutMs, idleTimeoutMs } = this.settings;
		// A request in flight is bounded by the upstream timeout; one whose answer the client does not read for
		// longer than that and an idle period is abandoned.
		if (state && state.inFlight > 0 && performance.now() - state.busySince < timeoutMs + idleTimeoutMs) {
			socket.setTimeout(idleTimeoutMs);
			return;
		}
		this.counters.connectionsTimedOut++;
		this.forget(socket);
		socket.destroy();
	}

	/** Drops a closed or closing connection from the table. */
	private forget(socket: Socket): void {
		this.connections.delete(socket);
		this.idle.delete(socket);
	}

	/** Closes the connection idle the longest; false when every connection has a request in flight. */
	private evictOne(): boolean {
		const victim = this.idle.values().next().value as Socket | undefined;
		if (victim === undefined) return false;
		this.forget(victim);
		victim.destroy();
		this.counters.connectionsEvicted++;
		return true;
	}
}

/** Answers a malformed or too slow request with its status and closes the connection; a reset one just closes. */
function answerClientError(counters: TrackingEdgeStats, error: NodeJS.ErrnoException, socket: Duplex): void {
	counters.clientErrors++;
	const answering = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
	if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
		socket.destroy();
		return;
	}
	// A client that does not read this answer is closed by the idle timeout like any other.
	socket.end(`HTTP/1.1 ${clientErrorStatus(error)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Puts every connection of `server` under the table's bounds and answers client errors. */
export function boundConnections(server: Server, table: ConnectionTable, counters: TrackingEdgeStats): void {
	server.on('connection', (socket: Socket) => table.accept(socket));
	server.on('request', (req: IncomingMessage, res: ServerResponse) => table.requestStarted(req, res));
	server.on('timeout', (socket: Socket) => table.timedOut(socket));
	server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(counters, error, socket));
}
