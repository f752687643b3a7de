import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type IPairedItemData } from 'n8n-workflow';
import {
	abDecisions,
	channelLeads,
	DEFAULT_METRICS_CHART_FIELD,
	DEFAULT_METRICS_REPORT_TITLE,
	DEFAULT_REPORT_LEADS_BY_CHANNEL,
	type AbComparisonRow,
	type ChannelLeadsRow,
	type ListHealth,
	type MetricsRow,
} from '../../../../core/metrics';
import {
	DEFAULT_NODE_CHART_FORMAT,
	renderFunnelChart,
	renderFunnelChartSvg,
	renderMetricsHtml,
	type FunnelChart,
	type FunnelChartOptions,
} from '../../../../core/report';
import type { MetricsNodeSettings } from './readSettings';

type ChartOptions = Omit<FunnelChartOptions, 'format'>;

/** The funnel chart in the chosen format: a PNG that cannot be drawn becomes SVG with a warning, an SVG one fails the node. */
async function drawChart(
	ctx: IExecuteFunctions,
	rows: MetricsRow[],
	options: ChartOptions,
	format: 'png' | 'svg',
): Promise<{ chart: FunnelChart; chartWarning?: string }> {
	try {
		return { chart: await renderFunnelChart(rows, { ...options, format }) };
	} catch (error) {
		if (format !== 'png') throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'The chart could not be drawn' });
		// PNG needs a font; SVG always works, so a missing font degrades the chart instead of failing the run
		return { chart: renderFunnelChartSvg(rows, options), chartWarning: `PNG chart not available (${(error as Error).message}); the chart is SVG` };
	}
}

/** The Channel Costs parameter as { channel: cost }; a channel named twice adds up. */
function channelCosts(ctx: IExecuteFunctions): Record<string, unknown> {
	const entries = ((ctx.getNodeParameter('channelCosts', 0, {}) as IDataObject).cost ?? []) as Array<{ channel?: unknown; cost?: unknown }>;
	const costs: Record<string, number> = {};
	for (const e of entries) {
		const channel = String(e.channel ?? '').trim();
		if (!channel) continue;
		const cost = typeof e.cost === 'string' && e.cost.trim() !== '' ? Number(e.cost) : e.cost;
		if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0)
			throw new NodeOperationError(
				ctx.getNode(),
				`Channel Costs: the cost of "${channel}" must be a number of zero or more, got ${JSON.stringify(e.cost)}`,
			);
		costs[channel] = (costs[channel] ?? 0) + cost;
	}
	return costs;
}

/** The leads-per-channel table of the report from inbound events and counted lead rows, when switched on. */
function leadsTable(ctx: IExecuteFunctions, sources: unknown[]): ChannelLeadsRow[] | undefined {
	if (!(ctx.getNodeParameter('leadsByChannel', 0, DEFAULT_REPORT_LEADS_BY_CHANNEL) as boolean)) return undefined;
	try {
		return channelLeads(sources, { costPerChannel: channelCosts(ctx) });
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error);
	}
}

/** What the report shows besides the rows, from the events (or the extras that came with counted rows). */
export function reportExtras(ctx: IExecuteFunctions, sources: unknown[]) {
	return { decisions: abDecisions(sources as object[]), channelLeads: leadsTable(ctx, sources) };
}

/** The Report output: one item with `html` and the funnel chart as binary data. */
export async function reportItem(
	ctx: IExecuteFunctions,
	rows: MetricsRow[],
	settings: MetricsNodeSettings,
	extra: {
		comparisons?: AbComparisonRow[];
		listHealth?: ListHealth;
		/** Events, or the extras that came with counted rows: decisions and leads are read from them. */
		sources: unknown[];
		pairedItem: IPairedItemData[];
	},
): Promise<INodeExecutionData> {
	const title = String(ctx.getNodeParameter('reportTitle', 0, DEFAULT_METRICS_REPORT_TITLE));
	const format = String(ctx.getNodeParameter('chartFormat', 0, DEFAULT_NODE_CHART_FORMAT)) === 'svg' ? 'svg' : 'png';
	const binaryPropertyName = String(ctx.getNodeParameter('binaryPropertyName', 0, DEFAULT_METRICS_CHART_FIELD) || DEFAULT_METRICS_CHART_FIELD);
	const groups = settings.groupBy.length ? settings.groupBy.join(', ') : 'all events';
	const html = renderMetricsHtml(rows, {
		title,
		groupBy: settings.groupBy,
		caption: `By ${groups}; times in ${settings.timeZone}`,
		comparisons: extra.comparisons,
		listHealth: extra.listHealth,
		...reportExtras(ctx, extra.sources),
	});
	const chartOptions = { groupBy: settings.groupBy, title, maxGroups: settings.maxChartGroups, fontFile: settings.fontFile || undefined };
	const { chart, chartWarning } = await drawChart(ctx, rows, chartOptions, format);
	const binary = await ctx.helpers.prepareBinaryData(chart.data, `cadence-funnel.${chart.fileExtension}`, chart.mimeType);
	const json = { title, html, groups: rows.length, chartFormat: chart.fileExtension, chartGroupsOmitted: chart.omittedGroups };
	return { json: chartWarning ? { ...json, chartWarning } : json, binary: { [binaryPropertyName]: binary }, pairedItem: extra.pairedItem };
}
