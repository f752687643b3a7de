/**
 * The sending-domain check's pure parts: SPF parsing and evaluation (lookup limits, macros, include/redirect),
 * DMARC parsing and alignment, DKIM key records against private keys, and the check over an in-memory zone
 * (shared lookups, a resolver that does not answer). Malformed records never throw: the result names the fault.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	aligned,
	checkSendingDomains,
	dkimKeyMismatch,
	dkimPublicKeyOf,
	DomainDnsTimeout,
	domainCheckSummary,
	evaluateSpf,
	expandSpfMacros,
	formatIp,
	inNetwork,
	parseDkimKey,
	parseDmarc,
	parseIp,
	parseSpf,
	SPF_LOOKUP_LIMIT,
	type DomainCheckTarget,
	type SpfDns,
} from '../../core/domainCheck';

type Zone = Record<string, { TXT?: string[]; A?: string[]; AAAA?: string[]; MX?: Array<{ exchange: string; priority: number }> }>;

/** An in-memory zone; `calls` counts lookups by "TYPE name". */
function fakeDns(zone: Zone) {
	const calls: string[] = [];
	const get =
		<K extends 'TXT' | 'A' | 'AAAA' | 'MX'>(type: K) =>
		async (name: string) => {
			calls.push(`${type} ${name}`);
			return (zone[name.toLowerCase()]?.[type] ?? []) as NonNullable<Zone[string][K]>;
		};
	const dns: SpfDns = { txt: get('TXT'), a: get('A'), aaaa: get('AAAA'), mx: get('MX') };
	return { dns, calls };
}

const rsa = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ed = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('IP addresses', () => {
	it('parses, formats and matches networks', () => {
		expect(formatIp(parseIp('2001:db8:0:0:0:0:0:1')!)).toBe('2001:db8::1');
		expect(formatIp(parseIp('::ffff:192.0.2.1')!)).toBe('::ffff:c000:201');
		expect(inNetwork(parseIp('192.0.2.77')!, parseIp('192.0.2.0')!, 24)).toBe(true);
		expect(inNetwork(parseIp('192.0.3.1')!, parseIp('192.0.2.0')!, 24)).toBe(false);
		expect(inNetwork(parseIp('2001:db8::5')!, parseIp('2001:db8::')!, 32)).toBe(true);
		expect(inNetwork(parseIp('192.0.2.1')!, parseIp('2001:db8::')!, 0)).toBe(false);
		for (const bad of ['1.2.3', '256.1.1.1', '1::2::3', '12345::', ':::', 'a.b.c.d', '', '1.2.3.4.5']) expect(parseIp(bad)).toBeNull();
	});

	it('formatting and parsing round-trip any address', () => {
		fc.assert(
			fc.property(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), (bytes) => {
				expect(Array.from(parseIp(formatIp(bytes))!)).toEqual(Array.from(bytes));
			}),
			{ numRuns: 200 },
		);
	});
});

