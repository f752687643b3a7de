/**
 * The metrics report as an HTML table for an email or chat message: inline styles only (mail clients drop <style>),
 * every value escaped.
 */
import type { AbComparisonRow } from '../metrics/abTest';
import type { ListHealth } from '../metrics/listHealth';
import type { MetricsRow } from '../metrics/compute';
import { DEFAULT_METRICS_REPORT_TITLE } from '../metrics/defaults';

export interface MetricsHtmlOptions {
	title?: string;
	/** Group key columns, in order; default: none. */
	groupBy?: string[];
	/** Extra line under the title (e.g. the period). */
	caption?: string;
	comparisons?: AbComparisonRow[];
	listHealth?: ListHealth;
	/** Complaint rate from which the cell is marked (stay under 0.3 %). */
	complaintAlert?: number;
}

interface Column {
	label: string;
	value: (row: MetricsRow) => string;
	alert?: (row: MetricsRow) => boolean;
}

export function escapeMetricsHtml(value: unknown): string {
	return String(value ?? '')
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&#39;');
}

export function formatMetricsPercent(rate: number | null | undefined, digits = 1): string {
	return rate === null || rate === undefined || !Number.isFinite(rate) ? '—' : `${(rate * 100).toFixed(digits)}%`;
}

const count = (n: number | undefined) => (n === undefined ? '—' : n.toLocaleString('en-US'));

const CELL = 'padding:4px 8px;border:1px solid #d0d7de;text-align:right;font-variant-numeric:tabular-nums';
const HEAD = 'padding:4px 8px;border:1px solid #d0d7de;background:#f6f8fa;text-align:center;font-weight:600';
const KEY = 'padding:4px 8px;border:1px solid #d0d7de;text-align:left';
const ALERT = ';background:#ffebe9;color:#cf222e;font-weight:600';

function metricColumns(complaintAlert: number): Column[] {
	return [
		{ label: 'Sent', value: (r) => count(r.sent) },
		{ label: 'Delivered', value: (r) => count(r.delivered) },
		{ label: 'Delivery', value: (r) => formatMetricsPercent(r.deliveryRate) },
		{ label: 'Bounce (hard / soft)', value: (r) => `${formatMetricsPercent(r.bounceRate)} (${count(r.hardBounced)} / ${count(r.softBounced)})` },
		{ label: 'Opened (people)', value: (r) => count(r.humanUniqueOpens) },
		{ label: 'Open rate (people / all)', value: (r) => `${formatMetricsPercent(r.humanOpenRate)} / ${formatMetricsPercent(r.openRate)}` },
		{ label: 'Clicked (people)', value: (r) => count(r.humanUniqueClicks) },
		{ label: 'Click rate', value: (r) => formatMetricsPercent(r.clickRate) },
		{ label: 'Click-through', value: (r) => formatMetricsPercent(r.clickThroughRate) },
		{ label: 'Replies', value: (r) => count(r.replies) },
		{ label: 'Reply rate', value: (r) => formatMetricsPercent(r.replyRate) },
		{ label: 'Unsubscribe', value: (r) => formatMetricsPercent(r.unsubscribeRate, 2) },
		{
			label: 'Complaint',
			value: (r) => formatMetricsPercent(r.complaintRate, 2),
			alert: (r) => r.complaintRate !== null && r.complaintRate >= complaintAlert,
		},
	];
}

export function metricsGroupLabel(row: Record<string, unknown>, groupBy: string[]): string {
	if (groupBy.length === 0) return 'All events';
	return groupBy.map((k) => (row[k] === null || row[k] === undefined ? '(none)' : String(row[k]))).join(' · ');
}

