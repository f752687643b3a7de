import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type IPairedItemData } from 'n8n-workflow';
import {
	compareVariantRows,
	computeMetricsDetailed,
	DEFAULT_AB_ALPHA,
	DEFAULT_AB_MIN_SAMPLE,
	DEFAULT_AB_VARIANT_FIELD,
	type AbComparisonRow,
} from '../../core/metrics';
import type { ReadEvents } from './readEvents';
import type { MetricsNodeSettings } from './settings';

/** One item per (group, variant compared with the control), paired with the events of both variants. */
export function abTestItems(ctx: IExecuteFunctions, read: ReadEvents, settings: MetricsNodeSettings): { items: INodeExecutionData[]; comparisons: AbComparisonRow[] } {
	const variantField = String(ctx.getNodeParameter('variantField', 0, DEFAULT_AB_VARIANT_FIELD) || DEFAULT_AB_VARIANT_FIELD);
	const alpha = Number(ctx.getNodeParameter('alpha', 0, DEFAULT_AB_ALPHA));
	const minSample = Number(ctx.getNodeParameter('minSample', 0, DEFAULT_AB_MIN_SAMPLE));
	const control = String(ctx.getNodeParameter('control', 0, '') || '') || undefined;
	const groupBy = settings.groupBy.filter((k) => k !== variantField);
	let comparisons: AbComparisonRow[];
	let pairs: IPairedItemData[][];
	let rowIndex: Map<string, number>;
	try {
		const result = computeMetricsDetailed(read.events, { ...settings.metrics, groupBy: [...groupBy, variantField] });
		comparisons = compareVariantRows(result.rows, { groupBy, variantField, alpha, minSample, control });
		pairs = result.rows.map(() => []);
		for (let k = 0; k < read.events.length; k++) if (result.rowOfEvent[k] >= 0) pairs[result.rowOfEvent[k]].push({ item: read.itemOf[k] });
		rowIndex = new Map(result.rows.map((r, i) => [JSON.stringify([...groupBy, variantField].map((key) => r[key] ?? null)), i]));
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the alpha, minimum sample and time zone' });
	}
	const items = comparisons.map((c) => {
		const keys = groupBy.map((k) => c[k] ?? null);
		const rows = [c.control, c.variant].map((v) => rowIndex.get(JSON.stringify([...keys, v])) ?? -1);
		return { json: c as unknown as IDataObject, pairedItem: rows.flatMap((r) => (r >= 0 ? pairs[r] : [])) };
	});
	return { items, comparisons };
}
