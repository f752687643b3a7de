import { describe, expect, it } from 'vitest';
import type { IDataObject, IHookFunctions } from 'n8n-workflow';
import { createTracker } from '../../core/tracker';
import { TRACKING_PIXEL_GIF } from '../../core/trackingHttp';
import { CadenceTrackingTrigger } from '../../nodes/CadenceTrackingTrigger/CadenceTrackingTrigger.node';
import { callTrackingWebhook, CHROME_USER_AGENT, sentAnHourAgo } from '../helpers/trackingTriggerContext';

const node = new CadenceTrackingTrigger();
const BASE = 'https://track.example.com/webhook/5f0c6a53-0000-4000-8000-000000000001/t';
const credential = { secrets: 'a-signing-secret-of-enough-length', baseUrl: BASE };
const tracker = createTracker({ secrets: [credential.secrets], baseUrl: BASE });
const data = sentAnHourAgo();
const tokenOf = (url: string) => new URL(url).searchParams.get('t') as string;
const PAGE_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const IMAGE_ACCEPT = 'image/avif,image/webp,image/apng,image/*,*/*;q=0.8';
const THUNDERBIRD = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2';

interface Hit {
	t: string;
	method?: string;
	userAgent?: string;
	accept?: string;
	parameters?: IDataObject;
	credentials?: IDataObject | Error;
}

/** Calls the node's webhook as n8n would, with a recording response; returns the response and what n8n gets back. */
async function hit({ t, method = 'GET', userAgent = CHROME_USER_AGENT, accept = PAGE_ACCEPT, parameters = {}, credentials = credential }: Hit) {
	return callTrackingWebhook(node, {
		method,
		body: {},
		ip: '198.51.100.7',
		query: { t },
		headers: { 'user-agent': userAgent, accept },
		parameters: { events: ['opened', 'clicked', 'unsubscribed'], machineHits: 'emit', options: {}, ...parameters },
		credentials: async () => {
			if (credentials instanceof Error) throw credentials;
			return credentials;
		},
	});
}

describe('Cadence Tracking Trigger node', () => {
	it('listens on one path for GET, HEAD and POST, answering on receipt', () => {
		const hooks = node.description.webhooks ?? [];
		expect(hooks.map((w) => w.httpMethod)).toEqual(['GET', 'HEAD', 'POST']);
		for (const w of hooks) expect(w).toMatchObject({ name: 'default', path: 't', responseMode: 'onReceived', isFullPath: false });
		expect(node.description.credentials).toEqual([{ name: 'cadenceTrackingApi', required: true, testedBy: 'cadenceTrackingCredentialTest' }]);
		expect(typeof node.methods.credentialTest.cadenceTrackingCredentialTest).toBe('function');
	});

	it('answers an open with the pixel and starts one execution with the event', async () => {
		const { res, answer, events } = await hit({ t: tokenOf(tracker.openUrl(data)), userAgent: THUNDERBIRD });
		expect(res.statusCode).toBe(200);
		expect(res.headers['content-type']).toBe('image/gif');
		expect(res.body?.equals(TRACKING_PIXEL_GIF)).toBe(true);
		expect(answer.noWebhookResponse).toBe(true);
		expect(events).toHaveLength(1);
		expect(events[0]).toMatchObject({ type: 'opened', email: data.email, campaign: 'spring', variant: 'B', class: 'human' });
	});

	it('still answers a hit whose event is not chosen, but starts nothing', async () => {
		const { res, answer } = await hit({ t: tokenOf(tracker.clickUrl(data, 'https://shop.example.com/')), parameters: { events: ['opened'] } });
		expect(res.statusCode).toBe(302);
		expect(res.headers.location).toBe('https://shop.example.com/');
		expect(answer).toEqual({ noWebhookResponse: true });
	});

	it('refuses every token when the credential is unusable, still answering (pixel or error page) and logging why', async () => {
		const t = tokenOf(tracker.openUrl(data));
		const broken = new Error('credential missing');
		const image = await hit({ t, accept: IMAGE_ACCEPT, credentials: broken });
		expect(image.res.statusCode).toBe(200);
		expect(image.res.body?.equals(TRACKING_PIXEL_GIF)).toBe(true);
		expect(image.answer).toEqual({ noWebhookResponse: true });
		expect(image.warnings).toEqual([expect.stringMatching(/credential is unusable.*credential missing/)]);
		const page = await hit({ t, credentials: broken });
		expect(page.res.statusCode).toBe(404);
		expect(page.res.headers['content-type']).toMatch(/^text\/html/);
		expect(page.answer).toEqual({ noWebhookResponse: true });
	});

	it('reads Extra Scanner User Agents split on commas and line breaks; drop mode answers scanners without an execution', async () => {
		const t = tokenOf(tracker.clickUrl(data, 'https://shop.example.com/'));
		const userAgent = `${CHROME_USER_AGENT} Corp-Proxy/2.1`;
		const plain = await hit({ t, userAgent });
		expect(plain.events[0]).toMatchObject({ type: 'clicked', class: 'human' });
		for (const extraScannerAgents of ['acme-linkguard, corp-proxy', 'acme-linkguard\r\ncorp-proxy']) {
			const flagged = await hit({ t, userAgent, parameters: { options: { extraScannerAgents } } });
			expect(flagged.events[0]).toMatchObject({ type: 'clicked', class: 'scanner' });
		}
		const dropped = await hit({ t, userAgent, parameters: { machineHits: 'drop', options: { extraScannerAgents: 'corp-proxy' } } });
		expect(dropped.res.statusCode).toBe(302);
		expect(dropped.answer).toEqual({ noWebhookResponse: true });
	});

	it('on activation warns, without failing, when the credential points elsewhere', async () => {
		const warnings: string[] = [];
		const hook = (mode: string, served: string) =>
			({
				getMode: () => mode,
				getNodeWebhookUrl: () => served,
				getCredentials: async () => credential,
				getNode: () => ({ name: 'Tracking' }),
				logger: { warn: (message: string) => warnings.push(message) },
			}) as unknown as IHookFunctions;
		const { checkExists, create, delete: remove } = node.webhookMethods.default;
		expect(await checkExists.call(hook('trigger', `${BASE}/`))).toBe(true);
		expect(warnings).toEqual([]);
		expect(await checkExists.call(hook('trigger', 'https://other.example.com/webhook/x/t'))).toBe(true);
		expect(warnings).toEqual([expect.stringMatching(/is not this trigger's URL/)]);
		expect(await create.call(hook('trigger', BASE))).toBe(true);
		expect(await remove.call(hook('trigger', BASE))).toBe(true);
	});
});
