import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import { CadenceViews } from '../../nodes/CadenceViews/CadenceViews.node';
import { runNode } from '../helpers/n8n';

const node = new CadenceBatch();
const FR = '法语-工程设备经销商';

describe("Cadence Batch in the contact's own tag language, default settings", () => {
	it('Tag Readers gives a Chinese contact 阅读NN (spacing kept) and an English one ReadNN', async () => {
		const { json } = await runNode(node, {
			parameters: { operation: 'tagReaders' },
			items: [
				{ email: 'a@x.com', tags: [`${FR}-营销21`] },
				{ email: 'b@x.com', tags: `${FR}-营销 12, VIP` },
				{ email: 'c@x.com', tags: ['English-Dealers-Marketing05'] },
				{ email: 'd@x.com', tags: [`${FR}-营销 21`, `${FR}-阅读01`] },
			],
		});
		expect(json.map((j) => [j.readTag, j.readTagAdded])).toEqual([
			[`${FR}-阅读01`, true],
			[`${FR}-阅读 02`, true],
			['English-Dealers-Read05', true],
			[`${FR}-阅读 01`, false],
		]);
		expect(json[0].tags).toEqual([`${FR}-营销21`, `${FR}-阅读01`]);
		expect(json[1].tags).toBe(`${FR}-营销 12, VIP, ${FR}-阅读 02`);
		expect(json[3].tags).toEqual([`${FR}-营销 21`, `${FR}-阅读01`]);
	});

	it('Add Tags: a state tag is 风险-退订 on a Chinese contact and Risk-Unsubscribed on an English one', async () => {
		const { json } = await runNode(node, {
			parameters: { operation: 'addTags', stateTags: { tag: [{ group: 'risk', state: 'Unsubscribed' }] } },
			items: [
				{ email: 'a@x.com', tags: [`${FR}-营销05`] },
				{ email: 'b@x.com', tags: ['English-Dealers-Marketing05'] },
				{ email: 'c@x.com', tags: `${FR}-营销05, 风险-退订` },
				{ email: 'd@x.com', tags: [] },
			],
		});
		expect(json.map((j) => [j.tagsAdded, j.tagLanguage])).toEqual([
			[['风险-退订'], 'zh'],
			[['Risk-Unsubscribed'], 'en'],
			[[], 'zh'],
			[['Risk-Unsubscribed'], 'en'],
		]);
		expect(json[0].tags).toEqual([`${FR}-营销05`, '风险-退订']);
	});

	it('Add Tags: states from an expression, several at once, mixed contacts as documented', async () => {
		const { json } = await runNode(node, {
			parameters: {
				operation: 'addTags',
				tagsToAdd: 'Fair 2026',
				stateTags: {
					tag: [
						{ group: 'intent', state: '={{ $json.state }}' },
						{ group: 'risk', state: 'Hard bounce' },
					],
				},
			},
			items: [
				// the marketing tag decides: Chinese, although the other tags are English
				{ email: 'a@x.com', tags: ['Risk-Competitor', 'Intent-Asked price', `${FR}-营销05`], state: 'Replied' },
				// no marketing tag: the majority of the grammar tags decides
				{ email: 'b@x.com', tags: ['English-Dealers-Read05', '意向-询价', '风险-同行'], state: '已回复' },
				{ email: 'c@x.com', tags: ['English-Dealers-Read05', '风险-同行'], state: 'Custom follow-up' },
			],
		});
		expect(json.map((j) => j.tagsAdded)).toEqual([
			['Fair 2026', '意向-已回复', '风险-硬退信'],
			['Fair 2026', '意向-已回复', '风险-硬退信'],
			['Fair 2026', 'Intent-Custom follow-up', 'Risk-Hard bounce'],
		]);
	});

	it('Add Tags: an empty state or a risk group without a prefix is an error on that item', async () => {
		const { json } = await runNode(node, {
			parameters: { operation: 'addTags', stateTags: { tag: [{ group: 'risk', state: '={{ $json.state }}' }] } },
			items: [
				{ email: 'a@x.com', tags: [], state: '' },
				{ email: 'b@x.com', tags: [], state: 'Complained' },
			],
			continueOnFail: true,
		});
		expect(json[0].error).toMatch(/State Tag: a risk state tag needs a state name/);
		expect(json[1].tagsAdded).toEqual(['Risk-Complained']);
		const noPrefix = await runNode(node, {
			parameters: {
				operation: 'addTags',
				stateTags: { tag: [{ group: 'risk', state: 'Complained' }] },
				grammar: { riskPrefix: '', riskTags: 'Do not mail' },
			},
			items: [{ email: 'a@x.com', tags: [] }],
			continueOnFail: true,
		});
		expect(noPrefix.json[0].error).toMatch(/no prefix/);
		await expect(runNode(node, { parameters: { operation: 'addTags' }, items: [{ email: 'a@x.com', tags: [] }] })).rejects.toThrow(/No tags to add/);
	});

	it("Get Due Tags and Select Due Contacts find Chinese-tagged contacts for today's batch", async () => {
		const segments = { segment: [{ language: '法语', segment: '工程设备经销商' }] };
		const own = await runNode(node, {
			parameters: { operation: 'getDueTags', cadence: 'silent', segments, calendar: { date: '2026-07-09' } },
			items: [{}],
		});
		expect(own.json).toEqual([{ tag: `${FR}-营销09`, cadence: 'silent', language: '法语', segment: '工程设备经销商', group: 'marketing', batch: 9 }]);
		const all = await runNode(node, {
			parameters: { operation: 'getDueTags', cadence: 'silent', segments, tagForms: 'all', calendar: { date: '2026-07-09' } },
			items: [{}],
		});
		expect(all.json.map((j) => j.tag)).toEqual([`${FR}-营销09`, `${FR}-营销 09`, `${FR}-Marketing09`, `${FR}-Marketing 09`]);
		const selected = await runNode(node, {
			parameters: { operation: 'selectDueContacts', cadence: 'silent', segments, calendar: { date: '2026-07-09' } },
			items: [
				{ email: 'a@x.com', tags: `${FR}-营销 09` },
				{ email: 'b@x.com', tags: [`${FR}-营销10`] },
				{ email: 'c@x.com', tags: [`${FR}-营销０９`] },
			],
		});
		expect(selected.json.map((j) => [j.email, j.dueTag])).toEqual([
			['a@x.com', `${FR}-营销 09`],
			['c@x.com', `${FR}-营销０９`],
		]);
	});

	it('Assign Batches writes the batch tag of a segment named in Chinese with 营销', async () => {
		const { outputs } = await runNode(node, {
			parameters: { operation: 'assignBatches', language: '法语', segment: '工程设备经销商', calendar: { date: '2026-07-05' } },
			items: [{ email: 'a@acme.fr' }],
		});
		expect(outputs[0][0].json).toMatchObject({ batch: 5, batchTag: `${FR}-营销05`, tags: [`${FR}-营销05`] });
	});

	it('a saved marker option keeps meaning exactly that marker', async () => {
		const { json } = await runNode(node, {
			parameters: { operation: 'selectDueContacts', cadence: 'silent', calendar: { date: '2026-07-09' }, grammar: { marketingMarker: 'Marketing' } },
			items: [
				{ email: 'a@x.com', tags: [`${FR}-营销09`] },
				{ email: 'b@x.com', tags: ['English-Dealers-Marketing09'] },
			],
		});
		expect(json.map((j) => j.email)).toEqual(['b@x.com']);
	});
});

