import {
	NodeConnectionTypes,
	type IHookFunctions,
	type IWebhookFunctions,
	type IWebhookResponseData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { cadenceTrackingCredentialTest } from '../shared/trackingCredential';
import { trackingWebhookCreate, trackingWebhookDelete, trackingWebhookExists } from './lifecycle';
import { trackingTriggerProperties } from './properties';
import { handleTrackingHit, trackingWebhooks } from './webhook';

export class CadenceTrackingTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Tracking Trigger',
		name: 'cadenceTrackingTrigger',
		icon: { light: 'file:cadenceTrackingTrigger.svg', dark: 'file:cadenceTrackingTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["machineHits"] === "drop" ? "people only" : "people and machines" }}',
		description:
			'Serves the open pixel, click redirects, one-click unsubscribe and conversion reports of Cadence Send mail, and starts a workflow per tracked event',
		defaults: { name: 'Cadence Tracking Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'cadenceTrackingApi', required: true, testedBy: 'cadenceTrackingCredentialTest' }],
		webhooks: trackingWebhooks,
		eventTriggerDescription: 'Waiting for an open, click, unsubscribe or conversion',
		activationMessage:
			'Tracking is live: opens, clicks and unsubscribes of mail sent with this URL in the Cadence Tracking credential now start this workflow.',
		properties: trackingTriggerProperties,
	};

	methods = { credentialTest: { cadenceTrackingCredentialTest } };

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await trackingWebhookExists.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await trackingWebhookCreate.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await trackingWebhookDelete.call(this);
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await handleTrackingHit(this);
	}
}
