/** The edge's options checked and completed with their defaults; every wrong option is refused with a clear message. */
import { DEFAULT_SCANNER_CLICK_SECONDS } from '../core/hitClass';
import { createTracker, TRACKING_SECRET_MIN_LENGTH, type Tracker } from '../core/tracker';
import {
	CONVERSION_SECRET_MIN_LENGTH,
	DEFAULT_MACHINE_HITS,
	safeTrackingRedirect,
	type MachineHitHandling,
	type TrackingHttpOptions,
} from '../core/trackingHttp';
import {
	DEFAULT_EDGE_HEADERS_TIMEOUT_MS,
	DEFAULT_EDGE_IDLE_TIMEOUT_MS,
	DEFAULT_EDGE_MAX_CONNECTIONS,
	DEFAULT_EDGE_REQUEST_TIMEOUT_MS,
	DEFAULT_MAX_BODY_BYTES,
	DEFAULT_UPSTREAM_SOCKETS,
	DEFAULT_UPSTREAM_TIMEOUT_MS,
} from './limits';
import { TRACKING_EDGE_EVENTS, type TrackingEdgeEvent, type TrackingEdgeLogger, type TrackingEdgeOptions } from './types';

export interface ResolvedEdgeOptions {
	tracker: Pick<Tracker, 'parseToken' | 'token' | 'conversionToken'>;
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

/** A whole number above zero, or the default when the option is not given. */
function positiveInteger(value: number | undefined, fallback: number, name: string): number {
	if (value === undefined) return fallback;
	if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive whole number, got ${String(value)}`);
	return value;
}

/** A finite number of 0 or more, or the default when the option is not given. */
function nonNegative(value: number | undefined, fallback: number, message: (got: string) => string): number {
	const n = value ?? fallback;
	if (!Number.isFinite(n) || n < 0) throw new RangeError(message(String(n)));
	return n;
}

function urlOrUndefined(text: string): URL | undefined {
	try {
		return new URL(text);
	} catch {
		return undefined;
	}
}

/** The credential's secrets: at least one, each as long as the credential demands, none listed twice. */
function checkSecrets(secrets: unknown): string[] {
	if (!Array.isArray(secrets) || secrets.length === 0)
		throw new RangeError('the tracking edge needs the signing secrets of the Cadence Tracking credential');
	secrets.forEach((s: unknown, i) => {
		if (typeof s !== 'string' || s.trim().length < TRACKING_SECRET_MIN_LENGTH) {
			throw new RangeError(`secret ${i + 1} is shorter than ${TRACKING_SECRET_MIN_LENGTH} characters (the credential refuses those too)`);
		}
	});
	if (new Set(secrets).size !== secrets.length) throw new RangeError('the same secret is listed twice');
	return secrets as string[];
}

/** The trigger's Production URL exactly as n8n shows it: http(s), no query, fragment or credentials. */
function checkUpstreamUrl(upstreamUrl: unknown): URL {
	const upstream = urlOrUndefined(String(upstreamUrl ?? '').trim());
	if (!upstream) throw new RangeError(`the upstream URL "${String(upstreamUrl ?? '')}" is not a URL: use the trigger's Production URL`);
	if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:')
		throw new RangeError(`the upstream URL must be http(s), got ${upstream.protocol}`);
	if (upstream.search || upstream.hash)
		throw new RangeError("the upstream URL must have no query or #fragment: it is the trigger's Production URL as n8n shows it");
	if (upstream.username || upstream.password) throw new RangeError('the upstream URL must not contain credentials');
	return upstream;
}

/** The path the edge answers on, by default the upstream's: absolute, with no query or whitespace. */
function checkPath(path: string | undefined, upstream: URL): string {
	const resolved = path === undefined || path === '' ? upstream.pathname : path;
	if (!resolved.startsWith('/') || /[?#\s]/.test(resolved))
		throw new RangeError(`the edge path must start with / and have no query, got "${resolved}"`);
	return resolved;
}

/** The trigger's Machine Hits option: `emit` unless `drop` is asked for. */
function checkMachineHits(machineHits: MachineHitHandling | undefined): MachineHitHandling {
	const resolved = machineHits ?? DEFAULT_MACHINE_HITS;
	if (resolved !== 'emit' && resolved !== 'drop') throw new RangeError(`machine hits must be "emit" or "drop", got "${String(resolved)}"`);
	return resolved;
}

/** The trigger's Events option: known event types only, all of them by default. */
function checkEvents(events: TrackingEdgeEvent[] | undefined): TrackingEdgeEvent[] {
	const resolved = events ?? [...TRACKING_EDGE_EVENTS];
	if (!Array.isArray(resolved)) throw new RangeError(`events must be a list of ${TRACKING_EDGE_EVENTS.join(', ')}`);
	for (const e of resolved) {
		if (!TRACKING_EDGE_EVENTS.includes(e)) throw new RangeError(`unknown event "${String(e)}": use ${TRACKING_EDGE_EVENTS.join(', ')}`);
	}
	return resolved;
}

/** The Fallback URL, when given, must be one the trigger would redirect to. */
function checkFallbackUrl(fallbackUrl: string | undefined): string | undefined {
	const resolved = fallbackUrl?.trim() || undefined;
	if (resolved !== undefined && !safeTrackingRedirect(resolved))
		throw new RangeError(`the fallback URL "${resolved}" is not an absolute http(s) URL`);
	return resolved;
}

/** The head and request timeouts: a head cannot be allowed longer than the whole request. */
function checkRequestTimeouts(opts: TrackingEdgeOptions): { headersTimeoutMs: number; requestTimeoutMs: number } {
	const headersTimeoutMs = positiveInteger(opts.headersTimeoutMs, DEFAULT_EDGE_HEADERS_TIMEOUT_MS, 'the headers timeout');
	const requestTimeoutMs = positiveInteger(opts.requestTimeoutMs, DEFAULT_EDGE_REQUEST_TIMEOUT_MS, 'the request timeout');
	if (headersTimeoutMs > requestTimeoutMs)
		throw new RangeError(`the headers timeout (${headersTimeoutMs} ms) must not exceed the request timeout (${requestTimeoutMs} ms)`);
	return { headersTimeoutMs, requestTimeoutMs };
}

/** The same hit rules as the trigger's, from the trigger's options as the edge was given them. */
function coreOptions(opts: TrackingEdgeOptions, machineHits: MachineHitHandling): TrackingHttpOptions {
	const fallbackUrl = checkFallbackUrl(opts.fallbackUrl);
	const scannerClickSeconds = nonNegative(
		opts.scannerClickSeconds,
		DEFAULT_SCANNER_CLICK_SECONDS,
		(got) => `the scanner click window must be 0 or more seconds, got ${got}`,
	);
	return {
		machineHits,
		fallbackUrl,
		senderName: opts.senderName,
		scannerClickSeconds,
		extraScannerAgents: (opts.extraScannerAgents ?? []).map((s) => s.trim()).filter(Boolean),
		conversionDomains: (opts.conversionDomains ?? []).map((s) => s.trim()).filter(Boolean),
		conversionSecret: checkConversionSecret(opts.conversionSecret),
	};
}

/** The Conversion Secret, when given, at least as long as the trigger demands. */
function checkConversionSecret(secret: string | undefined): string | undefined {
	const resolved = secret?.trim() || undefined;
	if (resolved !== undefined && resolved.length < CONVERSION_SECRET_MIN_LENGTH)
		throw new RangeError(`the conversion secret is shorter than ${CONVERSION_SECRET_MIN_LENGTH} characters`);
	return resolved;
}

/** Checks the options and says clearly what is wrong; throws a RangeError. */
export function resolveOptions(opts: TrackingEdgeOptions): ResolvedEdgeOptions {
	if (!opts || typeof opts !== 'object') throw new RangeError('tracking edge options are required');
	const secrets = checkSecrets(opts.secrets);
	const upstream = checkUpstreamUrl(opts.upstreamUrl);
	const path = checkPath(opts.path, upstream);
	const machineHits = checkMachineHits(opts.machineHits);
	const events = checkEvents(opts.events);
	const core = coreOptions(opts, machineHits);
	const maxAgeDays = nonNegative(opts.maxAgeDays, 0, (got) => `the token lifetime must be 0 or more days, got ${got}`);
	const { headersTimeoutMs, requestTimeoutMs } = checkRequestTimeouts(opts);
	const now = opts.now ?? Date.now;
	const tracker = createTracker({
		secrets: secrets.map((s) => s.trim()),
		baseUrl: upstream.href,
		maxAgeDays: maxAgeDays > 0 ? maxAgeDays : undefined,
		now,
	});
	return {
		tracker,
		core,
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
