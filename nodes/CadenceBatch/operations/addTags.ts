import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { MAX_TAGS_PER_CONTACT, parseTagList, tagKey } from '../../core/tags';
import { readContactSettings, readTags, withTags } from '../../shared/contactFields';

/**
 * Adds tags (e.g. Risk-Unsubscribed, Intent-Replied) to each contact. State is added, never stripped ("don't delete,
 * don't tear off"); tags already present in any case or width (risk-unsubscribed) are not repeated, and the field
 * keeps its shape (array or string). A contact whose tags cannot all be read, or would pass MAX_TAGS_PER_CONTACT,
 * fails as an item rather than being written back with part of its tags.
 */
export async function addTags(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const settings = readContactSettings(this, 0);
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const toAddList = parseTagList(this.getNodeParameter('tagsToAdd', i), ',');
			if (toAddList.problem !== undefined)
				throw new NodeOperationError(this.getNode(), `"Tags to Add" cannot be read: ${toAddList.problem}`, { itemIndex: i });
			const toAdd = toAddList.tags;
			if (toAdd.length === 0) throw new NodeOperationError(this.getNode(), 'No tags to add: set "Tags to Add"', { itemIndex: i });
			const current = readTags(items[i].json, settings);
			const present = new Set(current.map(tagKey));
			const added: string[] = [];
			for (const t of toAdd) {
				const key = tagKey(t);
				if (present.has(key)) continue;
				present.add(key);
				added.push(t);
			}
			if (current.length + added.length > MAX_TAGS_PER_CONTACT)
				throw new NodeOperationError(this.getNode(), `The contact would have more than ${MAX_TAGS_PER_CONTACT} tags`, { itemIndex: i });
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
