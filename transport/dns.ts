/**
 * DNS lookups for address verification and the sending-domain check, on `node:dns/promises` `Resolver` (c-ares,
 * no system resolver library, no other DNS package). A resolver is created per run with its own servers: nothing is
 * shared between executions.
 *
 * Each lookup resolves to its records, `[]` when the name does not exist (NXDOMAIN) or has no record of that type
 * (NODATA), and rejects with `DnsTimeoutError` when no server answered within the timeout, `DnsError` otherwise
 * (refused, server failure, malformed name). `query()` also tells NXDOMAIN from NODATA.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/** Time a single lookup may take, all tries included. */
export const DEFAULT_DNS_TIMEOUT_MS = 5000;
/** Attempts per server before a lookup counts as timed out. */
export const DEFAULT_DNS_TRIES = 2;
/** c-ares needs some time per try; a shorter per-try timeout only produces spurious timeouts. */
export const MIN_DNS_TRY_TIMEOUT_MS = 100;
export const MAX_DNS_TIMEOUT_MS = 60_000;
export const MAX_DNS_TRIES = 5;
/** The port a server written without one listens on. */
export const DNS_DEFAULT_PORT = 53;

export class DnsError extends Error {
	/** c-ares code (ESERVFAIL, EREFUSED, …) or `EINVALID` for a name that is not a domain. */
	readonly code: string;
	readonly hostname: string;
	constructor(message: string, code: string, hostname: string) {
		super(message);
		this.name = 'DnsError';
		this.code = code;
		this.hostname = hostname;
	}
}

export class DnsTimeoutError extends DnsError {
	constructor(hostname: string, rrtype: string, timeoutMs: number) {
		super(`DNS ${rrtype} lookup of ${hostname} timed out after ${timeoutMs} ms (no answer from the DNS server)`, 'ETIMEOUT', hostname);
		this.name = 'DnsTimeoutError';
	}
}

export interface MxRecord {
	exchange: string;
	priority: number;
}

export type DnsRrType = 'MX' | 'A' | 'AAAA' | 'TXT';

export interface DnsAnswer<T> {
	/** `nxdomain`: the name does not exist; `nodata`: it exists without records of this type. */
	status: 'ok' | 'nxdomain' | 'nodata';
	records: T[];
}

export interface DnsResolverOptions {
	/** Servers as `host:port` (`host` alone = port 53, IPv6 as `[::1]:5353`); empty or absent = the system's. */
	servers?: string[];
	/** Bound on one lookup, all tries included (default DEFAULT_DNS_TIMEOUT_MS). */
	timeoutMs?: number;
	/** Tries per server (default DEFAULT_DNS_TRIES). */
	tries?: number;
}

export interface DnsResolver {
	/** The servers in use (`host:port`), as given or the system's. */
	readonly servers: string[];
	readonly timeoutMs: number;
	/** MX records, lowest preference first. */
	mx(domain: string): Promise<MxRecord[]>;
	a(domain: string): Promise<string[]>;
	aaaa(domain: string): Promise<string[]>;
	/** One string per TXT record (its character-strings joined). */
	txt(name: string): Promise<string[]>;
	query(name: string, type: 'MX'): Promise<DnsAnswer<MxRecord>>;
	query(name: string, type: 'A' | 'AAAA' | 'TXT'): Promise<DnsAnswer<string>>;
}

/**
 * Normalises one server address to `host:port` (what `Resolver.setServers` takes). Throws a DnsError naming the
 * input when it is not an IP address with an optional port: a host name would need a resolver to find the resolver.
 */
