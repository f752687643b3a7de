import { describe, expect, it } from 'vitest';
import { applyViews, createViewEvaluator, DEFAULT_EXCLUDED_VIEWS, evaluateViews, presetViews, type ViewDefinition } from '../../core/views';
import { parseAddress } from '../../core/address';
import { companyOf } from '../../core/company';
import fc from 'fast-check';

const presets = presetViews();
const noSend = presets.filter((v) => v.name === 'no-send');

describe('preset views', () => {
	it.each([
		['hr@acme.com', 'localPartStartsWith', 'hr@'],
		['noreply@acme.com', 'localPartStartsWith', 'noreply@'],
		['Marketing@Acme.com', 'localPartStartsWith', 'marketing@'],
		['jobs@acme.com', 'localPartStartsWith', 'jobs@'],
		['customerservice@acme.com', 'localPartStartsWith', 'customerservice@'],
		['bob@qq.com', 'domainEndsWith', 'qq.com'],
		['bob@vip.qq.com', 'domainEndsWith', 'qq.com'],
		['bob@163.com', 'domainEndsWith', '163.com'],
		['bob@aliyun.com', 'domainEndsWith', 'aliyun.com'],
		['bob@263.com', 'domainEndsWith', '263.com'],
		['bob@88.com', 'domainEndsWith', '88.com'],
		['bob@188.com', 'domainEndsWith', '188.com'],
		['bob@factory.cn', 'domainEndsWith', '.cn'],
		['bob@factory.com.tw', 'domainEndsWith', '.tw'],
		['bob@factory.hk', 'domainEndsWith', '.hk'],
		['bob@factory.co.in', 'domainEndsWith', '.in'],
		['bob@agency.gov.uk', 'domainHasLabel', 'gov'],
		['bob@charity.org', 'domainHasLabel', 'org'],
		['bob@uni.edu', 'domainHasLabel', 'edu'],
	])('no-send excludes %s by %s %s', (email, rule, value) => {
		expect(evaluateViews({ email, tags: [] }, noSend)).toContainEqual({ view: 'no-send', rule, value });
	});

	it.each(['info@acme.com', 'sales@acme.com', 'hrm@acme.com', 'bob@notqq.com', 'bob@x188.com', 'bob@china.com', 'bob@cnc.com', 'bob@india.de'])(
		'no-send keeps %s',
		(email) => expect(evaluateViews({ email, tags: [] }, noSend)).toEqual([]),
	);

	it('tag-group views see read, intent and risk tags', () => {
		const contact = {
			email: 'bob@acme.com',
			tags: ['English-Dealers-Marketing05', 'English-Dealers-Read05', 'Intent-Asked price', 'Risk-Competitor'],
		};
		expect(evaluateViews(contact, presets)).toEqual([
			{ view: 'read', rule: 'hasTagInGroup', value: 'English-Dealers-Read05' },
			{ view: 'intent', rule: 'hasTagInGroup', value: 'Intent-Asked price' },
			{ view: 'risk', rule: 'hasTagInGroup', value: 'Risk-Competitor' },
		]);
		expect(evaluateViews({ email: 'bob@acme.com', tags: ['English-Dealers-Marketing05'] }, presets)).toEqual([]);
	});

	it('lists are editable', () => {
		const views = presetViews({ localPartStartsWith: ['support'], addressContains: [] });
		const ns = views.filter((v) => v.name === 'no-send');
		expect(evaluateViews({ email: 'support-team@acme.com' }, ns)).toEqual([{ view: 'no-send', rule: 'localPartStartsWith', value: 'support' }]);
		expect(evaluateViews({ email: 'hr@acme.com' }, ns)).toEqual([]);
		expect(evaluateViews({ email: 'bob@charity.org' }, ns)).toEqual([]);
	});
});

