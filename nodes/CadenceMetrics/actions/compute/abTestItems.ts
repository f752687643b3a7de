import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type IPairedItemData } from 'n8n-workflow';
import {
	compareVariantRows,
	computeMetricsDetailed,
	DEFAULT_AB_ALPHA,
	DEFAULT_AB_MIN_SAMPLE,
	DEFAULT_AB_VARIANT_FIELD,
	type AbComparisonRow,
	type MetricsRow,
} from '../../../../core/metrics';
import { rowPairs, type ReadEvents } from './readEvents';
import type { MetricsNodeSettings } from './readSettings';

interface AbParameters {
	variantField: string;
	alpha: number;
	minSample: number;
	control: string | undefined;
}

function readAbParameters(ctx: IExecuteFunctions): AbParameters {
	return {
		variantField: String(ctx.getNodeParameter('variantField', 0, DEFAULT_AB_VARIANT_FIELD) || DEFAULT_AB_VARIANT_FIELD),
		alpha: Number(ctx.getNodeParameter('alpha', 0, DEFAULT_AB_ALPHA)),
		minSample: Number(ctx.getNodeParameter('minSample', 0, DEFAULT_AB_MIN_SAMPLE)),
		control: String(ctx.getNodeParameter('control', 0, '') || '') || undefined,
	};
}

/** The comparisons, the input items of each (group, variant) row, and each row's index by its key values. */
function compareVariants(read: ReadEvents, settings: MetricsNodeSettings, ab: AbParameters, groupBy: string[]) {
	const keys = [...groupBy, ab.variantField];
	const result = computeMetricsDetailed(read.events, { ...settings.metrics, groupBy: keys });
	const comparisons = compareVariantRows(result.rows, {
		groupBy,
		variantField: ab.variantField,
		alpha: ab.alpha,
		minSample: ab.minSample,
		control: ab.control,
	});
	const pairs = rowPairs(result, read);
	const rowIndex = new Map(result.rows.map((r, i) => [JSON.stringify(keys.map((key) => r[key] ?? null)), i]));
	return { comparisons, pairs, rowIndex };
}

/** The input items of both variants of a comparison. */
function comparisonPairs(c: AbComparisonRow, groupBy: string[], pairs: IPairedItemData[][], rowIndex: Map<string, number>): IPairedItemData[] {
	const keys = groupBy.map((k) => c[k] ?? null);
	const rows = [c.control, c.variant].map((v) => rowIndex.get(JSON.stringify([...keys, v])) ?? -1);
	return rows.flatMap((r) => (r >= 0 ? pairs[r] : []));
}

/** One item per (group, variant compared with the control), paired with the events of both variants. */
export function abTestItems(
	ctx: IExecuteFunctions,
	read: ReadEvents,
	settings: MetricsNodeSettings,
): { items: INodeExecutionData[]; comparisons: AbComparisonRow[] } {
	const ab = readAbParameters(ctx);
	const groupBy = settings.groupBy.filter((k) => k !== ab.variantField);
	let compared: ReturnType<typeof compareVariants>;
	try {
		compared = compareVariants(read, settings, ab, groupBy);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the alpha, minimum sample and time zone' });
	}
	const { comparisons, pairs, rowIndex } = compared;
	const items = comparisons.map((c) => ({ json: c as unknown as IDataObject, pairedItem: comparisonPairs(c, groupBy, pairs, rowIndex) }));
	return { items, comparisons };
}

/**
 * The A/B Tests output from rows a store counted: the rows must be grouped by the variant field too; each comparison
 * is paired with the items of both rows.
 */
export function abTestItemsFromRows(
	ctx: IExecuteFunctions,
	rows: MetricsRow[],
	itemOf: number[],
	settings: MetricsNodeSettings,
): { items: INodeExecutionData[]; comparisons: AbComparisonRow[] } {
	const ab = readAbParameters(ctx);
	if (!settings.groupBy.includes(ab.variantField))
		throw new NodeOperationError(ctx.getNode(), `Compare Variants with counted rows needs "${ab.variantField}" in Group By`, {
			description: 'Count the rows by the variant field too (add it to Group By), or give the node the events (Input: Events)',
		});
	const groupBy = settings.groupBy.filter((k) => k !== ab.variantField);
	let comparisons: AbComparisonRow[];
	try {
		comparisons = compareVariantRows(rows, { groupBy, variantField: ab.variantField, alpha: ab.alpha, minSample: ab.minSample, control: ab.control });
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the alpha and minimum sample' });
	}
	const keys = [...groupBy, ab.variantField];
	const rowIndex = new Map(rows.map((r, i) => [JSON.stringify(keys.map((key) => r[key] ?? null)), i]));
	const pairs = rows.map((_, i) => [{ item: itemOf[i] }]);
	const items = comparisons.map((c) => ({ json: c as unknown as IDataObject, pairedItem: comparisonPairs(c, groupBy, pairs, rowIndex) }));
	return { items, comparisons };
}
