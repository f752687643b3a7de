import { describe, expect, it } from 'vitest';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import { runNode } from '../helpers/n8n';

const node = new CadenceBatch();
const segments = {
	segment: [
		{ language: 'English', segment: 'Equipment Dealers' },
		{ language: 'Russian', segment: 'Distributors' },
	],
};

describe('Cadence Batch: Get Due Tags', () => {
	it('gives one item per due tag for each segment, in the workflow time zone', async () => {
		// 16:30 UTC on 27 Feb 2026 is already 28 Feb in Shanghai: the February catch-up
		const { json, outputs } = await runNode(node, {
			parameters: { operation: 'getDueTags', cadence: 'silent', segments, calendar: { date: '2026-02-27T16:30:00Z' } },
			items: [{}],
			timezone: 'Asia/Shanghai',
		});
		expect(json.map((j) => j.tag)).toEqual([
			'English-Equipment Dealers-Marketing28',
			'English-Equipment Dealers-Marketing29',
			'English-Equipment Dealers-Marketing30',
			'Russian-Distributors-Marketing28',
			'Russian-Distributors-Marketing29',
			'Russian-Distributors-Marketing30',
		]);
		expect(json[0]).toMatchObject({ language: 'English', segment: 'Equipment Dealers', group: 'marketing', batch: 28, cadence: 'silent' });
		expect(outputs[0].every((i) => (i.pairedItem as { item: number }).item === 0)).toBe(true);
	});

	it('read cadence, list output, explicit zone overriding the workflow', async () => {
		const { json } = await runNode(node, {
			parameters: {
				operation: 'getDueTags',
				cadence: 'read',
				segments,
				outputMode: 'list',
				calendar: { date: '2026-07-21T10:00:00', timeZone: 'Europe/Moscow' },
			},
			items: [{}],
		});
		expect(json).toEqual([{ cadence: 'read', dueTags: ['English-Equipment Dealers-Read01', 'Russian-Distributors-Read01'], batches: [1] }]);
	});

	it('nothing is due on the 31st', async () => {
		const { json } = await runNode(node, { parameters: { operation: 'getDueTags', segments, calendar: { date: '2026-07-31' } }, items: [{}] });
		expect(json).toEqual([]);
	});

	it('a missing segment is a clear error, or an error item with continueOnFail', async () => {
		await expect(runNode(node, { parameters: { operation: 'getDueTags' }, items: [{}] })).rejects.toThrow(/at least one segment/);
		const { json } = await runNode(node, {
			parameters: { operation: 'getDueTags', calendar: { date: 'not a date' }, segments },
			items: [{}],
			continueOnFail: true,
		});
		expect(json[0].error).toMatch(/not a valid date/);
	});
});

describe('Cadence Batch: Select Due Contacts', () => {
	it('keeps contacts with a due marketing tag (array or delimited tags) and adds dueTag', async () => {
		const items = [
			{ email: 'a@x.com', tags: ['English-Equipment Dealers-Marketing09'] },
			{ email: 'b@x.com', tags: 'VIP, English-Equipment Dealers-Marketing10' },
			{ email: 'c@x.com', tags: 'English-Equipment Dealers-Read09; Russian-Distributors-Marketing09' },
			{ email: 'd@x.com' },
		];
		const { outputs } = await runNode(node, {
			parameters: { operation: 'selectDueContacts', cadence: 'silent', calendar: { date: '2026-07-09' }, grammar: { tagsDelimiter: ';' } },
			items,
		});
		// with ';' as delimiter, item b's tags are one string that is no batch tag: it is not due
		expect(outputs[0].map((i) => [i.json.email, i.json.dueTag, i.pairedItem])).toEqual([
			['a@x.com', 'English-Equipment Dealers-Marketing09', { item: 0 }],
			['c@x.com', 'Russian-Distributors-Marketing09', { item: 2 }],
		]);
	});

	it('filters by segment and by read cadence', async () => {
		const items = [
			{ email: 'a@x.com', tags: ['English-Equipment Dealers-Marketing19', 'English-Equipment Dealers-Read09'] },
			{ email: 'b@x.com', tags: ['Russian-Distributors-Read09'] },
		];
		const { json } = await runNode(node, {
			parameters: {
				operation: 'selectDueContacts',
				cadence: 'read',
				segments: { segment: [{ language: 'english', segment: 'equipment dealers' }] },
				calendar: { date: '2026-07-29' },
			},
			items,
		});
		expect(json.map((j) => j.email)).toEqual(['a@x.com']);
	});
});