describe('custom views', () => {
	it('supports every rule type, any/all matching, and reports every matching rule', () => {
		const views: ViewDefinition[] = [
			{ name: 'vip', rules: [{ type: 'hasTag', values: ['VIP', 'Customer-*'] }] },
			{
				name: 'competitors',
				match: 'all',
				rules: [
					{ type: 'domainEndsWith', values: ['rival.com'] },
					{ type: 'regex', pattern: '^(ceo|cto)$', target: 'local' },
				],
			},
			{
				name: 'test-addresses',
				rules: [
					{ type: 'regex', pattern: '\\+test', target: 'address' },
					{ type: 'addressContains', values: ['example'] },
				],
			},
			{
				name: 'tagged',
				rules: [
					{ type: 'regex', pattern: '^Trade show', target: 'tag' },
					{ type: 'hasTagInGroup', groups: ['intent', 'risk'] },
				],
			},
		];
		const ev = createViewEvaluator(views);
		expect(ev({ email: 'ceo@rival.com' })).toEqual([
			{ view: 'competitors', rule: 'domainEndsWith', value: 'rival.com' },
			{ view: 'competitors', rule: 'regex', value: 'ceo' },
		]);
		expect(ev({ email: 'sales@rival.com' })).toEqual([]); // 'all' needs both rules
		expect(ev({ email: 'bob+test@example.com' })).toHaveLength(2);
		expect(ev({ email: 'a@b.com', tags: ['Customer-2024'] })).toEqual([{ view: 'vip', rule: 'hasTag', value: 'Customer-2024' }]);
		expect(ev({ email: 'a@b.com', tags: ['Trade show 2025', 'Risk-Not target'] })).toEqual([
			{ view: 'tagged', rule: 'regex', value: 'Trade show 2025' },
			{ view: 'tagged', rule: 'hasTagInGroup', value: 'Risk-Not target' },
		]);
	});

	it('refuses malformed views with a clear message', () => {
		expect(() => createViewEvaluator([{ name: 'x', rules: [{ type: 'regex', pattern: '(' }] }])).toThrow(/x rule 1: invalid regular expression/);
		expect(() => createViewEvaluator([{ name: 'x', rules: [] }])).toThrow(/no rules/);
		expect(() => createViewEvaluator([{ name: 'x', rules: [{ type: 'hasTagInGroup', groups: [] }] }])).toThrow(/at least one group/);
		expect(() => createViewEvaluator([{ name: 'x', rules: [{ type: 'nope' as never }] }])).toThrow(/unknown rule type/);
		expect(() => createViewEvaluator([{ name: 'x', rules: [{ type: 'domainEndsWith' }] }])).toThrow(/list of values/);
	});
});

describe('invalid addresses', () => {
	it.each([
		['no-at-sign'],
		[''],
		['   '],
		['a b@c.com'],
		['bob@localhost'],
		['bob@-bad-.com'],
		['@acme.com'],
		['bob@'],
		[null],
		[42],
		['bob@acme.123'],
		['bob@@acme.com'],
		['x'.repeat(65) + '@a.com'],
	])('%j is excluded as invalid-address, never a crash', (email) => {
		const m = evaluateViews({ email, tags: [] }, presets);
		expect(m).toHaveLength(1);
		expect(m[0].view).toBe('invalid-address');
		expect(m[0].value.length).toBeGreaterThan(5);
	});
	it('accepts ordinary addresses', () => {
		for (const e of ['bob.smith@acme.co.uk', "o'neil@acme.ie", 'a+b@x-y.com', 'BOB@ACME.COM']) expect(parseAddress(e), e).not.toBeNull();
	});
});

