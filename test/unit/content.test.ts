/** Content per language and segment (core/content.ts): row checks, matching, variants, fallbacks, the content table. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
	chooseContent,
	contactContentKeys,
	CONTENT_KEY_MAX_LENGTH,
	CONTENT_TABLE_MAX_ROWS,
	contentKey,
	contentOf,
	ContentError,
	indexContent,
	noContentMessage,
	parseContentTable,
	type ContentRow,
} from '../../core/content';
import { chooseVariant } from '../../core/tracker';

const row = (language: string, segment = '', variant = '', body: Partial<ContentRow> = {}): ContentRow => ({
	language,
	segment,
	variant,
	subject: `${language}/${segment}/${variant}`,
	html: `<p>${language}</p>`,
	text: '',
	...body,
});

const contact = (language: string, segment = '', email = 'a@x.example', campaign = 'c') => ({ language, segment, email, campaign });

describe('indexContent', () => {
	it('refuses a row without a language, duplicate base rows, duplicate variants (as keys) and over-long names', () => {
		expect(() => indexContent([row('  ')])).toThrow(/Content row 1: the language is empty/);
		expect(() => indexContent([row('French'), row(' french ')])).toThrow(
			/Content row 2: a second row for language "french" without a variant name \(the first is row 1\)/,
		);
		expect(() => indexContent([row('French', 'Dealers', 'A'), row('French', 'dealers', ' a ')])).toThrow(/row 2: variant "a" .* already row 1/);
		expect(() => indexContent([row('x'.repeat(CONTENT_KEY_MAX_LENGTH + 1))])).toThrow(ContentError);
		// Same variant name in two groups, and a base row per segment, are fine.
		expect(() => indexContent([row('French', 'A', 'v'), row('French', 'B', 'v'), row('French'), row('French', 'A')])).not.toThrow();
	});

	it('lists each language once, as first written, in row order', () => {
		expect(indexContent([row('French'), row('English'), row('FRENCH', 'Dealers'), row('法语')]).languages).toEqual(['French', 'English', '法语']);
	});
});

describe('chooseContent', () => {
	const index = indexContent([
		row('English'),
		row('French'),
		row('French', 'Dealers'),
		row('Spanish', 'Dealers'),
		row('法语', '工程设备经销商'),
		row('法语'),
	]);

	it('matches the language as text after trimming, NFKC folding and lower-casing', () => {
		for (const l of ['French', ' french ', 'FRENCH', 'ＦＲＥＮＣＨ']) {
			const c = chooseContent(index, contact(l));
			expect(c.found && index.rows[c.row].subject).toBe('French//');
		}
		expect(chooseContent(index, contact('Français')).found).toBe(false);
	});

	it("prefers the segment's entry over the language's entry without a segment", () => {
		const c = chooseContent(index, contact('french', 'dealers'));
		expect(c.found && index.rows[c.row].subject).toBe('French/Dealers/');
		expect(c.found && c.segmentMatched).toBe(true);
		const other = chooseContent(index, contact('French', 'Distributors'));
		expect(other.found && index.rows[other.row].subject).toBe('French//');
		expect(other.found && other.segmentMatched).toBe(false);
		const zh = chooseContent(index, contact('法语', '工程设备经销商'));
		expect(zh.found && index.rows[zh.row].subject).toBe('法语/工程设备经销商/');
	});

	it('a language with only segment entries has no content for other segments, and says which segments it has', () => {
		const c = chooseContent(index, contact('Spanish', 'Retail'));
		expect(c).toEqual({ found: false, languages: ['English', 'French', 'Spanish', '法语'], segments: ['Dealers'] });
		expect(noContentMessage({ language: 'Spanish', segment: 'Retail' }, c as never, 'language')).toMatch(/only for segment "Dealers"/);
	});

	it('a contact without content, or without a language, is told which languages have content', () => {
		const none = chooseContent(index, contact('German', 'Dealers'));
		expect(none.found).toBe(false);
		expect(noContentMessage({ language: 'German', segment: 'Dealers' }, none as never, 'language')).toBe(
			'No content for language "German"; content exists for "English", "French", "Spanish", "法语"',
		);
		const empty = chooseContent(index, contact(''));
		expect(empty.found).toBe(false);
		expect(noContentMessage({ language: '', segment: '' }, empty as never, 'lang')).toMatch(
			/has no language \(the item has no lang and its batch tag names none\)/,
		);
	});

	it('picks the variant with chooseVariant among the group names; empty fields fall back to the base row', () => {
		const rows = [
			row('French', '', '', { subject: 'Base FR', html: '<p>base</p>', text: 'base text' }),
			row('French', '', 'A', { subject: '', html: '<p>A</p>', text: '' }),
			row('French', '', 'B', { subject: 'Subject B', html: '', text: '' }),
			row('English', '', 'X'),
			row('English', '', 'Y'),
		];
		const idx = indexContent(rows);
		fc.assert(
			fc.property(fc.emailAddress(), fc.string({ maxLength: 12 }), (email, campaign) => {
				const c = chooseContent(idx, { language: 'french', segment: '', email, campaign });
				if (!c.found) return false;
				expect(c.variant).toBe(chooseVariant(email, campaign, ['A', 'B']));
				const content = contentOf(idx, c);
				if (c.variant === 'A') expect(content).toEqual({ subject: 'Base FR', html: '<p>A</p>', text: 'base text' });
				else expect(content).toEqual({ subject: 'Subject B', html: '<p>base</p>', text: 'base text' });
				// Variants without a base row: no fallback.
				const en = chooseContent(idx, { language: 'English', segment: '', email, campaign });
				expect(en.found && en.base).toBe(-1);
				expect(en.found && en.variant).toBe(chooseVariant(email, campaign, ['X', 'Y']));
				return true;
			}),
			{ numRuns: 100 },
		);
	});

	it("the segment's group wins when it exists, else the language's group without a segment, else nothing (random tables)", () => {
		const names = fc.constantFrom('French', 'english', '法语', 'DE');
		const segs = fc.constantFrom('', 'Dealers', 'retail', '经销商');
		fc.assert(
			fc.property(
				fc.uniqueArray(fc.tuple(names, segs), { selector: ([l, g]) => `${contentKey(l)}|${contentKey(g)}`, maxLength: 10 }),
				names,
				segs,
				fc.emailAddress(),
				(pairs, language, segment, email) => {
					const idx = indexContent(pairs.map(([l, g]) => row(l, g)));
					const has = (g: string) => pairs.some(([l, s]) => contentKey(l) === contentKey(language) && contentKey(s) === contentKey(g));
					const c = chooseContent(idx, { language, segment, email, campaign: 'c' });
					const expected = segment && has(segment) ? segment : has('') ? '' : null;
					if (expected === null) {
						expect(c.found).toBe(false);
						return;
					}
					expect(c.found).toBe(true);
					if (!c.found) return;
					expect(contentKey(idx.rows[c.row].language)).toBe(contentKey(language));
					expect(contentKey(idx.rows[c.row].segment)).toBe(contentKey(expected));
					expect(c.segmentMatched).toBe(expected !== '');
				},
			),
			{ numRuns: 200 },
		);
	});

	it('is deterministic and never throws on arbitrary contacts', () => {
		fc.assert(
			fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), fc.string(), fc.string(), (language, segment, email, campaign) => {
				const a = chooseContent(index, { language, segment, email, campaign });
				expect(chooseContent(index, { language, segment, email, campaign })).toEqual(a);
				if (a.found) expect(contentKey(index.rows[a.row].language)).toBe(contentKey(language));
			}),
			{ numRuns: 200 },
		);
	});
});

describe('contactContentKeys', () => {
	it('takes the item fields, else the language and segment of the batch tag (both grammars)', () => {
		expect(contactContentKeys(' French ', 'Dealers', 'English-Retail-Marketing05')).toEqual({ language: 'French', segment: 'Dealers' });
		expect(contactContentKeys('', undefined, '法语-工程设备经销商-营销05')).toEqual({ language: '法语', segment: '工程设备经销商' });
		expect(contactContentKeys(null, 'Dealers', 'English-Retail-Marketing 05')).toEqual({ language: 'English', segment: 'Dealers' });
		expect(contactContentKeys(undefined, undefined, 'not a batch tag')).toEqual({ language: '', segment: '' });
		expect(contactContentKeys({ x: 1 }, ['a'], '')).toEqual({ language: '', segment: '' });
		expect(contactContentKeys(7, 3, '')).toEqual({ language: '7', segment: '3' });
	});
});

describe('parseContentTable', () => {
	it('reads rows from an array, a JSON text or a single object, ignoring other keys', () => {
		const rows = [{ language: 'French', segment: 'Dealers', variant: 'A', subject: 'S', html: '<p>h</p>', text: 't', id: 3, createdAt: 'x' }];
		const expected = [{ language: 'French', segment: 'Dealers', variant: 'A', subject: 'S', html: '<p>h</p>', text: 't' }];
		expect(parseContentTable(rows)).toEqual(expected);
		expect(parseContentTable(JSON.stringify(rows))).toEqual(expected);
		expect(parseContentTable(rows[0])).toEqual(expected);
		expect(parseContentTable([{ language: 'English' }])).toEqual([
			{ language: 'English', segment: '', variant: '', subject: '', html: '', text: '' },
		]);
		expect(parseContentTable('  ')).toEqual([]);
	});

	it('names what is wrong with a bad table', () => {
		expect(() => parseContentTable('{nope')).toThrow(/not JSON/);
		expect(() => parseContentTable(42)).toThrow(/not a list of rows/);
		expect(() => parseContentTable([{ language: 'French' }, 'x'])).toThrow(/Content row 2 is not an object/);
		expect(() => parseContentTable([{ language: 'French', html: { a: 1 } }])).toThrow(/Content row 1: html is not text/);
		expect(() => parseContentTable(Array.from({ length: CONTENT_TABLE_MAX_ROWS + 1 }, () => ({ language: 'x' })))).toThrow(/at most/);
		// A `__proto__` key from JSON is an own property like any other, never the prototype.
		expect(parseContentTable('[{"language":"French","__proto__":{"html":"<p>x</p>"}}]')[0].html).toBe('');
	});
});
