import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { attributionOptionProperties, kindsProperty, verifyTokensProperty } from '../shared/inbox/attribution';
import { cadenceImapConnectionTest, cadenceTrackingCredentialTest } from '../shared/inbox/credentials';
import { classifyMessageProperties, classifyMessages } from './operations/classifyMessage';
import { fetchAndClassify, fetchAndClassifyProperties } from './operations/fetchAndClassify';

export class CadenceInbox implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Inbox',
		name: 'cadenceInbox',
		icon: { light: 'file:cadenceInbox.svg', dark: 'file:cadenceInbox.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
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
				displayOptions: { show: { verifyTokens: [true] } },
			},
		],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				default: 'classifyMessage',
				options: [
					{
						name: 'Classify Message',
						value: 'classifyMessage',
						description: 'Classify raw messages coming from another node (IMAP, Gmail, a file)',
						action: 'Classify a raw message',
					},
					{
						name: 'Fetch and Classify',
						value: 'fetchAndClassify',
						description: 'Read a mailbox over a date range once and classify every message',
						action: 'Fetch and classify a mailbox',
					},
				],
			},
			...classifyMessageProperties,
			...fetchAndClassifyProperties,
			kindsProperty(['auto_reply', 'bounce', 'complaint', 'delay', 'delivered', 'inbound', 'other', 'reply', 'unsubscribe']),
			verifyTokensProperty,
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: attributionOptionProperties,
			},
		],
	};

	methods = {
		credentialTest: { cadenceImapConnectionTest, cadenceTrackingCredentialTest },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const operation = this.getNodeParameter('operation', 0) as string;
		if (operation === 'fetchAndClassify') return [await fetchAndClassify.call(this)];
		return [await classifyMessages.call(this)];
	}
}
