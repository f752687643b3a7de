/**
 * The reverse proxy to n8n: a hit that starts an execution is passed on as the client sent it (minus hop-by-hop
 * headers, with the edge's own forwarding headers) and n8n's answer is relayed when it is one the trigger gives.
 */
import {
	Agent as HttpAgent,
	request as httpRequest,
	type ClientRequest,
	type IncomingHttpHeaders,
	type IncomingMessage,
	type OutgoingHttpHeaders,
	type RequestOptions,
	type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { ResolvedEdgeOptions } from './options';
import { headerText } from './request';
import type { TrackingEdgeStats } from './types';

// Hop-by-hop headers (RFC 9110 section 7.6.1) are never passed on, in either direction.
const HOP_BY_HOP = new Set([
	'connection',
	'keep-alive',
	'proxy-connection',
	'proxy-authenticate',
	'proxy-authorization',
	'te',
	'trailer',
	'transfer-encoding',
	'upgrade',
]);
// Set by the edge; a client's own values are dropped unless the edge trusts the proxy in front of it.
const FORWARDING_HEADERS = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded', 'x-real-ip']);

/** What the proxy needs of the edge's options. */
export type UpstreamSettings = Pick<ResolvedEdgeOptions, 'upstream' | 'sockets' | 'timeoutMs' | 'trustProxy'>;

/** One request to pass to n8n, and what to do when n8n does not take it. */
export interface ForwardRequest {
	req: IncomingMessage;
	res: ServerResponse;
	method: string;
	/** The query string exactly as the client sent it, without `?`. */
	search: string;
	/** The whole body the edge read (POST), or undefined (nothing to send). */
	body: Buffer | undefined;
	/** The statuses the trigger answers for this request; any other status is a failure. */
	expected: readonly number[];
	/** Called at most once, when n8n did not answer as the trigger does. */
	failed: (reason: string) => void;
}

/** A forward in progress: the request to send, and whether its outcome (relayed or failed) is known. */
interface ForwardCall extends ForwardRequest {
	headers: OutgoingHttpHeaders;
	path: string;
	settled: boolean;
}

type SendRequest = (options: RequestOptions, callback: (res: IncomingMessage) => void) => ClientRequest;

/** The header names a `Connection` header lists: hop-by-hop for this message only. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> {
	return new Set(
		headerText(headers, 'connection')
			.split(',')
			.map((s) => s.trim().toLowerCase())
			.filter(Boolean),
	);
}

/** The client's end-to-end headers; host, length and expect are dropped because the edge read the whole body. */
function endToEndRequestHeaders(req: IncomingMessage): OutgoingHttpHeaders {
	const listed = connectionListed(req.headers);
	const out: OutgoingHttpHeaders = {};
	for (const [name, value] of Object.entries(req.headers)) {
		if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || FORWARDING_HEADERS.has(name)) continue;
		// The edge read the whole body: n8n gets it with its exact length and no 100-continue dance.
		if (name === 'host' || name === 'content-length' || name === 'expect') continue;
		out[name] = value;
	}
	return out;
}

/** The headers sent to n8n: the client's, the upstream host, and who the client is as the edge (or its proxy) saw it. */
export function forwardHeaders(req: IncomingMessage, body: Buffer | undefined, settings: UpstreamSettings): OutgoingHttpHeaders {
	const out = endToEndRequestHeaders(req);
	out.host = settings.upstream.host;
	const client = req.socket.remoteAddress ?? '';
	const encrypted = Boolean((req.socket as TLSSocket).encrypted);
	// Behind a trusted proxy the edge is transparent: that proxy already wrote the client into X-Forwarded-For,
	// so n8n's N8N_PROXY_HOPS=1 reads the same entry whether a request came through the edge or not.
	const prior = (name: string) => (settings.trustProxy ? headerText(req.headers, name).trim() : '');
	out['x-forwarded-for'] = prior('x-forwarded-for') || client;
	out['x-forwarded-proto'] = prior('x-forwarded-proto') || (encrypted ? 'https' : 'http');
	const host = prior('x-forwarded-host') || headerText(req.headers, 'host');
	if (host) out['x-forwarded-host'] = host;
	if (body) out['content-length'] = String(body.length);
	return out;
}

