/**
 * Keeps the input contacts that carry one of today's due tags, adding `dueTag`. A contact whose tags cannot all be
 * read fails as an item (an error item with Continue On Fail), never silently dropped or kept. Whole-batch: the
 * settings are read once, from the first item.
 */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import type { Cadence } from '../../../core/calendar';
import { selectDueContacts, type DueContactOptions } from '../../../core/select';
import { TagClassifier, type TagList } from '../../../core/tags';
import { readContactSettings, readTagList } from '../../shared/contactFields';
import { errorItem } from '../../shared/perItem';
import { readCalendarSettings, readSegments } from './common';

/** Its parameters are all shared with other operations (see common.ts). */
export const description: INodeProperties[] = [];

/** The items whose tags could not all be read: fail the node, or error items under Continue On Fail. */
function unreadableTagItems(ctx: IExecuteFunctions, items: INodeExecutionData[], read: TagList[]): INodeExecutionData[] {
	const failed: INodeExecutionData[] = [];
	read.forEach((r, i) => {
		if (r.problem === undefined) return;
		const error = `The contact's tags cannot be read: ${r.problem}`;
		if (!ctx.continueOnFail()) throw new NodeOperationError(ctx.getNode(), error, { itemIndex: i });
		failed.push(errorItem(error, { item: i }, items[i].json));
	});
	return failed;
}

function dueOptions(ctx: IExecuteFunctions, cadence: Cadence): DueContactOptions {
	let calendar;
	try {
		calendar = readCalendarSettings(ctx, 0, cadence);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error);
	}
	return { ...calendar, segments: readSegments(ctx, 0) };
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	if (items.length === 0) return [[]];
	const cadence = this.getNodeParameter('cadence', 0) as Cadence;
	const settings = readContactSettings(this, 0);
	const options = dueOptions(this, cadence);
	const read = items.map((item) => readTagList(item.json, settings));
	const failed = unreadableTagItems(this, items, read);
	let due;
	try {
		const contacts = read.map((r) => ({ tags: r.problem === undefined ? r.tags : [] }));
		due = selectDueContacts(contacts, { ...options, tagClassifier: new TagClassifier(settings.grammar) });
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error);
	}
	const kept: INodeExecutionData[] = due.map(({ index, dueTag }) => ({ json: { ...items[index].json, dueTag }, pairedItem: { item: index } }));
	const indexOf = (item: INodeExecutionData) => (item.pairedItem as { item: number }).item;
	return [[...kept, ...failed].sort((a, b) => indexOf(a) - indexOf(b))];
}
