import { NodeOperationError } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import * as addTags from '../../nodes/CadenceBatch/actions/addTags.operation';
import * as assignBatches from '../../nodes/CadenceBatch/actions/assignBatches.operation';
import * as getDueTags from '../../nodes/CadenceBatch/actions/getDueTags.operation';
import * as selectDueContacts from '../../nodes/CadenceBatch/actions/selectDueContacts.operation';
import * as tagReaders from '../../nodes/CadenceBatch/actions/tagReaders.operation';
import { CadenceViews } from '../../nodes/CadenceViews/CadenceViews.node';
import { DEFAULT_PER_DOMAIN_CAP } from '../../core/assign';
import { DEFAULT_VIEW_DOMAIN_CAP } from '../../core/views';
import { runNode } from '../helpers/n8n';

const batch = new CadenceBatch();
const views = new CadenceViews();
const segments = { segment: [{ language: 'English', segment: 'Dealers' }] };

describe('Cadence Batch: one operation per file, assembled by the node', () => {
	it('keeps the parameters in the order saved workflows and the editor know', () => {
		expect(batch.description.properties.map((p) => p.name)).toEqual([
			'operation',
			'cadence',
			'segments',
			'outputMode',
			'tagForms',
			'tagsToAdd',
			'stateTags',
			'language',
			'segment',
			'perDomainCap',
			'existingField',
			'emailField',
			'windowDays',
			'ownerRules',
			'defaultOwner',
			'contactField',
			'tagsField',
			'calendar',
			'grammar',
		]);
	});

	it("shows each operation's own parameters for that operation only", () => {
		const ops = { addTags, assignBatches, getDueTags, selectDueContacts, tagReaders };
		for (const [name, op] of Object.entries(ops)) {
			for (const p of op.description) expect(p.displayOptions, `${name}: ${p.name}`).toEqual({ show: { operation: [name] } });
		}
	});

	it('an unknown operation fails the node with a clear error instead of doing nothing', async () => {
		const error = await runNode(batch, { parameters: { operation: 'deleteEverything' }, items: [{}] }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as Error).message).toBe('Unknown operation "deleteEverything"');
	});

	it('the per-domain cap parameter default is the named constant', () => {
		const cap = batch.description.properties.find((p) => p.name === 'perDomainCap');
		expect(cap?.default).toBe(DEFAULT_PER_DOMAIN_CAP);
	});
});

describe('Cadence Batch: one Continue On Fail error-item shape (input fields plus error)', () => {
	it('Get Due Tags keeps the failed input item fields next to the error', async () => {
		const { outputs } = await runNode(batch, {
			parameters: { operation: 'getDueTags', segments, calendar: { date: 'not a date' } },
			items: [{ run: 7 }],
			continueOnFail: true,
		});
		expect(outputs[0]).toHaveLength(1);
		expect(outputs[0][0].json).toEqual({ run: 7, error: expect.stringMatching(/not a valid date/) });
		expect(outputs[0][0].pairedItem).toEqual({ item: 0 });
	});

	it("Tag Readers carries the error's description (the contact's tags) on the error item", async () => {
		const { outputs } = await runNode(batch, {
			parameters: { operation: 'tagReaders' },
			items: [
				{ email: 'a@x.com', tags: ['VIP'] },
				{ email: 'b@x.com', tags: ['English-Dealers-Marketing21'] },
			],
			continueOnFail: true,
		});
		expect(outputs[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		expect(outputs[0][0].json).toEqual({
			email: 'a@x.com',
			tags: ['VIP'],
			error: expect.stringMatching(/no marketing tag/),
			description: 'Tags: VIP',
		});
		expect(outputs[0][1].json).toMatchObject({ readTag: 'English-Dealers-Read01', readTagAdded: true });
	});

	it('Assign Batches sends a failed contact to Skipped as reason error, the others assigned', async () => {
		const { outputs } = await runNode(batch, {
			parameters: { operation: 'assignBatches', language: '={{ $json.lang }}', segment: 'Dealers', calendar: { date: '2026-03-05' } },
			items: [{ email: 'a@x.com', lang: 'English' }, { email: 'b@y.com' }],
			continueOnFail: true,
		});
		expect(outputs[0].map((o) => [o.json.email, o.json.batchTag, o.pairedItem])).toEqual([['a@x.com', 'English-Dealers-Marketing05', { item: 0 }]]);
		expect(outputs[1].map((o) => [o.json, o.pairedItem])).toEqual([
			[{ email: 'b@y.com', reason: 'error', error: expect.stringMatching(/Language and segment are needed/) }, { item: 1 }],
		]);
	});

	it('without Continue On Fail a failing item fails the node with its item index', async () => {
		const error = await runNode(batch, {
			parameters: { operation: 'addTags', tagsToAdd: '={{ $json.t }}' },
			items: [
				{ email: 'a@x.com', t: 'VIP' },
				{ email: 'b@x.com', t: '' },
			],
		}).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as NodeOperationError).message).toMatch(/No tags to add/);
		expect((error as NodeOperationError).context.itemIndex).toBe(1);
	});
});

describe('Cadence Views: Split by Views is the default operation', () => {
	it('keeps the split parameters in order after the operation, then the verification ones', () => {
		expect(views.description.properties.map((p) => p.name)).toEqual([
			'operation',
			'cadence',
			'excludePresets',
			'customViews',
			'noSend',
			'domainCap',
			'emailField',
			'tagsField',
			'verificationField',
			'grammar',
			'dnsServer',
			'dnsTimeout',
			'cacheLifetime',
			'roleAccounts',
			'resultField',
			'smtpProbe',
			'smtpProbeNotice',
			'probeHeloName',
			'probeMailFrom',
			'probePort',
			'verifyOptions',
		]);
	});

	it('caps kept contacts per domain at the named default when the parameter is left out', async () => {
		const items = Array.from({ length: DEFAULT_VIEW_DOMAIN_CAP + 2 }, (_, i) => ({ email: `p${i}@acme.com`, tags: [] }));
		const { outputs } = await runNode(views, { parameters: {}, items });
		expect(outputs[0]).toHaveLength(DEFAULT_VIEW_DOMAIN_CAP);
		expect(outputs[1].map((o) => [o.pairedItem, (o.json.excludedBy as Array<{ view: string }>)[0].view])).toEqual([
			[{ item: DEFAULT_VIEW_DOMAIN_CAP }, 'domain-cap'],
			[{ item: DEFAULT_VIEW_DOMAIN_CAP + 1 }, 'domain-cap'],
		]);
	});
});