describe('SPF records', () => {
	it('parses mechanisms, prefixes and modifiers', () => {
		const r = parseSpf(
			'v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com/28//64 -include:_spf.example.net ~all redirect=x.example exp=e.example foo=bar',
		);
		expect(r.error).toBeUndefined();
		expect(r.record!.mechanisms.map((m) => `${m.qualifier}${m.kind}`)).toEqual(['+ip4', '+ip6', '+a', '+mx', '-include', '~all']);
		expect(r.record!.mechanisms[3]).toMatchObject({ domain: 'mail.example.com', cidr4: 28, cidr6: 64 });
		expect(r.record!.redirect).toBe('x.example');
	});

	it('names what is malformed', () => {
		const cases: Array<[string, RegExp]> = [
			['v=spf2 -all', /does not start with "v=spf1"/],
			['v=spf1 ip4:300.1.1.1 -all', /ip4 needs an IPv4 address/],
			['v=spf1 ip4:192.0.2.1/33', /prefix length out of range/],
			['v=spf1 ip6:192.0.2.1', /ip6 needs an IPv6 address/],
			['v=spf1 include', /include needs ":domain"/],
			['v=spf1 foo:bar -all', /unknown mechanism "foo"/],
			['v=spf1 all:x', /"all" takes no argument/],
			['v=spf1 redirect=a.example redirect=b.example', /"redirect=" appears twice/],
			['v=spf1 exists:%{z}.example', /invalid macro/],
			['v=spf1 a:/24/', /expected a\[:domain\]/],
			['v=spf1 @@', /neither a mechanism nor a modifier/],
		];
		for (const [text, error] of cases) expect(parseSpf(text).error, text).toMatch(error);
	});

	it('never throws, whatever the text', () => {
		fc.assert(
			fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 80 }), (tail, junk) => {
				const r = parseSpf(`v=spf1 ${tail}`);
				expect(r.record !== undefined || typeof r.error === 'string').toBe(true);
				expect(typeof parseSpf(junk)).toBe('object');
			}),
			{ numRuns: 200 },
		);
		expect(parseSpf(undefined as unknown as string).error).toMatch(/not text/);
	});

	it('expands macros (RFC 7208 7.4 examples)', () => {
		const ctx = { ip: parseIp('192.0.2.3'), sender: 'strong-bad@email.example.com', helo: 'mx.example.org' };
		expect(expandSpfMacros('%{s}', 'email.example.com', ctx)).toBe('strong-bad@email.example.com');
		expect(expandSpfMacros('%{d4}', 'email.example.com', ctx)).toBe('email.example.com');
		expect(expandSpfMacros('%{d2}', 'email.example.com', ctx)).toBe('example.com');
		expect(expandSpfMacros('%{dr}', 'email.example.com', ctx)).toBe('com.example.email');
		expect(expandSpfMacros('%{l-}', 'email.example.com', ctx)).toBe('strong.bad');
		expect(expandSpfMacros('%{ir}.%{v}._spf.%{d2}', 'email.example.com', ctx)).toBe('3.2.0.192.in-addr._spf.example.com');
		const v6 = { ...ctx, ip: parseIp('2001:db8::cb01') };
		expect(expandSpfMacros('%{ir}.%{v}', 'x', v6)).toBe('1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6');
	});
});

