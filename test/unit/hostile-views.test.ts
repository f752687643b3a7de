/**
 * Hostile contacts against tags and views: state tags in any case, domain-only no-send rules, and tag fields, tag
 * lists and addresses built to be slow or to crash, through the core and through the Views and Batch nodes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import { CadenceViews } from '../../nodes/CadenceViews/CadenceViews.node';
import { MAX_DATE_TEXT_LENGTH, MAX_ZONE_NAME_LENGTH, toZonedDateTime } from '../../core/calendar';
import { readTagFor, selectDueContacts } from '../../core/select';
import {
	MAX_TAG_LENGTH,
	MAX_TAGS_PER_CONTACT,
	normalizeTags,
	parseBatchTag,
	parseTagList,
	splitList,
	TagClassifier,
	tagGroup,
} from '../../core/tags';
import { applyViews, createViewEvaluator, DEFAULT_EXCLUDED_VIEWS, evaluateViews, presetViews, type ViewDefinition } from '../../core/views';
import { runNode } from '../helpers/n8n';

const presets = presetViews();
const noSend = presets.filter((v) => v.name === 'no-send');
const MB = 1 << 20;

/** Milliseconds `f` takes (one run). */
function timed(f: () => unknown): number {
	const start = performance.now();
	f();
	return performance.now() - start;
}

/** Generous ceiling for hostile input: 4 µs per character plus 500 ms (a loaded machine); speed is the bench's job. */
const ceiling = (chars: number) => 500 + chars / 250;

const views = (excludedBy: Array<{ view: string }>) => excludedBy.map((m) => m.view);

