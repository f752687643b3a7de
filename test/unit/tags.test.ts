import { describe, expect, it } from 'vitest';
import { formatBatchTag, normalizeTags, parseBatchTag, TagClassifier, tagGroup } from '../../core/tags';
import { readTagFor } from '../../core/select';

describe('batch tag grammar', () => {
	it('parses and formats the default grammar', () => {
		expect(parseBatchTag('English-Equipment Dealers-Marketing05')).toEqual({
			language: 'English',
			segment: 'Equipment Dealers',
			group: 'marketing',
			batch: 5,
		});
		expect(parseBatchTag('English-Equipment Dealers-Read05')).toEqual({ language: 'English', segment: 'Equipment Dealers', group: 'read', batch: 5 });
		// a segment may contain the separator: language is the first part, marker the last
		expect(parseBatchTag('Russian-Semi-trailer Dealers-Marketing30')?.segment).toBe('Semi-trailer Dealers');
		expect(formatBatchTag({ language: 'English', segment: 'Equipment Dealers', group: 'marketing', batch: 9 })).toBe(
			'English-Equipment Dealers-Marketing09',
		);
		expect(formatBatchTag({ language: 'English', segment: 'Equipment Dealers', group: 'read', batch: 10 })).toBe('English-Equipment Dealers-Read10');
	});

	it('refuses tags outside the grammar', () => {
		for (const bad of [
			'English-Dealers-Marketing5',
			'English-Dealers-Marketing31',
			'English-Dealers-Marketing00',
			'English-Dealers-Read11',
			'Dealers-Marketing05',
			'-Dealers-Marketing05',
			'English--Marketing05',
			'English-Dealers-Promo05',
			'Risk-Unsubscribed',
			'',
			'English-Dealers-Marketing0x',
		])
			expect(parseBatchTag(bad), bad).toBeNull();
		expect(() => formatBatchTag({ language: 'English', segment: 'X', group: 'read', batch: 11 })).toThrow(/1 to 10/);
		expect(() => formatBatchTag({ language: 'Eng-lish', segment: 'X', group: 'read', batch: 1 })).toThrow(/separator/);
	});

	it("takes custom markers and separator (e.g. the source's Chinese tags)", () => {
		const grammar = { separator: '|', marketingMarker: '营销', readMarker: '阅读' };
		const c = new TagClassifier(grammar);
		expect(c.info('英语|工程设备经销商|营销01').batch).toEqual({ language: '英语', segment: '工程设备经销商', group: 'marketing', batch: 1 });
		expect(c.group('英语|工程设备经销商|阅读10')).toBe('read');
		expect(c.group('English-Dealers-Marketing01')).toBeNull();
		expect(formatBatchTag({ language: '英语', segment: '工程设备经销商', group: 'read', batch: 3 }, c.grammar)).toBe('英语|工程设备经销商|阅读03');
	});

	it('classifies the four groups, intent and risk by prefix or list, risk winning', () => {
		expect(tagGroup('Intent-Asked price')).toBe('intent');
		expect(tagGroup('Risk-Hard bounce')).toBe('risk');
		expect(tagGroup('VIP')).toBeNull();
		const c = new TagClassifier({ intent: { tags: ['Hot lead'] }, risk: { prefix: 'Blocked:', tags: ['Competitor', 'Hot lead'] } });
		expect(c.group('Hot lead')).toBe('risk');
		expect(c.group('Blocked:spam')).toBe('risk');
		expect(c.group('Intent-Asked price')).toBeNull();
		expect(c.group('English-Dealers-Read02')).toBe('read');
	});

	it("finds the read tag for a contact's marketing tag", () => {
		expect(readTagFor(['VIP', 'English-Equipment Dealers-Marketing21'])).toBe('English-Equipment Dealers-Read01');
		expect(readTagFor(['English-Equipment Dealers-Marketing10'])).toBe('English-Equipment Dealers-Read10');
		expect(readTagFor(['Intent-Asked price'])).toBeNull();
	});

	it('normalises tags from arrays and delimited strings', () => {
		expect(normalizeTags(' a, b;c\n a ,, ')).toEqual(['a', 'b', 'c']);
		expect(normalizeTags(['x', ' y ', null, 'x', 3])).toEqual(['x', 'y', '3']);
		expect(normalizeTags(undefined)).toEqual([]);
		expect(normalizeTags('a|b', '|')).toEqual(['a', 'b']);
	});
});