describe('SPF evaluation', () => {
	const zone: Zone = {
		'example.com': { TXT: ['google-site-verification=abc', 'v=spf1 a:smtp.example.com mx include:_spf.provider.net ~all'] },
		'smtp.example.com': { A: ['192.0.2.10'], AAAA: ['2001:db8::10'] },
		'_spf.provider.net': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
		'mx.example.com': { A: ['192.0.2.20'] },
		'redir.example': { TXT: ['v=spf1 redirect=example.com'] },
		'two.example': { TXT: ['v=spf1 -all', 'v=spf1 +all'] },
		'dangling.example': { TXT: ['v=spf1 include:nothing.example -all'] },
		'voids.example': { TXT: ['v=spf1 a:n1.example a:n2.example a:n3.example -all'] },
		'exists.example': { TXT: ['v=spf1 exists:%{i}.allow.example -all'] },
		'macro.example': { TXT: ['v=spf1 a:%{d2}.hosts.example -all'] },
		'macro.example.hosts.example': { A: ['192.0.2.99'] },
	};
	zone['example.com'].MX = [{ exchange: 'mx.example.com', priority: 10 }];
	for (let i = 0; i < 12; i++) zone[`i${i}.example`] = { TXT: [`v=spf1 ip4:10.0.${i}.0/24 -all`] };
	zone['many.example'] = { TXT: [`v=spf1 ${Array.from({ length: 11 }, (_, i) => `include:i${i}.example`).join(' ')} -all`] };
	zone['ten.example'] = { TXT: [`v=spf1 ${Array.from({ length: 10 }, (_, i) => `include:i${i}.example`).join(' ')} -all`] };
	const { dns } = fakeDns(zone);

	it('passes by a, mx, ip4 in an include; the qualifier of the matching term decides', async () => {
		expect(await evaluateSpf(dns, 'example.com', '192.0.2.10')).toMatchObject({
			result: 'pass',
			matched: { term: 'a:smtp.example.com', domain: 'example.com' },
		});
		expect(await evaluateSpf(dns, 'example.com', '2001:db8::10')).toMatchObject({ result: 'pass' });
		expect(await evaluateSpf(dns, 'example.com', '192.0.2.20')).toMatchObject({ result: 'pass', matched: { term: 'mx' } });
		expect(await evaluateSpf(dns, 'example.com', '198.51.100.7')).toMatchObject({ result: 'pass', matched: { term: 'include:_spf.provider.net' } });
		expect(await evaluateSpf(dns, 'example.com', '203.0.113.1')).toMatchObject({ result: 'softfail', matched: { term: '~all' } });
		expect(await evaluateSpf(dns, 'redir.example', '192.0.2.10')).toMatchObject({ result: 'pass' });
		expect(await evaluateSpf(dns, 'macro.example', '192.0.2.99')).toMatchObject({ result: 'pass' });
		expect((await evaluateSpf(dns, 'nospf.example', '192.0.2.10')).result).toBe('none');
	});

	it('applies the receivers’ limits: 10 lookups, 2 void lookups, one record, includes that exist', async () => {
		const many = await evaluateSpf(dns, 'many.example', null);
		expect(many).toMatchObject({ result: 'permerror', error: expect.stringMatching(/more than 10 DNS lookups.*include:i10\.example/) });
		// The first include matches, yet a walk of the whole record counts past the limit.
		expect(await evaluateSpf(dns, 'many.example', '10.0.0.1')).toMatchObject({ result: 'pass' });
		expect(await evaluateSpf(dns, 'ten.example', null)).toMatchObject({ result: 'fail', lookups: SPF_LOOKUP_LIMIT });
		expect(await evaluateSpf(dns, 'two.example', '192.0.2.1')).toMatchObject({ result: 'permerror', error: expect.stringMatching(/2 SPF records/) });
		expect(await evaluateSpf(dns, 'dangling.example', '192.0.2.1')).toMatchObject({
			result: 'permerror',
			error: expect.stringMatching(/nothing\.example has no SPF record/),
		});
		expect(await evaluateSpf(dns, 'voids.example', '192.0.2.1')).toMatchObject({
			result: 'permerror',
			error: expect.stringMatching(/more than 2 lookups found nothing/),
		});
		expect(await evaluateSpf(dns, 'example.com', 'not-an-ip')).toMatchObject({ result: 'permerror' });
	});

	it('reports exists as unknown and a failing lookup as temperror', async () => {
		expect(await evaluateSpf(dns, 'exists.example', '192.0.2.1')).toMatchObject({
			result: 'fail',
			unknown: [expect.stringContaining('exists:%{i}.allow.example')],
		});
		const failing: SpfDns = { ...dns, txt: async () => Promise.reject(new Error('server failure')) };
		expect(await evaluateSpf(failing, 'example.com', '192.0.2.1')).toMatchObject({ result: 'temperror', error: 'server failure' });
	});

	it('never throws on random records', async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.array(
					fc.constantFrom('a', 'mx', 'ip4:1.2.3.4/8', 'include:x.example', 'redirect=x.example', '-all', 'exists:%{i}', 'ptr', '?all', 'a:%{d'),
					{ maxLength: 8 },
				),
				async (terms) => {
					const { dns: d } = fakeDns({ 'x.example': { TXT: [`v=spf1 ${terms.join(' ')}`] } });
					const r = await evaluateSpf(d, 'x.example', '1.2.3.4');
					expect(['pass', 'fail', 'softfail', 'neutral', 'none', 'permerror', 'temperror']).toContain(r.result);
				},
			),
			{ numRuns: 100 },
		);
	});
});

