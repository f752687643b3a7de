/**
 * The tracking edge: a small, stateless HTTP front for the Cadence Tracking Trigger's webhook.
 *
 * Apple Mail Privacy Protection and link scanners fetch every pixel and link, and each of those requests costs an
 * n8n webhook round trip (workflow lookup, Workflow object, additional data) even when it starts nothing; in queue
 * mode the webhook processors are the expensive unit to scale. The edge answers every hit it can itself with the
 * same core the trigger runs (`handleTrackingRequest`: same secrets, same classification, same answers byte for
 * byte) and passes to n8n only the requests that would start an execution, as a reverse proxy of the original
 * request, relaying n8n's answer. The trigger still verifies and emits everything; nothing new needs trusting.
 *
 * When n8n cannot take a forwarded hit (down, timing out, answering something the trigger never answers), a pixel
 * still gets its GIF and a valid click still redirects (the event is lost: logged and counted), and a one-click
 * unsubscribe gets a 502 page asking to retry, so that no unsubscribe is acknowledged without being recorded.
 *
 * It faces the internet, so every connection is bounded: closed after `idleTimeoutMs` without a request in flight
 * (counted from accept, so a socket that never sends a byte is closed too), a request head must arrive within
 * `headersTimeoutMs` and the whole request within `requestTimeoutMs` (slowloris), keep-alive ends after a few
 * seconds or `MAX_REQUESTS_PER_CONNECTION` requests, and at most `maxConnections` are open at once. At that limit a
 * new connection closes the one idle the longest (no request in flight; a half-sent request head counts as idle)
 * rather than being refused, so a flood of idle or trickling sockets cannot lock real clicks out; it is refused
 * only when every open connection has a request in flight.
 *
 * Its job is HTTP I/O, so it uses node:http; it has no n8n imports. All state lives in the created instance.
 */
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import {
	Agent as HttpAgent,
	createServer,
	request as httpRequest,
	type IncomingHttpHeaders,
	type IncomingMessage,
	type OutgoingHttpHeaders,
	type Server,
	type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import { pipeline } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { DEFAULT_SCANNER_CLICK_SECONDS } from './hitClass';
import { createTracker, TRACKING_TOKEN_MAX_LENGTH, type Tracker } from './tracker';
import {
	handleTrackingRequest,
	safeTrackingRedirect,
	TRACKING_SECURE_HEADERS,
	type MachineHitHandling,
	type TrackingHttpOptions,
	type TrackingResponse,
} from './trackingHttp';

export type TrackingEdgeEvent = 'opened' | 'clicked' | 'unsubscribed';
export const TRACKING_EDGE_EVENTS: readonly TrackingEdgeEvent[] = Object.freeze(['opened', 'clicked', 'unsubscribed']);

export type TrackingEdgeLogLevel = 'info' | 'warn' | 'error';
export type TrackingEdgeLogger = (level: TrackingEdgeLogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface TrackingEdgeOptions {
	/** The Cadence Tracking credential's signing secrets, newest (signing) first; all verify. */
	secrets: string[];
	/** The credential's Token Lifetime (days) for open and click links; 0 or undefined: never expire. Unsubscribe links never expire. */
	maxAgeDays?: number;
	/** The trigger's Production URL as n8n serves it, e.g. `http://127.0.0.1:5678/webhook/<id>/t`. */
	upstreamUrl: string;
	/** The path the edge answers on (the path of the public tracking URL); default: the upstream URL's path. */
	path?: string;
	/** The trigger's Machine Hits option: `emit` (default, as in the trigger) forwards machine hits, `drop` answers them here. */
	machineHits?: MachineHitHandling;
	/** The trigger's Events option; hits of other types are answered here. Default: all three. */
	events?: TrackingEdgeEvent[];
	/** The trigger's Scanner Click Window (seconds). */
	scannerClickSeconds?: number;
	/** The trigger's Extra Scanner User Agents. */
	extraScannerAgents?: string[];
	/** The trigger's Fallback URL. */
	fallbackUrl?: string;
	/** The trigger's Sender Name (unsubscribe pages). */
	senderName?: string;
	/** How long n8n may take to answer a forwarded hit before the edge answers without it. Default 5,000 ms. */
	upstreamTimeoutMs?: number;
	/** Most connections kept open to n8n. Default 32. */
	upstreamSockets?: number;
	/** Largest request body accepted (one-click unsubscribe bodies are tiny). Default 64 KiB. */
	maxBodyBytes?: number;
	/**
	 * Most client connections open at once (default `DEFAULT_EDGE_MAX_CONNECTIONS`, lowered to what the process's
	 * open-file limit allows). At the limit the connection idle the longest is closed to make room.
	 */
	maxConnections?: number;
	/** A connection with no request in flight is closed after this long without a byte, from accept. Default `DEFAULT_EDGE_IDLE_TIMEOUT_MS`. */
	idleTimeoutMs?: number;
	/** A request head must be complete this long after it starts. Default `DEFAULT_EDGE_HEADERS_TIMEOUT_MS`. */
	headersTimeoutMs?: number;
	/** A whole request (head and body) must be received this long after it starts. Default `DEFAULT_EDGE_REQUEST_TIMEOUT_MS`. */
	requestTimeoutMs?: number;
	/**
	 * The edge is reachable only through a proxy of yours (TLS terminator, load balancer) that sets
	 * X-Forwarded-For/-Proto/-Host: pass them on unchanged. Off (default): the edge faces clients, so whatever they
	 * claim in those headers is replaced by what the edge sees. n8n needs N8N_PROXY_HOPS=1 either way.
	 */
	trustProxy?: boolean;
	log?: TrackingEdgeLogger;
	/** Clock (tests). */
	now?: () => number;
}

export interface TrackingEdgeStats {
	/** Every request received. */
	requests: number;
	/** Answered by the edge alone (including the dropped ones and the refused ones). */
	answeredHere: number;
	/** Valid hits answered here that the trigger would not have started an execution for (drop mode, Events option). */
	notForwardedHits: number;
	/** Not a tracking request: wrong path, or body too large. */
	refused: number;
	forwarded: number;
	/** Forwarded and n8n's answer relayed. */
	relayed: number;
	/** Forwarded, but n8n did not answer as the trigger does (down, timeout, other status). */
	upstreamFailures: number;
	/** Opens and clicks answered here after an upstream failure: their events did not reach n8n. */
	lostEvents: number;
	/** One-click unsubscribes answered with the 502 retry page after an upstream failure. */
	unsubscribeRetryPages: number;
	/** Client connections open now. */
	connections: number;
	/** Client connections accepted. */
	connectionsAccepted: number;
	/** Idle connections closed to make room for a new one at the connection limit. */
	connectionsEvicted: number;
	/** New connections closed at once: the limit was reached and every connection had a request in flight. */
	connectionsRefused: number;
	/** Connections closed by the idle timeout. */
	connectionsTimedOut: number;
	/** Malformed or too slow requests (Node's parser errors, header and request timeouts). */
	clientErrors: number;
}

export interface TrackingEdge {
	/** The request handler, for mounting in your own node:http server (which then bounds its own connections). */
	handle(req: IncomingMessage, res: ServerResponse): void;
	/** A server using `handle`, with every connection bound set (timeouts, connection limit); not listening until `listen`. */
	readonly server: Server;
	readonly path: string;
	/** The connection limit in force (the option, lowered to what the open-file limit allows). */
	readonly maxConnections: number;
	readonly upstream: URL;
	listen(port?: number, host?: string): Promise<AddressInfo>;
	/** Stops listening, closes client connections and the connections to n8n. */
	close(): Promise<void>;
	stats(): TrackingEdgeStats;
}

/** Same minimum as the Cadence Tracking credential. */
const MIN_SECRET_LENGTH = 16;
/** Default most client connections open at once; each costs one file descriptor and a few KiB. */
export const DEFAULT_EDGE_MAX_CONNECTIONS = 10_000;
/** Default time a connection may stay silent with no request in flight, counted from accept. */
export const DEFAULT_EDGE_IDLE_TIMEOUT_MS = 10_000;
/** Default time a request head may take to arrive (a real client sends it at once). */
export const DEFAULT_EDGE_HEADERS_TIMEOUT_MS = 10_000;
/** Default time a whole request may take to arrive (one-click bodies are tiny). */
export const DEFAULT_EDGE_REQUEST_TIMEOUT_MS = 30_000;
/** How long a kept-alive connection waits for its next request (the idle timeout when that is shorter). */
export const EDGE_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Requests served on one kept-alive connection before it is closed. */
export const MAX_REQUESTS_PER_CONNECTION = 1_000;
// File descriptors kept free below the open-file limit: upstream sockets, the listening socket, stdio, files.
const RESERVED_FILE_DESCRIPTORS = 64;
const DEFAULT_UPSTREAM_TIMEOUT_MS = 5_000;
const DEFAULT_UPSTREAM_SOCKETS = 32;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
// n8n's query parser (qs) and body parser stop at 1,000 keys; so does the edge, so both read the same `t`.
const MAX_QUERY_KEYS = 1000;

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

const HTML_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
	'content-type': 'text/html; charset=utf-8',
	'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	'x-frame-options': 'DENY',
});