describe('state tags in any case (risk, intent)', () => {
	const cases: Array<[string, string]> = [
		['risk-unsubscribed', 'risk'],
		['RISK-Hard-Bounce', 'risk'],
		['  Risk-Competitor  ', 'risk'],
		['Ｒｉｓｋ－Complained', 'risk'],
		['intent-replied', 'intent'],
		['INTENT-Asked price', 'intent'],
		['\tIntent-Meeting\u3000', 'intent'],
	];

	it.each(cases)('a contact tagged %j is in the %s view and excluded for both cadences', (tag, view) => {
		const contacts = [{ email: 'bob@acme.com', tags: ['English-Dealers-Marketing05', tag] }];
		for (const exclude of [DEFAULT_EXCLUDED_VIEWS.silent, DEFAULT_EXCLUDED_VIEWS.read]) {
			const r = applyViews(contacts, { views: presets, exclude });
			expect(r.kept).toEqual([]);
			expect(r.excluded[0].excludedBy).toEqual([{ view, rule: 'hasTagInGroup', value: tag }]);
		}
		expect(tagGroup(tag)).toBe(view);
	});

	it('explicit group lists and configured prefixes compare case-insensitively, spaces trimmed', () => {
		const grammar = { risk: { prefix: ' Blocked: ', tags: ['Competitor', ' Not target '] }, intent: { tags: ['Hot Lead'] } };
		const c = new TagClassifier(grammar);
		expect(c.group('competitor')).toBe('risk');
		expect(c.group(' NOT TARGET')).toBe('risk');
		expect(c.group('BLOCKED:spam')).toBe('risk');
		expect(c.group('hot lead ')).toBe('intent');
		expect(c.group('Hot Leads')).toBeNull();
		// a prefix of only spaces means no prefix, not "every tag"
		expect(new TagClassifier({ risk: { prefix: '   ' } }).group('VIP')).toBeNull();
		const r = applyViews([{ email: 'a@acme.com', tags: ['COMPETITOR'] }], { views: presets, grammar });
		expect(r.excluded[0].excludedBy).toEqual([{ view: 'risk', rule: 'hasTagInGroup', value: 'COMPETITOR' }]);
	});

	it('view rules on tags compare case-insensitively and report the tag as written', () => {
		const custom: ViewDefinition[] = [
			{ name: 'vip', rules: [{ type: 'hasTag', values: [' VIP ', 'Customer-*'] }] },
			{ name: 'marketing', rules: [{ type: 'hasTagInGroup', groups: ['marketing'] }] },
		];
		const ev = createViewEvaluator(custom);
		expect(ev({ email: 'a@b.com', tags: ['vip'] })).toEqual([{ view: 'vip', rule: 'hasTag', value: 'vip' }]);
		expect(ev({ email: 'a@b.com', tags: ['CUSTOMER-2024'] })).toEqual([{ view: 'vip', rule: 'hasTag', value: 'CUSTOMER-2024' }]);
		expect(ev({ email: 'a@b.com', tags: ['english-dealers-MARKETING05'] })).toEqual([
			{ view: 'marketing', rule: 'hasTagInGroup', value: 'english-dealers-MARKETING05' },
		]);
		expect(ev({ email: 'a@b.com', tags: ['VIPs', 'Customer'] })).toEqual([]);
	});

	it('address rules compare case-insensitively with surrounding spaces ignored', () => {
		const ev = createViewEvaluator([
			{ name: 'a', rules: [{ type: 'localPartStartsWith', values: [' HR@ ', 'Support'] }] },
			{ name: 'b', rules: [{ type: 'domainEndsWith', values: [' QQ.com ', '@Rival.COM.', ' .CN'] }] },
			{ name: 'c', rules: [{ type: 'addressContains', values: [' +TEST '] }] },
		]);
		expect(ev({ email: ' HR@Acme.com ' })).toEqual([{ view: 'a', rule: 'localPartStartsWith', value: 'hr@' }]);
		expect(ev({ email: 'SUPPORT-1@acme.com' })).toEqual([{ view: 'a', rule: 'localPartStartsWith', value: 'support' }]);
		expect(ev({ email: 'hrm@acme.com' })).toEqual([]);
		expect(ev({ email: 'bob@QQ.COM' })).toEqual([{ view: 'b', rule: 'domainEndsWith', value: 'qq.com' }]);
		expect(ev({ email: 'bob@mail.qq.com' })).toEqual([{ view: 'b', rule: 'domainEndsWith', value: 'qq.com' }]);
		expect(ev({ email: 'bob@notqq.com' })).toEqual([]);
		expect(ev({ email: 'bob@sales.rival.com' })).toEqual([{ view: 'b', rule: 'domainEndsWith', value: 'rival.com' }]);
		expect(ev({ email: 'bob@Factory.Cn' })).toEqual([{ view: 'b', rule: 'domainEndsWith', value: '.cn' }]);
		expect(ev({ email: 'Bob+Test@acme.com' })).toEqual([{ view: 'c', rule: 'addressContains', value: '+test' }]);
	});

	it('property: any casing and padding of a risk or intent tag is excluded', () => {
		const base = fc.constantFrom('Risk-Unsubscribed', 'Risk-Hard bounce', 'Risk-Complained', 'Intent-Replied', 'Intent-Asked price');
		const cased = base.chain((tag) =>
			fc
				.tuple(
					fc.array(fc.boolean(), { minLength: tag.length, maxLength: tag.length }),
					fc.constantFrom('', ' ', '  ', '\t'),
					fc.constantFrom('', ' ', '\u3000'),
				)
				.map(([flips, pre, post]) => ({
					tag,
					written: pre + [...tag].map((ch, i) => (flips[i] ? ch.toUpperCase() : ch.toLowerCase())).join('') + post,
				})),
		);
		fc.assert(
			fc.property(cased, fc.boolean(), ({ tag, written }, asString) => {
				const r = applyViews([{ email: 'bob@acme.com', tags: asString ? `VIP, ${written}` : ['VIP', written] }], { views: presets });
				expect(r.kept).toEqual([]);
				expect(views(r.excluded[0].excludedBy)).toEqual([tag.startsWith('Risk') ? 'risk' : 'intent']);
			}),
			{ numRuns: 200 },
		);
	});
});

