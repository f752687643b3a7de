import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { normalizeTags } from '../../core/tags';
import { readContactSettings, readTags, withTags } from '../../shared/contactFields';

/**
 * Adds tags (e.g. Risk-Unsubscribed, Intent-Replied) to each contact. State is added, never stripped ("don't delete,
 * don't tear off"); tags already present are not repeated, and the field keeps its shape (array or string).
 */
export async function addTags(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const settings = readContactSettings(this, 0);
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const toAdd = normalizeTags(this.getNodeParameter('tagsToAdd', i), ',');
			if (toAdd.length === 0) throw new NodeOperationError(this.getNode(), 'No tags to add: set "Tags to Add"', { itemIndex: i });
			const current = readTags(items[i].json, settings);
			const added = toAdd.filter((t) => !current.includes(t));
			const json = withTags(items[i].json, [...current, ...added], settings);
			json.tagsAdded = added;
			out.push({ json, pairedItem: { item: i } });
		} catch (error) {
			if (this.continueOnFail()) {
				out.push({ json: { ...items[i].json, error: (error as Error).message }, pairedItem: { item: i } });
				continue;
			}
			throw new NodeOperationError(this.getNode(), error as Error, { itemIndex: i });
		}
	}
	return [out];
}
