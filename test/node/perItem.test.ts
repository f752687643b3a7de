import { NodeOperationError, type IExecuteFunctions, type INodeType } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { forEachItem } from '../../nodes/shared/perItem';
import { runNode } from '../helpers/n8n';

/** A node whose only work is the shared runner: item 1 fails, item 2 returns two rows, item 3 returns nothing. */
const probe: INodeType = {
	description: {
		displayName: 'Probe',
		name: 'probe',
		group: ['transform'],
		version: 1,
		description: '',
		defaults: { name: 'Probe' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [],
	},
	async execute(this: IExecuteFunctions) {
		const items = this.getInputData();
		return [
			await forEachItem(this, items, (item, i) => {
				if (item.json.fail === 'plain') throw new Error(`bad contact ${i}`);
				if (item.json.fail === 'n8n') throw new NodeOperationError(this.getNode(), 'refused', { description: 'why it was refused' });
				if (i === 2) return [{ row: 'a' }, { json: { row: 'b' } }];
				if (i === 3) return undefined;
				return { ok: i };
			}),
		];
	},
};

const items = [{ n: 0 }, { fail: 'plain' }, { n: 2 }, { n: 3 }, { fail: 'n8n' }];

describe('the shared per-item runner', () => {
	it('pairs every output with its input item and gives every failure the same shape under Continue On Fail', async () => {
		const { outputs } = await runNode(probe, { items, continueOnFail: true });
		expect(outputs[0].map((o) => [o.json, o.pairedItem])).toEqual([
			[{ ok: 0 }, { item: 0 }],
			[{ fail: 'plain', error: 'bad contact 1' }, { item: 1 }],
			[{ row: 'a' }, { item: 2 }],
			[{ row: 'b' }, { item: 2 }],
			[{ fail: 'n8n', error: 'refused', description: 'why it was refused' }, { item: 4 }],
		]);
	});

	it('fails the node with the item index otherwise', async () => {
		const error = await runNode(probe, { items }).catch((e: NodeOperationError) => e);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as NodeOperationError).message).toBe('bad contact 1');
		expect((error as NodeOperationError).context.itemIndex).toBe(1);
	});
});
