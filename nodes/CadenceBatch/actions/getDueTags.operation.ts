/**
 * Per input item: today's due tag names for its segments, one item per tag or one item with the list; in the
 * segment's own spelling, or every accepted spelling for a store that matches tags exactly (Tag Forms).
 */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { dueBatches, type Cadence } from '../../../core/calendar';
import { DEFAULT_DUE_TAG_FORMS, dueTagNames, type DueTagForms, type Segment } from '../../../core/select';
import { parseBatchTag, resolveGrammar } from '../../../core/tags';
import { readContactSettings } from '../../shared/contactFields';
import { forEachItem } from '../../shared/perItem';
import { forOperations, readCalendarSettings, readSegments } from './common';

type OutputMode = 'perTag' | 'list';

/** One item per due tag, unless the Output parameter says otherwise. */
export const DEFAULT_OUTPUT_MODE: OutputMode = 'perTag';

export const description: INodeProperties[] = [
	{
		displayName: 'Output',
		name: 'outputMode',
		type: 'options',
		default: DEFAULT_OUTPUT_MODE,
		displayOptions: forOperations('getDueTags'),
		options: [
			{ name: 'One Item per Tag', value: 'perTag' },
			{ name: 'One Item With the List', value: 'list' },
		],
	},
	{
		displayName: 'Tag Forms',
		name: 'tagForms',
		type: 'options',
		default: DEFAULT_DUE_TAG_FORMS,
		displayOptions: forOperations('getDueTags'),
		options: [
			{
				name: "Segment's Own",
				value: 'own',
				description: 'One name per batch: Chinese markers (营销09) for a segment named in Chinese, else English (Marketing09)',
			},
			{
				name: 'Every Accepted Spelling',
				value: 'all',
				description:
					'Each marker language, with and without a space before the number (Marketing09, Marketing 09, 营销09, 营销 09): for a store query that matches tags exactly',
			},
		],
	},
];

/** The item's segments; every one needs both a language and a segment name. */
function requiredSegments(ctx: IExecuteFunctions, i: number): Segment[] {
	const segments = readSegments(ctx, i);
	if (segments.length === 0)
		throw new NodeOperationError(ctx.getNode(), 'Add at least one segment (language and segment) to get due tags for', { itemIndex: i });
	for (const s of segments) {
		if (!s.language?.trim() || !s.segment?.trim())
			throw new NodeOperationError(ctx.getNode(), 'Every segment needs a language and a segment name', { itemIndex: i });
	}
	return segments;
}

function dueTagsOfItem(ctx: IExecuteFunctions, i: number): INodeExecutionData[] {
	const cadence = ctx.getNodeParameter('cadence', i) as Cadence;
	const calendar = readCalendarSettings(ctx, i, cadence);
	const { grammar } = readContactSettings(ctx, i);
	const segments = requiredSegments(ctx, i);
	const forms = ctx.getNodeParameter('tagForms', i, DEFAULT_DUE_TAG_FORMS) as DueTagForms;
	const tags = dueTagNames(segments, { ...calendar, grammar, forms });
	const batches = dueBatches(calendar.date, calendar);
	if (ctx.getNodeParameter('outputMode', i, DEFAULT_OUTPUT_MODE) !== 'perTag') return [{ json: { cadence, dueTags: tags, batches } }];
	const resolved = resolveGrammar(grammar);
	return tags.map((tag) => ({ json: { tag, cadence, ...parseBatchTag(tag, resolved) } }));
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	return [await forEachItem(this, items, (_item, i) => dueTagsOfItem(this, i))];
}
