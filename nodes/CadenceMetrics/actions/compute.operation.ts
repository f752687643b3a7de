import { type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import {
	DEFAULT_AB_ALPHA,
	DEFAULT_AB_MIN_SAMPLE,
	DEFAULT_AB_VARIANT_FIELD,
	DEFAULT_COST_PER_SEND,
	LIST_SIZE_STRONG_FROM,
	LIST_SIZE_USEFUL_FROM,
	DEFAULT_LIST_HEALTH_CREATED_AT_FIELD,
	DEFAULT_LIST_HEALTH_EMAIL_FIELD,
	DEFAULT_LIST_HEALTH_PERIOD,
	DEFAULT_LIST_HEALTH_RISK_PREFIXES,
	DEFAULT_LIST_HEALTH_RISK_TAGGED_AT_FIELD,
	DEFAULT_LIST_HEALTH_TAGS_DELIMITER,
	DEFAULT_LIST_HEALTH_TAGS_FIELD,
	DEFAULT_MAX_CHART_GROUPS,
	DEFAULT_METRICS_CHART_FIELD,
	DEFAULT_METRICS_FIGURES,
	DEFAULT_METRICS_NODE_TAG_MARKERS,
	DEFAULT_METRICS_REPORT_TITLE,
	DEFAULT_METRICS_TAG_SEPARATOR,
	type AbComparisonRow,
	type ListHealth,
} from '../../../core/metrics';
import { DEFAULT_NODE_CHART_FORMAT } from '../../../core/report';
import { abTestItems, abTestItemsFromRows } from './compute/abTestItems';
import { listHealthItems } from './compute/listHealthItems';
import { computeRows, metricsItems, withFigures } from './compute/metricsItems';
import { readEvents } from './compute/readEvents';
import { DEFAULT_METRICS_INPUT, inputKind, readRows, type MetricsInput } from './compute/readRows';
import { DEFAULT_GROUP_BY, readSettings, usesTime } from './compute/readSettings';
import { reportItem } from './compute/reportItem';

const when = (name: string) => ({ show: { [name]: [true] } });

/** Group By: also the canvas subtitle's source of names. */
export const groupByProperty: INodeProperties = {
	displayName: 'Group By',
	name: 'groupBy',
	type: 'multiOptions',
	default: [...DEFAULT_GROUP_BY],
	description: 'One output item per combination of these keys; none gives a single total row',
	options: [
		{ name: 'Batch Tag', value: 'batchTag' },
		{ name: 'Campaign', value: 'campaign' },
		{ name: 'Channel', value: 'channel' },
		{ name: 'Day', value: 'day', description: 'Calendar day in the time zone (YYYY-MM-DD)' },
		{ name: 'Language', value: 'language', description: 'First part of the batch tag' },
		{ name: 'Month', value: 'month', description: 'YYYY-MM in the time zone' },
		{ name: 'Segment', value: 'segment', description: 'Middle part of the batch tag' },
		{ name: 'Variant', value: 'variant' },
		{ name: 'Week', value: 'week', description: 'ISO week (Monday first) in the time zone, e.g. 2026-W47' },
	],
};

/** The parameters, in the order the editor shows them; the A/B, list-health and report ones show when their switch is on. */
export const description: INodeProperties[] = [
	{
		displayName: 'Input',
		name: 'input',
		type: 'options',
		default: DEFAULT_METRICS_INPUT,
		description: 'What the Events input carries',
		options: [
			{ name: 'Events', value: 'events', description: 'Cadence events; the node counts them' },
			{
				name: 'Events or Rows Counted by the Store',
				value: 'auto',
				description: 'Counted rows when every item carries all the counts of a metrics row, else events (one template for both stores)',
			},
			{
				name: 'Rows Counted by the Store',
				value: 'rows',
				description:
					'One item per group with the counts of a metrics row, as the metrics SQL of the Postgres report returns them; the node adds the rates and the report',
			},
		],
	},
	groupByProperty,
	{
		displayName: 'Other Group Fields',
		name: 'customGroupFields',
		type: 'string',
		default: '',
		placeholder: 'utm.source, email',
		description: 'Comma-separated event fields to group by as well (dot notation for nested fields)',
	},
	{
		displayName: 'Compare Variants (A/B)',
		name: 'compareVariants',
		type: 'boolean',
		default: false,
		description: 'Whether to add an output comparing the variants of each group, with a two-proportion z-test per rate',
	},
	{
		displayName: 'Variant Field',
		name: 'variantField',
		type: 'string',
		default: DEFAULT_AB_VARIANT_FIELD,
		displayOptions: when('compareVariants'),
		description: 'Event field naming the A/B variant',
	},
	{
		displayName: 'Significance Level (Alpha)',
		name: 'alpha',
		type: 'number',
		typeOptions: { minValue: 0.0001, maxValue: 0.5, numberPrecision: 4 },
		default: DEFAULT_AB_ALPHA,
		displayOptions: when('compareVariants'),
		description: 'A winner is named only when the p-value is below this',
	},
	{
		displayName: 'Minimum Sample per Variant',
		name: 'minSample',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: DEFAULT_AB_MIN_SAMPLE,
		displayOptions: when('compareVariants'),
		description:
			"Each variant needs at least this many trials (the rate's denominator, e.g. delivered messages for the open rate); expected successes and failures must also be 5 or more",
	},
	{
		displayName: 'Control Variant',
		name: 'control',
		type: 'string',
		default: '',
		displayOptions: when('compareVariants'),
		description: 'The variant the others are compared with; empty uses the first in alphabetical order',
	},
	{
		displayName: 'List Health',
		name: 'listHealth',
		type: 'boolean',
		default: false,
		description: `Whether to add a Contacts input and a List Health output: effective, new and left contacts, growth and churn rates over a period; the report rates the list size against ${LIST_SIZE_USEFUL_FROM} and ${LIST_SIZE_STRONG_FROM} contacts. The Contacts input takes the contacts, or one item of list-health counts from the store.`,
	},
	{
		displayName: 'Period',
		name: 'period',
		type: 'options',
		default: DEFAULT_LIST_HEALTH_PERIOD,
		displayOptions: when('listHealth'),
		options: [
			{ name: 'Custom', value: 'custom' },
			{ name: 'Last 30 Days', value: 'last30Days', description: 'The 30 calendar days ending today' },
			{ name: 'Last 7 Days', value: 'last7Days', description: 'The 7 calendar days ending today' },
			{ name: 'Last Month', value: 'lastMonth' },
			{ name: 'This Month', value: 'thisMonth' },
		],
	},
	{
		displayName: 'Period Start',
		name: 'periodStart',
		type: 'dateTime',
		default: '',
		displayOptions: { show: { listHealth: [true], period: ['custom'] } },
		description: 'First instant of the period (wall time in the time zone)',
	},
	{
		displayName: 'Period End',
		name: 'periodEnd',
		type: 'dateTime',
		default: '',
		displayOptions: { show: { listHealth: [true], period: ['custom'] } },
		description: 'End of the period, not included',
	},
	{
		displayName: 'Contact Fields',
		name: 'contactFields',
		type: 'collection',
		placeholder: 'Change Contact Fields',
		default: {},
		displayOptions: when('listHealth'),
		options: [
			{
				displayName: 'Created At Field',
				name: 'createdAtField',
				type: 'string',
				default: DEFAULT_LIST_HEALTH_CREATED_AT_FIELD,
				description: 'When the contact was added; contacts without it count as older than the period',
			},
			{ displayName: 'Email Field', name: 'emailField', type: 'string', default: DEFAULT_LIST_HEALTH_EMAIL_FIELD },
			{
				displayName: 'Risk Prefix',
				name: 'riskPrefix',
				type: 'string',
				default: DEFAULT_LIST_HEALTH_RISK_PREFIXES.join(', '),
				description: 'Tags starting with one of these (comma-separated) put a contact in the risk view',
			},
			{
				displayName: 'Risk Tagged At Field',
				name: 'riskTaggedAtField',
				type: 'string',
				default: DEFAULT_LIST_HEALTH_RISK_TAGGED_AT_FIELD,
				description: 'When a risk tag was added, if your store records it; in the period it counts the contact as left',
			},
			{
				displayName: 'Risk Tags',
				name: 'riskTags',
				type: 'string',
				default: '',
				description: 'Comma-separated tags that are in the risk view besides the prefix',
			},
			{
				displayName: 'Tags Delimiter',
				name: 'tagsDelimiter',
				type: 'string',
				default: DEFAULT_LIST_HEALTH_TAGS_DELIMITER,
				description: 'Delimiter when tags are a string',
			},
			{
				displayName: 'Tags Field',
				name: 'tagsField',
				type: 'string',
				default: DEFAULT_LIST_HEALTH_TAGS_FIELD,
				description: 'An array of tags or a delimited string',
			},
		],
	},
	{
		displayName: 'Report',
		name: 'report',
		type: 'boolean',
		default: false,
		description: 'Whether to add a Report output: one item with an HTML table (for an email or chat message) and a funnel chart as binary data',
	},
	{
		displayName: 'Report Title',
		name: 'reportTitle',
		type: 'string',
		default: DEFAULT_METRICS_REPORT_TITLE,
		displayOptions: when('report'),
	},
	{
		displayName: 'Leads by Channel',
		name: 'leadsByChannel',
		type: 'boolean',
		// a literal for n8n's lint: DEFAULT_REPORT_LEADS_BY_CHANNEL (a test keeps them equal)
		default: false,
		displayOptions: when('report'),
		description:
			"Whether the report has a table of inbound leads per channel (mail to substitute addresses): leads, unique leads and, with a channel's cost, cost per lead",
	},
	{
		displayName: 'Channel Costs',
		name: 'channelCosts',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Channel Cost',
		default: {},
		displayOptions: { show: { report: [true], leadsByChannel: [true] } },
		description: "Each channel's spend over the report's period, for cost per lead",
		options: [
			{
				name: 'cost',
				displayName: 'Cost',
				values: [
					{ displayName: 'Channel', name: 'channel', type: 'string', default: '', description: 'As the leads name it (case does not matter)' },
					{ displayName: 'Cost', name: 'cost', type: 'number', typeOptions: { minValue: 0 }, default: 0 },
				],
			},
		],
	},
	{
		displayName: 'Chart Format',
		name: 'chartFormat',
		type: 'options',
		default: DEFAULT_NODE_CHART_FORMAT,
		displayOptions: when('report'),
		options: [
			{
				name: 'PNG',
				value: 'png',
				description: 'Shown by n8n and mail clients; drawn with the bundled DejaVu Sans unless Chart Font File names another font',
			},
			{ name: 'SVG', value: 'svg', description: "Scalable, for web pages; n8n's binary viewer does not show it" },
		],
	},
	{
		displayName: 'Put Chart in Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: DEFAULT_METRICS_CHART_FIELD,
		displayOptions: when('report'),
		description: 'Name of the binary field for the chart',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Batch Tag Markers',
				name: 'tagMarkers',
				type: 'string',
				default: DEFAULT_METRICS_NODE_TAG_MARKERS,
				description: 'Marker words before the two-digit number in batch tags, for Language and Segment',
			},
			{
				displayName: 'Batch Tag Separator',
				name: 'tagSeparator',
				type: 'string',
				default: DEFAULT_METRICS_TAG_SEPARATOR,
				description: 'Separator between language, segment and marker in batch tags',
			},
			{
				displayName: 'Chart Font File',
				name: 'fontFile',
				type: 'string',
				default: '',
				placeholder: '/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc',
				description:
					'TrueType/OpenType font file for PNG charts (e.g. one with CJK glyphs for Chinese group names); empty uses the bundled DejaVu Sans',
			},
			{
				displayName: 'Cost Field',
				name: 'costField',
				type: 'string',
				default: '',
				description: 'Event field with a cost to sum per group (e.g. on sent events); any cost gives revenue and ROI',
			},
			{
				displayName: 'Cost per Send',
				name: 'costPerSend',
				type: 'number',
				typeOptions: { minValue: 0, numberPrecision: 4 },
				default: DEFAULT_COST_PER_SEND,
				description:
					'Cost of each message sent, added to the cost of its group (0: none). With a cost, each row gets revenue (the Revenue Field, else the value of converted events) and ROI = (revenue − cost) / cost.',
			},
			{
				displayName: 'Figures',
				name: 'figures',
				type: 'multiOptions',
				default: [...DEFAULT_METRICS_FIGURES],
				options: [
					{ name: 'Counts', value: 'counts' },
					{ name: 'Rates', value: 'rates' },
				],
				description: 'Which figures each row carries (revenue, cost and ROI come with their fields)',
			},
			{
				displayName: 'Max Groups in Chart',
				name: 'maxChartGroups',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 20 },
				default: DEFAULT_MAX_CHART_GROUPS,
				description: 'The groups with most messages sent are drawn',
			},
			{
				displayName: 'Revenue Field',
				name: 'revenueField',
				type: 'string',
				default: '',
				description: 'Event field with revenue to sum per group; empty: the value of converted events',
			},
			{
				displayName: 'Time Zone',
				name: 'timeZone',
				type: 'string',
				default: '',
				placeholder: 'Europe/Berlin',
				description: "Time zone of day, week, month and the list-health period; empty uses the workflow's time zone",
			},
		],
	},
];

