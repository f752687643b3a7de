import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { cadencePostgresCredentialTest } from '../shared/postgresCredential';
import { cadenceTrackingCredentialTest } from '../shared/trackingCredential';
import * as checkDomain from './actions/checkDomain.operation';
import * as decideAbWinner from './actions/decideAbWinner.operation';
import { operationProperty } from './actions/operation';
import * as resumeSending from './actions/resumeSending.operation';
import { router } from './actions/router';
import * as send from './actions/send.operation';
import * as senderStatus from './actions/senderStatus.operation';
import { cadenceSenderPoolConnectionTest, cadenceSmtpConnectionTest } from './send/credentials';
import { operationSubtitle } from '../shared/subtitle';

const main = NodeConnectionTypes.Main;

// Deliberately not usable as an AI tool (see the comment on the description).
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
export class CadenceSend implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Send',
		name: 'cadenceSend',
		icon: { light: 'file:cadenceSend.svg', dark: 'file:cadenceSend.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: operationSubtitle(operationProperty),
		description:
			'Send one tracked message per item over pooled, throttled SMTP or a rotating mailbox pool: signed open, click and unsubscribe links, A/B variants, daily caps per company, contact and mailbox, warm-up, breaker and stop-loss',
		defaults: { name: 'Cadence Send' },
		// Not usable as an AI tool (no usableAsTool): an agent must not send bulk mail; a team that wants it wraps a workflow in a Call n8n Workflow Tool.
		inputs: [main],
		// Sender Status has a second output: the paused events to record.
		outputs: `={{ $parameter["operation"] === "senderStatus" ? [{ "type": "${main}", "displayName": "Status" }, { "type": "${main}", "displayName": "Paused" }] : ["${main}"] }}`,
		credentials: [
			{
				name: 'cadenceSmtpApi',
				required: true,
				testedBy: 'cadenceSmtpConnectionTest',
				// Check Sending Domain reads the same sender credential (host, From, DKIM key), but never the tracking one.
				// `hide` rather than `show` for Send Through: a field every credential shows by value is taken by the editor
				// for an authentication field and hidden from the panel, and Operation with it.
				displayOptions: { show: { operation: ['send', 'checkDomain'] }, hide: { senders: ['pool'] } },
			},
			{
				name: 'cadenceSenderPoolApi',
				required: true,
				testedBy: 'cadenceSenderPoolConnectionTest',
				displayOptions: { show: { operation: ['send', 'checkDomain'] }, hide: { senders: ['account'] } },
			},
			{ name: 'cadenceTrackingApi', required: true, testedBy: 'cadenceTrackingCredentialTest', displayOptions: { show: { operation: ['send'] } } },
			{
				name: 'cadencePostgresApi',
				required: true,
				testedBy: 'cadencePostgresCredentialTest',
				displayOptions: { show: { operation: ['send'], sendLedger: ['postgres'] } },
			},
		],
		properties: [
			operationProperty,
			...send.description,
			...senderStatus.description,
			...resumeSending.description,
			...checkDomain.description,
			...decideAbWinner.description,
		],
	};

	methods = {
		credentialTest: { cadenceSmtpConnectionTest, cadenceSenderPoolConnectionTest, cadenceTrackingCredentialTest, cadencePostgresCredentialTest },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