describe('no-send: .gov, .org and .edu by domain label only', () => {
	it.each([
		['a@x.gov', 'gov'],
		['a@agency.gov.uk', 'gov'],
		['a@uni.edu.au', 'edu'],
		['a@uni.edu', 'edu'],
		['a@foo.org', 'org'],
		['a@charity.org.uk', 'org'],
		['A@Dept.GOV', 'gov'],
	])('%s is excluded by the domain label %s', (email, label) => {
		expect(evaluateViews({ email }, noSend)).toEqual([{ view: 'no-send', rule: 'domainHasLabel', value: label }]);
	});

	it.each([
		'mike.orgill@acme.example',
		'a@organic.example',
		'a@governance.example.com',
		'ed.education@acme.com',
		'bob.gov@acme.com',
		'x.edu.y@acme.de',
		'a@my-org.example',
		'a@orgs.example',
	])('%s is kept', (email) => {
		expect(evaluateViews({ email }, noSend)).toEqual([]);
		expect(applyViews([{ email, tags: [] }], { views: presets }).kept).toEqual([0]);
	});

	it('a label rule takes several labels in a row and ignores dots and case around values', () => {
		const ev = createViewEvaluator([{ name: 'uk-gov', rules: [{ type: 'domainHasLabel', values: [' .GOV.UK. ', '@ac.uk'] }] }]);
		expect(ev({ email: 'a@agency.gov.uk' })).toEqual([{ view: 'uk-gov', rule: 'domainHasLabel', value: 'gov.uk' }]);
		expect(ev({ email: 'a@cs.ox.ac.uk' })).toEqual([{ view: 'uk-gov', rule: 'domainHasLabel', value: 'ac.uk' }]);
		expect(ev({ email: 'a@gov.example.uk' })).toEqual([]);
		expect(ev({ email: 'gov.uk@acme.com' })).toEqual([]);
	});

	it('a saved "address contains" list keeps meaning address contains; the domain labels are editable', () => {
		const saved = presetViews({ addressContains: ['.org'] }).filter((v) => v.name === 'no-send');
		expect(evaluateViews({ email: 'mike.orgill@acme.example' }, saved)).toEqual([{ view: 'no-send', rule: 'addressContains', value: '.org' }]);
		const edited = presetViews({ domainLabels: ['mil'] }).filter((v) => v.name === 'no-send');
		expect(evaluateViews({ email: 'a@army.mil' }, edited)).toEqual([{ view: 'no-send', rule: 'domainHasLabel', value: 'mil' }]);
		expect(evaluateViews({ email: 'a@foo.org' }, edited)).toEqual([]);
	});

	it('property: a local part holding .org/.gov/.edu is never excluded when the domain has no such label', () => {
		const word = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 3, maxLength: 8 });
		const label = word.filter((w) => !['gov', 'org', 'edu'].includes(w));
		const local = fc
			.tuple(word, fc.constantFrom('.org', '.gov', '.edu', '.ORG', '.Gov', 'org', 'edu'), fc.constantFrom('', 'ill', '.x', 'anic', '-1'))
			.map(([a, b, c]) => `${a}${b}${c}`);
		const domain = fc
			.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom('com', 'de', 'example', 'net', 'co.uk'))
			.map(([ls, tld]) => `${ls.join('.')}.${tld}`);
		fc.assert(
			fc.property(local, domain, (l, d) => {
				expect(evaluateViews({ email: `${l}@${d}`, tags: [] }, noSend)).toEqual([]);
			}),
			{ numRuns: 200 },
		);
	});
});

