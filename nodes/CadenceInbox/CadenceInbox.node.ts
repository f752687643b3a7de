import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { VERIFY_TOKENS_ON } from '../shared/inbox/attribution';
import { cadenceImapConnectionTest, cadenceTrackingCredentialTest } from '../shared/inbox/credentials';
import * as classifyMessage from './actions/classifyMessage.operation';
import { commonProperties } from './actions/common';
import * as fetchAndClassify from './actions/fetchAndClassify.operation';
import { operationProperty } from './actions/operation';
import { router } from './actions/router';
import { operationSubtitle } from '../shared/subtitle';

export class CadenceInbox implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Inbox',
		name: 'cadenceInbox',
		icon: { light: 'file:cadenceInbox.svg', dark: 'file:cadenceInbox.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: operationSubtitle(operationProperty),
		description: 'Classify inbox messages (bounces, replies, auto-replies, complaints, unsubscribes, inbound leads) into cadence events',
		defaults: { name: 'Cadence Inbox' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'cadenceImapApi',
				required: true,
				testedBy: 'cadenceImapConnectionTest',
				displayOptions: { show: { operation: ['fetchAndClassify'] } },
			},
			{
				name: 'cadenceTrackingApi',
				required: true,
				testedBy: 'cadenceTrackingCredentialTest',
				// VERIFY_TOKENS_ON_VALUES: On, and true as stored by workflows saved with the boolean form of the field
				displayOptions: { show: { verifyTokens: [VERIFY_TOKENS_ON, true] } },
			},
		],
		properties: [operationProperty, ...classifyMessage.description, ...fetchAndClassify.description, ...commonProperties],
	};

	methods = {
		credentialTest: { cadenceImapConnectionTest, cadenceTrackingCredentialTest },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
