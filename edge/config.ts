/**
 * The `mail-cadence-tracking-edge` command's configuration, from environment variables. Every problem is collected
 * and reported at once, so a misconfigured edge refuses to start instead of answering wrongly.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_SCANNER_CLICK_SECONDS } from '../core/hitClass';
import { DEFAULT_MACHINE_HITS, type MachineHitHandling } from '../core/trackingHttp';
import {
	DEFAULT_EDGE_HEADERS_TIMEOUT_MS,
	DEFAULT_EDGE_HOST,
	DEFAULT_EDGE_IDLE_TIMEOUT_MS,
	DEFAULT_EDGE_MAX_CONNECTIONS,
	DEFAULT_EDGE_PORT,
	DEFAULT_EDGE_REQUEST_TIMEOUT_MS,
	DEFAULT_EDGE_STATS_SECONDS,
	DEFAULT_UPSTREAM_SOCKETS,
	DEFAULT_UPSTREAM_TIMEOUT_MS,
} from './limits';
import { resolveOptions } from './options';
import { TRACKING_EDGE_EVENTS, type TrackingEdgeEvent, type TrackingEdgeLogLevel, type TrackingEdgeOptions } from './types';

type Env = Record<string, string | undefined>;

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
	[
		'CADENCE_TRACKING_MAX_AGE_DAYS',
		"the credential's Token Lifetime in days for open and click links (default 0: never); unsubscribe links never expire",
	],
	['CADENCE_UPSTREAM_URL', "required: the trigger's Production URL as n8n serves it, e.g. http://127.0.0.1:5678/webhook/<id>/t"],
	['CADENCE_EDGE_PATH', 'the path the edge answers on (default: the path of CADENCE_UPSTREAM_URL)'],
	['CADENCE_MACHINE_HITS', "the trigger's Machine Hits: emit (default, as the trigger) or drop (answer them here)"],
	['CADENCE_EVENTS', `the trigger's Events, comma-separated (default ${TRACKING_EDGE_EVENTS.join(',')})`],
	['CADENCE_SCANNER_CLICK_SECONDS', `the trigger's Scanner Click Window (default ${DEFAULT_SCANNER_CLICK_SECONDS})`],
	['CADENCE_EXTRA_SCANNER_AGENTS', "the trigger's Extra Scanner User Agents, comma-separated"],
	['CADENCE_FALLBACK_URL', "the trigger's Fallback URL"],
	['CADENCE_SENDER_NAME', "the trigger's Sender Name"],
	['CADENCE_CONVERSION_DOMAINS', "the trigger's Conversion Domains, comma-separated"],
	['CADENCE_CONVERSION_SECRET', "the trigger's Conversion Secret (or _FILE)"],
	['CADENCE_CONVERSION_SECRET_FILE', 'a file holding the Conversion Secret (instead of CADENCE_CONVERSION_SECRET)'],
	['PORT', `port to listen on (default ${DEFAULT_EDGE_PORT})`],
	['HOST', `address to listen on (default ${DEFAULT_EDGE_HOST}; 0.0.0.0 for all)`],
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
	['CADENCE_STATS_SECONDS', `log the counters this often (default ${DEFAULT_EDGE_STATS_SECONDS}; 0: only on exit)`],
]);

/** A list variable split on `separator`, items trimmed, empty items dropped. */
function listFrom(value: string | undefined, separator: RegExp): string[] {
	return (value ?? '')
		.split(separator)
		.map((s) => s.trim())
		.filter(Boolean);
}

/** A number variable of 0 or more; the default when unset, and a problem (with the default) when not a number. */
function numberFrom(env: Env, name: string, fallback: number, problems: string[]): number {
	const raw = env[name]?.trim();
	if (!raw) return fallback;
	const n = Number(raw);
	if (!Number.isFinite(n) || n < 0) {
		problems.push(`${name} must be a number ≥ 0, got "${raw}"`);
		return fallback;
	}
	return n;
}

/** The secrets, one per line, from the _FILE variable when it is set, else from CADENCE_TRACKING_SECRETS; required. */
function readSecrets(env: Env, problems: string[]): string[] {
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
	return secrets;
}

/** The Conversion Secret from the _FILE variable when it is set, else from CADENCE_CONVERSION_SECRET; optional. */
function readConversionSecret(env: Env, problems: string[]): string | undefined {
	const file = env.CADENCE_CONVERSION_SECRET_FILE?.trim();
	if (!file) return env.CADENCE_CONVERSION_SECRET?.trim() || undefined;
	try {
		return readFileSync(file, 'utf8').trim() || undefined;
	} catch (error) {
		problems.push(`CADENCE_CONVERSION_SECRET_FILE: cannot read ${file}: ${(error as Error).message}`);
		return undefined;
	}
}

/** PORT: a whole number up to 65535. */
function readPort(env: Env, problems: string[]): number {
	const port = numberFrom(env, 'PORT', DEFAULT_EDGE_PORT, problems);
	if (!Number.isInteger(port) || port > 65535) problems.push(`PORT must be a port number, got "${env.PORT}"`);
	return port;
}

