import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import {
	addMetricsMoney,
	compareMetricsGroupKeys,
	metricsRates,
	type MetricsCounts,
	type MetricsGroupValue,
	type MetricsRow,
} from '../../../../core/metrics';
import { forEachItem } from '../../../shared/perItem';
import { isCountedLeadRow } from './readEvents';
import { COUNT_NAMES } from './metricsItems';

/** What the Events input carries: events the node counts, metrics rows counted by the store, or either. */
export type MetricsInput = 'events' | 'rows' | 'auto';
/** Input when the node is added (and in workflows saved without the parameter): events. */
export const DEFAULT_METRICS_INPUT: MetricsInput = 'events';

const ROWS_HINT =
	'A counted row carries every count of a metrics row (sent, failed, … inbound) as a whole number, e.g. from the metrics SQL of the Postgres report template';

/** An item that carries every count of a metrics row (events never do). */
export const isCountedRow = (json: IDataObject): boolean => COUNT_NAMES.every((k) => json[k] !== undefined && json[k] !== null);

/** Event types the report shows besides the counted rows: A/B roll-out decisions, and inbound leads for the channel table. */
export const REPORT_EXTRA_EVENT_TYPES: readonly string[] = Object.freeze(['ab_decided', 'inbound']);

/**
 * An item that goes with counted rows for the report: a decision or inbound lead event, or leads per channel a store
 * counted.
 */
export const isReportExtra = (json: IDataObject): boolean =>
	isCountedLeadRow(json) || (typeof json.type === 'string' && REPORT_EXTRA_EVENT_TYPES.includes(json.type) && !isCountedRow(json));

/**
 * Whether the items are counted rows (`rows`) or events, for the Input setting; report extras (isReportExtra) go with
 * either, other mixed items fail the node.
 */
export function inputKind(ctx: IExecuteFunctions, input: MetricsInput, items: readonly INodeExecutionData[]): 'events' | 'rows' {
	if (input !== 'auto') return input;
	const rows = items.filter((i) => isCountedRow(i.json)).length;
	if (rows === 0) return 'events';
	const others = items.filter((i) => !isCountedRow(i.json) && !isReportExtra(i.json)).length;
	if (others === 0) return 'rows';
	throw new NodeOperationError(ctx.getNode(), `${rows} of ${rows + others} input items are counted metrics rows and the others are not`, {
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

/** A sum of money a store returned: a finite number or numeric text; missing is `fallback`. */
function money(json: IDataObject, name: string, fallback: number | undefined): number | undefined {
	const v = json[name];
	if (v === undefined || v === null) return fallback;
	const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
	if (typeof n !== 'number' || !Number.isFinite(n)) throw new RangeError(`"${name}" is not a number: ${JSON.stringify(v)}`);
	return n;
}

/** What one counted row's item says: its group keys, counts and sums of money. */
interface CountedRow {
	keys: MetricsGroupValue[];
	counts: MetricsCounts;
	conversionValue: number;
	revenue?: number;
	cost?: number;
}

function countedRowOf(json: IDataObject, groupBy: readonly string[]): CountedRow {
	const counts = Object.fromEntries(COUNT_NAMES.map((k) => [k, count(json, k)])) as unknown as MetricsCounts;
	if (counts.delivered !== counts.sent - counts.bounced) throw new RangeError('"delivered" must be sent − bounced');
	if (counts.softBounced !== counts.bounced - counts.hardBounced) throw new RangeError('"softBounced" must be bounced − hardBounced');
	return {
		keys: groupBy.map((k) => groupValue(json[k])),
		counts,
		conversionValue: money(json, 'conversionValue', 0) as number,
		revenue: money(json, 'revenue', undefined),
		cost: money(json, 'cost', undefined),
	};
}

/**
 * Adds `b` into `a`. Rows of one group counted in parts over disjoint sets of contacts (the Data-table report
 * counts its events in parts by address) add up exactly: every count is of messages or contacts of one part.
 */
function addCounted(a: CountedRow, b: CountedRow): void {
	for (const k of COUNT_NAMES) (a.counts as unknown as Record<string, number>)[k] += (b.counts as unknown as Record<string, number>)[k];
	a.conversionValue += b.conversionValue;
	if (b.revenue !== undefined) a.revenue = (a.revenue ?? 0) + b.revenue;
	if (b.cost !== undefined) a.cost = (a.cost ?? 0) + b.cost;
}

/** A metrics row from counted figures: the group keys, the counts, and the rates and money computed as computeMetrics does. */
function rowOf(c: CountedRow, groupBy: readonly string[], costPerSend: number): MetricsRow {
	const row = {} as MetricsRow;
	groupBy.forEach((k, i) => (row[k] = c.keys[i]));
	Object.assign(row, c.counts, metricsRates(c.counts), { conversionValue: c.conversionValue });
	return addMetricsMoney(row, { revenue: c.revenue, cost: c.cost }, costPerSend);
}

export interface ReadRows {
	rows: MetricsRow[];
	/** Input item index of each row. */
	itemOf: number[];
	/** Items that are not counted rows (only with Continue On Fail). */
	errors: INodeExecutionData[];
	/** Decision and lead events, and counted leads per channel, that came with the rows (isReportExtra). */
	extras: IDataObject[];
}

/**
 * Reads counted rows, ordered by their group keys as computeMetrics orders its rows. Rows of the same group are
 * added up into one (a group counted in parts); such a row's item is the first of its parts.
 */
export async function readRows(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	groupBy: readonly string[],
	costPerSend: number,
): Promise<ReadRows> {
	const read = new Map<string, { counted: CountedRow; item: number }>();
	const extras: IDataObject[] = [];
	const errors = await forEachItem(ctx, items, (item, i) => {
		if (isReportExtra(item.json)) {
			extras.push(item.json);
			return;
		}
		try {
			const counted = countedRowOf(item.json, groupBy);
			const key = JSON.stringify(counted.keys);
			const same = read.get(key);
			if (same) addCounted(same.counted, counted);
			else read.set(key, { counted, item: i });
		} catch (error) {
			throw new NodeOperationError(ctx.getNode(), `Item ${i} is not a counted metrics row: ${(error as Error).message}`, {
				itemIndex: i,
				description: ROWS_HINT,
			});
		}
	});
	const sorted = [...read.values()].sort((a, b) => compareMetricsGroupKeys(a.counted.keys, b.counted.keys));
	return { rows: sorted.map((r) => rowOf(r.counted, groupBy, costPerSend)), itemOf: sorted.map((r) => r.item), errors, extras };
}