describe('tag lists: limits and problems', () => {
	it('reads arrays and delimited strings, trimmed and de-duplicated', () => {
		expect(parseTagList(' a, b;c\n a ,, ')).toEqual({ tags: ['a', 'b', 'c'] });
		expect(parseTagList('a || b||c', '||')).toEqual({ tags: ['a', 'b', 'c'] });
		expect(parseTagList(['x', ' y ', null, 3, true])).toEqual({ tags: ['x', 'y', '3', 'true'] });
		expect(parseTagList(undefined)).toEqual({ tags: [] });
		expect(parseTagList(7)).toEqual({ tags: ['7'] });
	});

	it('exactly the limits is fine; one more is a problem, naming the limit', () => {
		const atLimit = Array.from({ length: MAX_TAGS_PER_CONTACT }, (_, i) => `t${i}`);
		expect(parseTagList(atLimit)).toEqual({ tags: atLimit });
		expect(parseTagList([...atLimit, ...atLimit])).toEqual({ tags: atLimit });
		const over = parseTagList([...atLimit, 'one more']);
		expect(over.problem).toBe(`more than ${MAX_TAGS_PER_CONTACT} tags`);
		expect(over.tags).toHaveLength(MAX_TAGS_PER_CONTACT);
		expect(parseTagList(['x'.repeat(MAX_TAG_LENGTH)]).problem).toBeUndefined();
		const long = parseTagList(`VIP, Risk-${'x'.repeat(MAX_TAG_LENGTH)}`);
		expect(long.problem).toMatch(new RegExp(`a tag is ${MAX_TAG_LENGTH + 5} characters long, more than ${MAX_TAG_LENGTH}: "Risk-x+…"`));
		expect(long.tags).toEqual(['VIP']);
	});

	it('values that are no tags are a problem, not "[object Object]"', () => {
		expect(parseTagList(['a', { b: 1 }]).problem).toBe('tag 2 is an object, not text');
		expect(parseTagList(['a', ['b']]).problem).toBe('tag 2 is a list, not text');
		expect(parseTagList({ a: 1 }).problem).toBe('the tags field is an object, not a list or text');
		expect(normalizeTags(['a', { b: 1 }])).toEqual(['a']);
	});

	it('configuration lists are not cut by the contact limits', () => {
		const domains = Array.from({ length: 5000 }, (_, i) => `d${i}.com`);
		expect(splitList(domains.join(', '), ',')).toEqual(domains);
	});

	it('a contact whose tags break a limit is never kept: excluded as invalid-tags with the problem', () => {
		const many = Array.from({ length: 100_000 }, (_, i) => `tag${i}`);
		many.push('Risk-Unsubscribed'); // past the limit: the contact must not be mailed because of where it sits
		const contacts = [
			{ email: 'a@acme.com', tags: many },
			{ email: 'b@acme.com', tags: many.join(',') },
			{ email: 'c@acme.com', tags: ['VIP', 'x'.repeat(MAX_TAG_LENGTH + 1)] },
			{ email: 'd@acme.com', tags: [{ evil: true }] },
			{ email: 'e@acme.com', tags: 'VIP, Risk-Unsubscribed' },
			{ email: 'f@acme.com', tags: ['VIP'] },
		];
		const r = applyViews(contacts, { views: presets });
		expect(r.kept).toEqual([5]);
		expect(r.excluded.map((e) => [e.index, views(e.excludedBy)])).toEqual([
			[0, ['invalid-tags']],
			[1, ['invalid-tags']],
			[2, ['invalid-tags']],
			[3, ['invalid-tags']],
			[4, ['risk']],
		]);
		expect(r.excluded[0].excludedBy[0]).toEqual({ view: 'invalid-tags', rule: 'invalidTags', value: `more than ${MAX_TAGS_PER_CONTACT} tags` });
	});

	it('the core never throws on contacts of the wrong shape', () => {
		const ev = createViewEvaluator(presets);
		for (const contact of [null, undefined, {}, { email: {} }, { email: 'a@b.com', tags: 'Risk-x' }, { email: 'a@b.com', tags: 42 }] as never[])
			expect(() => ev(contact)).not.toThrow();
		expect(ev({ email: 'a@b.com', tags: 'risk-x' })).toEqual([{ view: 'risk', rule: 'hasTagInGroup', value: 'risk-x' }]);
		expect(selectDueContacts([{ tags: 'English-Dealers-Marketing09' as never }, null as never], { cadence: 'silent', date: '2026-07-09' })).toEqual(
			[],
		);
		expect(readTagFor('English-Dealers-Marketing09' as never)).toBeNull();
		expect(new TagClassifier().info(42 as never)).toEqual({ group: null, key: '' });
	});

	it('a long date or zone is refused quickly, quoting only its start', () => {
		expect(() => toZonedDateTime('2026-07-09' + ' '.repeat(10) + '1'.repeat(MB))).toThrow(
			new RegExp(`longer than ${MAX_DATE_TEXT_LENGTH} characters`),
		);
		let message = '';
		try {
			toZonedDateTime('2026-07-09', 'Z'.repeat(MB));
		} catch (error) {
			message = (error as Error).message;
		}
		expect(message).toMatch(new RegExp(`not a valid time zone .*at most ${MAX_ZONE_NAME_LENGTH} characters`));
		expect(message.length).toBeLessThan(300);
	});
});