describe('Cadence Views with Chinese tags and free mail, default settings', () => {
	it('excludes 风险-/意向-/阅读 tags and the Chinese free-mail services', async () => {
		const { outputs } = await runNode(new CadenceViews(), {
			parameters: { cadence: 'silent' },
			items: [
				{ email: 'kept@acme.fr', tags: [`${FR}-营销05`] },
				{ email: 'r@acme.fr', tags: [`${FR}-营销05`, `${FR}-阅读05`] },
				{ email: 'i@acme.fr', tags: [`${FR}-营销05`, '意向-已回复'] },
				{ email: 'k@acme.fr', tags: [`${FR}-营销05`, '风险-退订'] },
				{ email: 'wang@126.com', tags: [`${FR}-营销05`] },
				{ email: 'li@foxmail.com', tags: [`${FR}-营销05`] },
				{ email: 'info@acme.de', tags: [`${FR}-营销05`] },
			],
		});
		const [kept, excluded] = outputs;
		expect(kept.map((i) => i.json.email)).toEqual(['kept@acme.fr', 'info@acme.de']);
		expect(excluded.map((i) => [i.json.email, (i.json.excludedBy as Array<{ view: string }>)[0].view])).toEqual([
			['r@acme.fr', 'read'],
			['i@acme.fr', 'intent'],
			['k@acme.fr', 'risk'],
			['wang@126.com', 'no-send'],
			['li@foxmail.com', 'no-send'],
		]);
	});
});

describe("templates add state tags in the contact's language", () => {
	const read = (f: string) =>
		JSON.parse(readFileSync(new URL(`../../workflows/${f}`, import.meta.url), 'utf8')) as {
			nodes: Array<{ name: string; type: string; parameters: Record<string, unknown> }>;
		};
	it('no Cadence Batch node of templates 4 and 5 hard-codes a risk or intent tag, in either store', () => {
		for (const f of ['4-tracking-events.json', '5-inbox-attribution.json', 'postgres/4-tracking-events.json', 'postgres/5-inbox-attribution.json']) {
			const batch = read(f).nodes.filter((n) => n.type.endsWith('.cadenceBatch'));
			for (const n of batch) expect(String(n.parameters.tagsToAdd ?? ''), `${f}: ${n.name}`).not.toMatch(/Risk-|Intent-|风险-|意向-/);
			expect(
				batch.filter((n) => n.parameters.operation === 'addTags').every((n) => n.parameters.stateTags),
				f,
			).toBe(true);
		}
	});
});
