import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import * as compute from './actions/compute.operation';
import { router } from './actions/router';
import { multiOptionsSubtitle } from '../shared/subtitle';

const main = NodeConnectionTypes.Main;

export class CadenceMetrics implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Metrics',
		name: 'cadenceMetrics',
		icon: { light: 'file:cadenceMetrics.svg', dark: 'file:cadenceMetrics.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: multiOptionsSubtitle(compute.groupByProperty, 'by ', 'total'),
		description: 'Delivery, engagement and list metrics from cadence events, with A/B significance and an HTML and chart report',
		defaults: { name: 'Cadence Metrics' },
		usableAsTool: true,
		// The Contacts input and the A/B Tests, List Health and Report outputs exist only while their switch is on.
		inputs: `={{ [{ "type": "${main}", "displayName": "Events" }].concat($parameter["listHealth"] ? [{ "type": "${main}", "displayName": "Contacts", "required": false }] : []) }}`,
		outputs: `={{ [{ "type": "${main}", "displayName": "Metrics" }].concat($parameter["compareVariants"] ? [{ "type": "${main}", "displayName": "A/B Tests" }] : []).concat($parameter["listHealth"] ? [{ "type": "${main}", "displayName": "List Health" }] : []).concat($parameter["report"] ? [{ "type": "${main}", "displayName": "Report" }] : []) }}`,
		properties: compute.description,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
