import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { normalizeMetricsEvent } from '../../core/metrics';

export interface ReadEvents {
	events: Array<Record<string, unknown>>;
	/** Input item index of each event. */
	itemOf: number[];
	/** Items that are not valid events (only with Continue On Fail). */
	errors: INodeExecutionData[];
}

/** Reads the input items as events; a bad item gets its own error and the rest are counted. */
export function readEvents(ctx: IExecuteFunctions, items: INodeExecutionData[], requireTime: boolean): ReadEvents {
	const events: Array<Record<string, unknown>> = [];
	const itemOf: number[] = [];
	const errors: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			events.push(normalizeMetricsEvent(items[i].json, { requireTime }));
			itemOf.push(i);
		} catch (error) {
			const message = `Item ${i} is not a valid event: ${(error as Error).message}`;
			if (ctx.continueOnFail()) errors.push({ json: { error: message }, pairedItem: { item: i } });
			else throw new NodeOperationError(ctx.getNode(), message, { itemIndex: i, description: 'Each input item must be a cadence event with a known "type" (and a valid "at" when grouping by time)' });
		}
	}
	return { events, itemOf, errors };
}
