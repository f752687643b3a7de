import { describe, expect, it } from 'vitest';
import { CadenceViews } from '../../nodes/CadenceViews/CadenceViews.node';
import { runNode } from '../helpers/n8n';

const node = new CadenceViews();
const contacts = [
	{ email: 'bob@acme.com', tags: ['English-Dealers-Marketing05'] },
	{ email: 'reader@acme.com', tags: ['English-Dealers-Marketing05', 'English-Dealers-Read05'] },
	{ email: 'hr@acme.com', tags: [] },
	{ email: 'li@factory.cn', tags: [] },
	{ email: 'ceo@rival.com', tags: 'English-Dealers-Marketing05, Risk-Competitor' },
	{ email: 'not an address', tags: [] },
	{ email: 'info@acme.com', tags: ['Intent-Asked price'] },
];

describe('Cadence Views', () => {
	it('silent cadence: kept and excluded outputs, each excluded item says why, pairedItem kept', async () => {
		const { outputs } = await runNode(node, { parameters: { cadence: 'silent' }, items: contacts });
		const [kept, excluded] = outputs;
		expect(kept.map((i) => [i.json.email, i.pairedItem])).toEqual([['bob@acme.com', { item: 0 }]]);
		expect(excluded.map((i) => [i.json.email, (i.json.excludedBy as Array<{ view: string }>).map((m) => m.view)])).toEqual([
			['reader@acme.com', ['read']],
			['hr@acme.com', ['no-send']],
			['li@factory.cn', ['no-send']],
			['ceo@rival.com', ['risk']],
			['not an address', ['invalid-address']],
			['info@acme.com', ['intent']],
		]);
		expect(excluded[1].json.excludedBy).toEqual([{ view: 'no-send', rule: 'localPartStartsWith', value: 'hr@' }]);
		expect(excluded[3].pairedItem).toEqual({ item: 4 });
	});

	it('read cadence keeps readers; edited no-send lists; custom views; report-only views', async () => {
		const { outputs } = await runNode(node, {
			parameters: {
				cadence: 'read',
				noSend: { localPartStartsWith: 'jobs@', regionDomainEndsWith: '' },
				customViews: {
					view: [
						{ name: 'competitors', exclude: true, match: 'any', rules: { rule: [{ type: 'domainEndsWith', values: 'rival.com' }] } },
						{ name: 'owners', exclude: false, match: 'any', rules: { rule: [{ type: 'regex', pattern: '^(bob|info)$', target: 'local' }] } },
					],
				},
			},
			items: contacts,
		});
		const [kept, excluded] = outputs;
		expect(kept.map((i) => i.json.email)).toEqual(['bob@acme.com', 'reader@acme.com', 'hr@acme.com', 'li@factory.cn']);
		expect(kept[0].json.views).toEqual(['owners']);
		expect(kept[1].json.views).toBeUndefined();
		const ceo = excluded.find((i) => i.json.email === 'ceo@rival.com')!;
		expect(ceo.json.excludedBy).toEqual([
			{ view: 'risk', rule: 'hasTagInGroup', value: 'Risk-Competitor' },
			{ view: 'competitors', rule: 'domainEndsWith', value: 'rival.com' },
		]);
	});

	it('caps kept contacts per domain and uses configured fields', async () => {
		const items = Array.from({ length: 5 }, (_, i) => ({ contact: { mail: `u${i}@big.com` }, labels: [] }));
		const { outputs } = await runNode(node, { parameters: { domainCap: 3, emailField: 'contact.mail', tagsField: 'labels' }, items });
		expect(outputs[0]).toHaveLength(3);
		expect(outputs[1].map((i) => (i.json.excludedBy as Array<{ view: string }>)[0].view)).toEqual(['domain-cap', 'domain-cap']);
	});

	it('a broken custom view is a clear node error', async () => {
		await expect(
			runNode(node, {
				parameters: { customViews: { view: [{ name: 'bad', rules: { rule: [{ type: 'regex', pattern: '([' }] } }] } },
				items: contacts,
			}),
		).rejects.toThrow(/bad rule 1: invalid regular expression/);
	});
});