/**
 * The Metrics output (rows, then the error items of bad events), followed by the A/B Tests, List Health and Report
 * outputs that are switched on, in that order.
 */
export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const input = String(this.getNodeParameter('input', 0, DEFAULT_METRICS_INPUT)) as MetricsInput;
	if (inputKind(this, input, items) === 'rows') return await executeRows(this, items);
	const compare = this.getNodeParameter('compareVariants', 0, false) as boolean;
	const withListHealth = this.getNodeParameter('listHealth', 0, false) as boolean;
	const withReport = this.getNodeParameter('report', 0, false) as boolean;
	const settings = readSettings(this);
	const read = await readEvents(this, items, usesTime(settings.groupBy));
	const result = computeRows(this, read, settings);
	const outputs: INodeExecutionData[][] = [[...metricsItems(result, read, settings.figures), ...read.errors]];

	let comparisons: AbComparisonRow[] | undefined;
	if (compare) {
		const ab = abTestItems(this, read, settings);
		comparisons = ab.comparisons;
		outputs.push(ab.items);
	}
	let listHealth: ListHealth | undefined;
	if (withListHealth) {
		const lh = await listHealthItems(this, read, settings.timeZone);
		listHealth = lh.health;
		outputs.push(lh.items);
	}
	if (withReport) {
		const pairedItem = read.itemOf.map((item) => ({ item }));
		outputs.push([
			await reportItem(this, result.rows, settings, { comparisons, listHealth, sources: [...read.events, ...read.leadRows], pairedItem }),
		]);
	}
	return outputs;
}

