import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { contactTagLanguage, MAX_TAGS_PER_CONTACT, parseTagList, stateTag, TagClassifier, tagKey, type StateGroup } from '../../../core/tags';
import { readContactSettings, readTags, withTags } from '../../shared/contactFields';

/**
 * Adds tags to each contact: "Tags to Add" as written, and "State Tags" (a risk or intent state such as
 * Unsubscribed) in the contact's own tag language (`Risk-Unsubscribed` or `风险-退订`, see contactTagLanguage).
 * State is added, never stripped ("don't delete, don't tear off"); tags already present in any case or width
 * (risk-unsubscribed) are not repeated, and the field keeps its shape (array or string). A contact whose tags cannot
 * all be read, or would pass MAX_TAGS_PER_CONTACT, fails as an item rather than being written back with part of
 * its tags.
 */
export async function addTags(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const settings = readContactSettings(this, 0);
	const classifier = new TagClassifier(settings.grammar);
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const toAddList = parseTagList(this.getNodeParameter('tagsToAdd', i, ''), ',');
			if (toAddList.problem !== undefined)
				throw new NodeOperationError(this.getNode(), `"Tags to Add" cannot be read: ${toAddList.problem}`, { itemIndex: i });
			const states = (((this.getNodeParameter('stateTags', i, {}) ?? {}) as IDataObject).tag ?? []) as IDataObject[];
			if (toAddList.tags.length === 0 && states.length === 0)
				throw new NodeOperationError(this.getNode(), 'No tags to add: set "Tags to Add" or add a State Tag', { itemIndex: i });
			const current = readTags(items[i].json, settings);
			const language = contactTagLanguage(current, classifier);
			const toAdd = [...toAddList.tags];
			for (const s of states) {
				try {
					toAdd.push(stateTag(String(s.group ?? 'risk') as StateGroup, String(s.state ?? ''), language, classifier));
				} catch (error) {
					throw new NodeOperationError(this.getNode(), `State Tag: ${(error as Error).message}`, { itemIndex: i });
				}
			}
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
			if (states.length > 0) json.tagLanguage = language;
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
