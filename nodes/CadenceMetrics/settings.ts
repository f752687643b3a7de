import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import {
	DEFAULT_MAX_CHART_GROUPS,
	DEFAULT_METRICS_FIGURES,
	DEFAULT_METRICS_NODE_TAG_MARKERS,
	DEFAULT_METRICS_TAG_SEPARATOR,
	METRICS_TIME_KEYS,
	type MetricsOptions,
} from '../../core/metrics';

export interface MetricsNodeSettings {
	groupBy: string[];
	timeZone: string;
	metrics: MetricsOptions;
	figures: string[];
	fontFile: string;
	maxChartGroups: number;
}

const list = (value: unknown) =>
	String(value ?? '')
		.split(',')
		.map((s) => s.trim())
		.filter(Boolean);

export function readSettings(ctx: IExecuteFunctions): MetricsNodeSettings {
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const groupBy = [...new Set([...(ctx.getNodeParameter('groupBy', 0, []) as string[]), ...list(ctx.getNodeParameter('customGroupFields', 0, ''))])];
	const timeZone = String(options.timeZone || ctx.getTimezone());
	const markers = list(options.tagMarkers ?? DEFAULT_METRICS_NODE_TAG_MARKERS);
	return {
		groupBy,
		timeZone,
		metrics: {
			groupBy,
			timeZone,
			revenueField: options.revenueField ? String(options.revenueField) : undefined,
			costField: options.costField ? String(options.costField) : undefined,
			tagGrammar: { separator: options.tagSeparator ? String(options.tagSeparator) : DEFAULT_METRICS_TAG_SEPARATOR, markers: markers.length ? markers : undefined },
		},
		figures: (options.figures as string[] | undefined) ?? [...DEFAULT_METRICS_FIGURES],
		fontFile: options.fontFile ? String(options.fontFile) : '',
		maxChartGroups: Number(options.maxChartGroups ?? DEFAULT_MAX_CHART_GROUPS),
	};
}

/** Group keys that need the event time. */
export const usesTime = (groupBy: string[]) => groupBy.some((k) => (METRICS_TIME_KEYS as readonly string[]).includes(k));
