import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import type { Cadence } from '../../core/calendar';
import { selectDueContacts as selectDue, type Segment } from '../../core/select';
import { TagClassifier } from '../../core/tags';
import { readContactSettings, readTags } from '../../shared/contactFields';
import { readCalendarSettings } from './common';

/** Keeps the input contacts that carry one of today's due tags, adding `dueTag`. */
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
	const contacts = items.map((item) => ({ tags: readTags(item.json, settings) }));
	let due;
	try {
		due = selectDue(contacts, { ...calendar, segments, tagClassifier: new TagClassifier(settings.grammar) });
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error);
	}
	return [due.map(({ index, dueTag }) => ({ json: { ...items[index].json, dueTag }, pairedItem: { item: index } }))];
}
