import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type IPairedItemData } from 'n8n-workflow';
import { DEFAULT_METRICS_CHART_FIELD, DEFAULT_METRICS_REPORT_TITLE, type AbComparisonRow, type ListHealth, type MetricsRow } from '../../core/metrics';
import { DEFAULT_NODE_CHART_FORMAT, renderFunnelChart, renderFunnelChartSvg, renderMetricsHtml, type FunnelChart } from '../../core/report';
import type { MetricsNodeSettings } from './settings';

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
	const html = renderMetricsHtml(rows, { title, groupBy: settings.groupBy, caption: `By ${groups}; times in ${settings.timeZone}`, comparisons: extra.comparisons, listHealth: extra.listHealth });
	const chartOptions = { groupBy: settings.groupBy, title, maxGroups: settings.maxChartGroups, fontFile: settings.fontFile || undefined };
	let chart: FunnelChart;
	let chartWarning: string | undefined;
	try {
		chart = await renderFunnelChart(rows, { ...chartOptions, format });
	} catch (error) {
		if (format !== 'png') throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'The chart could not be drawn' });
		// PNG needs a font; SVG always works, so a missing font degrades the chart instead of failing the run
		chart = renderFunnelChartSvg(rows, chartOptions);
		chartWarning = `PNG chart not available (${(error as Error).message}); the chart is SVG`;
	}
	const binary = await ctx.helpers.prepareBinaryData(chart.data, `cadence-funnel.${chart.fileExtension}`, chart.mimeType);
	return {
		json: { title, html, groups: rows.length, chartFormat: chart.fileExtension, chartGroupsOmitted: chart.omittedGroups, ...(chartWarning ? { chartWarning } : {}) },
		binary: { [binaryPropertyName]: binary },
		pairedItem: extra.pairedItem,
	};
}