describe('linear time on hostile tag fields and addresses', () => {
	const fills = ['-', ',', ' ', ', ', '-,', ';\n', 'a-', 'Risk-', '- -', ',,x'];

	it.each(fills)('1 MB of %j: parsing, classifying and views finish under the ceiling and never throw', (fill) => {
		const s = fill.repeat(Math.ceil(MB / fill.length));
		const ev = createViewEvaluator(presets);
		const classifier = new TagClassifier();
		const ms = timed(() => {
			parseTagList(s);
			parseTagList(s, ',');
			normalizeTags(s);
			parseBatchTag(s);
			classifier.info(s);
			ev({ email: 'bob@acme.com', tags: s });
			ev({ email: 'bob@acme.com', tags: [s] });
			ev({ email: s, tags: [] });
		});
		expect(ms).toBeLessThan(8 * ceiling(s.length));
	});

	it('100,000 tags in an array or a string, and a 1 MB address, stay under the ceiling', () => {
		const many = Array.from({ length: 100_000 }, (_, i) => `Tag ${i}`);
		const joined = many.join(', ');
		const ev = createViewEvaluator([
			...presets,
			{
				name: 'x',
				rules: [
					{ type: 'hasTag', values: ['a*', 'b*', 'Tag 99999'] },
					{ type: 'regex', pattern: '^z', target: 'tag' },
				],
			},
		]);
		const ms = timed(() => {
			expect(ev({ email: 'a@b.com', tags: many })[0].view).toBe('invalid-tags');
			expect(ev({ email: 'a@b.com', tags: joined })[0].view).toBe('invalid-tags');
			expect(normalizeTags(joined)).toHaveLength(100_000);
			expect(ev({ email: 'a'.repeat(MB) + '@b.com', tags: [] })[0].view).toBe('invalid-address');
			expect(ev({ email: '@'.repeat(MB), tags: [] })[0].view).toBe('invalid-address');
		});
		expect(ms).toBeLessThan(ceiling(joined.length + 2 * MB));
	});

	it('property: generated tag fields finish in bounded time per character and never throw', () => {
		const unit = fc.constantFrom(
			'-',
			',',
			';',
			' ',
			'\n',
			'\t',
			'a',
			'R',
			'i',
			's',
			'k',
			'I',
			'n',
			't',
			'0',
			'5',
			'M',
			'Marketing',
			'Read',
			'Risk-',
			'\u3000',
			'－',
			'\uD800',
			'|',
		);
		const field = fc
			.tuple(fc.string({ unit, minLength: 1, maxLength: 200, size: 'max' }), fc.integer({ min: 100, max: 5000 }))
			.map(([s, n]) => s.repeat(n).slice(0, 2 * MB));
		const delimiters = fc.constantFrom<string | string[]>(',', '|', '||', ', ', [',', ';', '\n'], '-');
		const ev = createViewEvaluator(presets);
		fc.assert(
			fc.property(field, delimiters, (s, d) => {
				const ms = timed(() => {
					const read = parseTagList(s, d);
					expect(read.tags.length).toBeLessThanOrEqual(MAX_TAGS_PER_CONTACT);
					for (const t of read.tags) expect(t.length).toBeLessThanOrEqual(MAX_TAG_LENGTH);
					splitList(s, d);
					createViewEvaluator(presets, { tagDelimiters: d })({ email: 'bob@acme.com', tags: s });
					ev({ email: 'bob@acme.com', tags: read.tags });
					parseBatchTag(s);
					new TagClassifier({ separator: '-' }).info(s);
				});
				expect(ms).toBeLessThan(ceiling(s.length));
			}),
			{ numRuns: 60 },
		);
	});
});

