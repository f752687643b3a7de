import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import {
	DEFAULT_COST_PER_SEND,
	DEFAULT_MAX_CHART_GROUPS,
	DEFAULT_METRICS_FIGURES,
	DEFAULT_METRICS_NODE_TAG_MARKERS,
	DEFAULT_METRICS_TAG_SEPARATOR,
	METRICS_TIME_KEYS,
	type MetricsOptions,
} from '../../../../core/metrics';
import { splitList } from '../../../../core/tags';

/** The node-wide parameters every output uses, read once from the first item. */
export interface MetricsNodeSettings {
	groupBy: string[];
	timeZone: string;
	metrics: MetricsOptions;
	figures: string[];
	fontFile: string;
	maxChartGroups: number;
}

/** Group By when the node is added: one row per campaign. */
export const DEFAULT_GROUP_BY: readonly string[] = Object.freeze(['campaign']);

/** A comma-separated parameter as its trimmed, non-empty entries. */
const commaList = (value: unknown) => splitList(value, ',');

export function readSettings(ctx: IExecuteFunctions): MetricsNodeSettings {
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const groupBy = [
		...new Set([
			...(ctx.getNodeParameter('groupBy', 0, [...DEFAULT_GROUP_BY]) as string[]),
			...commaList(ctx.getNodeParameter('customGroupFields', 0, '')),
		]),
	];
	const timeZone = String(options.timeZone || ctx.getTimezone());
	const markers = commaList(options.tagMarkers ?? DEFAULT_METRICS_NODE_TAG_MARKERS);
	return {
		groupBy,
		timeZone,
		metrics: {
			groupBy,
			timeZone,
			revenueField: options.revenueField ? String(options.revenueField) : undefined,
			costField: options.costField ? String(options.costField) : undefined,
			costPerSend: options.costPerSend === undefined ? DEFAULT_COST_PER_SEND : Number(options.costPerSend),
			tagGrammar: {
				separator: options.tagSeparator ? String(options.tagSeparator) : DEFAULT_METRICS_TAG_SEPARATOR,
				markers: markers.length ? markers : undefined,
			},
		},
		figures: (options.figures as string[] | undefined) ?? [...DEFAULT_METRICS_FIGURES],
		fontFile: options.fontFile ? String(options.fontFile) : '',
		maxChartGroups: Number(options.maxChartGroups ?? DEFAULT_MAX_CHART_GROUPS),
	};
}

/** Group keys that need the event time. */
export const usesTime = (groupBy: string[]) => groupBy.some((k) => (METRICS_TIME_KEYS as readonly string[]).includes(k));