describe('DMARC records and alignment', () => {
	it('parses policy, modes, reports', () => {
		expect(parseDmarc('v=DMARC1; p=reject; sp=none; adkim=s; aspf=r; pct=50; rua=mailto:a@example.com,mailto:b@example.com!10m').record).toEqual({
			p: 'reject',
			sp: 'none',
			adkim: 's',
			aspf: 'r',
			pct: 50,
			rua: ['mailto:a@example.com', 'mailto:b@example.com!10m'],
		});
		expect(parseDmarc('v=DMARC1;p=none').record).toMatchObject({ p: 'none', adkim: 'r', aspf: 'r', rua: [], pct: 100 });
	});

	it('names what is malformed, never throws', () => {
		const cases: Array<[string, RegExp]> = [
			['p=reject; v=DMARC1', /does not start with "v=DMARC1"/],
			['v=DMARC1; rua=mailto:a@example.com', /p= .* is missing/],
			['v=DMARC1; p=maybe', /p=maybe is not none, quarantine or reject/],
			['v=DMARC1; p=none; adkim=x', /adkim=x is not r/],
			['v=DMARC1; p=none; p=reject', /tag "p" appears twice/],
			['v=DMARC1; p=none; pct=150', /pct=150/],
			['v=DMARC1; p=none; rua=a@example.com', /rua: "a@example.com" is not a URI/],
			['v=DMARC1; p=none; garbage', /"garbage" is not a tag=value pair/],
		];
		for (const [text, error] of cases) expect(parseDmarc(text).error, text).toMatch(error);
		fc.assert(
			fc.property(fc.string({ maxLength: 120 }), (s) => {
				const r = parseDmarc(`v=DMARC1; ${s}`);
				expect(r.record !== undefined || typeof r.error === 'string').toBe(true);
			}),
			{ numRuns: 200 },
		);
	});

	it('aligns relaxed on the registrable domain, strict on the name', () => {
		expect(aligned('bounces.example.com', 'example.com', 'r')).toBe(true);
		expect(aligned('bounces.example.com', 'example.com', 's')).toBe(false);
		expect(aligned('Example.COM.', 'example.com', 's')).toBe(true);
		expect(aligned('a.example.co.uk', 'b.example.co.uk', 'r')).toBe(true);
		expect(aligned('x.github.io', 'y.github.io', 'r')).toBe(false);
		expect(aligned('other.com', 'example.com', 'r')).toBe(false);
		expect(aligned('', 'example.com', 'r')).toBe(false);
	});
});