export function renderMetricsHtml(rows: MetricsRow[], options: MetricsHtmlOptions = {}): string {
	const groupBy = options.groupBy ?? [];
	const columns = metricColumns(options.complaintAlert ?? 0.003);
	const parts: string[] = ['<div style="font-family:Arial,Helvetica,sans-serif;font-size:13px;color:#1f2328">'];
	parts.push(`<h3 style="margin:0 0 4px">${escapeMetricsHtml(options.title ?? DEFAULT_METRICS_REPORT_TITLE)}</h3>`);
	if (options.caption) parts.push(`<p style="margin:0 0 8px;color:#59636e">${escapeMetricsHtml(options.caption)}</p>`);
	parts.push('<table style="border-collapse:collapse" cellspacing="0" cellpadding="0"><thead><tr>');
	for (const k of groupBy) parts.push(`<th style="${HEAD}">${escapeMetricsHtml(k)}</th>`);
	if (groupBy.length === 0) parts.push(`<th style="${HEAD}">Group</th>`);
	for (const c of columns) parts.push(`<th style="${HEAD}">${escapeMetricsHtml(c.label)}</th>`);
	parts.push('</tr></thead><tbody>');
	if (rows.length === 0) parts.push(`<tr><td style="${KEY}" colspan="${Math.max(1, groupBy.length) + columns.length}">No events</td></tr>`);
	for (const row of rows) {
		parts.push('<tr>');
		for (const k of groupBy) parts.push(`<td style="${KEY}">${escapeMetricsHtml(row[k] ?? '(none)')}</td>`);
		if (groupBy.length === 0) parts.push(`<td style="${KEY}">All events</td>`);
		for (const c of columns) parts.push(`<td style="${CELL}${c.alert?.(row) ? ALERT : ''}">${escapeMetricsHtml(c.value(row))}</td>`);
		parts.push('</tr>');
	}
	parts.push('</tbody></table>');
	if (options.comparisons?.length)
		parts.push(
			renderComparisons(
				options.comparisons,
				groupBy.filter((k) => k !== 'variant'),
			),
		);
	if (options.listHealth) parts.push(renderListHealth(options.listHealth));
	parts.push('</div>');
	return parts.join('');
}

function renderComparisons(comparisons: AbComparisonRow[], groupBy: string[]): string {
	const out = ['<h4 style="margin:12px 0 4px">A/B tests</h4><ul style="margin:0;padding-left:18px">'];
	for (const c of comparisons) {
		const label = groupBy.length ? `${escapeMetricsHtml(metricsGroupLabel(c, groupBy))}: ` : '';
		const winners = c.comparisons.filter((x) => x.winner);
		const verdict = winners.length
			? winners
					.map(
						(w) =>
							`${escapeMetricsHtml(w.rate)} → <b>${escapeMetricsHtml(w.winner)}</b> (${formatMetricsPercent(w.control)} vs ${formatMetricsPercent(w.variant)}, p = ${w.pValue === null ? '—' : w.pValue.toPrecision(2)})`,
					)
					.join('; ')
			: `no significant winner at α = ${c.alpha}`;
		out.push(`<li>${label}${escapeMetricsHtml(c.control)} vs ${escapeMetricsHtml(c.variant)}: ${verdict}</li>`);
	}
	out.push('</ul>');
	return out.join('');
}

function renderListHealth(h: ListHealth): string {
	const cells: Array<[string, string]> = [
		['Effective contacts', count(h.effective)],
		['In risk view', count(h.inRiskView)],
		['Base at start', count(h.base)],
		['New', count(h.newContacts)],
		[
			'Left',
			`${count(h.left)} (unsubscribed ${h.leftUnsubscribed}, complained ${h.leftComplained}, hard bounced ${h.leftHardBounced}, risk tagged ${h.leftRiskTagged})`,
		],
		['Growth rate', formatMetricsPercent(h.growthRate)],
		['Churn rate', formatMetricsPercent(h.churnRate)],
	];
	return [
		`<h4 style="margin:12px 0 4px">List health, ${escapeMetricsHtml(h.periodStart.slice(0, 10))} to ${escapeMetricsHtml(h.periodEnd.slice(0, 10))}</h4>`,
		'<table style="border-collapse:collapse" cellspacing="0" cellpadding="0"><tbody>',
		...cells.map(
			([k, v]) => `<tr><th style="${KEY};background:#f6f8fa">${escapeMetricsHtml(k)}</th><td style="${CELL}">${escapeMetricsHtml(v)}</td></tr>`,
		),
		'</tbody></table>',
	].join('');
}
