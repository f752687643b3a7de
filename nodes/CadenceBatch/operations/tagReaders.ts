import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { findBatchTag, readTagFor } from '../../../core/select';
import { parseBatchTag, TagClassifier } from '../../../core/tags';
import { readContactSettings, readTags, withTags } from '../../shared/contactFields';

/**
 * Adds the read tag that matches each contact's marketing tag (Marketing01, 11, 21 → Read01), written like that tag:
 * `法语-工程设备经销商-营销21` → `法语-工程设备经销商-阅读01`. A read tag of the same batch in any spelling counts as
 * present. Never removes tags.
 */
export async function tagReaders(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const settings = readContactSettings(this, 0);
	const tags = new TagClassifier(settings.grammar);
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const current = readTags(items[i].json, settings);
			const readTag = readTagFor(current, tags);
			if (!readTag)
				throw new NodeOperationError(
					this.getNode(),
					`The contact has no marketing tag (e.g. English-Dealers-Marketing05 or 法语-经销商-营销05), so its read tag is unknown`,
					{ itemIndex: i, description: `Tags: ${current.join(', ') || '(none)'}` },
				);
			const parts = parseBatchTag(readTag, tags.grammar);
			const present = parts ? findBatchTag(current, parts, tags) : null;
			const json = withTags(items[i].json, present === null ? [...current, readTag] : current, settings);
			Object.assign(json, { readTag, readTagAdded: present === null });
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