describe('applyViews', () => {
	it('silent cadence excludes read/intent/risk/no-send, read cadence keeps readers', () => {
		const contacts = [
			{ email: 'a@acme.com', tags: ['English-Dealers-Marketing05'] },
			{ email: 'b@acme.com', tags: ['English-Dealers-Marketing05', 'English-Dealers-Read05'] },
			{ email: 'hr@acme.com', tags: [] },
			{ email: 'c@acme.com', tags: ['Risk-Unsubscribed'] },
			{ email: 'broken', tags: [] },
		];
		const silent = applyViews(contacts, { views: presets, exclude: DEFAULT_EXCLUDED_VIEWS.silent });
		expect(silent.kept).toEqual([0]);
		expect(silent.excluded.map((e) => [e.index, e.excludedBy[0].view])).toEqual([
			[1, 'read'],
			[2, 'no-send'],
			[3, 'risk'],
			[4, 'invalid-address'],
		]);
		const read = applyViews(contacts, { views: presets, exclude: DEFAULT_EXCLUDED_VIEWS.read });
		expect(read.kept).toEqual([0, 1]);
	});

	it('caps messages per recipient company per run (and counts what was already sent today)', () => {
		const contacts = Array.from({ length: 25 }, (_, i) => ({ email: `u${i}@Acme.com`, tags: [] }));
		const r = applyViews(contacts, { views: presets });
		expect(r.kept).toHaveLength(20);
		expect(r.excluded.map((e) => e.index)).toEqual([20, 21, 22, 23, 24]);
		expect(r.excluded[0].excludedBy).toEqual([{ view: 'domain-cap', rule: 'domainCap', value: 'acme.com: more than 20 today' }]);
		expect(applyViews(contacts, { views: presets, domainCap: 0 }).kept).toHaveLength(25);
		expect(applyViews(contacts, { views: presets, alreadySentByDomain: { 'ACME.com': 18 } }).kept).toEqual([0, 1]);
	});

	it('caps per company: sibling hosts share the cap, x.github.io and y.github.io do not, and the value names the company', () => {
		const hosts = ['a.example.co.uk', 'b.example.co.uk', 'example.co.uk'];
		const contacts = Array.from({ length: 9 }, (_, i) => ({ email: `u${i}@${hosts[i % 3]}`, tags: [] }));
		const r = applyViews(contacts, { views: presets, domainCap: 4 });
		expect(r.kept).toEqual([0, 1, 2, 3]);
		expect(r.excluded.map((e) => e.excludedBy[0].value)).toEqual(new Array(5).fill('example.co.uk: more than 4 today'));
		const pages = [...Array.from({ length: 3 }, (_, i) => ({ email: `p${i}@x.github.io`, tags: [] })), { email: 'q@y.github.io', tags: [] }];
		expect(applyViews(pages, { views: presets, domainCap: 2 }).kept).toEqual([0, 1, 3]);
	});

	it('reads alreadySentByDomain by company whether keyed by host or company, adding the keys of one company', () => {
		const contacts = Array.from({ length: 6 }, (_, i) => ({ email: `u${i}@sales.acme.com`, tags: [] }));
		expect(applyViews(contacts, { views: presets, domainCap: 5, alreadySentByDomain: { 'mail.acme.com': 2 } }).kept).toEqual([0, 1, 2]);
		expect(applyViews(contacts, { views: presets, domainCap: 5, alreadySentByDomain: { 'ACME.com.': 1, 'eu.Acme.com': 2 } }).kept).toEqual([0, 1]);
		expect(applyViews(contacts, { views: presets, domainCap: 5, alreadySentByDomain: { 'acme.co.uk': 5 } }).kept).toHaveLength(5);
		expect(() => applyViews(contacts, { views: presets, alreadySentByDomain: { 'acme.com': '3' as unknown as number } })).toThrow(
			/alreadySentByDomain\["acme.com"\] must be a number ≥ 0, got "3"/,
		);
		expect(() => applyViews(contacts, { views: presets, alreadySentByDomain: { 'acme.com': -1 } })).toThrow(/got -1/);
	});

	it('property: no company keeps more than the cap, counting what was already sent', () => {
		const host = fc.constantFrom('a.example.co.uk', 'b.example.co.uk', 'example.co.uk', 'x.github.io', 'y.github.io', 'other.com', 'mail.other.com');
		fc.assert(
			fc.property(fc.array(host, { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), fc.dictionary(host, fc.nat(6)), (hosts, cap, sent) => {
				const contacts = hosts.map((h, i) => ({ email: `u${i}@${h}`, tags: [] }));
				const r = applyViews(contacts, { views: presets, domainCap: cap, alreadySentByDomain: sent });
				const kept = new Map<string, number>();
				for (const i of r.kept) kept.set(companyOf(hosts[i]), (kept.get(companyOf(hosts[i])) ?? 0) + 1);
				const before = new Map<string, number>();
				for (const [h, n] of Object.entries(sent)) before.set(companyOf(h), (before.get(companyOf(h)) ?? 0) + n);
				for (const [c, n] of kept) expect(n + (before.get(c) ?? 0)).toBeLessThanOrEqual(cap);
				// nothing is held back while its company is under the cap
				for (const e of r.excluded)
					expect((kept.get(companyOf(hosts[e.index])) ?? 0) + (before.get(companyOf(hosts[e.index])) ?? 0)).toBeGreaterThanOrEqual(cap);
			}),
			{ numRuns: 100 },
		);
	});

	it('names an unknown excluded view', () => {
		expect(() => applyViews([], { views: presets, exclude: ['readers'] })).toThrow(/no view named "readers"/);
	});
});