function escapeHtml(s: string): string {
	return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function plainAnswer(status: number, text: string, extra: Record<string, string> = {}): TrackingResponse {
	const body = Buffer.from(`${text}\n`);
	return {
		status,
		headers: {
			...TRACKING_SECURE_HEADERS,
			'content-type': 'text/plain; charset=utf-8',
			...extra,
			'content-length': String(body.length),
		},
		body,
		startExecution: false,
	};
}

/** The 502 answer to a one-click unsubscribe n8n could not record: a page whose button posts it again. */
function unsubscribeRetryAnswer(token: string, senderName: string | undefined, method: string): TrackingResponse {
	const name = (senderName ?? '').trim();
	const from = name ? ` from ${escapeHtml(name.slice(0, 200))}` : '';
	const body = Buffer.from(
		'<!doctype html><html lang="en"><head><meta charset="utf-8">' +
			'<meta name="viewport" content="width=device-width,initial-scale=1">' +
			'<meta name="robots" content="noindex,nofollow">' +
			'<title>Please try again</title>' +
			'<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}' +
			'button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #555;background:#fff;cursor:pointer}</style>' +
			'</head><body><h1>Please try again</h1>' +
			`<p>We could not record your unsubscribe${from} just now. You are not unsubscribed yet: please try again in a few minutes.</p>` +
			`<form method="post" action="${escapeHtml(`?t=${encodeURIComponent(token)}`)}">` +
			'<input type="hidden" name="List-Unsubscribe" value="One-Click">' +
			'<button type="submit">Try again</button></form></body></html>',
		'utf8',
	);
	return {
		status: 502,
		headers: {
			...TRACKING_SECURE_HEADERS,
			...HTML_PAGE_HEADERS,
			'retry-after': '120',
			'content-length': String(body.length),
		},
		body: method === 'HEAD' ? Buffer.alloc(0) : body,
		startExecution: false,
	};
}

/** The `t` value the core would use: one plain string of sane length. */
function tokenValue(value: unknown): string | undefined {
	if (typeof value !== 'string') return undefined;
	const t = value.trim();
	return t.length > 0 && t.length <= TRACKING_TOKEN_MAX_LENGTH ? t : undefined;
}

function headerText(headers: IncomingHttpHeaders, name: string): string {
	const v = headers[name];
	return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

/**
 * The body as n8n's webhook body parser gives it to a version-1 trigger: urlencoded → fields, text/plain → text,
 * JSON → the value. Anything else (multipart, XML, compressed) the edge does not read: `undefined`, and a POST
 * with a valid unsubscribe token in the query is then forwarded for the trigger to decide.
 */
function bodyAsN8nParsesIt(headers: IncomingHttpHeaders, body: Buffer): unknown {
	if (body.length === 0) return undefined;
	const encoding = headerText(headers, 'content-encoding').trim().toLowerCase();
	if (encoding && encoding !== 'identity') return undefined;
	const type = headerText(headers, 'content-type').split(';')[0].trim().toLowerCase();
	const text = body.toString('utf8');
	if (type === 'application/x-www-form-urlencoded') return parseQueryString(text, '&', '=', { maxKeys: MAX_QUERY_KEYS });
	if (type === 'text/plain') return text;
	if (type === 'application/json') {
		try {
			return JSON.parse(text) as unknown;
		} catch {
			return undefined;
		}
	}
	return undefined;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
	if (value === undefined) return fallback;
	if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive whole number, got ${String(value)}`);
	return value;
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

/** What a client that broke the protocol or ran out of time is told before its connection closes. */
function clientErrorStatus(error: NodeJS.ErrnoException): string {
	if (error.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
	if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
	return '400 Bad Request';
}

function urlOrUndefined(text: string): URL | undefined {
	try {
		return new URL(text);
	} catch {
		return undefined;
	}
}

interface ResolvedEdgeOptions {
	tracker: Pick<Tracker, 'parseToken' | 'token'>;
	core: TrackingHttpOptions;
	upstream: URL;
	path: string;
	events: ReadonlySet<string>;
	timeoutMs: number;
	sockets: number;
	maxBodyBytes: number;
	maxConnections: number;
	idleTimeoutMs: number;
	headersTimeoutMs: number;
	requestTimeoutMs: number;
	trustProxy: boolean;
	log: TrackingEdgeLogger;
	now: () => number;
}

/** Checks the options and says clearly what is wrong; throws a RangeError. */
function resolveOptions(opts: TrackingEdgeOptions): ResolvedEdgeOptions {
	if (!opts || typeof opts !== 'object') throw new RangeError('tracking edge options are required');
	const secrets = opts.secrets;
	if (!Array.isArray(secrets) || secrets.length === 0)
		throw new RangeError('the tracking edge needs the signing secrets of the Cadence Tracking credential');
	secrets.forEach((s, i) => {
		if (typeof s !== 'string' || s.trim().length < MIN_SECRET_LENGTH) {
			throw new RangeError(`secret ${i + 1} is shorter than ${MIN_SECRET_LENGTH} characters (the credential refuses those too)`);
		}
	});
	if (new Set(secrets).size !== secrets.length) throw new RangeError('the same secret is listed twice');

	const upstream = urlOrUndefined(String(opts.upstreamUrl ?? '').trim());
	if (!upstream) throw new RangeError(`the upstream URL "${String(opts.upstreamUrl ?? '')}" is not a URL: use the trigger's Production URL`);
	if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:')
		throw new RangeError(`the upstream URL must be http(s), got ${upstream.protocol}`);
	if (upstream.search || upstream.hash)
		throw new RangeError("the upstream URL must have no query or #fragment: it is the trigger's Production URL as n8n shows it");
	if (upstream.username || upstream.password) throw new RangeError('the upstream URL must not contain credentials');

	const path = opts.path === undefined || opts.path === '' ? upstream.pathname : opts.path;
	if (!path.startsWith('/') || /[?#\s]/.test(path)) throw new RangeError(`the edge path must start with / and have no query, got "${path}"`);

	const machineHits = opts.machineHits ?? 'emit';
	if (machineHits !== 'emit' && machineHits !== 'drop') throw new RangeError(`machine hits must be "emit" or "drop", got "${String(machineHits)}"`);

	const events = opts.events ?? [...TRACKING_EDGE_EVENTS];
	if (!Array.isArray(events)) throw new RangeError('events must be a list of opened, clicked, unsubscribed');
	for (const e of events) {
		if (!TRACKING_EDGE_EVENTS.includes(e)) throw new RangeError(`unknown event "${String(e)}": use opened, clicked, unsubscribed`);
	}

	const fallbackUrl = opts.fallbackUrl?.trim() || undefined;
	if (fallbackUrl !== undefined && !safeTrackingRedirect(fallbackUrl))
		throw new RangeError(`the fallback URL "${fallbackUrl}" is not an absolute http(s) URL`);

	const scannerClickSeconds = opts.scannerClickSeconds ?? DEFAULT_SCANNER_CLICK_SECONDS;
	if (!Number.isFinite(scannerClickSeconds) || scannerClickSeconds < 0)
		throw new RangeError(`the scanner click window must be 0 or more seconds, got ${String(scannerClickSeconds)}`);

	const maxAgeDays = opts.maxAgeDays ?? 0;
	if (!Number.isFinite(maxAgeDays) || maxAgeDays < 0) throw new RangeError(`the token lifetime must be 0 or more days, got ${String(maxAgeDays)}`);

	const headersTimeoutMs = positiveInteger(opts.headersTimeoutMs, DEFAULT_EDGE_HEADERS_TIMEOUT_MS, 'the headers timeout');
	const requestTimeoutMs = positiveInteger(opts.requestTimeoutMs, DEFAULT_EDGE_REQUEST_TIMEOUT_MS, 'the request timeout');
	if (headersTimeoutMs > requestTimeoutMs)
		throw new RangeError(`the headers timeout (${headersTimeoutMs} ms) must not exceed the request timeout (${requestTimeoutMs} ms)`);

	const now = opts.now ?? Date.now;
	return {
		tracker: createTracker({
			secrets: secrets.map((s) => s.trim()),
			baseUrl: upstream.href,
			maxAgeDays: maxAgeDays > 0 ? maxAgeDays : undefined,
			now,
		}),
		core: {
			machineHits,
			fallbackUrl,
			senderName: opts.senderName,
			scannerClickSeconds,
			extraScannerAgents: (opts.extraScannerAgents ?? []).map((s) => s.trim()).filter(Boolean),
		},
		upstream,
		path,
		events: new Set(events),
		timeoutMs: positiveInteger(opts.upstreamTimeoutMs, DEFAULT_UPSTREAM_TIMEOUT_MS, 'the upstream timeout'),
		sockets: positiveInteger(opts.upstreamSockets, DEFAULT_UPSTREAM_SOCKETS, 'the upstream socket count'),
		maxBodyBytes: positiveInteger(opts.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'the body size limit'),
		maxConnections: positiveInteger(opts.maxConnections, DEFAULT_EDGE_MAX_CONNECTIONS, 'the connection limit'),
		idleTimeoutMs: positiveInteger(opts.idleTimeoutMs, DEFAULT_EDGE_IDLE_TIMEOUT_MS, 'the idle timeout'),
		headersTimeoutMs,
		requestTimeoutMs,
		trustProxy: opts.trustProxy === true,
		log: opts.log ?? (() => undefined),
		now,
	};
}

export function createTrackingEdge(options: TrackingEdgeOptions): TrackingEdge {
	const o = resolveOptions(options);
	const secure = o.upstream.protocol === 'https:';
	const agent = secure
		? new HttpsAgent({
				keepAlive: true,
				maxSockets: o.sockets,
				maxFreeSockets: o.sockets,
				scheduling: 'lifo',
			})
		: new HttpAgent({
				keepAlive: true,
				maxSockets: o.sockets,
				maxFreeSockets: o.sockets,
				scheduling: 'lifo',
			});
	const sendUpstream = secure ? httpsRequest : httpRequest;
	const counters: TrackingEdgeStats = {
		requests: 0,
		answeredHere: 0,
		notForwardedHits: 0,
		refused: 0,
		forwarded: 0,
		relayed: 0,
		upstreamFailures: 0,
		lostEvents: 0,
		unsubscribeRetryPages: 0,
		connections: 0,
		connectionsAccepted: 0,
		connectionsEvicted: 0,
		connectionsRefused: 0,
		connectionsTimedOut: 0,
		clientErrors: 0,
	};

	function send(res: ServerResponse, answer: TrackingResponse): void {
		if (res.headersSent || res.destroyed) return;
		res.writeHead(answer.status, answer.headers);
		res.end(answer.body);
	}

	function refuse(res: ServerResponse, answer: TrackingResponse): void {
		counters.refused++;
		counters.answeredHere++;
		send(res, answer);
	}

	function forwardHeaders(req: IncomingMessage, body: Buffer | undefined): OutgoingHttpHeaders {
		const listed = new Set(
			headerText(req.headers, 'connection')
				.split(',')
				.map((s) => s.trim().toLowerCase())
				.filter(Boolean),
		);
		const out: OutgoingHttpHeaders = {};
		for (const [name, value] of Object.entries(req.headers)) {
			if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name) || FORWARDING_HEADERS.has(name)) continue;
			// The edge read the whole body: n8n gets it with its exact length and no 100-continue dance.
			if (name === 'host' || name === 'content-length' || name === 'expect') continue;
			out[name] = value;
		}
		out.host = o.upstream.host;
		const client = req.socket.remoteAddress ?? '';
		const encrypted = Boolean((req.socket as TLSSocket).encrypted);
		// Behind a trusted proxy the edge is transparent: that proxy already wrote the client into X-Forwarded-For,
		// so n8n's N8N_PROXY_HOPS=1 reads the same entry whether a request came through the edge or not.
		const priorFor = o.trustProxy ? headerText(req.headers, 'x-forwarded-for').trim() : '';
		out['x-forwarded-for'] = priorFor || client;
		const priorProto = o.trustProxy ? headerText(req.headers, 'x-forwarded-proto').trim() : '';
		out['x-forwarded-proto'] = priorProto || (encrypted ? 'https' : 'http');
		const priorHost = o.trustProxy ? headerText(req.headers, 'x-forwarded-host').trim() : '';
		const host = priorHost || headerText(req.headers, 'host');
		if (host) out['x-forwarded-host'] = host;
		if (body) out['content-length'] = String(body.length);
		return out;
	}

	function relayHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
		const listed = new Set(
			headerText(headers, 'connection')
				.split(',')
				.map((s) => s.trim().toLowerCase())
				.filter(Boolean),
		);
		const out: OutgoingHttpHeaders = {};
		for (const [name, value] of Object.entries(headers)) {
			if (value !== undefined && !HOP_BY_HOP.has(name) && !listed.has(name)) out[name] = value;
		}
		return out;
	}

	/**
	 * Passes the request to n8n and relays its answer when it is one the trigger gives (`expected` statuses); any
	 * other outcome calls `failed` once. The upstream request goes on even if the client leaves: the event counts.
	 */
	function forward(
		req: IncomingMessage,
		res: ServerResponse,
		method: string,
		search: string,
		body: Buffer | undefined,
		expected: readonly number[],
		failed: (reason: string) => void,
	): void {
		counters.forwarded++;
		const headers = forwardHeaders(req, body);
		const path = o.upstream.pathname + (search ? `?${search}` : '');
		let settled = false;
		const fail = (reason: string) => {
			if (settled) return;
			settled = true;
			counters.upstreamFailures++;
			failed(reason);
		};
		const attempt = (retry: boolean) => {
			let upReq: ReturnType<typeof sendUpstream>;
			try {
				upReq = sendUpstream(
					{
						protocol: o.upstream.protocol,
						hostname: o.upstream.hostname,
						port: o.upstream.port || undefined,
						method,
						path,
						headers,
						agent,
					},
					(upRes) => {
						clearTimeout(deadline);
						const status = upRes.statusCode ?? 0;
						if (!expected.includes(status)) {
							upRes.resume();
							fail(`n8n answered ${status}`);
							return;
						}
						settled = true;
						counters.relayed++;
						if (res.headersSent || res.destroyed) {
							upRes.resume();
							return;
						}
						res.writeHead(status, relayHeaders(upRes.headers));
						if (method === 'HEAD') {
							upRes.resume();
							res.end();
						} else {
							pipeline(upRes, res, () => undefined);
						}
					},
				);
			} catch (error) {
				// e.g. a header value Node accepts from a client but refuses to send on
				fail((error as Error).message);
				return;
			}
			const deadline = setTimeout(() => upReq.destroy(new Error(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs);
			upReq.on('error', (error: NodeJS.ErrnoException) => {
				clearTimeout(deadline);
				// n8n may close an idle kept-alive connection just as the edge reuses it: the request never arrived.
				if (!retry && !settled && upReq.reusedSocket && error.code === 'ECONNRESET') {
					attempt(true);
					return;
				}
				fail(error.code ? `${error.code}: ${error.message}` : error.message);
			});
			upReq.end(body);
		};
		attempt(false);
	}

	function answerHere(res: ServerResponse, answer: TrackingResponse): void {
		counters.answeredHere++;
		if (answer.event) counters.notForwardedHits++;
		send(res, answer);
	}

	function decide(req: IncomingMessage, res: ServerResponse, method: string, search: string, body: Buffer | undefined): void {
		const query = parseQueryString(search, '&', '=', {
			maxKeys: MAX_QUERY_KEYS,
		}) as Record<string, unknown>;
		const parsedBody = method === 'POST' && body ? bodyAsN8nParsesIt(req.headers, body) : undefined;
		const answer = handleTrackingRequest(
			{
				method,
				query,
				body: parsedBody,
				headers: req.headers,
				ip: req.socket.remoteAddress,
				now: o.now(),
			},
			o.tracker,
			o.core,
		);
		const wanted = answer.startExecution && answer.event !== undefined && o.events.has(answer.event.type);

		if (method === 'POST') {
			// A POST with a valid unsubscribe token always goes to n8n, which parses every body type (multipart
			// too, as RFC 8058 allows) and decides: the edge never answers an unsubscribe the trigger would record.
			const fields = parsedBody !== null && typeof parsedBody === 'object' ? (parsedBody as Record<string, unknown>) : {};
			const t = tokenValue(query.t) ?? tokenValue(fields.t);
			let unsubscribeToken: string | undefined;
			try {
				unsubscribeToken = t !== undefined && o.tracker.parseToken(t)?.kind === 'unsubscribe' ? t : undefined;
			} catch {
				unsubscribeToken = undefined;
			}
			if (unsubscribeToken === undefined) {
				answerHere(res, answer);
				return;
			}
			forward(req, res, method, search, body ?? Buffer.alloc(0), [200, 400], (reason) => {
				if (!wanted) {
					// Nothing to record (no One-Click, or unsubscribes not emitted): the local answer is the trigger's.
					send(res, answer);
					return;
				}
				counters.unsubscribeRetryPages++;
				o.log('warn', 'unsubscribe not recorded: n8n did not take it; answered 502 so the sender retries', {
					reason,
					token: answer.event?.token,
					class: answer.event?.class,
				});
				send(res, unsubscribeRetryAnswer(unsubscribeToken as string, o.core.senderName, method));
			});
			return;
		}

		if (!wanted || !answer.event) {
			answerHere(res, answer);
			return;
		}
		const event = answer.event;
		forward(req, res, method, search, undefined, [answer.status], (reason) => {
			// The person still gets the pixel or the redirect; only the record of it is lost.
			counters.lostEvents++;
			o.log('warn', `tracking event lost: n8n did not take the ${event.type} hit`, {
				reason,
				type: event.type,
				class: event.class,
				at: event.at,
				token: event.token,
				...(event.url !== undefined ? { url: event.url } : {}),
			});
			send(res, answer);
		});
	}

	function handle(req: IncomingMessage, res: ServerResponse): void {
		counters.requests++;
		try {
			const rawUrl = req.url ?? '';
			const q = rawUrl.indexOf('?');
			const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
			const search = q < 0 ? '' : rawUrl.slice(q + 1);
			const method = String(req.method ?? '').toUpperCase();
			// Only the tracking URL is served: nothing else of n8n is reachable through the edge.
			if (path !== o.path) {
				req.resume();
				refuse(res, plainAnswer(404, 'Not found'));
				return;
			}
			if (method !== 'POST') {
				req.resume();
				decide(req, res, method, search, undefined);
				return;
			}
			const declared = Number(headerText(req.headers, 'content-length') || 0);
			if (declared > o.maxBodyBytes) {
				res.on('finish', () => req.destroy());
				refuse(res, plainAnswer(413, 'Request body too large', { connection: 'close' }));
				return;
			}
			const chunks: Buffer[] = [];
			let size = 0;
			let tooLarge = false;
			req.on('data', (chunk: Buffer) => {
				if (tooLarge) return;
				size += chunk.length;
				if (size > o.maxBodyBytes) {
					tooLarge = true;
					res.on('finish', () => req.destroy());
					refuse(res, plainAnswer(413, 'Request body too large', { connection: 'close' }));
					return;
				}
				chunks.push(chunk);
			});
			req.on('end', () => {
				if (tooLarge) return;
				try {
					decide(req, res, method, search, Buffer.concat(chunks, size));
				} catch (error) {
					o.log('error', 'tracking edge failed on a request', {
						error: (error as Error).message,
					});
					send(res, plainAnswer(500, 'Internal error'));
				}
			});
			req.on('error', () => req.destroy());
		} catch (error) {
			o.log('error', 'tracking edge failed on a request', {
				error: (error as Error).message,
			});
			send(res, plainAnswer(500, 'Internal error'));
		}
	}

	const fileLimit = openFileLimit();
	const fileCap = fileLimit === undefined ? Infinity : Math.max(1, fileLimit - o.sockets - RESERVED_FILE_DESCRIPTORS);
	const maxConnections = Math.min(o.maxConnections, fileCap);
	if (maxConnections < o.maxConnections) {
		o.log('warn', `connection limit lowered to ${maxConnections}: the open-file limit is ${String(fileLimit)} (raise it with ulimit -n)`, {
			maxConnections: o.maxConnections,
		});
	}

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
	// Node arms this on every accepted socket and after each request; the 'timeout' listener below decides.
	server.timeout = o.idleTimeoutMs;
	server.maxRequestsPerSocket = MAX_REQUESTS_PER_CONNECTION;

	interface Connection {
		/** Requests received and not yet answered (or abandoned). */
		inFlight: number;
		/** When the oldest of those started (performance.now()). */
		busySince: number;
	}
	// Every open client connection; `idle` holds those with no request in flight, longest idle first.
	const connections = new Map<Socket, Connection>();
	const idle = new Set<Socket>();

	function forget(socket: Socket): void {
		connections.delete(socket);
		idle.delete(socket);
	}

	/** Closes the connection idle the longest; false when every connection has a request in flight. */
	function evictOne(): boolean {
		const victim = idle.values().next().value as Socket | undefined;
		if (victim === undefined) return false;
		forget(victim);
		victim.destroy();
		counters.connectionsEvicted++;
		return true;
	}

	server.on('connection', (socket: Socket) => {
		socket.on('error', () => socket.destroy());
		if (connections.size >= maxConnections && !evictOne()) {
			counters.connectionsRefused++;
			socket.destroy();
			return;
		}
		counters.connectionsAccepted++;
		connections.set(socket, { inFlight: 0, busySince: 0 });
		idle.add(socket);
		socket.once('close', () => forget(socket));
	});

	server.on('request', (req: IncomingMessage, res: ServerResponse) => {
		const socket = req.socket;
		const state = connections.get(socket);
		if (!state) return;
		if (state.inFlight++ === 0) {
			idle.delete(socket);
			state.busySince = performance.now();
		}
		res.once('close', () => {
			state.inFlight--;
			if (state.inFlight === 0 && !socket.destroyed && connections.has(socket)) idle.add(socket);
		});
	});

	server.on('timeout', (socket: Socket) => {
		const state = connections.get(socket);
		// A request in flight is bounded by the upstream timeout; one whose answer the client does not read for
		// longer than that and an idle period is abandoned.
		if (state && state.inFlight > 0 && performance.now() - state.busySince < o.timeoutMs + o.idleTimeoutMs) {
			socket.setTimeout(o.idleTimeoutMs);
			return;
		}
		counters.connectionsTimedOut++;
		forget(socket);
		socket.destroy();
	});

	server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
		counters.clientErrors++;
		const answering = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
		if (error.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
			socket.destroy();
			return;
		}
		// A client that does not read this answer is closed by the idle timeout like any other.
		socket.end(`HTTP/1.1 ${clientErrorStatus(error)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
	});

	// Accept failures (EMFILE when the open-file limit is reached) must not end the process: log and go on.
	// A failure to listen goes to whoever else listens for it (`listen` rejects).
	server.on('error', (error: NodeJS.ErrnoException) => {
		if (server.listening || server.listenerCount('error') === 1) o.log('error', `tracking edge server error: ${error.message}`, { code: error.code });
	});

	return {
		handle,
		server,
		path: o.path,
		maxConnections,
		upstream: o.upstream,
		listen(port = 0, host = '127.0.0.1') {
			return new Promise<AddressInfo>((resolve, reject) => {
				server.once('error', reject);
				server.listen(port, host, () => {
					server.off('error', reject);
					resolve(server.address() as AddressInfo);
				});
			});
		},
		close() {
			return new Promise<void>((resolve) => {
				agent.destroy();
				if (!server.listening) {
					resolve();
					return;
				}
				server.close(() => resolve());
				server.closeAllConnections();
			});
		},
		stats: () => ({ ...counters, connections: connections.size }),
	};
}

export interface TrackingEdgeConfig {
	options: TrackingEdgeOptions;
	port: number;
	host: string;
	/** How often the command logs its counters; 0: only on exit. */
	statsSeconds: number;
	logLevel: TrackingEdgeLogLevel | 'silent';
}

/** The environment variables of `mail-cadence-tracking-edge`, for `--help` and the README. */
export const TRACKING_EDGE_ENV_HELP: ReadonlyArray<readonly [string, string]> = Object.freeze([
	['CADENCE_TRACKING_SECRETS', "required (or _FILE): the Cadence Tracking credential's secrets, one per line, newest first"],
	['CADENCE_TRACKING_SECRETS_FILE', 'a file holding the secrets, one per line (instead of CADENCE_TRACKING_SECRETS)'],
	['CADENCE_TRACKING_MAX_AGE_DAYS', "the credential's Token Lifetime in days for open and click links (default 0: never); unsubscribe links never expire"],
	['CADENCE_UPSTREAM_URL', "required: the trigger's Production URL as n8n serves it, e.g. http://127.0.0.1:5678/webhook/<id>/t"],
	['CADENCE_EDGE_PATH', 'the path the edge answers on (default: the path of CADENCE_UPSTREAM_URL)'],
	['CADENCE_MACHINE_HITS', "the trigger's Machine Hits: emit (default, as the trigger) or drop (answer them here)"],
	['CADENCE_EVENTS', "the trigger's Events, comma-separated (default opened,clicked,unsubscribed)"],
	['CADENCE_SCANNER_CLICK_SECONDS', `the trigger's Scanner Click Window (default ${DEFAULT_SCANNER_CLICK_SECONDS})`],
	['CADENCE_EXTRA_SCANNER_AGENTS', "the trigger's Extra Scanner User Agents, comma-separated"],
	['CADENCE_FALLBACK_URL', "the trigger's Fallback URL"],
	['CADENCE_SENDER_NAME', "the trigger's Sender Name"],
	['PORT', 'port to listen on (default 8080)'],
	['HOST', 'address to listen on (default 127.0.0.1; 0.0.0.0 for all)'],
	['CADENCE_UPSTREAM_TIMEOUT_MS', `how long n8n may take to answer a forwarded hit (default ${DEFAULT_UPSTREAM_TIMEOUT_MS})`],
	['CADENCE_UPSTREAM_SOCKETS', `most kept-alive connections to n8n (default ${DEFAULT_UPSTREAM_SOCKETS})`],
	[
		'CADENCE_MAX_CONNECTIONS',
		`most client connections open at once; at the limit the longest idle one is closed (default ${DEFAULT_EDGE_MAX_CONNECTIONS}, lowered to fit ulimit -n)`,
	],
	['CADENCE_IDLE_TIMEOUT_MS', `close a connection silent this long with no request in flight, from accept (default ${DEFAULT_EDGE_IDLE_TIMEOUT_MS})`],
	['CADENCE_HEADERS_TIMEOUT_MS', `a request head must arrive within this time (default ${DEFAULT_EDGE_HEADERS_TIMEOUT_MS})`],
	['CADENCE_REQUEST_TIMEOUT_MS', `a whole request must arrive within this time (default ${DEFAULT_EDGE_REQUEST_TIMEOUT_MS})`],
	['CADENCE_TRUST_PROXY', '1 when the edge is reachable only through a proxy of yours that sets X-Forwarded-* (passed on as they are)'],
	['CADENCE_LOG_LEVEL', 'info (default), warn, error or silent; JSON lines on stderr'],
	['CADENCE_STATS_SECONDS', 'log the counters this often (default 300; 0: only on exit)'],
]);

function listFrom(value: string | undefined, separator: RegExp): string[] {
	return (value ?? '')
		.split(separator)
		.map((s) => s.trim())
		.filter(Boolean);
}

function numberFrom(env: Record<string, string | undefined>, name: string, fallback: number, problems: string[]): number {
	const raw = env[name]?.trim();
	if (!raw) return fallback;
	const n = Number(raw);
	if (!Number.isFinite(n) || n < 0) {
		problems.push(`${name} must be a number ≥ 0, got "${raw}"`);
		return fallback;
	}
	return n;
}

/**
 * The command's configuration from environment variables. Throws one RangeError listing every problem, so a
 * misconfigured edge refuses to start instead of answering wrongly.
 */
export function trackingEdgeConfigFromEnv(env: Record<string, string | undefined> = process.env): TrackingEdgeConfig {
	const problems: string[] = [];
	let secretsText = env.CADENCE_TRACKING_SECRETS ?? '';
	const secretsFile = env.CADENCE_TRACKING_SECRETS_FILE?.trim();
	if (secretsFile) {
		try {
			secretsText = readFileSync(secretsFile, 'utf8');
		} catch (error) {
			problems.push(`CADENCE_TRACKING_SECRETS_FILE: cannot read ${secretsFile}: ${(error as Error).message}`);
		}
	}
	const secrets = listFrom(secretsText, /\r?\n/);
	if (secrets.length === 0 && problems.length === 0) problems.push('CADENCE_TRACKING_SECRETS (or CADENCE_TRACKING_SECRETS_FILE) is required');
	const upstreamUrl = env.CADENCE_UPSTREAM_URL?.trim() ?? '';
	if (!upstreamUrl) problems.push("CADENCE_UPSTREAM_URL is required: the trigger's Production URL");
	const port = numberFrom(env, 'PORT', 8080, problems);
	if (!Number.isInteger(port) || port > 65535) problems.push(`PORT must be a port number, got "${env.PORT}"`);
	const logLevel = (env.CADENCE_LOG_LEVEL?.trim().toLowerCase() || 'info') as TrackingEdgeConfig['logLevel'];
	if (!['info', 'warn', 'error', 'silent'].includes(logLevel))
		problems.push(`CADENCE_LOG_LEVEL must be info, warn, error or silent, got "${logLevel}"`);
	const trust = env.CADENCE_TRUST_PROXY?.trim().toLowerCase() ?? '';
	if (trust && !['0', '1', 'true', 'false', 'yes', 'no'].includes(trust)) problems.push(`CADENCE_TRUST_PROXY must be 1 or 0, got "${trust}"`);
	const timeout = numberFrom(env, 'CADENCE_UPSTREAM_TIMEOUT_MS', DEFAULT_UPSTREAM_TIMEOUT_MS, problems);
	const sockets = numberFrom(env, 'CADENCE_UPSTREAM_SOCKETS', DEFAULT_UPSTREAM_SOCKETS, problems);
	const options: TrackingEdgeOptions = {
		secrets,
		maxAgeDays: numberFrom(env, 'CADENCE_TRACKING_MAX_AGE_DAYS', 0, problems),
		upstreamUrl,
		path: env.CADENCE_EDGE_PATH?.trim() || undefined,
		machineHits: (env.CADENCE_MACHINE_HITS?.trim().toLowerCase() || 'emit') as MachineHitHandling,
		events: env.CADENCE_EVENTS?.trim() ? (listFrom(env.CADENCE_EVENTS, /[\s,]+/) as TrackingEdgeEvent[]) : undefined,
		scannerClickSeconds: numberFrom(env, 'CADENCE_SCANNER_CLICK_SECONDS', DEFAULT_SCANNER_CLICK_SECONDS, problems),
		extraScannerAgents: listFrom(env.CADENCE_EXTRA_SCANNER_AGENTS, /[\r\n,]+/),
		fallbackUrl: env.CADENCE_FALLBACK_URL?.trim() || undefined,
		senderName: env.CADENCE_SENDER_NAME,
		upstreamTimeoutMs: timeout > 0 ? Math.round(timeout) : DEFAULT_UPSTREAM_TIMEOUT_MS,
		upstreamSockets: sockets > 0 ? Math.round(sockets) : DEFAULT_UPSTREAM_SOCKETS,
		maxConnections: numberFrom(env, 'CADENCE_MAX_CONNECTIONS', DEFAULT_EDGE_MAX_CONNECTIONS, problems),
		idleTimeoutMs: numberFrom(env, 'CADENCE_IDLE_TIMEOUT_MS', DEFAULT_EDGE_IDLE_TIMEOUT_MS, problems),
		headersTimeoutMs: numberFrom(env, 'CADENCE_HEADERS_TIMEOUT_MS', DEFAULT_EDGE_HEADERS_TIMEOUT_MS, problems),
		requestTimeoutMs: numberFrom(env, 'CADENCE_REQUEST_TIMEOUT_MS', DEFAULT_EDGE_REQUEST_TIMEOUT_MS, problems),
		trustProxy: trust === '1' || trust === 'true' || trust === 'yes',
	};
	if (problems.length === 0) {
		try {
			resolveOptions(options); // the same checks createTrackingEdge makes, reported with the others
		} catch (error) {
			problems.push((error as Error).message);
		}
	}
	if (problems.length > 0) throw new RangeError(`mail-cadence-tracking-edge is not configured:\n  - ${problems.join('\n  - ')}`);
	return {
		options,
		port,
		host: env.HOST?.trim() || '127.0.0.1',
		statsSeconds: numberFrom(env, 'CADENCE_STATS_SECONDS', 300, []),
		logLevel,
	};
}
