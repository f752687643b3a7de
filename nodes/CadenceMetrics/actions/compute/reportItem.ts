import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type IPairedItemData } from 'n8n-workflow';
import {
	DEFAULT_METRICS_CHART_FIELD,
	DEFAULT_METRICS_REPORT_TITLE,
	type AbComparisonRow,
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

/** The Report output: one item with `html` and the funnel chart as binary data. */
export async function reportItem(
	ctx: IExecuteFunctions,
	rows: MetricsRow[],
	settings: MetricsNodeSettings,
	extra: { comparisons?: AbComparisonRow[]; listHealth?: ListHealth; pairedItem: IPairedItemData[] },
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
	});
	const chartOptions = { groupBy: settings.groupBy, title, maxGroups: settings.maxChartGroups, fontFile: settings.fontFile || undefined };
	const { chart, chartWarning } = await drawChart(ctx, rows, chartOptions, format);
	const binary = await ctx.helpers.prepareBinaryData(chart.data, `cadence-funnel.${chart.fileExtension}`, chart.mimeType);
	const json = { title, html, groups: rows.length, chartFormat: chart.fileExtension, chartGroupsOmitted: chart.omittedGroups };
	return { json: chartWarning ? { ...json, chartWarning } : json, binary: { [binaryPropertyName]: binary }, pairedItem: extra.pairedItem };
}