describe('through the Views node', () => {
	const node = new CadenceViews();

	it('lower-case state tags are excluded, mike.orgill is kept, .gov domains are excluded', async () => {
		const { outputs } = await runNode(node, {
			parameters: { cadence: 'read' },
			items: [
				{ email: 'a@acme.com', tags: ['risk-unsubscribed'] },
				{ email: 'b@acme.com', tags: 'English-Dealers-Marketing05, RISK-Hard-Bounce' },
				{ email: 'c@acme.com', tags: ['intent-replied'] },
				{ email: 'mike.orgill@acme.example', tags: [] },
				{ email: 'someone@agency.gov.uk', tags: [] },
				{ email: 'dean@uni.edu.au', tags: [] },
			],
		});
		const [kept, excluded] = outputs;
		expect(kept.map((i) => i.json.email)).toEqual(['mike.orgill@acme.example']);
		expect(excluded.map((i) => [i.json.email, i.json.excludedBy])).toEqual([
			['a@acme.com', [{ view: 'risk', rule: 'hasTagInGroup', value: 'risk-unsubscribed' }]],
			['b@acme.com', [{ view: 'risk', rule: 'hasTagInGroup', value: 'RISK-Hard-Bounce' }]],
			['c@acme.com', [{ view: 'intent', rule: 'hasTagInGroup', value: 'intent-replied' }]],
			['someone@agency.gov.uk', [{ view: 'no-send', rule: 'domainHasLabel', value: 'gov' }]],
			['dean@uni.edu.au', [{ view: 'no-send', rule: 'domainHasLabel', value: 'edu' }]],
		]);
	});

	it('configured prefixes and lists in another case; a saved Address Contains keeps its meaning', async () => {
		const { outputs } = await runNode(node, {
			parameters: {
				cadence: 'silent',
				grammar: { riskPrefix: 'blocked:', riskTags: ' DO NOT MAIL ', intentTags: 'hot lead' },
				noSend: { addressContains: '.gov, .org, .edu', domainLabels: 'mil' },
				customViews: { view: [{ name: 'gov-uk', exclude: true, match: 'any', rules: { rule: [{ type: 'domainHasLabel', values: 'GOV.UK' }] } }] },
			},
			items: [
				{ email: 'a@acme.com', tags: ['Blocked: spam'] },
				{ email: 'b@acme.com', tags: ['do not mail'] },
				{ email: 'c@acme.com', tags: ['Hot Lead'] },
				{ email: 'mike.orgill@acme.example', tags: [] },
				{ email: 'x@army.mil', tags: [] },
				{ email: 'y@agency.gov.uk', tags: [] },
				{ email: 'z@acme.com', tags: [] },
			],
		});
		const [kept, excluded] = outputs;
		expect(kept.map((i) => i.json.email)).toEqual(['z@acme.com']);
		expect(excluded.map((i) => [i.json.email, views(i.json.excludedBy as Array<{ view: string }>)])).toEqual([
			['a@acme.com', ['risk']],
			['b@acme.com', ['risk']],
			['c@acme.com', ['intent']],
			['mike.orgill@acme.example', ['no-send']],
			['x@army.mil', ['no-send']],
			['y@agency.gov.uk', ['no-send', 'gov-uk']],
		]);
		expect((excluded[3].json.excludedBy as unknown[])[0]).toEqual({ view: 'no-send', rule: 'addressContains', value: '.org' });
	});

	it('hostile tag fields: the item is excluded as invalid-tags with the problem, in bounded time', async () => {
		const items = [
			{ email: 'a@acme.com', tags: ','.repeat(MB) },
			{ email: 'b@acme.com', tags: Array.from({ length: 100_000 }, (_, i) => `t${i}`).join(',') },
			{ email: 'c@acme.com', tags: '-'.repeat(MB) },
			{ email: 'd@acme.com', tags: 'VIP' },
		];
		let outputs: Awaited<ReturnType<typeof runNode>>['outputs'] = [];
		const ms = await (async () => {
			const start = performance.now();
			({ outputs } = await runNode(node, { parameters: { cadence: 'silent' }, items }));
			return performance.now() - start;
		})();
		expect(ms).toBeLessThan(3000);
		expect(outputs[0].map((i) => i.json.email)).toEqual(['a@acme.com', 'd@acme.com']);
		expect(outputs[1].map((i) => [i.json.email, (i.json.excludedBy as Array<{ value: string }>)[0].value])).toEqual([
			['b@acme.com', `more than ${MAX_TAGS_PER_CONTACT} tags`],
			['c@acme.com', expect.stringMatching(new RegExp(`^a tag is ${MB} characters long, more than ${MAX_TAG_LENGTH}`))],
		]);
	});
});

