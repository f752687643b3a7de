/**
 * The funnel chart: sent → delivered → opened → clicked → replied per group, drawn by Apache ECharts' server-side SVG
 * renderer; PNG is that SVG rasterised by resvg compiled to WebAssembly (no platform binary, so it runs on n8n's
 * Alpine image and on arm64 alike) with an explicitly loaded font file (no system font lookup).
 */
import { existsSync, readFileSync } from 'node:fs';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import * as echarts from 'echarts';
import type { MetricsRow } from '../metrics/compute';
import { DEFAULT_MAX_CHART_GROUPS } from '../metrics/defaults';
import { metricsGroupLabel } from './html';

export type FunnelChartFormat = 'svg' | 'png';

/** What the Metrics node draws unless told otherwise: PNG, which n8n's binary viewer and mail clients show. */
export const DEFAULT_NODE_CHART_FORMAT: FunnelChartFormat = 'png';

export interface FunnelChartOptions {
	groupBy?: string[];
	title?: string;
	format?: FunnelChartFormat;
	/** Most funnels drawn; the groups with most messages sent are kept. Default 6. */
	maxGroups?: number;
	/** Height in pixels; the width grows with the number of funnels. */
	height?: number;
	/** A TrueType/OpenType font for PNG text. Default: DejaVu Sans, shipped with the package (dejavu-fonts-ttf). */
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

/** DejaVu Sans from the `dejavu-fonts-ttf` dependency, so PNG text needs no font installed on the host. */
export const DEFAULT_CHART_FONT = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');

/**
 * resvg's WebAssembly module can be instantiated once per process: this promise is that one instantiation, shared
 * by every render. It holds compiled code only, never data of a run.
 */
let resvgReady: Promise<void> | undefined;

function loadResvg(): Promise<void> {
	resvgReady ??= initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm'))).catch((error: Error) => {
		resvgReady = undefined;
		throw error;
	});
	return resvgReady;
}

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
	const maxGroups = Math.max(1, options.maxGroups ?? DEFAULT_MAX_CHART_GROUPS);
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

/** The chart as SVG (synchronous: no rasteriser involved). */
export function renderFunnelChartSvg(rows: MetricsRow[], options: Omit<FunnelChartOptions, 'format' | 'fontFile'> = {}): FunnelChart {
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
	return { data: Buffer.from(svg, 'utf8'), mimeType: 'image/svg+xml', fileExtension: 'svg', width, height, omittedGroups: omitted };
}

/** The chart as SVG or PNG (default SVG). */
export async function renderFunnelChart(rows: MetricsRow[], options: FunnelChartOptions = {}): Promise<FunnelChart> {
	const chart = renderFunnelChartSvg(rows, options);
	if ((options.format ?? 'svg') === 'svg') return chart;
	const fontFile = options.fontFile || DEFAULT_CHART_FONT;
	if (!existsSync(fontFile)) throw new Error(`PNG charts need a font file; ${fontFile} does not exist (name another TrueType font file, or use SVG)`);
	await loadResvg();
	const resvg = new Resvg(chart.data.toString('utf8'), {
		background: '#ffffff',
		fitTo: { mode: 'original' },
		font: { fontBuffers: [readFileSync(fontFile)], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
	});
	// The WebAssembly heap is not garbage-collected: free what resvg allocated, also on failure.
	try {
		const image = resvg.render();
		try {
			return { ...chart, data: Buffer.from(image.asPng()), mimeType: 'image/png', fileExtension: 'png' };
		} finally {
			image.free();
		}
	} finally {
		resvg.free();
	}
}