/** n8n's answer headers without the hop-by-hop ones: the edge's own connection to the client decides those. */
export function relayHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
	const listed = connectionListed(headers);
	const out: OutgoingHttpHeaders = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value !== undefined && !HOP_BY_HOP.has(name) && !listed.has(name)) out[name] = value;
	}
	return out;
}

/** The kept-alive connections to n8n (at most `sockets`, most recently used first) and the forwards over them. */
export class Upstream {
	private readonly agent: HttpAgent;
	private readonly sendRequest: SendRequest;

	constructor(
		private readonly settings: UpstreamSettings,
		private readonly counters: TrackingEdgeStats,
	) {
		const secure = settings.upstream.protocol === 'https:';
		const agentOptions = { keepAlive: true, maxSockets: settings.sockets, maxFreeSockets: settings.sockets, scheduling: 'lifo' as const };
		this.agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
		this.sendRequest = secure ? httpsRequest : httpRequest;
	}

	/**
	 * Passes the request to n8n and relays its answer when it is one the trigger gives (`expected` statuses); any
	 * other outcome calls `failed` once. The upstream request goes on even if the client leaves: the event counts.
	 */
	forward(request: ForwardRequest): void {
		this.counters.forwarded++;
		const path = this.settings.upstream.pathname + (request.search ? `?${request.search}` : '');
		const call: ForwardCall = { ...request, headers: forwardHeaders(request.req, request.body, this.settings), path, settled: false };
		this.attempt(call, false);
	}

	/** Closes the connections to n8n. */
	close(): void {
		this.agent.destroy();
	}

	/** Reports a failure once: a later error or timeout of a call already settled is not another failure. */
	private fail(call: ForwardCall, reason: string): void {
		if (call.settled) return;
		call.settled = true;
		this.counters.upstreamFailures++;
		call.failed(reason);
	}

	/** One try, bounded by the upstream timeout; a kept-alive socket n8n closed just as it was reused is tried again once. */
	private attempt(call: ForwardCall, retry: boolean): void {
		const { upstream, timeoutMs } = this.settings;
		let upReq: ClientRequest;
		try {
			upReq = this.sendRequest(
				{
					protocol: upstream.protocol,
					hostname: upstream.hostname,
					port: upstream.port || undefined,
					method: call.method,
					path: call.path,
					headers: call.headers,
					agent: this.agent,
				},
				(upRes) => {
					clearTimeout(deadline);
					this.answered(call, upRes);
				},
			);
		} catch (error) {
			// e.g. a header value Node accepts from a client but refuses to send on
			this.fail(call, (error as Error).message);
			return;
		}
		const deadline = setTimeout(() => upReq.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
		upReq.on('error', (error: NodeJS.ErrnoException) => {
			clearTimeout(deadline);
			// n8n may close an idle kept-alive connection just as the edge reuses it: the request never arrived.
			if (!retry && !call.settled && upReq.reusedSocket && error.code === 'ECONNRESET') {
				this.attempt(call, true);
				return;
			}
			this.fail(call, error.code ? `${error.code}: ${error.message}` : error.message);
		});
		upReq.end(call.body);
	}

	/** Relays n8n's answer when its status is one the trigger gives; any other status is a failure. */
	private answered(call: ForwardCall, upRes: IncomingMessage): void {
		const status = upRes.statusCode ?? 0;
		if (!call.expected.includes(status)) {
			upRes.resume();
			this.fail(call, `n8n answered ${status}`);
			return;
		}
		call.settled = true;
		this.counters.relayed++;
		const { res } = call;
		if (res.headersSent || res.destroyed) {
			upRes.resume();
			return;
		}
		res.writeHead(status, relayHeaders(upRes.headers));
		if (call.method === 'HEAD') {
			upRes.resume();
			res.end();
		} else {
			pipeline(upRes, res, () => undefined);
		}
	}
}
