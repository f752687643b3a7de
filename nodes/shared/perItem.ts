/**
 * The one per-item runner of every Cadence node: each output item is paired with the input item it came from, and a
 * failing item either fails the node with its item index or, under Continue On Fail, becomes one error item of the
 * same shape in every node: the input item's fields plus `error` (and `description` when the error has one), so
 * the failed contact stays identifiable downstream. The other items go on.
 */
import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type IPairedItemData,
} from 'n8n-workflow';

/** What one item's work may return: items, plain json objects, or nothing (the item produces no output). */
export type ItemResult = INodeExecutionData | IDataObject | Array<INodeExecutionData | IDataObject> | void | undefined;

export interface PerItemOptions {
	/** The input the items came from, for pairedItem (nodes with several inputs); default the first. */
	input?: number;
}

function isExecutionData(x: INodeExecutionData | IDataObject): x is INodeExecutionData {
	return typeof x === 'object' && x !== null && 'json' in x && typeof x.json === 'object' && x.json !== null;
}

function isPromiseLike(x: unknown): x is PromiseLike<ItemResult> {
	return typeof x === 'object' && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
}

function pairedItemOf(index: number, input: number | undefined): IPairedItemData {
	return input ? { item: index, input } : { item: index };
}

/** The item a failure becomes under Continue On Fail: `extra` (the input item's fields) plus the error. */
export function errorItem(error: unknown, pairedItem: IPairedItemData | IPairedItemData[], extra: IDataObject = {}): INodeExecutionData {
	const e = error as { message?: unknown; description?: unknown };
	const message = typeof e?.message === 'string' && e.message ? e.message : String(error);
	const description = typeof e?.description === 'string' && e.description ? e.description : undefined;
	return { json: { ...extra, error: message, ...(description ? { description } : {}) }, pairedItem };
}

/** The error that fails the node for item `itemIndex`: n8n's own errors keep their text, others are wrapped. */
export function itemError(ctx: IExecuteFunctions, error: unknown, itemIndex: number): Error {
	if (error instanceof NodeOperationError || error instanceof NodeApiError) {
		error.context.itemIndex ??= itemIndex;
		return error;
	}
	return new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
}

/** Runs `work` for every item in order; see the file comment for pairing and failures. */
export async function forEachItem(
	ctx: IExecuteFunctions,
	items: readonly INodeExecutionData[],
	work: (item: INodeExecutionData, index: number) => Promise<ItemResult> | ItemResult,
	options: PerItemOptions = {},
): Promise<INodeExecutionData[]> {
	const out: INodeExecutionData[] = [];
	const continueOnFail = ctx.continueOnFail();
	for (let i = 0; i < items.length; i++) {
		const paired = pairedItemOf(i, options.input);
		let result: ItemResult;
		try {
			// Synchronous work is not awaited: an await per item costs a turn of the event loop on large inputs.
			const r = work(items[i], i);
			result = isPromiseLike(r) ? await r : r;
		} catch (error) {
			if (!continueOnFail) throw itemError(ctx, error, i);
			out.push(errorItem(error, paired, items[i].json));
			continue;
		}
		if (result === undefined) continue;
		for (const r of Array.isArray(result) ? result : [result]) {
			out.push(isExecutionData(r) ? { ...r, pairedItem: r.pairedItem ?? paired } : { json: r, pairedItem: paired });
		}
	}
	return out;
}