describe('DKIM key records', () => {
	const key = rsa();
	const pub = dkimPublicKeyOf(key);

	it('derives the published key of RSA and Ed25519 private keys and matches records', () => {
		if ('error' in pub) throw new Error(pub.error);
		expect(pub).toMatchObject({ k: 'rsa', bits: 2048 });
		expect(dkimKeyMismatch(parseDkimKey(`v=DKIM1; k=rsa; p=${pub.p}`).record!, pub)).toBe('');
		// A record folded into several strings with blanks in p= is the same key.
		expect(dkimKeyMismatch(parseDkimKey(`v=DKIM1; k=rsa; p=${pub.p.slice(0, 100)} ${pub.p.slice(100)}`).record!, pub)).toBe('');
		// The bare RSAPublicKey form some tools publish.
		const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 1024 });
		const p1 = dkimPublicKeyOf(pkcs1.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
		if ('error' in p1) throw new Error(p1.error);
		expect(dkimKeyMismatch({ k: 'rsa', p: pkcs1.publicKey.export({ type: 'pkcs1', format: 'der' }).toString('base64'), testing: false }, p1)).toBe(
			'',
		);
		const e = dkimPublicKeyOf(ed());
		if ('error' in e) throw new Error(e.error);
		expect(Buffer.from(e.p, 'base64')).toHaveLength(32);
		expect(dkimKeyMismatch(parseDkimKey(`v=DKIM1; k=ed25519; p=${e.p}`).record!, e)).toBe('');
	});

	it('tells another key, a revoked key, a wrong type', () => {
		if ('error' in pub) throw new Error(pub.error);
		const other = dkimPublicKeyOf(rsa(1024));
		if ('error' in other) throw new Error(other.error);
		expect(dkimKeyMismatch(parseDkimKey(`v=DKIM1; p=${other.p}`).record!, pub)).toMatch(/another key/);
		expect(dkimKeyMismatch(parseDkimKey('v=DKIM1; p=').record!, pub)).toMatch(/revoked/);
		expect(dkimKeyMismatch(parseDkimKey(`v=DKIM1; k=ed25519; p=${pub.p}`).record!, pub)).toMatch(/k=ed25519, the private key is rsa/);
		expect(dkimKeyMismatch(parseDkimKey('v=DKIM1; p=AAAA').record!, pub)).toMatch(/not an RSA public key/);
	});

	it('reads keys pasted into one-line fields; names what is wrong with others', () => {
		expect(dkimPublicKeyOf(key.replace(/\n/g, '\\n'))).toEqual(pub);
		expect(dkimPublicKeyOf(key.replace(/\n/g, ' '))).toEqual(pub);
		expect(dkimPublicKeyOf('')).toEqual({ error: 'the private key is empty' });
		expect(dkimPublicKeyOf('-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----')).toMatchObject({
			error: expect.stringMatching(/DKIM private key cannot be read/),
		});
		const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
		expect(dkimPublicKeyOf(ec)).toMatchObject({ error: expect.stringMatching(/RSA or Ed25519; this one is ec/) });
	});

	it('parses key records and names what is malformed, never throws', () => {
		expect(parseDkimKey('v=DKIM1; k=rsa; t=y:s; h=sha256; p=AB+/')).toMatchObject({
			record: { k: 'rsa', p: 'AB+/', testing: true, hashes: ['sha256'] },
		});
		const cases: Array<[string, RegExp]> = [
			['k=rsa; v=DKIM1; p=AB', /v= must come first/],
			['v=DKIM2; p=AB', /v= must come first and be DKIM1/],
			['v=DKIM1; k=dsa; p=AB', /unknown key type/],
			['v=DKIM1; k=rsa', /p= .* is missing/],
			['v=DKIM1; p=not*base64', /p= is not base64/],
			['v=DKIM1; p=AB; p=CD', /appears twice/],
		];
		for (const [text, error] of cases) expect(parseDkimKey(text).error, text).toMatch(error);
		fc.assert(
			fc.property(fc.string({ maxLength: 120 }), (s) => {
				const r = parseDkimKey(s);
				expect(r.record !== undefined || typeof r.error === 'string').toBe(true);
			}),
			{ numRuns: 200 },
		);
	});
});

