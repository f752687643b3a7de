/** The tracking edge's public shapes: its options, its counters and the instance it creates. */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { MachineHitHandling } from '../core/trackingHttp';

export type TrackingEdgeEvent = 'opened' | 'clicked' | 'unsubscribed' | 'converted';
export const TRACKING_EDGE_EVENTS: readonly TrackingEdgeEvent[] = Object.freeze(['opened', 'clicked', 'unsubscribed', 'converted']);

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
	/** The trigger's Events option; hits of other types are answered here. Default: all four. */
	events?: TrackingEdgeEvent[];
	/** The trigger's Scanner Click Window (seconds). */
	scannerClickSeconds?: number;
	/** The trigger's Extra Scanner User Agents. */
	extraScannerAgents?: string[];
	/** The trigger's Fallback URL. */
	fallbackUrl?: string;
	/** The trigger's Sender Name (unsubscribe pages). */
	senderName?: string;
	/** The trigger's Conversion Domains: links to these hosts redirect with the conversion reference (`mc=`). */
	conversionDomains?: string[];
	/** The trigger's Conversion Secret: the key of a conversion value's `sig`. */
	conversionSecret?: string;
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
	/** Conversions posted (POST) answered 502 after an upstream failure, so the website's server retries. */
	conversionRetryAnswers: number;
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
