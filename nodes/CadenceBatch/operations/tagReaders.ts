import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { readTagFor } from '../../core/select';
import { TagClassifier, tagKey } from '../../core/tags';
import { readContactSettings, readTags, withTags } from '../../shared/contactFields';

/** Adds the read tag that matches each contact's marketing tag (Marketing01, 11, 21 → Read01). Never removes tags. */
export async function tagReaders(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const settings = readContactSettings(this, 0);
	const tags = new TagClassifier(settings.grammar);
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const current = readTags(items[i].json, settings);
			const readTag = readTagFor(current, tags);
			if (!readTag)
				throw new NodeOperationError(this.getNode(), `The contact has no marketing tag (e.g. English-Dealers-Marketing05), so its read tag is unknown`, {
					itemIndex: i,
					description: `Tags: ${current.join(', ') || '(none)'}`,
				});
			const readKey = tagKey(readTag);
			const added = !current.some((t) => tagKey(t) === readKey);
			const json = withTags(items[i].json, added ? [...current, readTag] : current, settings);
			Object.assign(json, { readTag, readTagAdded: added });
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