/**
 * The outputs from rows the store counted: the Metrics rows (with their rates), the A/B Tests (the rows grouped by
 * the variant too), List Health (counted by the store, on the Contacts input) and the report.
 */
async function executeRows(ctx: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const settings = readSettings(ctx);
	const read = await readRows(ctx, items, settings.groupBy, settings.metrics.costPerSend ?? DEFAULT_COST_PER_SEND);
	const outputs: INodeExecutionData[][] = [
		[...read.rows.map((row, r) => ({ json: withFigures(row, settings.figures), pairedItem: { item: read.itemOf[r] } })), ...read.errors],
	];
	let comparisons: AbComparisonRow[] | undefined;
	if (ctx.getNodeParameter('compareVariants', 0, false) as boolean) {
		const ab = abTestItemsFromRows(ctx, read.rows, read.itemOf, settings);
		comparisons = ab.comparisons;
		outputs.push(ab.items);
	}
	let listHealth: ListHealth | undefined;
	if (ctx.getNodeParameter('listHealth', 0, false) as boolean) {
		const lh = await listHealthItems(ctx, undefined, settings.timeZone);
		listHealth = lh.health;
		outputs.push(lh.items);
	}
	if (ctx.getNodeParameter('report', 0, false) as boolean) {
		const pairedItem = read.itemOf.map((item) => ({ item }));
		outputs.push([await reportItem(ctx, read.rows, settings, { comparisons, listHealth, sources: read.extras, pairedItem })]);
	}
	return outputs;
}
