/**
 * Address verification bench: 10,000 addresses over 2,000 domains (70 % with MX, 20 % A only, 10 % NXDOMAIN)
 * against dnsmasq on loopback. Cold: a new verifier (empty cache) looks every domain up; warm: the same verifier
 * again, every domain answered from its cache. Addresses per second of each and their ratio, in one run.
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_VERIFY_CONCURRENCY } from '../../core/verify';
import { createAddressVerifier, type AddressVerifier } from '../../transport/verify';
import { startDnsServer, type DnsRecord } from '../helpers/dnsServer';

const ADDRESSES = Number(process.env.BENCH_VERIFY_ADDRESSES ?? 10_000);
const DOMAINS = Number(process.env.BENCH_VERIFY_DOMAINS ?? 2_000);
const ROUNDS = 5;

async function main() {
	const mxCount = Math.round(DOMAINS * 0.7);
	const aCount = Math.round(DOMAINS * 0.2);
	const domains: string[] = [];
	const records: DnsRecord[] = [{ name: 'mx.bench.test', type: 'A', value: '127.0.0.1' }];
	for (let d = 0; d < DOMAINS; d++) {
		const name = `d${d}.bench.test`;
		domains.push(name);
		if (d < mxCount) records.push({ name, type: 'MX', value: 'mx.bench.test' });
		else if (d < mxCount + aCount) records.push({ name, type: 'A', value: '127.0.0.2' });
	}
	const addresses = Array.from({ length: ADDRESSES }, (_, i) => `person${i}@${domains[(i * 7919) % DOMAINS]}`);
	const dns = await startDnsServer({ records, localDomains: ['bench.test'] });
	try {
		const make = () => createAddressVerifier({ dns: { servers: [dns.server], timeoutMs: 5000 }, concurrency: DEFAULT_VERIFY_CONCURRENCY });
		const timed = async (v: AddressVerifier) => {
			const t = process.hrtime.bigint();
			const results = await v.verifyMany(addresses);
			const secs = Number(process.hrtime.bigint() - t) / 1e9;
			if (results.length !== ADDRESSES) throw new Error('lost results');
			return secs;
		};
		await timed(make()); // warm-up of the process (JIT, sockets), not measured
		const cold: number[] = [];
		const warm: number[] = [];
		let lookups = 0;
		for (let r = 0; r < ROUNDS; r++) {
			const v = make();
			cold.push(await timed(v));
			lookups = v.stats.domainLookups;
			warm.push(await timed(v));
			if (v.stats.domainLookups !== lookups) throw new Error('the warm pass looked domains up again');
		}
		const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
		const coldRate = ADDRESSES / median(cold);
		const warmRate = ADDRESSES / median(warm);
		const out = {
			addresses: ADDRESSES,
			domains: DOMAINS,
			domainLookupsPerColdPass: lookups,
			dnsQueriesTotal: dns.queries().length,
			concurrency: DEFAULT_VERIFY_CONCURRENCY,
			coldMedianSeconds: +median(cold).toFixed(4),
			warmMedianSeconds: +median(warm).toFixed(4),
			coldAddressesPerSecond: Math.round(coldRate),
			warmAddressesPerSecond: Math.round(warmRate),
			warmToColdRatio: +(warmRate / coldRate).toFixed(1),
		};
		console.log(`verify, cold cache: ${out.coldAddressesPerSecond.toLocaleString()} addresses/s (${lookups} domain lookups per pass)`);
		console.log(`verify, warm cache: ${out.warmAddressesPerSecond.toLocaleString()} addresses/s (${out.warmToColdRatio}× cold)`);
		writeFileSync('bench-results/verify.json', JSON.stringify(out, null, 2));
	} finally {
		await dns.stop();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
