import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { router } from './actions/router';
import * as splitByViews from './actions/splitByViews.operation';

export class CadenceViews implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Views',
		name: 'cadenceViews',
		icon: { light: 'file:cadenceViews.svg', dark: 'file:cadenceViews.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ "exclude for " + $parameter["cadence"] }}',
		description: 'Split contacts into kept and excluded by exclusion views (read, intent, risk, no-send, your own), with the reason for each',
		defaults: { name: 'Cadence Views' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [
			{ type: NodeConnectionTypes.Main, displayName: 'Kept' },
			{ type: NodeConnectionTypes.Main, displayName: 'Excluded' },
		],
		properties: splitByViews.description,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
