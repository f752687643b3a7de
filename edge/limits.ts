/** Every default and limit of the tracking edge, used by its options, its environment configuration and its help. */

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
/** File descriptors kept free below the open-file limit: upstream sockets, the listening socket, stdio, files. */
export const RESERVED_FILE_DESCRIPTORS = 64;
/** Default time n8n may take to answer a forwarded hit before the edge answers without it. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 5_000;
/** Default most kept-alive connections to n8n. */
export const DEFAULT_UPSTREAM_SOCKETS = 32;
/** Default largest request body accepted (one-click unsubscribe bodies are tiny). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** n8n's query parser (qs) and body parser stop at 1,000 keys; so does the edge, so both read the same `t`. */
export const MAX_QUERY_KEYS = 1000;
/** Default port of the `mail-cadence-tracking-edge` command. */
export const DEFAULT_EDGE_PORT = 8080;
/** Default address of the `mail-cadence-tracking-edge` command: loopback, so exposing it is a deliberate choice. */
export const DEFAULT_EDGE_HOST = '127.0.0.1';
/** Default interval (seconds) at which the command logs its counters; 0: only on exit. */
export const DEFAULT_EDGE_STATS_SECONDS = 300;