export function normalizeDnsServer(input: string): string {
	const s = input.trim();
	let host = s;
	let port = DNS_DEFAULT_PORT;
	const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
	if (v6) {
		host = v6[1];
		if (v6[2] !== undefined) port = Number(v6[2]);
	} else if (isIP(s) !== 6) {
		const m = /^([^:]+):(\d+)$/.exec(s);
		if (m) {
			host = m[1];
			port = Number(m[2]);
		}
	}
	const family = isIP(host);
	if (family === 0)
		throw new DnsError(
			`DNS server ${JSON.stringify(input)} is not an IP address (write it as 1.2.3.4, 1.2.3.4:5353 or [::1]:5353)`,
			'EINVALID',
			input,
		);
	if (!Number.isInteger(port) || port < 1 || port > 65535)
		throw new DnsError(`DNS server ${JSON.stringify(input)} has an invalid port (1-65535)`, 'EINVALID', input);
	return family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses a comma/space separated server list (a node parameter); empty text = []. */
export function parseDnsServers(text: string | undefined): string[] {
	return (text ?? '')
		.split(/[\s,]+/)
		.filter((s) => s.length > 0)
		.map(normalizeDnsServer);
}

function asciiDomain(name: string): string {
	const trimmed = String(name ?? '')
		.trim()
		.replace(/\.$/, '');
	const ascii = trimmed ? domainToASCII(trimmed) : '';
	if (!ascii || ascii.length > 253) throw new DnsError(`${JSON.stringify(name)} is not a valid domain name`, 'EINVALID', String(name));
	return ascii.toLowerCase();
}

export function createDnsResolver(opts: DnsResolverOptions = {}): DnsResolver {
	const timeoutMs = opts.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
	const tries = opts.tries ?? DEFAULT_DNS_TRIES;
	if (!Number.isFinite(timeoutMs) || timeoutMs < MIN_DNS_TRY_TIMEOUT_MS || timeoutMs > MAX_DNS_TIMEOUT_MS) {
		throw new DnsError(`DNS timeout must be between ${MIN_DNS_TRY_TIMEOUT_MS} and ${MAX_DNS_TIMEOUT_MS} ms, got ${timeoutMs}`, 'EINVALID', '');
	}
	if (!Number.isInteger(tries) || tries < 1 || tries > MAX_DNS_TRIES) {
		throw new DnsError(`DNS tries must be an integer between 1 and ${MAX_DNS_TRIES}, got ${tries}`, 'EINVALID', '');
	}
	// c-ares doubles the timeout on each retry: tries t, 2t, 4t … must fit in timeoutMs together.
	const perTry = Math.max(MIN_DNS_TRY_TIMEOUT_MS, Math.floor(timeoutMs / (2 ** tries - 1)));
	const resolver = new Resolver({ timeout: perTry, tries });
	const servers = (opts.servers ?? []).map(normalizeDnsServer);
	if (servers.length > 0) resolver.setServers(servers);
	const inUse = resolver.getServers();

	async function run<T>(rawName: string, rrtype: DnsRrType): Promise<DnsAnswer<T>> {
		const name = asciiDomain(rawName);
		let timer: NodeJS.Timeout | undefined;
		// The guard bounds the lookup even if c-ares' own retries overrun; the late answer is dropped.
		const guard = new Promise<never>((_, reject) => {
			timer = setTimeout(() => reject(new DnsTimeoutError(name, rrtype, timeoutMs)), timeoutMs + MIN_DNS_TRY_TIMEOUT_MS);
		});
		const lookup = (async (): Promise<DnsAnswer<T>> => {
			let code: string;
			try {
				const records = (await resolver.resolve(name, rrtype)) as unknown as T[];
				return { status: records.length ? 'ok' : 'nodata', records };
			} catch (err) {
				code = (err as { code?: string }).code ?? 'EUNKNOWN';
			}
			if (code === 'ENOTFOUND') return { status: 'nxdomain', records: [] };
			if (code === 'ENODATA') return { status: 'nodata', records: [] };
			if (code === 'ETIMEOUT' || code === 'ECANCELLED') throw new DnsTimeoutError(name, rrtype, timeoutMs);
			const why = code === 'EREFUSED' ? ' (the server refused the query)' : code === 'ESERVFAIL' ? ' (the server failed to answer)' : '';
			throw new DnsError(`DNS ${rrtype} lookup of ${name} failed: ${code}${why}`, code, name);
		})();
		lookup.catch(() => undefined);
		try {
			return await Promise.race([lookup, guard]);
		} finally {
			clearTimeout(timer);
		}
	}

	async function query(name: string, type: DnsRrType): Promise<DnsAnswer<MxRecord> | DnsAnswer<string>> {
		if (type === 'MX') {
			const ans = await run<MxRecord>(name, 'MX');
			const records = ans.records.map((r) => ({ exchange: r.exchange.toLowerCase().replace(/\.$/, ''), priority: r.priority }));
			records.sort((x, y) => x.priority - y.priority || (x.exchange < y.exchange ? -1 : x.exchange > y.exchange ? 1 : 0));
			return { status: ans.status, records };
		}
		if (type === 'TXT') {
			const ans = await run<string[]>(name, 'TXT');
			return { status: ans.status, records: ans.records.map((chunks) => chunks.join('')) };
		}
		return await run<string>(name, type);
	}

	return {
		servers: inUse,
		timeoutMs,
		query: query as DnsResolver['query'],
		mx: async (d) => (await query(d, 'MX')).records as MxRecord[],
		a: async (d) => (await query(d, 'A')).records as string[],
		aaaa: async (d) => (await query(d, 'AAAA')).records as string[],
		txt: async (n) => (await query(n, 'TXT')).records as string[],
	};
}
