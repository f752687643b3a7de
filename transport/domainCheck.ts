/**
 * The sending-domain check over real DNS: the core's checks (core/domainCheck) with lookups through
 * `createDnsResolver`. A server that does not answer makes each finding it blocks a `warn` naming the server.
 */
import { checkSendingDomains, DomainDnsTimeout, type DomainCheckTarget, type DomainFinding } from '../core/domainCheck';
import { createDnsResolver, DEFAULT_DNS_TIMEOUT_MS, DnsTimeoutError, parseDnsServers } from './dns';

export interface DomainCheckDnsOptions {
	/** `host:port` (or several, comma separated); empty = the system's resolver. */
	dnsServer?: string;
	/** Bound on one lookup (default DEFAULT_DNS_TIMEOUT_MS). */
	timeoutMs?: number;
}

/**
 * Checks the targets' domains. Throws DnsError when the DNS server or timeout is invalid (before any lookup);
 * lookups that fail become findings.
 */
export async function runDomainCheck(targets: DomainCheckTarget[], opts: DomainCheckDnsOptions = {}): Promise<DomainFinding[]> {
	const servers = parseDnsServers(opts.dnsServer);
	const timeoutMs = opts.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
	const resolver = createDnsResolver({ servers, timeoutMs });
	const where = servers.length ? servers.join(', ') : `${resolver.servers.join(', ') || 'none'} (the system's)`;
	const named =
		<T>(type: string, lookup: (name: string) => Promise<T>) =>
		async (name: string): Promise<T> =>
			await lookup(name).catch((error: unknown) => {
				throw error instanceof DnsTimeoutError
					? new DomainDnsTimeout(`DNS server ${where} did not answer (${type} ${name}) within ${timeoutMs} ms`)
					: error;
			});
	return await checkSendingDomains(targets, {
		txt: named('TXT', (n) => resolver.txt(n)),
		a: named('A', (n) => resolver.a(n)),
		aaaa: named('AAAA', (n) => resolver.aaaa(n)),
		mx: named('MX', (n) => resolver.mx(n)),
	});
}