describe('Cadence Batch: Assign Batches', () => {
	it('tags new contacts by day and domain cap, skipping existing ones from the second input', async () => {
		const items = [
			...Array.from({ length: 12 }, (_, i) => ({ email: `u${i}@acme.com`, tags: ['Imported 2026-07'] })),
			{ email: 'Known@Other.com', tags: [] },
			{ email: 'broken address', tags: [] },
		];
		const { outputs } = await runNode(node, {
			parameters: {
				operation: 'assignBatches',
				language: 'English',
				segment: '={{ $json.segment ?? "Equipment Dealers" }}',
				calendar: { date: '2026-07-05' },
			},
			inputs: [items, [{ email: 'known@other.com', tags: ['English-Equipment Dealers-Marketing01'] }]],
		});
		const [assigned, skipped] = outputs;
		expect(assigned).toHaveLength(12);
		expect(assigned[0].json).toMatchObject({
			email: 'u0@acme.com',
			batch: 5,
			batchTag: 'English-Equipment Dealers-Marketing05',
			tags: ['Imported 2026-07', 'English-Equipment Dealers-Marketing05'],
		});
		expect(assigned.map((i) => i.json.batch)).toEqual([...new Array(10).fill(5), 6, 6]);
		expect(assigned[11].pairedItem).toEqual({ item: 11 });
		expect(skipped.map((i) => [i.json.reason, i.pairedItem])).toEqual([
			['existing', { item: 12 }],
			['invalid-address', { item: 13 }],
		]);
	});

	it('honours an existing-flag field and writes tags back as a string when they came as one', async () => {
		const { outputs } = await runNode(node, {
			parameters: {
				operation: 'assignBatches',
				language: 'English',
				segment: 'Dealers',
				existingField: 'found',
				perDomainCap: 1,
				calendar: { date: '2026-07-30' },
			},
			items: [
				{ email: 'a@x.com', tags: 'Fair' },
				{ email: 'b@x.com', tags: '' },
				{ email: 'c@x.com', found: true },
			],
		});
		expect(outputs[0].map((i) => [i.json.email, i.json.tags])).toEqual([
			['a@x.com', 'Fair, English-Dealers-Marketing30'],
			['b@x.com', 'English-Dealers-Marketing01'],
		]);
		expect(outputs[1].map((i) => i.json.reason)).toEqual(['existing']);
	});

	it('a contact without language is an error on that item only, with continueOnFail', async () => {
		const { outputs } = await runNode(node, {
			parameters: { operation: 'assignBatches', language: '={{ $json.lang }}', segment: 'Dealers', calendar: { date: '2026-07-05' } },
			items: [{ email: 'a@x.com', lang: 'English' }, { email: 'b@y.com' }],
			continueOnFail: true,
		});
		expect(outputs[0].map((i) => i.json.email)).toEqual(['a@x.com']);
		expect(outputs[1][0].json).toMatchObject({ email: 'b@y.com', reason: 'error' });
		expect(String(outputs[1][0].json.error)).toMatch(/Language and segment/);
	});
});

describe('Cadence Batch: Tag Readers', () => {
	it('adds the matching read tag once and never removes tags', async () => {
		const { json } = await runNode(node, {
			parameters: { operation: 'tagReaders' },
			items: [
				{ email: 'a@x.com', tags: ['English-Dealers-Marketing21', 'VIP'] },
				{ email: 'b@x.com', tags: ['English-Dealers-Marketing10', 'English-Dealers-Read10'] },
			],
		});
		expect(json[0]).toMatchObject({
			tags: ['English-Dealers-Marketing21', 'VIP', 'English-Dealers-Read01'],
			readTag: 'English-Dealers-Read01',
			readTagAdded: true,
		});
		expect(json[1]).toMatchObject({ tags: ['English-Dealers-Marketing10', 'English-Dealers-Read10'], readTagAdded: false });
	});

	it('a contact without a marketing tag fails with a clear message, and only that item with continueOnFail', async () => {
		await expect(runNode(node, { parameters: { operation: 'tagReaders' }, items: [{ email: 'a@x.com', tags: ['VIP'] }] })).rejects.toThrow(
			/no marketing tag/,
		);
		const { json } = await runNode(node, {
			parameters: { operation: 'tagReaders' },
			items: [
				{ email: 'a@x.com', tags: ['VIP'] },
				{ email: 'b@x.com', tags: ['English-Dealers-Marketing02'] },
			],
			continueOnFail: true,
		});
		expect(json[0].error).toMatch(/no marketing tag/);
		expect(json[1].readTag).toBe('English-Dealers-Read02');
	});
});

describe('Cadence Batch: Add Tags', () => {
	it('adds tags once, keeps the field shape, never removes any', async () => {
		const { json } = await runNode(node, {
			parameters: {
				operation: 'addTags',
				tagsToAdd: '={{ $json.kind === "unsubscribe" ? "Risk-Unsubscribed" : "Intent-Replied, Intent-Asked price" }}',
			},
			items: [
				{ email: 'a@x.com', tags: 'English-Dealers-Marketing05, Risk-Unsubscribed', kind: 'unsubscribe' },
				{ email: 'b@x.com', tags: ['English-Dealers-Marketing05'], kind: 'reply' },
			],
		});
		expect(json[0]).toMatchObject({ tags: 'English-Dealers-Marketing05, Risk-Unsubscribed', tagsAdded: [] });
		expect(json[1]).toMatchObject({
			tags: ['English-Dealers-Marketing05', 'Intent-Replied', 'Intent-Asked price'],
			tagsAdded: ['Intent-Replied', 'Intent-Asked price'],
		});
	});
	it('an empty tag list is an error on that item', async () => {
		const { json } = await runNode(node, {
			parameters: { operation: 'addTags', tagsToAdd: '={{ $json.t }}' },
			items: [
				{ email: 'a@x.com', t: '' },
				{ email: 'b@x.com', t: 'VIP' },
			],
			continueOnFail: true,
		});
		expect(json[0].error).toMatch(/No tags to add/);
		expect(json[1].tags).toEqual(['VIP']);
	});
});
