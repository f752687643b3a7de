/** Address verification, the pure part: syntax (RFC 5321/6531, IDN), role accounts, disposable list, verdicts, reuse. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	checkAddressSyntax,
	combineResult,
	createDisposableChecker,
	createRoleMatcher,
	domainVerdict,
	MAX_LOCAL_PART_OCTETS,
	precheckAddress,
	reusableResult,
	readVerification,
	timeoutVerdict,
	type PreCheck,
} from '../../core/verify';

const ok = (raw: unknown) => {
	const r = checkAddressSyntax(raw);
	if (!r.ok) throw new Error(`expected ${String(raw)} to pass: ${r.detail}`);
	return r;
};
const bad = (raw: unknown) => {
	const r = checkAddressSyntax(raw);
	if (r.ok) throw new Error(`expected ${String(raw)} to fail`);
	return r.detail;
};

describe('checkAddressSyntax', () => {
	it.each([
		['john.doe@example.com', 'john.doe', 'example.com'],
		["o'brien+news@Mail.Example.CO.UK", "o'brien+news", 'mail.example.co.uk'],
		['"john doe"@example.com', '"john doe"', 'example.com'],
		['"a\\"b"@example.com', '"a\\"b"', 'example.com'],
		['  x@y.io  ', 'x', 'y.io'],
		['x@example.com.', 'x', 'example.com'],
	])('%s is valid', (raw, local, domain) => {
		const r = ok(raw);
		expect(r.local).toBe(local);
		expect(r.domain).toBe(domain);
		expect(r.utf8Local).toBe(false);
	});

	it('an IDN domain is checked and looked up in its ASCII form; a UTF-8 local part needs SMTPUTF8 (RFC 6531)', () => {
		const idn = ok('info@bücher.de');
		expect(idn.domain).toBe('xn--bcher-kva.de');
		expect(idn.unicodeDomain).toBe('bücher.de');
		const utf8 = ok('пользователь@пример.рф');
		expect(utf8.domain).toBe('xn--e1afmkfd.xn--p1ai');
		expect(utf8.utf8Local).toBe(true);
		expect(ok('用户@例え.テスト').domain).toBe('xn--r8jz45g.xn--zckzah');
	});

	it.each([
		['', 'empty'],
		['no-at.example.com', '"@"'],
		['@example.com', 'local part'],
		['a@', 'domain'],
		['a..b@example.com', 'two dots'],
		['.a@example.com', 'starts with a dot'],
		['a.@example.com', 'ends with a dot'],
		['a b@example.com', 'quoting'],
		['a@-x.com', 'hyphen'],
		['a@localhost', 'no dot'],
		['a@1.2.3.4', 'numeric'],
		['a@[1.2.3.4]', 'literals'],
		['a@x..com', ''],
		['a@exa mple.com', 'blanks'],
		['a@xn--zz.com', 'no valid'],
		['a@under_score.com', 'characters'],
		[`${'a'.repeat(MAX_LOCAL_PART_OCTETS + 1)}@example.com`, 'longer than 64'],
		[`${'я'.repeat(33)}@example.com`, 'longer than 64'],
		[`a@${'x'.repeat(64)}.com`, 'longer than 63'],
		['"a"b"@example.com', 'quote'],
		['a\u0000b@example.com', 'control character'],
		['a\u2028b@example.com', 'U+2028'],
	])('%s is invalid (%s)', (raw, words) => {
		expect(bad(raw)).toContain(words);
	});

	it('non-text is invalid with the type named', () => {
		expect(bad(42)).toBe('expected text, got number');
		expect(bad(null)).toBe('expected text, got null');
	});

	it('property: never throws; a valid result has an LDH ASCII domain and a local part within 64 octets', () => {
		fc.assert(
			fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.emailAddress(), fc.anything()), (raw) => {
				const r = checkAddressSyntax(raw);
				if (r.ok) {
					expect(r.domain).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/);
					expect(Buffer.byteLength(r.local)).toBeLessThanOrEqual(MAX_LOCAL_PART_OCTETS);
				} else expect(r.detail.length).toBeGreaterThan(0);
			}),
			{ numRuns: 200 },
		);
	});

	it('property: addresses fast-check builds by RFC 5322 dot-atoms are accepted', () => {
		fc.assert(
			fc.property(fc.emailAddress(), (raw) => {
				const r = checkAddressSyntax(raw);
				// fast-check may build local parts over 64 octets or numeric TLDs; everything else must pass
				const local = raw.slice(0, raw.lastIndexOf('@'));
				const tld = raw.slice(raw.lastIndexOf('.') + 1);
				const total = raw.length;
				if (local.length <= 64 && !/^\d+$/.test(tld) && total <= 254 && !/(^|\.)-|-(\.|$)/.test(raw.slice(raw.lastIndexOf('@') + 1)))
					expect(r.ok).toBe(true);
			}),
			{ numRuns: 200 },
		);
	});
});

describe('role accounts', () => {
	const roleOf = createRoleMatcher();
	it.each([
		['postmaster', 'postmaster'],
		['No-Reply', 'noreply'],
		['no_reply+bounce', 'noreply'],
		['Web.Master', 'webmaster'],
		['support', 'support'],
	])('%s is the role %s', (local, role) => expect(roleOf(local)).toBe(role));
	it.each(['info', 'sales', 'john', 'hrvoje', 'administration-team'])('%s is a person (or read by the owner)', (local) =>
		expect(roleOf(local)).toBeNull(),
	);
	it('a custom list replaces the default', () => {
		const m = createRoleMatcher(['info@', 'office']);
		expect(m('info')).toBe('info');
		expect(m('postmaster')).toBeNull();
	});
});

describe('disposable domains (maintained list package)', () => {
	const disposableOf = createDisposableChecker();
	it('a listed domain and its subdomains are disposable, others are not', () => {
		expect(disposableOf('mailinator.com')).toBe('mailinator.com');
		expect(disposableOf('eu.mailinator.com')).toBe('mailinator.com');
		expect(disposableOf('example.com')).toBeNull();
		expect(disposableOf('mailinator.com.example')).toBeNull();
	});
	it('allow removes a domain, extra adds one', () => {
		const c = createDisposableChecker({ allow: ['mailinator.com'], extra: ['burner.example'] });
		expect(c('mailinator.com')).toBeNull();
		expect(c('x.burner.example')).toBe('burner.example');
	});
});

describe('domain verdicts', () => {
	const mx = (...hosts: string[]) => ({ status: 'ok' as const, records: hosts.map((exchange, i) => ({ exchange, priority: i * 10 })) });
	const none = { status: 'nodata' as const, records: [] };
	it('MX records make the domain deliverable, listing the exchangers', () => {
		expect(domainVerdict('a.test', mx('mx1.a.test', 'mx2.a.test'))).toMatchObject({
			status: 'deliverable',
			reason: 'mx',
			mx: ['mx1.a.test', 'mx2.a.test'],
		});
	});
	it('NXDOMAIN, null MX (RFC 7505) and no MX nor A are undeliverable; an A record is the implicit MX', () => {
		expect(domainVerdict('a.test', { status: 'nxdomain', records: [] }).reason).toBe('nxdomain');
		expect(domainVerdict('a.test', mx(''))).toMatchObject({ status: 'undeliverable', reason: 'null-mx' });
		expect(domainVerdict('a.test', none, { a: { status: 'ok', records: ['192.0.2.1'] } })).toMatchObject({
			status: 'deliverable',
			reason: 'a-fallback',
			mx: ['a.test'],
		});
		expect(domainVerdict('a.test', none, { a: none, aaaa: { status: 'ok', records: ['2001:db8::1'] } }).reason).toBe('a-fallback');
		expect(domainVerdict('a.test', none, { a: none, aaaa: none })).toMatchObject({ status: 'undeliverable', reason: 'no-mx' });
	});
});

describe('precheck and combined results', () => {
	const opts = { disposableOf: createDisposableChecker(), roleOf: createRoleMatcher(), rolePolicy: 'flag' as const };
	const pending = (raw: string, o = opts) => precheckAddress(raw, o) as Extract<PreCheck, { final: false }>;
	const good = { status: 'deliverable' as const, reason: 'mx' as const, detail: 'ok', mx: ['mx.a.test'] };

	it('syntax and disposable are final without DNS', () => {
		expect(precheckAddress('a..b@x.test', opts)).toMatchObject({ final: true, result: { status: 'undeliverable', reason: 'invalid-syntax' } });
		expect(precheckAddress('x@mailinator.com', opts)).toMatchObject({ final: true, result: { status: 'undeliverable', reason: 'disposable' } });
	});
	it('a role account is risky when flagged (even when accepted), undeliverable when so configured', () => {
		expect(combineResult(pending('postmaster@a.test'), good)).toMatchObject({ status: 'risky', reason: 'role-account', role: 'postmaster' });
		expect(combineResult(pending('postmaster@a.test'), good, { reason: 'rcpt-accepted', detail: '250' }).status).toBe('risky');
		expect(precheckAddress('postmaster@a.test', { ...opts, rolePolicy: 'undeliverable' })).toMatchObject({
			final: true,
			result: { status: 'undeliverable', reason: 'role-account' },
		});
	});
	it('a dead domain wins; a DNS timeout is unknown, never undeliverable', () => {
		expect(combineResult(pending('john@a.test'), timeoutVerdict('a.test'))).toMatchObject({ status: 'unknown', reason: 'dns-timeout' });
		expect(combineResult(pending('postmaster@a.test'), domainVerdict('a.test', { status: 'nxdomain', records: [] })).reason).toBe('nxdomain');
	});
	it('probe outcomes: rejected → undeliverable, deferred → unknown, catch-all → risky, accepted → deliverable', () => {
		const p = pending('john@a.test');
		expect(combineResult(p, good, { reason: 'rcpt-rejected', detail: '550' }).status).toBe('undeliverable');
		expect(combineResult(p, good, { reason: 'rcpt-deferred', detail: '450' }).status).toBe('unknown');
		expect(combineResult(p, good, { reason: 'catch-all', detail: '' }).status).toBe('risky');
		expect(combineResult(p, good, { reason: 'rcpt-accepted', detail: '250' })).toMatchObject({ status: 'deliverable', reason: 'rcpt-accepted' });
		expect(combineResult(p, good)).toMatchObject({ status: 'deliverable', reason: 'mx', mx: ['mx.a.test'], domain: 'a.test' });
	});
});

describe('stored results', () => {
	const now = Date.parse('2026-06-01T12:00:00Z');
	const day = 86_400_000;
	const r = (status: string, checkedAt: string) => ({ status, reason: 'mx', detail: '', checkedAt });
	it('a definite result within the lifetime stands; old, future, unknown or malformed ones do not', () => {
		expect(reusableResult(r('deliverable', '2026-06-01T00:00:00Z'), now, day)).not.toBeNull();
		expect(reusableResult(JSON.stringify(r('undeliverable', '2026-06-01T00:00:00Z')), now, day)?.status).toBe('undeliverable');
		expect(reusableResult(r('deliverable', '2026-05-30T00:00:00Z'), now, day)).toBeNull();
		expect(reusableResult(r('deliverable', '2026-06-02T00:00:00Z'), now, day)).toBeNull();
		expect(reusableResult(r('unknown', '2026-06-01T00:00:00Z'), now, day)).toBeNull();
		expect(reusableResult(r('gone', '2026-06-01T00:00:00Z'), now, day)).toBeNull();
		expect(reusableResult('{not json', now, day)).toBeNull();
	});
	it('property: reading any value never throws', () => {
		fc.assert(
			fc.property(fc.oneof(fc.anything(), fc.json()), (v) => {
				reusableResult(v, now, day);
				readVerification(v);
			}),
			{ numRuns: 200 },
		);
	});
});