describe('through the Batch node', () => {
	const node = new CadenceBatch();
	const tooMany = Array.from({ length: MAX_TAGS_PER_CONTACT + 1 }, (_, i) => `t${i}`);

	it('Add Tags does not repeat a tag present in another case', async () => {
		const { json } = await runNode(node, {
			parameters: { operation: 'addTags', tagsToAdd: 'Risk-Unsubscribed, Intent-Replied' },
			items: [{ email: 'a@x.com', tags: 'risk-unsubscribed' }],
		});
		expect(json[0]).toMatchObject({ tags: 'risk-unsubscribed, Intent-Replied', tagsAdded: ['Intent-Replied'] });
	});

	it('a contact whose tags cannot all be read fails as an item, never written back with part of its tags', async () => {
		const items = [
			{ email: 'a@x.com', tags: tooMany },
			{ email: 'b@x.com', tags: ['VIP'] },
		];
		await expect(runNode(node, { parameters: { operation: 'addTags', tagsToAdd: 'Risk-Unsubscribed' }, items })).rejects.toThrow(
			new RegExp(`more than ${MAX_TAGS_PER_CONTACT} tags`),
		);
		const { json } = await runNode(node, { parameters: { operation: 'addTags', tagsToAdd: 'Risk-Unsubscribed' }, items, continueOnFail: true });
		expect(json[0].error).toMatch(/tags cannot be read: more than/);
		expect(json[0].tags).toBe(tooMany);
		expect(json[1].tags).toEqual(['VIP', 'Risk-Unsubscribed']);
		const full = Array.from({ length: MAX_TAGS_PER_CONTACT }, (_, i) => `t${i}`);
		const r = await runNode(node, {
			parameters: { operation: 'addTags', tagsToAdd: 'Risk-Unsubscribed' },
			items: [{ email: 'c@x.com', tags: full }],
			continueOnFail: true,
		});
		expect(r.json[0].error).toMatch(/would have more than/);
	});

	it('Select Due Contacts: a contact with unreadable tags is an error item in its place', async () => {
		const items = [
			{ email: 'a@x.com', tags: ['English-Dealers-Marketing09'] },
			{ email: 'b@x.com', tags: [...tooMany, 'English-Dealers-Marketing09'] },
			{ email: 'c@x.com', tags: 'english-dealers-marketing09' },
		];
		const parameters = { operation: 'selectDueContacts', cadence: 'silent', calendar: { date: '2026-07-09' } };
		await expect(runNode(node, { parameters, items })).rejects.toThrow(/tags cannot be read/);
		const { outputs } = await runNode(node, { parameters, items, continueOnFail: true });
		expect(outputs[0].map((i) => [i.json.email, i.json.dueTag ?? i.json.error, i.pairedItem])).toEqual([
			['a@x.com', 'English-Dealers-Marketing09', { item: 0 }],
			['b@x.com', expect.stringMatching(/more than/), { item: 1 }],
			['c@x.com', 'english-dealers-marketing09', { item: 2 }],
		]);
	});

	it('Tag Readers and Assign Batches: an overlong tag fails that item only', async () => {
		const long = 'x'.repeat(MAX_TAG_LENGTH + 1);
		const readers = await runNode(node, {
			parameters: { operation: 'tagReaders' },
			items: [
				{ email: 'a@x.com', tags: ['English-Dealers-Marketing21', long] },
				{ email: 'b@x.com', tags: ['English-Dealers-Marketing21', 'english-dealers-read01'] },
			],
			continueOnFail: true,
		});
		expect(readers.json[0].error).toMatch(/a tag is 501 characters long/);
		expect(readers.json[1]).toMatchObject({ readTag: 'English-Dealers-Read01', readTagAdded: false });
		const assign = await runNode(node, {
			parameters: { operation: 'assignBatches', language: 'English', segment: 'Dealers', calendar: { date: '2026-07-05' } },
			items: [
				{ email: 'a@x.com', tags: [long] },
				{ email: 'b@x.com', tags: [] },
			],
			continueOnFail: true,
		});
		expect(assign.outputs[0].map((i) => i.json.email)).toEqual(['b@x.com']);
		expect(assign.outputs[1].map((i) => [i.json.email, i.json.reason])).toEqual([['a@x.com', 'error']]);
	});
});
