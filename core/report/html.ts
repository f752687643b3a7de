/**
 * The metrics report as an HTML table for an email or chat message: inline styles only (mail clients drop <style>),
 * every value escaped.
 */
import type { AbComparisonRow } from '../metrics/abTest';
import type { ChannelLeadsRow } from '../metrics/channels';
import type { AbDecisionRow } from '../metrics/decisions';
import { listSizeAssessment, type ListHealth } from '../metrics/listHealth';
import type { MetricsRow } from '../metrics/compute';
import { DEFAULT_METRICS_REPORT_TITLE } from '../metrics/defaults';

/** Complaint rate from which the report marks the cell: the sender should stay under 0.3 %. */
export const DEFAULT_COMPLAINT_ALERT = 0.003;

export interface MetricsHtmlOptions {
	title?: string;
	/** Group key columns, in order; default: none. */
	groupBy?: string[];
	/** Extra line under the title (e.g. the period). */
	caption?: string;
	comparisons?: AbComparisonRow[];
	/** A/B roll-out decisions, newest first. */
	decisions?: AbDecisionRow[];
	listHealth?: ListHealth;
	/** The leads-per-channel table (absent: none). */
	channelLeads?: ChannelLeadsRow[];
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

/** Money in the report: two decimals, thousands separated. */
const money = (n: number | undefined) =>
	n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function metricColumns(complaintAlert: number, withMoney: boolean): Column[] {
	const moneyColumns: Column[] = withMoney
		? [
				{ label: 'Revenue', value: (r) => money(r.revenue) },
				{ label: 'Cost', value: (r) => money(r.cost) },
				{ label: 'ROI', value: (r) => (r.roi === undefined ? '—' : formatMetricsPercent(r.roi)) },
			]
		: [];
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
		{ label: 'Forward rate', value: (r) => formatMetricsPercent(r.forwardRate) },
		{ label: 'Conversions', value: (r) => count(r.conversions) },
		{ label: 'Conversion rate', value: (r) => formatMetricsPercent(r.conversionRate, 2) },
		...moneyColumns,
	];
}

export function metricsGroupLabel(row: Record<string, unknown>, groupBy: string[]): string {
	if (groupBy.length === 0) return 'All events';
	return groupBy.map((k) => (row[k] === null || row[k] === undefined ? '(none)' : String(row[k]))).join(' · ');
}

export function renderMetricsHtml(rows: MetricsRow[], options: MetricsHtmlOptions = {}): string {
	const groupBy = options.groupBy ?? [];
	// revenue, cost and ROI show when a cost was given (ROI is hidden without one)
	const columns = metricColumns(
		options.complaintAlert ?? DEFAULT_COMPLAINT_ALERT,
		rows.some((r) => r.cost !== undefined),
	);
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
	if (options.decisions?.length) parts.push(renderDecisions(options.decisions));
	if (options.listHealth) parts.push(renderListHealth(options.listHealth));
	if (options.channelLeads)
		parts.push(renderChannelLeadsHtml(options.channelLeads).replace('<h3>', '<h4 style="margin:12px 0 4px">').replace('</h3>', '</h4>'));
	parts.push('</div>');
	return parts.join('');
}

/** A p-value for the report: two significant digits, `< 0.0001` below that. */
export function formatPValue(p: number | null): string {
	if (p === null || !Number.isFinite(p)) return '—';
	return p < 0.0001 ? '< 0.0001' : p.toPrecision(2);
}

/** One line per (group, variant against the control, rate): both rates, the difference, the p-value and the verdict. */
function renderComparisons(comparisons: AbComparisonRow[], groupBy: string[]): string {
	const head = [
		...(groupBy.length ? ['Group'] : []),
		'Control',
		'Variant',
		'Rate',
		'Control rate',
		'Variant rate',
		'Difference',
		'p-value',
		'Verdict',
	];
	const out = [
		'<h4 style="margin:12px 0 4px">A/B tests</h4><table style="border-collapse:collapse" cellspacing="0" cellpadding="0"><thead><tr>',
		...head.map((h) => `<th style="${HEAD}">${escapeMetricsHtml(h)}</th>`),
		'</tr></thead><tbody>',
	];
	for (const c of comparisons) {
		for (const x of c.comparisons) {
			const verdict = x.winner ? `${x.winner} wins` : x.sampleNote ? `sample too small: ${x.sampleNote}` : `not significant at α = ${c.alpha}`;
			const diff = x.difference === null ? '—' : `${x.difference > 0 ? '+' : ''}${(x.difference * 100).toFixed(1)} pts`;
			const cells = [
				...(groupBy.length ? [metricsGroupLabel(c, groupBy)] : []),
				c.control,
				c.variant,
				x.rate,
				formatMetricsPercent(x.control),
				formatMetricsPercent(x.variant),
				diff,
				formatPValue(x.pValue),
				verdict,
			];
			out.push(
				`<tr>${cells.map((v, i) => `<td style="${i < (groupBy.length ? 4 : 3) || i === cells.length - 1 ? KEY : CELL}${x.winner && i === cells.length - 1 ? ';font-weight:600' : ''}">${escapeMetricsHtml(v)}</td>`).join('')}</tr>`,
			);
		}
	}
	out.push('</tbody></table>');
	return out.join('');
}

