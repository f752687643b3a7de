import {
	NodeConnectionTypes,
	type IHookFunctions,
	type IWebhookDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { cadenceTrackingCredentialTest } from '../shared/trackingCredential';
import { handleTrackingHit } from './handleHit';
import { trackingWebhookCreate, trackingWebhookDelete, trackingWebhookExists } from './lifecycle';
import { TRACKING_WEBHOOK_PATH, trackingTriggerProperties } from './properties';

// One path for every method: the token says whether a hit is an open, a click or an unsubscribe, so the URL that
// n8n shows is the one base URL the credential needs.
const trackingWebhook = (httpMethod: 'GET' | 'HEAD' | 'POST'): IWebhookDescription => ({
	name: 'default',
	httpMethod,
	responseMode: 'onReceived',
	path: TRACKING_WEBHOOK_PATH,
	isFullPath: false,
});

export class CadenceTrackingTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Tracking Trigger',
		name: 'cadenceTrackingTrigger',
		icon: { light: 'file:cadenceTrackingTrigger.svg', dark: 'file:cadenceTrackingTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["machineHits"] === "drop" ? "people only" : "people and machines" }}',
		description:
			'Serves the open pixel, click redirects and one-click unsubscribe of Cadence Send mail, and starts a workflow per tracked event',
		defaults: { name: 'Cadence Tracking Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'cadenceTrackingApi', required: true, testedBy: 'cadenceTrackingCredentialTest' }],
		webhooks: [trackingWebhook('GET'), trackingWebhook('HEAD'), trackingWebhook('POST')],
		eventTriggerDescription: 'Waiting for an open, click or unsubscribe',
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
