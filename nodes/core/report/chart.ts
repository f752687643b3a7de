/**
 * The funnel chart: sent → delivered → opened → clicked → replied per group, drawn by Apache ECharts' server-side SVG
 * renderer; PNG is that SVG rasterised by resvg with an explicitly loaded font file (no system font lookup).
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type { MetricsRow } from '../metrics/compute';
import { metricsGroupLabel } from './html';

export type FunnelChartFormat = 'svg' | 'png';

export interface FunnelChartOptions {
	groupBy?: string[];
	title?: string;
	format?: FunnelChartFormat;
	/** Most funnels drawn; the groups with most messages sent are kept. Default 6. */
	maxGroups?: number;
	/** Height in pixels; the width grows with the number of funnels. */
	height?: number;
	/** A TrueType/OpenType font for PNG text. Default: DejaVu Sans from Debian's fonts-dejavu-core. */
	fontFile?: string;
}

export interface FunnelChart {
	data: Buffer;
	mimeType: 'image/svg+xml' | 'image/png';
	fileExtension: 'svg' | 'png';
	width: number;
	height: number;
	/** Groups left out of the chart (beyond maxGroups). */
	omittedGroups: number;
}

export const DEFAULT_CHART_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

export const FUNNEL_STAGES = [
	{ name: 'Sent', field: 'sent' },
	{ name: 'Delivered', field: 'delivered' },
	{ name: 'Opened (people)', field: 'humanUniqueOpens' },
	{ name: 'Clicked (people)', field: 'humanUniqueClicks' },
	{ name: 'Replied', field: 'replies' },
] as const;

const COLORS = ['#0d9488', '#2563eb', '#7c3aed', '#db2777', '#ea580c'];

/** The ECharts option for the funnels (exposed for tests and for users who render it themselves). */
export function funnelChartOption(rows: MetricsRow[], options: FunnelChartOptions = {}) {
	const groupBy = options.groupBy ?? [];
	const maxGroups = Math.max(1, options.maxGroups ?? 6);
	const shown = [...rows].sort((a, b) => b.sent - a.sent).slice(0, maxGroups);
	const omitted = rows.length - shown.length;
	const n = Math.max(1, shown.length);
	const slot = 100 / n;
	return {
		option: {
			animation: false,
			backgroundColor: '#ffffff',
			color: COLORS,
			textStyle: { fontFamily: 'DejaVu Sans, Arial, sans-serif' },
			title: [
				{
					text: options.title ?? 'Cadence funnel',
					subtext: omitted > 0 ? `${omitted} more group(s) not shown` : '',
					left: 'center',
					top: 8,
				},
				// one caption per funnel, centred over it
				...shown.map((row, i) => ({
					text: metricsGroupLabel(row, groupBy),
					left: `${i * slot + slot * 0.5}%`,
					top: 62,
					textAlign: 'center',
					textStyle: { fontSize: 12, fontWeight: 'normal', color: '#1f2328' },
				})),
			],
			legend: { data: FUNNEL_STAGES.map((s) => s.name), bottom: 8, itemGap: 16 },
			series: shown.map((row, i) => ({
				type: 'funnel',
				name: metricsGroupLabel(row, groupBy),
				sort: 'none',
				gap: 2,
				min: 0,
				max: Math.max(1, row.sent),
				minSize: '8%',
				left: `${i * slot + slot * 0.08}%`,
				width: `${slot * 0.84}%`,
				top: 90,
				bottom: 60,
				label: { show: true, position: 'inside', formatter: '{c}', color: '#ffffff', fontSize: 11 },
				data: FUNNEL_STAGES.map((s) => ({ name: s.name, value: row[s.field] as number })),
			})),
		},
		shown: shown.length,
		omitted,
	};
}

export function renderFunnelChart(rows: MetricsRow[], options: FunnelChartOptions = {}): FunnelChart {
	const { option, shown, omitted } = funnelChartOption(rows, options);
	const height = options.height ?? 420;
	const width = Math.max(600, shown * 220);
	const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
	let svg: string;
	try {
		chart.setOption(option as echarts.EChartsOption);
		svg = chart.renderToSVGString();
	} finally {
		chart.dispose();
	}
	if ((options.format ?? 'svg') === 'svg')
		return { data: Buffer.from(svg, 'utf8'), mimeType: 'image/svg+xml', fileExtension: 'svg', width, height, omittedGroups: omitted };
	const fontFile = options.fontFile || DEFAULT_CHART_FONT;
	if (!existsSync(fontFile))
		throw new Error(`PNG charts need a font file; ${fontFile} does not exist (install Debian's fonts-dejavu-core, name another font file, or use SVG)`);
	const png = new Resvg(svg, {
		background: '#ffffff',
		fitTo: { mode: 'original' },
		font: { loadSystemFonts: false, fontFiles: [fontFile], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
	})
		.render()
		.asPng();
	return { data: Buffer.from(png), mimeType: 'image/png', fileExtension: 'png', width, height, omittedGroups: omitted };
}