function renderDecisions(decisions: AbDecisionRow[]): string {
	return [
		'<h4 style="margin:12px 0 4px">A/B roll-out decisions</h4><table style="border-collapse:collapse" cellspacing="0" cellpadding="0"><thead><tr>',
		...['Decided', 'Campaign', 'Winner', 'Why'].map((h) => `<th style="${HEAD}">${h}</th>`),
		'</tr></thead><tbody>',
		...decisions.map(
			(d) =>
				`<tr><td style="${KEY}">${escapeMetricsHtml(d.at.slice(0, 16).replace('T', ' ') || '—')}</td><td style="${KEY}">${escapeMetricsHtml(d.campaign || '(none)')}</td>` +
				`<td style="${KEY}">${escapeMetricsHtml(d.winner || 'none yet')}</td><td style="${KEY}">${escapeMetricsHtml(d.reason)}</td></tr>`,
		),
		'</tbody></table>',
	].join('');
}

function renderListHealth(h: ListHealth): string {
	const cells: Array<[string, string]> = [
		['Effective contacts', `${count(h.effective)} (${listSizeAssessment(h.effective).note})`],
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

export interface ChannelLeadsHtmlOptions {
	title?: string;
	/** Decimals of cost and cost per lead, 0 to MAX_CHANNEL_COST_DIGITS. */
	costDigits?: number;
}

/** The report's title for the channel table. */
export const DEFAULT_CHANNEL_LEADS_TITLE = 'Leads by channel';
/** Decimals of money in the channel table. */
export const DEFAULT_CHANNEL_COST_DIGITS = 2;
export const MAX_CHANNEL_COST_DIGITS = 6;

/** The channel table as HTML for the report email: inline styles only, every value escaped, `—` where there is no figure. */
export function renderChannelLeadsHtml(rows: ChannelLeadsRow[], options: ChannelLeadsHtmlOptions = {}): string {
	const digits = options.costDigits ?? DEFAULT_CHANNEL_COST_DIGITS;
	if (!Number.isInteger(digits) || digits < 0 || digits > MAX_CHANNEL_COST_DIGITS) {
		throw new Error(`Channel table: cost digits must be a whole number from 0 to ${MAX_CHANNEL_COST_DIGITS}, got ${JSON.stringify(digits)}`);
	}
	const money = (v: number | null) => (v === null ? '—' : v.toFixed(digits));
	const cell = 'padding:4px 8px;border:1px solid #d0d7de;text-align:left';
	const num = 'padding:4px 8px;border:1px solid #d0d7de;text-align:right';
	const head = ['Channel', 'Leads', 'Unique leads', 'Cost', 'Cost per lead', 'Cost per unique lead']
		.map((h, i) => `<th style="${i === 0 ? cell : num}">${h}</th>`)
		.join('');
	const body = rows
		.map(
			(r) =>
				`<tr><td style="${cell}">${escapeMetricsHtml(r.channel)}</td><td style="${num}">${r.leads}</td><td style="${num}">${r.uniqueLeads}</td>` +
				`<td style="${num}">${money(r.cost)}</td><td style="${num}">${money(r.costPerLead)}</td><td style="${num}">${money(r.costPerUniqueLead)}</td></tr>`,
		)
		.join('');
	const empty = rows.length === 0 ? `<tr><td style="${cell}" colspan="6">No leads</td></tr>` : '';
	return (
		`<h3>${escapeMetricsHtml(options.title ?? DEFAULT_CHANNEL_LEADS_TITLE)}</h3>` +
		`<table style="border-collapse:collapse"><thead><tr>${head}</tr></thead><tbody>${body}${empty}</tbody></table>`
	);
}