/** CADENCE_LOG_LEVEL: info (default), warn, error or silent. */
function readLogLevel(env: Env, problems: string[]): TrackingEdgeConfig['logLevel'] {
	const logLevel = (env.CADENCE_LOG_LEVEL?.trim().toLowerCase() || 'info') as TrackingEdgeConfig['logLevel'];
	if (!['info', 'warn', 'error', 'silent'].includes(logLevel))
		problems.push(`CADENCE_LOG_LEVEL must be info, warn, error or silent, got "${logLevel}"`);
	return logLevel;
}

/** CADENCE_TRUST_PROXY: on only when set to 1, true or yes. */
function readTrustProxy(env: Env, problems: string[]): boolean {
	const trust = env.CADENCE_TRUST_PROXY?.trim().toLowerCase() ?? '';
	if (trust && !['0', '1', 'true', 'false', 'yes', 'no'].includes(trust)) problems.push(`CADENCE_TRUST_PROXY must be 1 or 0, got "${trust}"`);
	return trust === '1' || trust === 'true' || trust === 'yes';
}

/** The edge's options from the trigger's and the edge's variables; a 0 upstream timeout or socket count means the default. */
function optionsFromEnv(
	env: Env,
	required: Pick<TrackingEdgeOptions, 'secrets' | 'upstreamUrl' | 'trustProxy'>,
	problems: string[],
): TrackingEdgeOptions {
	const timeout = numberFrom(env, 'CADENCE_UPSTREAM_TIMEOUT_MS', DEFAULT_UPSTREAM_TIMEOUT_MS, problems);
	const sockets = numberFrom(env, 'CADENCE_UPSTREAM_SOCKETS', DEFAULT_UPSTREAM_SOCKETS, problems);
	return {
		secrets: required.secrets,
		maxAgeDays: numberFrom(env, 'CADENCE_TRACKING_MAX_AGE_DAYS', 0, problems),
		upstreamUrl: required.upstreamUrl,
		path: env.CADENCE_EDGE_PATH?.trim() || undefined,
		machineHits: (env.CADENCE_MACHINE_HITS?.trim().toLowerCase() || DEFAULT_MACHINE_HITS) as MachineHitHandling,
		events: env.CADENCE_EVENTS?.trim() ? (listFrom(env.CADENCE_EVENTS, /[\s,]+/) as TrackingEdgeEvent[]) : undefined,
		scannerClickSeconds: numberFrom(env, 'CADENCE_SCANNER_CLICK_SECONDS', DEFAULT_SCANNER_CLICK_SECONDS, problems),
		extraScannerAgents: listFrom(env.CADENCE_EXTRA_SCANNER_AGENTS, /[\r\n,]+/),
		fallbackUrl: env.CADENCE_FALLBACK_URL?.trim() || undefined,
		senderName: env.CADENCE_SENDER_NAME,
		conversionDomains: listFrom(env.CADENCE_CONVERSION_DOMAINS, /[\s,]+/),
		conversionSecret: readConversionSecret(env, problems),
		upstreamTimeoutMs: timeout > 0 ? Math.round(timeout) : DEFAULT_UPSTREAM_TIMEOUT_MS,
		upstreamSockets: sockets > 0 ? Math.round(sockets) : DEFAULT_UPSTREAM_SOCKETS,
		maxConnections: numberFrom(env, 'CADENCE_MAX_CONNECTIONS', DEFAULT_EDGE_MAX_CONNECTIONS, problems),
		idleTimeoutMs: numberFrom(env, 'CADENCE_IDLE_TIMEOUT_MS', DEFAULT_EDGE_IDLE_TIMEOUT_MS, problems),
		headersTimeoutMs: numberFrom(env, 'CADENCE_HEADERS_TIMEOUT_MS', DEFAULT_EDGE_HEADERS_TIMEOUT_MS, problems),
		requestTimeoutMs: numberFrom(env, 'CADENCE_REQUEST_TIMEOUT_MS', DEFAULT_EDGE_REQUEST_TIMEOUT_MS, problems),
		trustProxy: required.trustProxy,
	};
}

/** The same checks createTrackingEdge makes, reported with the others. */
function checkAsTheEdgeWould(options: TrackingEdgeOptions, problems: string[]): void {
	try {
		resolveOptions(options);
	} catch (error) {
		problems.push((error as Error).message);
	}
}

/**
 * The command's configuration from environment variables. Throws one RangeError listing every problem, so a
 * misconfigured edge refuses to start instead of answering wrongly.
 */
export function trackingEdgeConfigFromEnv(env: Env = process.env): TrackingEdgeConfig {
	const problems: string[] = [];
	const secrets = readSecrets(env, problems);
	const upstreamUrl = env.CADENCE_UPSTREAM_URL?.trim() ?? '';
	if (!upstreamUrl) problems.push("CADENCE_UPSTREAM_URL is required: the trigger's Production URL");
	const port = readPort(env, problems);
	const logLevel = readLogLevel(env, problems);
	const trustProxy = readTrustProxy(env, problems);
	const options = optionsFromEnv(env, { secrets, upstreamUrl, trustProxy }, problems);
	if (problems.length === 0) checkAsTheEdgeWould(options, problems);
	if (problems.length > 0) throw new RangeError(`mail-cadence-tracking-edge is not configured:\n  - ${problems.join('\n  - ')}`);
	return {
		options,
		port,
		host: env.HOST?.trim() || DEFAULT_EDGE_HOST,
		statsSeconds: numberFrom(env, 'CADENCE_STATS_SECONDS', DEFAULT_EDGE_STATS_SECONDS, []),
		logLevel,
	};
}
