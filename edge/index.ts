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
 *
 * This module is the edge's public API; its steps live in `./edge/`: `options` (checks and defaults), `handler`
 * (answer here or forward), `forward` (the reverse proxy to n8n), `connections` (connection bounds and eviction),
 * `answers`, `request`, `counters`, `limits`, `server` (createTrackingEdge) and `config` (the command's environment).
 */
export { TRACKING_EDGE_EVENTS } from './types';
export type { TrackingEdge, TrackingEdgeEvent, TrackingEdgeLogger, TrackingEdgeLogLevel, TrackingEdgeOptions, TrackingEdgeStats } from './types';
export {
	DEFAULT_EDGE_HEADERS_TIMEOUT_MS,
	DEFAULT_EDGE_IDLE_TIMEOUT_MS,
	DEFAULT_EDGE_MAX_CONNECTIONS,
	DEFAULT_EDGE_REQUEST_TIMEOUT_MS,
	EDGE_KEEP_ALIVE_TIMEOUT_MS,
	MAX_REQUESTS_PER_CONNECTION,
} from './limits';
export { createTrackingEdge } from './server';
export { TRACKING_EDGE_ENV_HELP, trackingEdgeConfigFromEnv } from './config';
export type { TrackingEdgeConfig } from './config';
