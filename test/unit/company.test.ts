import fc from 'fast-check';
import { getPublicSuffix } from 'tldts';
import { describe, expect, it } from 'vitest';
import { companyOf, MAX_HOST_LENGTH } from '../../core/company';

describe('companyOf', () => {
	it.each([
		['a.example.co.uk', 'example.co.uk'],
		['b.example.co.uk', 'example.co.uk'],
		['someone@deep.mail.example.co.uk', 'example.co.uk'],
		['x.github.io', 'x.github.io'],
		['y.github.io', 'y.github.io'],
		['pages@docs.x.github.io', 'x.github.io'],
		['Anna@Mail.Example.COM', 'example.com'],
		['  anna@example.com  ', 'example.com'],
		['Anna Smith <anna@sales.example.com>', 'example.com'],
		['a@example.com.', 'example.com'],
		['a@b@sales.example.org', 'example.org'],
		['bücher.de', 'xn--bcher-kva.de'],
		['info@mail.bücher.de', 'xn--bcher-kva.de'],
		['info@MAIL.BÜCHER.DE', 'xn--bcher-kva.de'],
		['info@xn--bcher-kva.de', 'xn--bcher-kva.de'],
		['a@例子.中国', 'xn--fsqu00a.xn--fiqs8s'],
		['user@[10.0.0.1]', '10.0.0.1'],
		['user@10.0.0.1', '10.0.0.1'],
		['user@[IPv6:2001:db8::1]', '2001:db8::1'],
		['github.io', 'github.io'],
		['co.uk', 'co.uk'],
		['a@localhost', 'localhost'],
		['no-at-sign', 'no-at-sign'],
		['', ''],
		['a@', ''],
		['@', ''],
		['a@...', ''],
		['a@[]', ''],
		['a@ex ample.com', ''],
		['a@a..example.com', ''],
		['!../', ''],
		['a@_x.example.com', 'example.com'],
	])('%j → %j', (input, company) => {
		expect(companyOf(input)).toBe(company);
	});

	it('is empty for what is not a string', () => {
		for (const v of [null, undefined, 42, {}, ['a@b.com'], Symbol('x'), () => 'a@b.com']) expect(companyOf(v)).toBe('');
	});

	it('is empty for a host longer than DNS allows, or a Unicode name that is no valid IDN', () => {
		const label = 'a'.repeat(60);
		const long = `${label}.${label}.${label}.${label}.example.com`; // 258 characters
		expect(long.length).toBeGreaterThan(MAX_HOST_LENGTH);
		expect(companyOf(`x@${long}`)).toBe('');
		expect(companyOf(`x@${long.slice(long.length - MAX_HOST_LENGTH)}`)).toBe('example.com');
		const unicode = `${new Array(30).fill('bücher').join('.')}.de`; // 212 characters, 483 in ASCII
		expect(unicode.length).toBeLessThanOrEqual(MAX_HOST_LENGTH);
		expect(companyOf(`x@${unicode}`)).toBe('');
		expect(companyOf('x@a\u200d\u0301.de')).toBe(''); // a label starting with a combining mark is no valid IDN
	});

	it('gives every address of one registrable domain one company, and different registrable domains different ones', () => {
		const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
		fc.assert(
			fc.property(fc.array(label, { maxLength: 3 }), label, fc.constantFrom('com', 'co.uk', 'de', 'com.au', 'github.io'), (subs, name, suffix) => {
				if (/^\d+$/.test(name)) return; // a numeric label is not what a company registers
				const host = [...subs, name, suffix].join('.');
				// A random label can make a listed suffix of its own (com.de, blogspot.com): then the company is longer.
				if (getPublicSuffix(host, { allowPrivateDomains: true }) !== suffix) return;
				expect(companyOf(`someone@${host.toUpperCase()}`)).toBe(`${name}.${suffix}`);
				expect(companyOf(host)).toBe(`${name}.${suffix}`);
			}),
			{ numRuns: 200 },
		);
	});

	it('never throws; returns a lower-case ASCII host name of at most 253 characters that is its own company', () => {
		const anything = fc.oneof(
			fc.string({ maxLength: 300 }),
			fc.string({ unit: 'grapheme', maxLength: 80 }),
			fc.string({ unit: 'binary', maxLength: 80 }),
			fc.stringMatching(/^[a-zA-Z0-9.@[\]:_ü -]{0,40}$/),
		);
		fc.assert(
			fc.property(anything, (s) => {
				const c = companyOf(s);
				expect(typeof c).toBe('string');
				expect(c.length).toBeLessThanOrEqual(MAX_HOST_LENGTH);
				if (c) expect(c).toMatch(/^[a-z0-9_:-]+(\.[a-z0-9_:-]+)*$/);
				// a caller may pass a company where a host is expected
				expect(companyOf(c)).toBe(c);
			}),
			{ numRuns: 200 },
		);
	});

	it('answers for a long input in bounded time', () => {
		const t0 = Date.now();
		expect(companyOf(`${'@'.repeat(1_000_000)}example.com`)).toBe('example.com');
		expect(companyOf('a'.repeat(1_000_000))).toBe('');
		expect(Date.now() - t0).toBeLessThan(2000);
	});
});
