import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { computeMetricsDetailed, type MetricsCounts, type MetricsRates, type MetricsResult, type MetricsRow } from '../../../../core/metrics';
import { rowPairs, type ReadEvents } from './readEvents';
import type { MetricsNodeSettings } from './readSettings';

// Every count and every rate of a row, so the Figures option can leave either out (the record type makes a missing
// or misspelt field a compile error).
const ALL_COUNTS: Record<keyof MetricsCounts, true> = {
	sent: true,
	failed: true,
	skipped: true,
	bounced: true,
	hardBounced: true,
	softBounced: true,
	delivered: true,
	delayed: true,
	opens: true,
	uniqueOpens: true,
	humanUniqueOpens: true,
	clicks: true,
	uniqueClicks: true,
	humanUniqueClicks: true,
	replies: true,
	autoReplies: true,
	unsubscribes: true,
	complaints: true,
	inbound: true,
	conversions: true,
	forwards: true,
};
const ALL_RATES: Record<keyof MetricsRates, true> = {
	deliveryRate: true,
	bounceRate: true,
	hardBounceRate: true,
	softBounceRate: true,
	openRate: true,
	humanOpenRate: true,
	clickThroughRate: true,
	clickRate: true,
	replyRate: true,
	unsubscribeRate: true,
	complaintRate: true,
	conversionRate: true,
	forwardRate: true,
};
/** The names of every count of a metrics row. */
export const COUNT_NAMES = Object.keys(ALL_COUNTS) as Array<keyof MetricsCounts>;
// the conversions' value goes with the counts
const COUNT_FIELDS: ReadonlySet<string> = new Set([...COUNT_NAMES, 'conversionValue']);
const RATE_FIELDS: ReadonlySet<string> = new Set(Object.keys(ALL_RATES));

/** The row with only the chosen figures (`counts`, `rates`); group keys, revenue, cost and ROI always stay. */
export function withFigures(row: MetricsRow, figures: string[]): IDataObject {
	const counts = figures.includes('counts');
	const rates = figures.includes('rates');
	if (counts && rates) return row as IDataObject;
	const out: IDataObject = {};
	for (const [k, v] of Object.entries(row)) if ((!COUNT_FIELDS.has(k) || counts) && (!RATE_FIELDS.has(k) || rates)) out[k] = v as IDataObject[string];
	return out;
}

/** The metrics of the events, grouped as the settings say; a bad time zone or group field fails the node. */
export function computeRows(ctx: IExecuteFunctions, read: ReadEvents, settings: MetricsNodeSettings): MetricsResult {
	try {
		return computeMetricsDetailed(read.events, settings.metrics);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the time zone and the group fields' });
	}
}

/** The Metrics output: one item per row, paired with the items counted in it. */
export function metricsItems(result: MetricsResult, read: ReadEvents, figures: string[]): INodeExecutionData[] {
	const pairs = rowPairs(result, read);
	return result.rows.map((row, r) => ({ json: withFigures(row, figures), pairedItem: pairs[r] }));
}
