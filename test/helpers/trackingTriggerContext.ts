/** Calls Cadence Tracking Trigger's webhook as n8n does, with a recording response, for node tests. */
import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';
import type { TrackingData } from '../../core/tracker';
import type { CadenceTrackingTrigger } from '../../nodes/CadenceTrackingTrigger/CadenceTrackingTrigger.node';

export const CHROME_USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** A tracked message sent an hour ago: a click now is not a gateway checking the link on delivery. */
export function sentAnHourAgo(): TrackingData {
	return {
		email: 'ana@dealer.example',
		campaign: 'spring',
		batchTag: 'English-Dealers-Marketing05',
		variant: 'B',
		sentAt: Date.now() - 3_600_000,
	};
}

export interface WebhookRequest {
	method: string;
	body: unknown;
	ip: string;
	query: IDataObject;
	headers: IDataObject;
	/** The node's parameters; a name not given falls back to the node's default. */
	parameters: IDataObject;
	credentials: () => Promise<IDataObject>;
}

/** The webhook's answer to one request: the response as sent, n8n's answer, the logged warnings and the events. */
export async function callTrackingWebhook(node: CadenceTrackingTrigger, request: WebhookRequest) {
	const res = {
		statusCode: 0,
		headers: {} as Record<string, string>,
		body: undefined as Buffer | undefined,
		status(code: number) {
			this.statusCode = code;
			return this;
		},
		setHeader(name: string, value: string) {
			this.headers[name.toLowerCase()] = value;
		},
		end(body: Buffer) {
			this.body = body;
		},
	};
	const warnings: string[] = [];
	const { method, body, ip, query, headers, parameters, credentials } = request;
	const ctx = {
		getRequestObject: () => ({ method, body, ip }),
		getResponseObject: () => res,
		getQueryData: () => query,
		getHeaderData: () => headers,
		getCredentials: credentials,
		getNodeParameter: (name: string, fallback: unknown) => (name in parameters ? parameters[name] : fallback),
		logger: { warn: (message: string) => warnings.push(message) },
	};
	const answer = await node.webhook.call(ctx as unknown as IWebhookFunctions);
	return { res, answer, warnings, events: (answer.workflowData?.[0] ?? []).map((i) => i.json) };
}
