import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type IPairedItemData } from 'n8n-workflow';
import { normalizeMetricsEvent, type MetricsResult } from '../../../../core/metrics';
import { forEachItem } from '../../../shared/perItem';

export interface ReadEvents {
	events: Array<Record<string, unknown>>;
	/** Input item index of each event. */
	itemOf: number[];
	/** Items that are not valid events (only with Continue On Fail). */
	errors: INodeExecutionData[];
	/** Leads per channel a store counted ({ channel, leads, uniqueLeads }), for the report's channel table. */
	leadRows: IDataObject[];
}

/** An item that is leads per channel a store counted, not an event: no type, a channel and a lead count. */
export const isCountedLeadRow = (json: IDataObject): boolean =>
	(json.type === undefined || json.type === null) && json.channel !== undefined && json.leads !== undefined && json.leads !== null;

const BAD_EVENT_HINT = 'Each input item must be a cadence event with a known "type" (and a valid "at" when grouping by time)';

/** Reads the input items as events; a bad item gets its own error and the rest are counted. */
export async function readEvents(ctx: IExecuteFunctions, items: INodeExecutionData[], requireTime: boolean): Promise<ReadEvents> {
	const events: Array<Record<string, unknown>> = [];
	const itemOf: number[] = [];
	const leadRows: IDataObject[] = [];
	const errors = await forEachItem(ctx, items, (item, i) => {
		if (isCountedLeadRow(item.json)) {
			leadRows.push(item.json);
			return;
		}
		try {
			events.push(normalizeMetricsEvent(item.json, { requireTime }));
		} catch (error) {
			throw new NodeOperationError(ctx.getNode(), `Item ${i} is not a valid event: ${(error as Error).message}`, {
				itemIndex: i,
				description: BAD_EVENT_HINT,
			});
		}
		itemOf.push(i);
	});
	return { events, itemOf, errors, leadRows };
}

/** The input items each result row was counted from, in row order. */
export function rowPairs(result: Pick<MetricsResult, 'rows' | 'rowOfEvent'>, read: ReadEvents): IPairedItemData[][] {
	const pairs: IPairedItemData[][] = result.rows.map(() => []);
	for (let k = 0; k < read.events.length; k++) if (result.rowOfEvent[k] >= 0) pairs[result.rowOfEvent[k]].push({ item: read.itemOf[k] });
	return pairs;
}
