/**
 * The tag grammar in both languages by default (SPEC section 2): 营销/阅读 and Marketing/Read, 意向-/风险- and
 * Intent-/Risk-, a space before NN, full-width digits; new tags in the contact's own language; the Chinese free-mail
 * no-send defaults.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planBatchAssignment } from '../../core/assign';
import { batchTagParts, BatchTagPartsCache } from '../../core/metrics/batchTagParts';
import { dueTagNames, findBatchTag, readTagFor, selectDueContacts } from '../../core/select';
import {
	contactTagLanguage,
	DEFAULT_TAG_GRAMMAR,
	findState,
	formatBatchTag,
	parseBatchTag,
	parseBatchTagForm,
	resolveGrammar,
	segmentTagLanguage,
	STATE_NAMES,
	stateTag,
	TagClassifier,
	tagGroup,
	wordLanguage,
} from '../../core/tags';
import { applyViews, evaluateViews, NO_SEND_DEFAULTS, presetViews } from '../../core/views';

const FR = { language: '法语', segment: '工程设备经销商' };

describe('both marker sets by default', () => {
	it("reads the guide's own tags with no setting changed", () => {
		expect(parseBatchTag('法语-工程设备经销商-营销05')).toEqual({ ...FR, group: 'marketing', batch: 5 });
		expect(parseBatchTag('法语-工程设备经销商-阅读10')).toEqual({ ...FR, group: 'read', batch: 10 });
		expect(parseBatchTag('English-Equipment Dealers-Marketing05')).toEqual({
			language: 'English',
			segment: 'Equipment Dealers',
			group: 'marketing',
			batch: 5,
		});
		expect(tagGroup('法语-工程设备经销商-营销30')).toBe('marketing');
		expect(tagGroup('英语-工程设备经销商-阅读01')).toBe('read');
	});

	it('accepts a space (ASCII or ideographic) before NN, full-width digits, and any case or width of the marker', () => {
		const forms: Array<[string, string, boolean]> = [
			['法语-工程设备经销商-营销 02', 'zh', true],
			['法语-工程设备经销商-营销　02', 'zh', true],
			['法语-工程设备经销商-营销０５', 'zh', false],
			['法语-工程设备经销商-营销 ０５', 'zh', true],
			['English-Dealers-Marketing 05', 'en', true],
			['English-Dealers-MARKETING05', 'en', false],
			['English-Dealers-Ｍａｒｋｅｔｉｎｇ05', 'en', false],
			['English-Dealers-read 07', 'en', true],
		];
		for (const [tag, language, spaced] of forms) {
			const m = parseBatchTagForm(tag);
			expect(m, tag).not.toBeNull();
			expect(m!.language, tag).toBe(language);
			expect(m!.spaced, tag).toBe(spaced);
		}
		expect(parseBatchTag('法语-工程设备经销商-营销０５')?.batch).toBe(5);
		expect(parseBatchTag('English-Dealers-Marketing 05')?.segment).toBe('Dealers');
	});

	it('refuses what is not the grammar in either language', () => {
		for (const bad of [
			'法语-工程设备经销商-营销5',
			'法语-工程设备经销商-营销31',
			'法语-工程设备经销商-营销00',
			'法语-工程设备经销商-阅读11',
			'法语-工程设备经销商-营销005',
			'法语-工程设备经销商-营销 ',
			'法语-工程设备经销商- 05',
			'工程设备经销商-营销05',
			'法语--营销05',
			'法语-工程设备经销商-推广05',
			'风险-退订',
			'English-Dealers-Marketing 5',
		])
			expect(parseBatchTag(bad), bad).toBeNull();
	});

	it('classifies the Chinese group prefixes, with the language of the tag', () => {
		const c = new TagClassifier();
		expect(c.info('意向-已回复')).toMatchObject({ group: 'intent', language: 'zh' });
		expect(c.info('风险-退订')).toMatchObject({ group: 'risk', language: 'zh' });
		expect(c.info(' 风险-同行 ')).toMatchObject({ group: 'risk', language: 'zh' });
		expect(c.info('Risk-Unsubscribed')).toMatchObject({ group: 'risk', language: 'en' });
		expect(c.info('Intent-Replied')).toMatchObject({ group: 'intent', language: 'en' });
		expect(c.info('法语-工程设备经销商-营销 02')).toMatchObject({ group: 'marketing', language: 'zh', spaced: true });
		expect(c.info('VIP')).toEqual({ group: null, key: 'vip' });
	});

	it("keeps a user's own markers and prefixes: they replace both defaults of that group only", () => {
		const c = new TagClassifier({ marketingMarker: 'Promo' });
		expect(c.info('X-Y-Promo05').batch).toEqual({ language: 'X', segment: 'Y', group: 'marketing', batch: 5 });
		expect(c.group('X-Y-Marketing05')).toBeNull();
		expect(c.group('法语-工程设备经销商-营销05')).toBeNull();
		expect(c.group('法语-工程设备经销商-阅读05')).toBe('read'); // read markers left at the default
		expect(c.group('风险-退订')).toBe('risk');
		const own = new TagClassifier({ separator: '|', marketingMarker: '营销', readMarker: '阅读', risk: { prefix: 'Blocked:' } });
		expect(own.group('英语|经销商|营销 01')).toBe('marketing');
		expect(own.group('English|Dealers|Read01')).toBeNull();
		expect(own.group('风险-退订')).toBeNull();
		expect(own.group('blocked: spam')).toBe('risk');
		expect(own.group('意向-已回复')).toBe('intent');
		// markers in lists, written per language
		const lists = resolveGrammar({ marketingMarkers: ['Promo', '推广'], readMarkers: ['Opened', '已读'] });
		expect(formatBatchTag({ ...FR, group: 'read', batch: 3 }, lists, { language: 'zh' })).toBe('法语-工程设备经销商-已读03');
		expect(formatBatchTag({ ...FR, group: 'read', batch: 3 }, lists)).toBe('法语-工程设备经销商-Opened03');
		expect(() => resolveGrammar({ marketingMarkers: ['营销'], readMarkers: ['营销'] })).toThrow(/differ/);
		expect(() => resolveGrammar({ marketingMarkers: [] })).toThrow(/must not be empty/);
	});

	it('formats in the wanted language and spacing, English first by default', () => {
		expect(formatBatchTag({ ...FR, group: 'marketing', batch: 9 })).toBe('法语-工程设备经销商-Marketing09');
		expect(formatBatchTag({ ...FR, group: 'marketing', batch: 9 }, undefined, { language: 'zh' })).toBe('法语-工程设备经销商-营销09');
		expect(formatBatchTag({ ...FR, group: 'read', batch: 1 }, undefined, { language: 'zh', spaced: true })).toBe('法语-工程设备经销商-阅读 01');
		expect(() => formatBatchTag({ ...FR, group: 'read', batch: 1 }, undefined, { marker: '营销' })).toThrow(/not a read marker/);
		expect(DEFAULT_TAG_GRAMMAR.marketingMarkers).toEqual(['Marketing', '营销']);
	});
});

describe('the read tag follows the marketing tag', () => {
	it('marker language, spacing and the ((NN-1) mod 10)+1 rule', () => {
		expect(readTagFor(['法语-工程设备经销商-营销21'])).toBe('法语-工程设备经销商-阅读01');
		expect(readTagFor(['法语-工程设备经销商-营销 12'])).toBe('法语-工程设备经销商-阅读 02');
		expect(readTagFor(['法语-工程设备经销商-营销３０'])).toBe('法语-工程设备经销商-阅读10');
		expect(readTagFor(['English-Dealers-Marketing 05'])).toBe('English-Dealers-Read 05');
		expect(readTagFor(['Risk-Unsubscribed', 'English-Dealers-Marketing15'])).toBe('English-Dealers-Read05');
		// a Chinese batch tag of an English-named segment still gets the Chinese read marker
		expect(readTagFor(['English-Dealers-营销15'])).toBe('English-Dealers-阅读05');
	});

	it('a read tag of the same batch in another spelling counts as present', () => {
		const tags = ['法语-工程设备经销商-营销 21', '法语-工程设备经销商-阅读01'];
		expect(findBatchTag(tags, { ...FR, group: 'read', batch: 1 })).toBe('法语-工程设备经销商-阅读01');
		expect(findBatchTag(['English-Dealers-read 01'], { language: 'english', segment: 'DEALERS', group: 'read', batch: 1 })).toBe(
			'English-Dealers-read 01',
		);
		expect(findBatchTag(tags, { ...FR, group: 'read', batch: 2 })).toBeNull();
	});
});

describe("a contact's new tags follow its own tags", () => {
	it('Chinese and English contacts', () => {
		expect(contactTagLanguage(['法语-工程设备经销商-营销05'])).toBe('zh');
		expect(contactTagLanguage(['意向-已回复'])).toBe('zh');
		expect(contactTagLanguage(['English-Dealers-Marketing05', 'VIP'])).toBe('en');
		expect(contactTagLanguage(['Risk-Competitor'])).toBe('en');
	});

	it("mixed grammars: the first marketing tag wins, else the majority, else the grammar's first language", () => {
		expect(contactTagLanguage(['风险-退订', '意向-已回复', 'English-Dealers-Marketing05'])).toBe('en');
		expect(contactTagLanguage(['Risk-Competitor', '法语-工程设备经销商-营销05', 'English-Dealers-Marketing05'])).toBe('zh');
		expect(contactTagLanguage(['English-Dealers-Read05', '风险-退订', '意向-已回复'])).toBe('zh');
		expect(contactTagLanguage(['English-Dealers-Read05', 'Risk-Competitor', '意向-已回复'])).toBe('en');
		expect(contactTagLanguage(['English-Dealers-Read05', '风险-退订'])).toBe('en'); // a tie
		expect(contactTagLanguage(['VIP', '展会2026'])).toBe('en'); // no grammar tag: tags outside the grammar do not count
		expect(contactTagLanguage([])).toBe('en');
		expect(contactTagLanguage('法语-工程设备经销商-营销05')).toBe('en'); // not a list: never throws
		expect(contactTagLanguage([null, 42, {}] as never)).toBe('en');
		// a grammar whose first marker is Chinese falls back to Chinese
		expect(contactTagLanguage([], { marketingMarker: '营销', readMarker: '阅读' })).toBe('zh');
	});

	it('state tags: the table in both languages, free text kept, prefixes written by the user dropped', () => {
		expect(stateTag('risk', 'Unsubscribed', 'zh')).toBe('风险-退订');
		expect(stateTag('risk', 'Unsubscribed', 'en')).toBe('Risk-Unsubscribed');
		expect(stateTag('risk', '退订', 'en')).toBe('Risk-Unsubscribed');
		expect(stateTag('risk', 'risk-hard bounce', 'zh')).toBe('风险-硬退信');
		expect(stateTag('risk', 'Ｒｉｓｋ－Complained', 'zh')).toBe('风险-投诉');
		expect(stateTag('intent', 'replied', 'zh')).toBe('意向-已回复');
		expect(stateTag('intent', '意向-已回复', 'en')).toBe('Intent-Replied');
		expect(stateTag('risk', 'Not interested', 'zh')).toBe('风险-不感兴趣');
		expect(stateTag('risk', '无兴趣', 'en')).toBe('Risk-NotInterested');
		expect(stateTag('risk', 'competitor', 'zh')).toBe('风险-同行');
		expect(stateTag('risk', 'Blacklisted by owner', 'zh')).toBe('风险-Blacklisted by owner');
		expect(() => stateTag('risk', '  ', 'en')).toThrow(/needs a state name/);
		expect(() => stateTag('risk', 'Unsubscribed', 'en', { risk: { tags: ['Do not mail'] } })).toThrow(/no prefix/);
		expect(() => stateTag('read' as never, 'x', 'en')).toThrow(/intent or risk/);
		// a user's own single prefix is used for both languages
		expect(stateTag('risk', 'Unsubscribed', 'zh', { risk: { prefix: 'Blocked:' } })).toBe('Blocked:退订');
	});

	it('every state of the table round-trips and lands in its group in both languages', () => {
		const c = new TagClassifier();
		for (const [id, s] of Object.entries(STATE_NAMES)) {
			expect(findState(id)).toBe(s);
			for (const language of ['en', 'zh'] as const) {
				const tag = stateTag(s.group, s.en, language, c);
				expect(tag.endsWith(s[language]), tag).toBe(true);
				expect(c.info(tag), tag).toMatchObject({ group: s.group, language });
				expect(stateTag(s.group, tag, language === 'en' ? 'zh' : 'en', c)).toBe(stateTag(s.group, s.zh, language === 'en' ? 'zh' : 'en', c));
			}
			expect(wordLanguage(s.zh)).toBe('zh');
			expect(wordLanguage(s.en)).toBe('en');
		}
	});
});

describe("today's batch finds Chinese-tagged contacts by default", () => {
	it("due tag names in the segment's own language, or every accepted spelling", () => {
		const date = '2026-07-09';
		expect(dueTagNames([FR], { cadence: 'silent', date })).toEqual(['法语-工程设备经销商-营销09']);
		expect(dueTagNames([FR], { cadence: 'read', date: '2026-07-21' })).toEqual(['法语-工程设备经销商-阅读01']);
		expect(dueTagNames([{ language: 'English', segment: 'Dealers' }], { cadence: 'silent', date })).toEqual(['English-Dealers-Marketing09']);
		expect(dueTagNames([{ language: 'English', segment: 'Dealers' }], { cadence: 'silent', date, forms: 'all' })).toEqual([
			'English-Dealers-Marketing09',
			'English-Dealers-Marketing 09',
			'English-Dealers-营销09',
			'English-Dealers-营销 09',
		]);
		expect(dueTagNames([FR], { cadence: 'read', date: '2026-07-21', forms: 'all' })).toEqual([
			'法语-工程设备经销商-阅读01',
			'法语-工程设备经销商-阅读 01',
			'法语-工程设备经销商-Read01',
			'法语-工程设备经销商-Read 01',
		]);
		expect(segmentTagLanguage(FR)).toBe('zh');
		expect(segmentTagLanguage({ language: 'French', segment: '经销商' })).toBe('zh');
		expect(segmentTagLanguage({ language: 'French', segment: 'Dealers' })).toBe('en');
	});

	it('selects every spelling of the due batch, and only the segments asked for', () => {
		const contacts = [
			{ tags: ['法语-工程设备经销商-营销09'] },
			{ tags: ['法语-工程设备经销商-营销 09'] },
			{ tags: ['法语-工程设备经销商-营销０９'] },
			{ tags: ['法语-工程设备经销商-营销10'] },
			{ tags: ['English-Dealers-Marketing 09'] },
			{ tags: ['法语-工程设备经销商-阅读09'] },
		];
		expect(selectDueContacts(contacts, { cadence: 'silent', date: '2026-07-09' }).map((d) => d.index)).toEqual([0, 1, 2, 4]);
		expect(selectDueContacts(contacts, { cadence: 'silent', date: '2026-07-09', segments: [FR] }).map((d) => d.index)).toEqual([0, 1, 2]);
		expect(selectDueContacts(contacts, { cadence: 'read', date: '2026-07-19' })).toEqual([{ index: 5, dueTag: '法语-工程设备经销商-阅读09' }]);
	});

	it('batch assignment counts existing contacts by their Chinese batch tags', () => {
		const existing = Array.from({ length: 10 }, (_, i) => ({ email: `e${i}@acme.com`, tags: ['法语-工程设备经销商-营销 05'] }));
		const plan = planBatchAssignment(['new@acme.com'], { date: '2026-07-05', existing });
		expect(plan.assigned).toEqual([{ email: 'new@acme.com', batch: 6, index: 0 }]);
	});

	it('views put Chinese read, intent and risk tags in their groups', () => {
		const presets = presetViews();
		const r = applyViews(
			[
				{ email: 'a@acme.com', tags: ['法语-工程设备经销商-营销05'] },
				{ email: 'b@acme.com', tags: ['法语-工程设备经销商-营销05', '法语-工程设备经销商-阅读05'] },
				{ email: 'c@acme.com', tags: ['意向-已回复'] },
				{ email: 'd@acme.com', tags: ['风险-退订'] },
			],
			{ views: presets, exclude: ['read', 'intent', 'risk'] },
		);
		expect(r.kept).toEqual([0]);
		expect(r.excluded.map((e) => e.excludedBy[0].view)).toEqual(['read', 'intent', 'risk']);
	});

	it('metrics read language and segment from both marker sets', () => {
		expect(batchTagParts('法语-工程设备经销商-营销 05')).toEqual(FR);
		expect(batchTagParts('法语-工程设备经销商-阅读０５')).toEqual(FR);
		expect(batchTagParts('English-Dealers-Read 05')).toEqual({ language: 'English', segment: 'Dealers' });
		expect(batchTagParts('法语-工程设备经销商-推广05')).toBeNull();
		expect(batchTagParts('法语-工程设备经销商-营销05', { markers: ['Marketing'] })).toBeNull();
		expect(new BatchTagPartsCache({ separator: '|', markers: ['推广'] }).get('法语|经销商|推广 07')).toEqual({ language: '法语', segment: '经销商' });
	});
});

describe('no-send defaults: the Chinese free-mail services', () => {
	const presets = presetViews();
	const noSend = (email: string) => evaluateViews({ email }, presets).filter((m) => m.view === 'no-send');

	it('excludes each service and its VIP subdomains', () => {
		for (const domain of ['126.com', 'yeah.net', 'foxmail.com', 'sina.com', 'sina.cn', 'sohu.com', '139.com', '189.cn', 'tom.com', '21cn.com'])
			expect(noSend(`wang@${domain}`)[0], domain).toEqual({ view: 'no-send', rule: 'domainEndsWith', value: domain });
		for (const [domain, by] of [
			['vip.qq.com', 'qq.com'],
			['vip.163.com', '163.com'],
			['vip.126.com', '126.com'],
			['vip.sina.com', 'sina.com'],
		])
			expect(noSend(`wang@${domain}`)[0]?.value, domain).toBe(by);
	});

	it('keeps look-alike domains, info@ and sales@', () => {
		for (const email of ['a@custom.com', 'a@mytom.com', 'a@sina.com.example', 'info@acme.com', 'sales@acme.com', 'a@126.com.example'])
			expect(noSend(email), email).toEqual([]);
	});

	it('free mail on .cn stays excluded when the region list is cleared', () => {
		const views = presetViews({ regionDomainEndsWith: [] });
		for (const email of ['a@sina.cn', 'a@189.cn'])
			expect(
				evaluateViews({ email }, views).map((m) => m.view),
				email,
			).toEqual(['no-send']);
		expect(evaluateViews({ email: 'a@factory.cn' }, views)).toEqual([]);
		expect(NO_SEND_DEFAULTS.domainEndsWith.slice(0, 6)).toEqual(['qq.com', '163.com', 'aliyun.com', '263.com', '88.com', '188.com']);
	});
});

describe('bad input', () => {
	const c = new TagClassifier();
	const unit = fc.constantFrom(
		'-',
		' ',
		'\u3000',
		'营销',
		'阅读',
		'意向-',
		'风险-',
		'Marketing',
		'Read',
		'Risk-',
		'0',
		'1',
		'5',
		'０',
		'５',
		'9',
		'a',
		'法语',
		'\uD800',
		'－',
		'|',
	);

	it('property: random tags never throw, and every batch tag read back names the same batch', () => {
		fc.assert(
			fc.property(fc.string({ unit, maxLength: 60 }), fc.array(fc.string({ unit, maxLength: 20 }), { maxLength: 8 }), (tag, others) => {
				const info = c.info(tag);
				parseBatchTag(tag);
				batchTagParts(tag);
				const tags = [...others, tag];
				contactTagLanguage(tags, c);
				const read = readTagFor(tags, c);
				if (read !== null) expect(c.info(read).group).toBe('read');
				if (info.batch) {
					const again = formatBatchTag(info.batch, c.grammar, { language: info.language, spaced: info.spaced });
					expect(c.info(again).batch).toEqual(info.batch);
				}
				for (const state of others) {
					try {
						const t = stateTag('risk', state, 'zh', c);
						expect(c.group(t)).toBe('risk');
					} catch (error) {
						expect(error).toBeInstanceOf(RangeError);
					}
				}
			}),
			{ numRuns: 200 },
		);
	});

	it('a 1 MB pathological tag is read in well under a second', () => {
		const hostile = [
			'营销'.repeat(500_000),
			`${'-'.repeat(500_000)}营销 ０５`,
			`法语-${'营销 0'.repeat(200_000)}-营销 05`,
			`${'风险'.repeat(250_000)}-${' '.repeat(500_000)}05`,
			`${'０'.repeat(1_000_000)}`,
		];
		for (const tag of hostile) {
			const start = performance.now();
			new TagClassifier().info(tag);
			parseBatchTag(tag);
			batchTagParts(tag);
			contactTagLanguage([tag]);
			stateTag('risk', tag.slice(0, 100_000), 'zh');
			expect(performance.now() - start, tag.slice(0, 20)).toBeLessThan(3_000);
		}
	});
});
