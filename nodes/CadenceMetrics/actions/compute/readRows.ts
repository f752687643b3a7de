import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { compareMetricsGroupKeys, metricsRates, type MetricsCounts, type MetricsGroupValue, type MetricsRow } from '../../../../core/metrics';
import { forEachItem } from '../../../shared/perItem';
import { COUNT_NAMES } from './metricsItems';

/** What the Events input carries: events the node counts, metrics rows counted by the store, or either. */
export type MetricsInput = 'events' | 'rows' | 'auto';
/** Input when the node is added (and in workflows saved without the parameter): events. */
export const DEFAULT_METRICS_INPUT: MetricsInput = 'events';

const ROWS_HINT =
	'A counted row carries every count of a metrics row (sent, failed, … inbound) as a whole number, e.g. from the metrics SQL of the Postgres report template';

/** An item that carries every count of a metrics row (events never do). */
export const isCountedRow = (json: IDataObject): boolean => COUNT_NAMES.every((k) => json[k] !== undefined && json[k] !== null);

/** Whether the items are counted rows (`rows`) or events, for the Input setting; mixed items fail the node. */
export function inputKind(ctx: IExecuteFunctions, input: MetricsInput, items: readonly INodeExecutionData[]): 'events' | 'rows' {
	if (input !== 'auto') return input;
	const rows = items.filter((i) => isCountedRow(i.json)).length;
	if (rows === 0) return 'events';
	if (rows === items.length) return 'rows';
	throw new NodeOperationError(ctx.getNode(), `${rows} of ${items.length} input items are counted metrics rows and the others are not`, {
		description: 'Give the node either events or the rows the store counted, not both',
	});
}

function groupValue(v: unknown): MetricsGroupValue {
	if (v === null || v === undefined || v === '') return null;
	if (v instanceof Date) return v.toISOString();
	return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function count(json: IDataObject, name: string): number {
	const v = json[name];
	const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
	// delivered is sent − bounced: below 0 when more messages bounced than were sent in the range
	if (!Number.isSafeInteger(n) || (n < 0 && name !== 'delivered'))
		throw new RangeError(`"${name}" is not a whole number${name === 'delivered' ? '' : ' of 0 or more'}: ${JSON.stringify(v) ?? 'undefined'}`);
	return n;
}

/** A metrics row from a counted row's item: the group keys, the counts, and the rates computed as computeMetrics does. */
function rowOf(json: IDataObject, groupBy: readonly string[]): MetricsRow {
	const counts = Object.fromEntries(COUNT_NAMES.map((k) => [k, count(json, k)])) as unknown as MetricsCounts;
	if (counts.delivered !== counts.sent - counts.bounced) throw new RangeError('"delivered" must be sent − bounced');
	if (counts.softBounced !== counts.bounced - counts.hardBounced) throw new RangeError('"softBounced" must be bounced − hardBounced');
	const row = {} as MetricsRow;
	for (const k of groupBy) row[k] = groupValue(json[k]);
	Object.assign(row, counts, metricsRates(counts));
	for (const k of ['revenue', 'cost'] as const) if (json[k] !== undefined && json[k] !== null) row[k] = Number(json[k]);
	if (typeof row.revenue === 'number' && typeof row.cost === 'number') row.roi = row.cost === 0 ? null : (row.revenue - row.cost) / row.cost;
	return row;
}

export interface ReadRows {
	rows: MetricsRow[];
	/** Input item index of each row. */
	itemOf: number[];
	/** Items that are not counted rows (only with Continue On Fail). */
	errors: INodeExecutionData[];
}

/** Reads counted rows, ordered by their group keys as computeMetrics orders its rows. */
export async function readRows(ctx: IExecuteFunctions, items: INodeExecutionData[], groupBy: readonly string[]): Promise<ReadRows> {
	const read: Array<{ row: MetricsRow; item: number }> = [];
	const errors = await forEachItem(ctx, items, (item, i) => {
		try {
			read.push({ row: rowOf(item.json, groupBy), item: i });
		} catch (error) {
			throw new NodeOperationError(ctx.getNode(), `Item ${i} is not a counted metrics row: ${(error as Error).message}`, {
				itemIndex: i,
				description: ROWS_HINT,
			});
		}
	});
	const keys = (r: MetricsRow) => groupBy.map((k) => r[k] as MetricsGroupValue);
	read.sort((a, b) => compareMetricsGroupKeys(keys(a.row), keys(b.row)));
	return { rows: read.map((r) => r.row), itemOf: read.map((r) => r.item), errors };
}
