import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import type { Cadence } from '../../../core/calendar';
import { selectDueContacts as selectDue, type Segment } from '../../../core/select';
import { TagClassifier } from '../../../core/tags';
import { readContactSettings, readTagList } from '../../shared/contactFields';
import { readCalendarSettings } from './common';

/**
 * Keeps the input contacts that carry one of today's due tags, adding `dueTag`. A contact whose tags cannot all be
 * read fails as an item (an error item with Continue On Fail), never silently dropped or kept.
 */
export async function selectDueContacts(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	if (items.length === 0) return [[]];
	const cadence = this.getNodeParameter('cadence', 0) as Cadence;
	const settings = readContactSettings(this, 0);
	let calendar;
	try {
		calendar = readCalendarSettings(this, 0, cadence);
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error);
	}
	const segments = ((this.getNodeParameter('segments', 0, {}) as IDataObject).segment ?? []) as Segment[];
	const read = items.map((item) => readTagList(item.json, settings));
	const failed: Array<{ index: number; error: string }> = [];
	read.forEach((r, i) => {
		if (r.problem === undefined) return;
		const error = `The contact's tags cannot be read: ${r.problem}`;
		if (!this.continueOnFail()) throw new NodeOperationError(this.getNode(), error, { itemIndex: i });
		failed.push({ index: i, error });
	});
	const contacts = read.map((r) => ({ tags: r.problem === undefined ? r.tags : [] }));
	let due;
	try {
		due = selectDue(contacts, { ...calendar, segments, tagClassifier: new TagClassifier(settings.grammar) });
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error);
	}
	const out: Array<{ index: number; json: IDataObject }> = [
		...due.map(({ index, dueTag }) => ({ index, json: { ...items[index].json, dueTag } })),
		...failed.map(({ index, error }) => ({ index, json: { ...items[index].json, error } })),
	].sort((a, b) => a.index - b.index);
	return [out.map(({ index, json }) => ({ json, pairedItem: { item: index } }))];
}
