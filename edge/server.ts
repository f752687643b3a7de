/** `createTrackingEdge`: the options checked, the handler, the proxy to n8n and a server with every bound set. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectionTable, boundConnections, connectionLimit } from './connections';
import { createCounters } from './counters';
import { Upstream } from './forward';
import { handleEdgeRequest, type EdgeContext } from './handler';
import { DEFAULT_EDGE_HOST, EDGE_KEEP_ALIVE_TIMEOUT_MS, MAX_REQUESTS_PER_CONNECTION } from './limits';
import { resolveOptions, type ResolvedEdgeOptions } from './options';
import type { TrackingEdge, TrackingEdgeLogger, TrackingEdgeOptions } from './types';

/** A server with Node's own bounds set: head and request deadlines (slowloris), keep-alive, requests per connection. */
function createEdgeServer(o: ResolvedEdgeOptions, handle: (req: IncomingMessage, res: ServerResponse) => void): Server {
	const server = createServer(
		{
			requestTimeout: o.requestTimeoutMs,
			headersTimeout: o.headersTimeoutMs,
			keepAliveTimeout: Math.min(EDGE_KEEP_ALIVE_TIMEOUT_MS, o.idleTimeoutMs),
			// Node checks the header and request timeouts on this interval (30 s by default): check often enough that
			// they hold to about a second.
			connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(o.headersTimeoutMs / 2))),
		},
		handle,
	);
	// Node arms this on every accepted socket and after each request; the 'timeout' listener decides.
	server.timeout = o.idleTimeoutMs;
	server.maxRequestsPerSocket = MAX_REQUESTS_PER_CONNECTION;
	return server;
}

/** Server errors are logged, never fatal, unless someone else (a pending `listen`) is waiting for them. */
function logServerErrors(server: Server, log: TrackingEdgeLogger): void {
	// Accept failures (EMFILE when the open-file limit is reached) must not end the process: log and go on.
	// A failure to listen goes to whoever else listens for it (`listen` rejects).
	server.on('error', (error: NodeJS.ErrnoException) => {
		if (server.listening || server.listenerCount('error') === 1) log('error', `tracking edge server error: ${error.message}`, { code: error.code });
	});
}

/** Starts listening; resolves with the bound address, rejects when the address cannot be bound. */
function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
	return new Promise<AddressInfo>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve(server.address() as AddressInfo);
		});
	});
}

/** Closes the connections to n8n, stops listening and closes every client connection. */
function closeEdge(server: Server, upstream: Upstream): Promise<void> {
	return new Promise<void>((resolve) => {
		upstream.close();
		if (!server.listening) {
			resolve();
			return;
		}
		server.close(() => resolve());
		server.closeAllConnections();
	});
}

/** Creates the edge; all its state (counters, connections, the pool to n8n) lives in the returned instance. */
export function createTrackingEdge(options: TrackingEdgeOptions): TrackingEdge {
	const o = resolveOptions(options);
	const counters = createCounters();
	const upstream = new Upstream(o, counters);
	const ctx: EdgeContext = { o, counters, upstream };
	const handle = (req: IncomingMessage, res: ServerResponse): void => handleEdgeRequest(ctx, req, res);
	const maxConnections = connectionLimit(o);
	const server = createEdgeServer(o, handle);
	const connections = new ConnectionTable(maxConnections, o, counters);
	boundConnections(server, connections, counters);
	logServerErrors(server, o.log);
	return {
		handle,
		server,
		path: o.path,
		maxConnections,
		upstream: o.upstream,
		listen: (port = 0, host = DEFAULT_EDGE_HOST) => listenOn(server, port, host),
		close: () => closeEdge(server, upstream),
		stats: () => ({ ...counters, connections: connections.size }),
	};
}
