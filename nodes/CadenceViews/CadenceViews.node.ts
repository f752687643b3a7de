import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { operationProperty } from './actions/operation';
import { router } from './actions/router';
import * as splitByViews from './actions/splitByViews.operation';
import * as verifyAddresses from './actions/verifyAddresses.operation';

export class CadenceViews implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Views',
		name: 'cadenceViews',
		icon: { light: 'file:cadenceViews.svg', dark: 'file:cadenceViews.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] === "verifyAddresses" ? "Verify Addresses" : "exclude for " + $parameter["cadence"] }}',
		description:
			'Split contacts into kept and excluded by exclusion views (read, intent, risk, no-send, undeliverable, your own), with the reason for each; verify addresses before they are mailed',
		defaults: { name: 'Cadence Views' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: `={{ $parameter["operation"] === "verifyAddresses" ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Kept" }, { "type": "${NodeConnectionTypes.Main}", "displayName": "Undeliverable" }] : [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Kept" }, { "type": "${NodeConnectionTypes.Main}", "displayName": "Excluded" }] }}`,
		properties: [operationProperty, ...splitByViews.description, ...verifyAddresses.description],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
