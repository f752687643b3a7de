/**
 * Adds the read tag that matches each contact's marketing tag (Marketing01, 11, 21 → Read01), written like that tag:
 * `法语-工程设备经销商-营销21` → `法语-工程设备经销商-阅读01`. A read tag of the same batch in any spelling counts as
 * present. Never removes tags.
 */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { findBatchTag, readTagFor } from '../../../core/select';
import { parseBatchTag, TagClassifier } from '../../../core/tags';
import { readContactSettings, readTags, withTags, type ContactSettings } from '../../shared/contactFields';
import { forEachItem } from '../../shared/perItem';

/** Its parameters are all shared with other operations (see common.ts). */
export const description: INodeProperties[] = [];

function tagReader(ctx: IExecuteFunctions, item: INodeExecutionData, i: number, settings: ContactSettings, tags: TagClassifier): INodeExecutionData {
	const current = readTags(item.json, settings);
	const readTag = readTagFor(current, tags);
	if (!readTag)
		throw new NodeOperationError(
			ctx.getNode(),
			`The contact has no marketing tag (e.g. English-Dealers-Marketing05 or 法语-经销商-营销05), so its read tag is unknown`,
			{ itemIndex: i, description: `Tags: ${current.join(', ') || '(none)'}` },
		);
	const parts = parseBatchTag(readTag, tags.grammar);
	const present = parts ? findBatchTag(current, parts, tags) : null;
	const json = withTags(item.json, present === null ? [...current, readTag] : current, settings);
	Object.assign(json, { readTag, readTagAdded: present === null });
	return { json };
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const settings = readContactSettings(this, 0);
	const tags = new TagClassifier(settings.grammar);
	return [await forEachItem(this, items, (item, i) => tagReader(this, item, i, settings, tags))];
}
