import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { cadencePostgresCredentialTest } from '../shared/postgresCredential';
import { cadenceTrackingCredentialTest } from '../shared/trackingCredential';
import { router } from './actions/router';
import * as send from './actions/send.operation';
import { cadenceSmtpConnectionTest } from './send/credentials';

export class CadenceSend implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Send',
		name: 'cadenceSend',
		icon: { light: 'file:cadenceSend.svg', dark: 'file:cadenceSend.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ $parameter["options"]["dryRun"] ? "dry run" : "send tracked mail" }}',
		description:
			'Send one tracked message per item over pooled, throttled SMTP: signed open, click and unsubscribe links, A/B variants, per-domain cap and stop-loss',
		defaults: { name: 'Cadence Send' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'cadenceSmtpApi', required: true, testedBy: 'cadenceSmtpConnectionTest' },
			{ name: 'cadenceTrackingApi', required: true, testedBy: 'cadenceTrackingCredentialTest' },
			{
				name: 'cadencePostgresApi',
				required: true,
				testedBy: 'cadencePostgresCredentialTest',
				displayOptions: { show: { sendLedger: ['postgres'] } },
			},
		],
		properties: send.description,
	};

	methods = {
		credentialTest: { cadenceSmtpConnectionTest, cadenceTrackingCredentialTest, cadencePostgresCredentialTest },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
