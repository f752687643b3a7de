/**
 * Address verification against a real DNS server (dnsmasq on loopback, authoritative for its test zones, never
 * forwarding) and, for the optional RCPT probe, a real SMTP server: MX, A fallback, NXDOMAIN, no records, a silent
 * server (timeout), disposable and role accounts, an IDN domain, lookups counted at the server, the cache lifetime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver, DnsError, DnsTimeoutError, normalizeDnsServer, parseDnsServers } from '../../transport/dns';
import { createAddressVerifier } from '../../transport/verify';
import { startDnsServer, startSilentDnsServer, type DnsRecord, type DnsServer } from '../helpers/dnsServer';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const LONG_TXT = `v=DKIM1; k=rsa; p=${'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'.repeat(9)}, "quoted" \\ # end`;

const records: DnsRecord[] = [
	{ name: 'mx.verify.test', type: 'MX', value: 'mx1.mail.verify.test', priority: 20 },
	{ name: 'mx.verify.test', type: 'MX', value: 'mx0.mail.verify.test', priority: 10 },
	{ name: 'mx0.mail.verify.test', type: 'A', value: '127.0.0.1' },
	{ name: 'mx1.mail.verify.test', type: 'A', value: '127.0.0.1' },
	{ name: 'aonly.verify.test', type: 'A', value: '127.0.0.2' },
	{ name: 'six.verify.test', type: 'AAAA', value: '::1' },
	{ name: 'txtonly.verify.test', type: 'TXT', value: 'v=spf1 -all' },
	{ name: 'nullmx.verify.test', type: 'MX', value: '.', priority: 0 },
	{ name: 'bücher.verify.test', type: 'MX', value: 'mx0.mail.verify.test' },
	{ name: 'sel._domainkey.verify.test', type: 'TXT', value: LONG_TXT },
	{ name: 'alias.verify.test', type: 'CNAME', value: 'mx0.mail.verify.test' },
];

let dns: DnsServer;
beforeAll(async () => {
	dns = await startDnsServer({ records, localDomains: ['verify.test'] });
});
afterAll(async () => {
	await dns?.stop();
});

const countOf = (name: string, type: string) => dns.queries().filter((q) => q.name === name && q.type === type).length;

describe('transport/dns against dnsmasq', () => {
	it('MX records come sorted by preference; NXDOMAIN and NODATA are [] and told apart by query()', async () => {
		const r = createDnsResolver({ servers: [dns.server], timeoutMs: 2000 });
		expect(await r.mx('mx.verify.test')).toEqual([
			{ exchange: 'mx0.mail.verify.test', priority: 10 },
			{ exchange: 'mx1.mail.verify.test', priority: 20 },
		]);
		expect(await r.a('aonly.verify.test')).toEqual(['127.0.0.2']);
		expect(await r.aaaa('six.verify.test')).toEqual(['::1']);
		expect(await r.a('alias.verify.test')).toEqual(['127.0.0.1']);
		expect(await r.mx('gone.verify.test')).toEqual([]);
		expect(await r.mx('aonly.verify.test')).toEqual([]);
		expect((await r.query('gone.verify.test', 'MX')).status).toBe('nxdomain');
		expect((await r.query('aonly.verify.test', 'MX')).status).toBe('nodata');
	});

	it('a TXT record over 255 characters (split by the helper) comes back joined, quotes and backslashes intact', async () => {
		const r = createDnsResolver({ servers: [dns.server] });
		expect(await r.txt('sel._domainkey.verify.test')).toEqual([LONG_TXT]);
		expect(LONG_TXT.length).toBeGreaterThan(255);
	});

	it('an IDN is asked in its ASCII form', async () => {
		const r = createDnsResolver({ servers: [dns.server] });
		expect(await r.mx('bücher.verify.test')).toEqual([{ exchange: 'mx0.mail.verify.test', priority: 10 }]);
		expect(countOf('xn--bcher-kva.verify.test', 'MX')).toBeGreaterThan(0);
	});

	it('a name outside the local zones is refused (no forwarding): DnsError, not []', async () => {
		const r = createDnsResolver({ servers: [dns.server] });
		await expect(r.mx('example.com')).rejects.toBeInstanceOf(DnsError);
		await expect(r.mx('example.com')).rejects.toThrow(/EREFUSED/);
	});

	it('a server that never answers gives DnsTimeoutError within the bound', async () => {
		const silent = await startSilentDnsServer();
		try {
			const r = createDnsResolver({ servers: [silent.server], timeoutMs: 400, tries: 2 });
			const t0 = Date.now();
			const err = await r.mx('mx.verify.test').catch((e: unknown) => e);
			expect(err).toBeInstanceOf(DnsTimeoutError);
			expect((err as Error).message).toMatch(/timed out after 400 ms/);
			expect(Date.now() - t0).toBeLessThan(5000);
			expect(silent.received).toBeGreaterThan(0);
		} finally {
			await silent.stop();
		}
	});

	it('server addresses: host:port, bare IP, IPv6 in brackets; a host name or bad port is a clear error', () => {
		expect(parseDnsServers('127.0.0.1:5353, 10.0.0.1 [::1]:53')).toEqual(['127.0.0.1:5353', '10.0.0.1:53', '[::1]:53']);
		expect(normalizeDnsServer('::1')).toBe('[::1]:53');
		expect(parseDnsServers('')).toEqual([]);
		expect(() => normalizeDnsServer('dns.google:53')).toThrow(/not an IP address/);
		expect(() => normalizeDnsServer('127.0.0.1:99999')).toThrow(/invalid port/);
		expect(() => createDnsResolver({ timeoutMs: 5 })).toThrow(/timeout must be between/);
	});
});

describe('createAddressVerifier against dnsmasq', () => {
	it('each case gets its status and reason', async () => {
		const v = createAddressVerifier({ dns: { servers: [dns.server], timeoutMs: 2000 } });
		const cases: Array<[string, string, string]> = [
			['john@mx.verify.test', 'deliverable', 'mx'],
			['john@aonly.verify.test', 'deliverable', 'a-fallback'],
			['john@six.verify.test', 'deliverable', 'a-fallback'],
			['john@txtonly.verify.test', 'undeliverable', 'no-mx'],
			['john@gone.verify.test', 'undeliverable', 'nxdomain'],
			['john@nullmx.verify.test', 'undeliverable', 'null-mx'],
			['john@mailinator.com', 'undeliverable', 'disposable'],
			['postmaster@mx.verify.test', 'risky', 'role-account'],
			['postmaster@gone.verify.test', 'undeliverable', 'nxdomain'],
			['info@bücher.verify.test', 'deliverable', 'mx'],
			['john..doe@mx.verify.test', 'undeliverable', 'invalid-syntax'],
			['john@example.com', 'unknown', 'dns-error'],
		];
		const results = await v.verifyMany(cases.map((c) => c[0]));
		expect(results.map((r) => [r.status, r.reason])).toEqual(cases.map((c) => [c[1], c[2]]));
		expect(results[0].mx).toEqual(['mx0.mail.verify.test', 'mx1.mail.verify.test']);
		expect(results[1].mx).toEqual(['aonly.verify.test']);
		expect(results[9].domain).toBe('xn--bcher-kva.verify.test');
		expect(Date.parse(results[0].checkedAt)).not.toBeNaN();
		// the disposable list answers without DNS
		expect(dns.queries().some((q) => q.name === 'mailinator.com')).toBe(false);
	});

	it('a silent DNS server makes results unknown (dns-timeout), never undeliverable, in bounded time', async () => {
		const silent = await startSilentDnsServer();
		try {
			const v = createAddressVerifier({ dns: { servers: [silent.server], timeoutMs: 300, tries: 1 } });
			const t0 = Date.now();
			const results = await v.verifyMany(['a@slow1.test', 'b@slow1.test', 'c@slow2.test']);
			expect(results.map((r) => [r.status, r.reason])).toEqual([
				['unknown', 'dns-timeout'],
				['unknown', 'dns-timeout'],
				['unknown', 'dns-timeout'],
			]);
			expect(Date.now() - t0).toBeLessThan(5000);
			expect(v.stats.domainLookups).toBe(2);
		} finally {
			await silent.stop();
		}
	});

	it('role accounts can be made undeliverable (no lookup needed then)', async () => {
		const v = createAddressVerifier({ dns: { servers: [dns.server] }, rolePolicy: 'undeliverable' });
		expect(await v.verify('No-Reply@mx.verify.test')).toMatchObject({ status: 'undeliverable', reason: 'role-account', role: 'noreply' });
		expect(v.stats.domainLookups).toBe(0);
	});

	it('a domain answer is reused within the cache lifetime and asked again after it', async () => {
		let clock = Date.parse('2026-06-01T00:00:00Z');
		const v = createAddressVerifier({ dns: { servers: [dns.server] }, cacheLifetimeMs: 60_000, now: () => clock });
		const before = countOf('aonly.verify.test', 'MX');
		await v.verify('a@aonly.verify.test');
		await v.verify('b@aonly.verify.test');
		expect(countOf('aonly.verify.test', 'MX') - before).toBe(1);
		clock += 61_000;
		const r = await v.verify('c@aonly.verify.test');
		expect(countOf('aonly.verify.test', 'MX') - before).toBe(2);
		expect(r.checkedAt).toBe(new Date(clock).toISOString());
		expect(v.stats).toMatchObject({ domainLookups: 2, cacheHits: 1 });
	});
});

describe('10,000 addresses over 2,000 domains', () => {
	const MX = 1400;
	const A_ONLY = 400;
	const NX = 200;
	let bulk: DnsServer;
	beforeAll(async () => {
		const recs: DnsRecord[] = [{ name: 'mx.bulk.test', type: 'A', value: '127.0.0.1' }];
		for (let d = 0; d < MX; d++) recs.push({ name: `m${d}.bulk.test`, type: 'MX', value: 'mx.bulk.test' });
		for (let d = 0; d < A_ONLY; d++) recs.push({ name: `a${d}.bulk.test`, type: 'A', value: '127.0.0.3' });
		bulk = await startDnsServer({ records: recs, localDomains: ['bulk.test'] });
	});
	afterAll(async () => {
		await bulk?.stop();
	});

	it('one MX lookup per domain, A only where MX is empty, AAAA only where A is empty too', async () => {
		const domains = [
			...Array.from({ length: MX }, (_, d) => `m${d}.bulk.test`),
			...Array.from({ length: A_ONLY }, (_, d) => `a${d}.bulk.test`),
			...Array.from({ length: NX }, (_, d) => `x${d}.bulk.test`),
		];
		const addresses = Array.from({ length: 10_000 }, (_, i) => `person${i}@${domains[(i * 7919) % domains.length]}`);
		const v = createAddressVerifier({ dns: { servers: [bulk.server], timeoutMs: 5000 }, concurrency: 20 });
		const results = await v.verifyMany(addresses);
		const byReason = results.reduce<Record<string, number>>((acc, r) => ((acc[r.reason] = (acc[r.reason] ?? 0) + 1), acc), {});
		expect(byReason).toEqual({ mx: 7000, 'a-fallback': 2000, nxdomain: 1000 });
		expect(v.stats.domainLookups).toBe(2000);

		const q = bulk.queries();
		const mxNames = q.filter((x) => x.type === 'MX').map((x) => x.name);
		expect(mxNames).toHaveLength(2000);
		expect(new Set(mxNames).size).toBe(2000);
		const aNames = q.filter((x) => x.type === 'A').map((x) => x.name);
		expect(aNames.sort()).toEqual(domains.filter((d) => d.startsWith('a')).sort());
		expect(q.filter((x) => x.type === 'AAAA')).toEqual([]);
	}, 120_000);
});

describe('SMTP RCPT probe (off by default) against a real SMTP server', () => {
	let strict: SmtpSink;
	let catchAll: SmtpSink;
	beforeAll(async () => {
		strict = await startSmtpSink({
			onRcptTo: (a) => {
				if (a === 'grey@mx.verify.test') return { code: 451, message: 'Greylisted, try again later' };
				if (a === 'alive@mx.verify.test' || a === 'postmaster@mx.verify.test') return undefined;
				return { code: 550, message: '5.1.1 No such user' };
			},
		});
		catchAll = await startSmtpSink();
	});
	afterAll(async () => {
		await strict?.close();
		await catchAll?.close();
	});

	const probing = (port: number) =>
		createAddressVerifier({
			dns: { servers: [dns.server] },
			probe: { heloName: 'probe.cadence.test', mailFrom: 'bounces@cadence.test', port, timeoutMs: 5000 },
		});

	it('accepted, rejected (5xx), deferred (4xx, greylisting); a role account stays risky; never DATA', async () => {
		const v = probing(strict.port);
		const results = await v.verifyMany(['alive@mx.verify.test', 'dead@mx.verify.test', 'grey@mx.verify.test', 'postmaster@mx.verify.test']);
		expect(results.map((r) => [r.status, r.reason])).toEqual([
			['deliverable', 'rcpt-accepted'],
			['undeliverable', 'rcpt-rejected'],
			['unknown', 'rcpt-deferred'],
			['risky', 'role-account'],
		]);
		expect(results[1].detail).toMatch(/550 5\.1\.1 No such user/);
		expect(strict.messages).toEqual([]);
	});

	it('a catch-all server (accepts a random local part) makes acceptance risky', async () => {
		const v = probing(catchAll.port);
		const [r] = await v.verifyMany(['anyone@mx.verify.test']);
		expect(r).toMatchObject({ status: 'risky', reason: 'catch-all' });
		expect(catchAll.messages).toEqual([]);
	});

	it('an unreachable mail server is unknown (smtp-error), not undeliverable; the probe is off unless asked', async () => {
		const closedPort = strict.port === 1 ? 2 : 1;
		const [r] = await probing(closedPort).verifyMany(['alive@mx.verify.test']);
		expect(r).toMatchObject({ status: 'unknown', reason: 'smtp-error' });
		const before = strict.connections;
		await createAddressVerifier({ dns: { servers: [dns.server] } }).verify('dead@mx.verify.test');
		expect(strict.connections).toBe(before);
	});

	it('a bad HELO name or sender is refused up front', () => {
		expect(() => createAddressVerifier({ probe: { heloName: 'bad name', mailFrom: '' } })).toThrow(/HELO name/);
		expect(() => createAddressVerifier({ probe: { heloName: 'ok.test', mailFrom: 'not an address' } })).toThrow(/MAIL FROM/);
	});
});
