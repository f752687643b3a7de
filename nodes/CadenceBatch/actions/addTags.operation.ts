/**
 * Adds tags to each contact: "Tags to Add" as written, and "State Tags" (a risk or intent state such as
 * Unsubscribed) in the contact's own tag language (`Risk-Unsubscribed` or `风险-退订`, see contactTagLanguage).
 * State is added, never stripped ("don't delete, don't tear off"); tags already present in any case or width
 * (risk-unsubscribed) are not repeated, and the field keeps its shape (array or string). A contact whose tags cannot
 * all be read, or would pass MAX_TAGS_PER_CONTACT, fails as an item rather than being written back with part of
 * its tags.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import {
	contactTagLanguage,
	MAX_TAGS_PER_CONTACT,
	parseTagList,
	STATE_NAMES,
	stateTag,
	TagClassifier,
	tagKey,
	type StateGroup,
	type TagLanguage,
} from '../../../core/tags';
import { readContactSettings, readTags, withTags, type ContactSettings } from '../../shared/contactFields';
import { forEachItem } from '../../shared/perItem';
import { forOperations } from './common';

/** The group of a State Tag row that leaves it out. */
const DEFAULT_STATE_GROUP: StateGroup = 'risk';

export const description: INodeProperties[] = [
	{
		displayName: 'Tags to Add',
		name: 'tagsToAdd',
		type: 'string',
		default: '',
		placeholder: 'VIP, Fair 2026',
		displayOptions: forOperations('addTags'),
		description:
			"Comma-separated tags added as written (expressions allowed). For risk and intent states use State Tags: they follow each contact's language.",
	},
	{
		displayName: 'State Tags',
		name: 'stateTags',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add State Tag',
		default: {},
		displayOptions: forOperations('addTags'),
		description:
			"Risk or intent tags written in the language of each contact's own tags: Risk + Unsubscribed is Risk-Unsubscribed on an English contact and 风险-退订 on a Chinese one",
		options: [
			{
				displayName: 'State Tag',
				name: 'tag',
				values: [
					{
						displayName: 'Group',
						name: 'group',
						type: 'options',
						default: DEFAULT_STATE_GROUP,
						options: [
							{ name: 'Intent', value: 'intent', description: 'Personal follow-up, no more bulk mail (Intent- / 意向-)' },
							{ name: 'Risk', value: 'risk', description: 'No more mail (Risk- / 风险-)' },
						],
					},
					{
						displayName: 'State',
						name: 'state',
						type: 'string',
						default: '',
						placeholder: 'Unsubscribed',
						description: `Translated when known (English or Chinese name): ${Object.values(STATE_NAMES)
							.map((n) => `${n.en} / ${n.zh}`)
							.join(', ')}. Any other name is added as written after the prefix.`,
					},
				],
			},
		],
	},
];

/** The item's "Tags to Add" and State Tag rows; at least one tag must be asked for. */
function requestedTags(ctx: IExecuteFunctions, i: number): { written: string[]; states: IDataObject[] } {
	const toAddList = parseTagList(ctx.getNodeParameter('tagsToAdd', i, ''), ',');
	if (toAddList.problem !== undefined)
		throw new NodeOperationError(ctx.getNode(), `"Tags to Add" cannot be read: ${toAddList.problem}`, { itemIndex: i });
	const states = (((ctx.getNodeParameter('stateTags', i, {}) ?? {}) as IDataObject).tag ?? []) as IDataObject[];
	if (toAddList.tags.length === 0 && states.length === 0)
		throw new NodeOperationError(ctx.getNode(), 'No tags to add: set "Tags to Add" or add a State Tag', { itemIndex: i });
	return { written: toAddList.tags, states };
}

/** Each State Tag row as a tag in the contact's language. */
function stateTagsIn(ctx: IExecuteFunctions, i: number, states: IDataObject[], language: TagLanguage, classifier: TagClassifier): string[] {
	return states.map((s) => {
		try {
			return stateTag(String(s.group ?? DEFAULT_STATE_GROUP) as StateGroup, String(s.state ?? ''), language, classifier);
		} catch (error) {
			throw new NodeOperationError(ctx.getNode(), `State Tag: ${(error as Error).message}`, { itemIndex: i });
		}
	});
}

/** The tags of `toAdd` not yet present in any case or width, each once, in order. */
function missingTags(current: readonly string[], toAdd: readonly string[]): string[] {
	const present = new Set(current.map(tagKey));
	const added: string[] = [];
	for (const t of toAdd) {
		const key = tagKey(t);
		if (present.has(key)) continue;
		present.add(key);
		added.push(t);
	}
	return added;
}

function addTagsToItem(
	ctx: IExecuteFunctions,
	item: INodeExecutionData,
	i: number,
	settings: ContactSettings,
	classifier: TagClassifier,
): INodeExecutionData {
	const { written, states } = requestedTags(ctx, i);
	const current = readTags(item.json, settings);
	const language = contactTagLanguage(current, classifier);
	const added = missingTags(current, [...written, ...stateTagsIn(ctx, i, states, language, classifier)]);
	if (current.length + added.length > MAX_TAGS_PER_CONTACT)
		throw new NodeOperationError(ctx.getNode(), `The contact would have more than ${MAX_TAGS_PER_CONTACT} tags`, { itemIndex: i });
	const json = withTags(item.json, [...current, ...added], settings);
	json.tagsAdded = added;
	if (states.length > 0) json.tagLanguage = language;
	return { json };
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const settings = readContactSettings(this, 0);
	const classifier = new TagClassifier(settings.grammar);
	return [await forEachItem(this, items, (item, i) => addTagsToItem(this, item, i, settings, classifier))];
}