describe('the check over a zone', () => {
	const key = rsa();
	const p = (dkimPublicKeyOf(key) as { p: string }).p;
	const zone: Zone = {
		'example.com': { TXT: ['v=spf1 a:smtp.example.com -all'], MX: [{ exchange: 'mx.example.com', priority: 10 }] },
		'smtp.example.com': { A: ['192.0.2.10'] },
		'mx.example.com': { A: ['192.0.2.20'] },
		's1._domainkey.example.com': { TXT: [`v=DKIM1; k=rsa; p=${p}`] },
		'_dmarc.example.com': { TXT: ['v=DMARC1; p=reject; rua=mailto:d@example.com'] },
	};
	const target = (extra: Partial<DomainCheckTarget> = {}): DomainCheckTarget => ({
		mailbox: 'sales@example.com',
		fromDomain: 'example.com',
		envelopeDomain: 'example.com',
		replyDomain: 'example.com',
		sendingHost: 'smtp.example.com',
		sendingIps: [],
		dkim: { domainName: 'example.com', keySelector: 's1', privateKey: key },
		...extra,
	});

	it('a domain with everything right is ok throughout, and a pool shares its lookups', async () => {
		const { dns, calls } = fakeDns(zone);
		const findings = await checkSendingDomains([target(), target({ mailbox: 'anna@example.com' })], dns);
		expect(findings.map((f) => `${f.check}:${f.status}`)).toEqual(
			Array(2).fill(['spf:ok', 'dkim:ok', 'dmarc:ok', 'alignment:ok', 'mx-reply:ok', 'mx-bounce:ok']).flat(),
		);
		expect(calls.length).toBe(new Set(calls).size);
		expect(domainCheckSummary(findings)).toMatchObject({ status: 'ok', counts: { ok: 12, warn: 0, fail: 0 } });
	});

	it('a sender without DKIM is warned with how to set it up; a sending host on a private address too', async () => {
		const { dns } = fakeDns({ ...zone, 'smtp.example.com': { A: ['10.1.2.3'] } });
		const [spf, dkim, , alignment] = await checkSendingDomains([target({ dkim: undefined, sendingIps: [] })], dns);
		expect(dkim).toMatchObject({ status: 'warn', detail: expect.stringMatching(/not DKIM-signed/), fix: expect.stringMatching(/openssl genpkey/) });
		expect(spf).toMatchObject({
			status: 'fail',
			detail: expect.stringMatching(/10\.1\.2\.3, a private or loopback address/),
			fix: expect.stringMatching(/Sending IPs/),
		});
		expect(alignment.status).toBe('fail');
		// A relay on a private address that sends from a public one: the Sending IPs are what SPF must hold.
		const relayed = {
			...zone,
			'smtp.example.com': { A: ['10.1.2.3'] },
			'example.com': { ...zone['example.com'], TXT: ['v=spf1 ip4:192.0.2.10 -all'] },
		};
		expect((await checkSendingDomains([target({ sendingIps: ['192.0.2.10'] })], fakeDns(relayed).dns))[0]).toMatchObject({ status: 'ok' });
		expect((await checkSendingDomains([target({ sendingIps: ['192.0.2.11'] })], fakeDns(relayed).dns))[0]).toMatchObject({
			status: 'fail',
			fix: 'TXT record at example.com: v=spf1 ip4:192.0.2.11 ip4:192.0.2.10 -all',
		});
	});

	it('a server that answers but times out on one name: only the findings that need it are not checked', async () => {
		const { dns } = fakeDns(zone);
		const slowDkim: SpfDns = {
			...dns,
			txt: async (name) =>
				name.includes('_domainkey')
					? Promise.reject(new DomainDnsTimeout(`DNS server 127.0.0.1:9 did not answer (TXT ${name}) within 20 ms`))
					: dns.txt(name),
		};
		const findings = await checkSendingDomains([target()], slowDkim);
		expect(findings.map((f) => `${f.check}:${f.status}`)).toEqual([
			'spf:ok',
			'dkim:warn',
			'dmarc:ok',
			'alignment:warn',
			'mx-reply:ok',
			'mx-bounce:ok',
		]);
		expect(findings[1].detail).toMatch(/^Not checked: .*TXT s1\._domainkey\.example\.com/);
	});

	it('a resolver that does not answer: every finding warns with the message, after one timeout', async () => {
		let asked = 0;
		const silent = async (): Promise<never> => {
			asked++;
			await new Promise((r) => setTimeout(r, 20));
			throw new DomainDnsTimeout('DNS server 127.0.0.1:9 did not answer (TXT example.com) within 20 ms');
		};
		const findings = await checkSendingDomains(
			[target(), target({ mailbox: 'b@example.com' }), target({ mailbox: 'c@example.com', envelopeDomain: 'bounces.example.com' })],
			{
				txt: silent,
				a: silent,
				aaaa: silent,
				mx: silent,
			},
		);
		expect(findings.length).toBeGreaterThan(18);
		for (const f of findings)
			expect(f).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^Not checked: DNS server 127\.0\.0\.1:9 did not answer/) });
		// The lookups started before the first timeout; none after it.
		expect(asked).toBeLessThanOrEqual(12);
		expect(domainCheckSummary(findings).message.length).toBeLessThanOrEqual(600);
	});
});
