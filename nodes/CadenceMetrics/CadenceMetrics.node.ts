import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPairedItemData,
} from 'n8n-workflow';
import { computeMetricsDetailed, type AbComparisonRow, type ListHealth, type MetricsResult, type MetricsRow } from '../../core/metrics';
import { abTestItems } from './abTests';
import { listHealthItems } from './listHealth';
import { metricsProperties } from './properties';
import { readEvents } from './readEvents';
import { reportItem } from './report';
import { readSettings, usesTime } from './settings';

const COUNT_FIELDS = new Set(['sent', 'failed', 'skipped', 'bounced', 'hardBounced', 'softBounced', 'delivered', 'delayed', 'opens', 'uniqueOpens', 'humanUniqueOpens', 'clicks', 'uniqueClicks', 'humanUniqueClicks', 'replies', 'autoReplies', 'unsubscribes', 'complaints', 'inbound']);
const RATE_FIELDS = new Set(['deliveryRate', 'bounceRate', 'hardBounceRate', 'softBounceRate', 'openRate', 'humanOpenRate', 'clickThroughRate', 'clickRate', 'replyRate', 'unsubscribeRate', 'complaintRate']);

function withFigures(row: MetricsRow, figures: string[]): IDataObject {
	const counts = figures.includes('counts');
	const rates = figures.includes('rates');
	if (counts && rates) return row as IDataObject;
	const out: IDataObject = {};
	for (const [k, v] of Object.entries(row)) if ((!COUNT_FIELDS.has(k) || counts) && (!RATE_FIELDS.has(k) || rates)) out[k] = v as IDataObject[string];
	return out;
}

export class CadenceMetrics implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Metrics',
		name: 'cadenceMetrics',
		icon: { light: 'file:cadenceMetrics.svg', dark: 'file:cadenceMetrics.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ "by " + ($parameter["groupBy"].join(", ") || "total") }}',
		description: 'Delivery, engagement and list metrics from cadence events, with A/B significance and an HTML and chart report',
		defaults: { name: 'Cadence Metrics' },
		usableAsTool: true,
		inputs: `={{ [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Events" }].concat($parameter["listHealth"] ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Contacts", "required": false }] : []) }}`,
		outputs: `={{ [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Metrics" }].concat($parameter["compareVariants"] ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "A/B Tests" }] : []).concat($parameter["listHealth"] ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "List Health" }] : []).concat($parameter["report"] ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Report" }] : []) }}`,
		properties: metricsProperties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData(0);
		const compare = this.getNodeParameter('compareVariants', 0, false) as boolean;
		const withListHealth = this.getNodeParameter('listHealth', 0, false) as boolean;
		const withReport = this.getNodeParameter('report', 0, false) as boolean;
		const settings = readSettings(this);
		const read = readEvents(this, items, usesTime(settings.groupBy));

		let result: MetricsResult;
		try {
			result = computeMetricsDetailed(read.events, settings.metrics);
		} catch (error) {
			throw new NodeOperationError(this.getNode(), error as Error, { description: 'Check the time zone and the group fields' });
		}
		const pairs: IPairedItemData[][] = result.rows.map(() => []);
		for (let k = 0; k < read.events.length; k++) if (result.rowOfEvent[k] >= 0) pairs[result.rowOfEvent[k]].push({ item: read.itemOf[k] });
		const metricsItems: INodeExecutionData[] = result.rows.map((row, r) => ({ json: withFigures(row, settings.figures), pairedItem: pairs[r] }));
		const outputs: INodeExecutionData[][] = [[...metricsItems, ...read.errors]];

		let comparisons: AbComparisonRow[] | undefined;
		if (compare) {
			const ab = abTestItems(this, read, settings);
			comparisons = ab.comparisons;
			outputs.push(ab.items);
		}
		let listHealth: ListHealth | undefined;
		if (withListHealth) {
			const lh = listHealthItems(this, read, settings.timeZone);
			listHealth = lh.health;
			outputs.push(lh.items);
		}
		if (withReport) {
			const pairedItem = read.itemOf.map((item) => ({ item }));
			outputs.push([await reportItem(this, result.rows, settings, { comparisons, listHealth, pairedItem })]);
		}
		return outputs;
	}
}
