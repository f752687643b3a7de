/**
 * The Tracking Trigger's conversions and reader fields, called as n8n calls its webhook: the options reach the core,
 * a conversion report starts an execution with its event, and a bad one starts nothing.
 */
import { describe, expect, it } from 'vitest';
import type { IDataObject, INodeProperties } from 'n8n-workflow';
import { createTracker } from '../../core/tracker';
import { CONVERSION_PARAM, conversionSignature, TRACKING_PIXEL_GIF } from '../../core/trackingHttp';
import { CadenceTrackingApi } from '../../credentials/CadenceTrackingApi.credentials';
import { CadenceTrackingTrigger } from '../../nodes/CadenceTrackingTrigger/CadenceTrackingTrigger.node';
import { DEFAULT_TRACKING_EVENTS } from '../../nodes/CadenceTrackingTrigger/properties';
import { callTrackingWebhook, CHROME_USER_AGENT, sentAnHourAgo } from '../helpers/trackingTriggerContext';

const node = new CadenceTrackingTrigger();
const BASE = 'https://track.example.com/webhook/5f0c6a53-0000-4000-8000-000000000002/t';
const credential = { secrets: 'a-signing-secret-of-enough-length', baseUrl: BASE };
const tracker = createTracker({ secrets: [credential.secrets], baseUrl: BASE });
const data = sentAnHourAgo();
const CONVERSION_SECRET = 'website-conversion-secret-0123';
const mc = tracker.conversionToken(data);

interface Call {
	query: IDataObject;
	method?: string;
	body?: unknown;
	parameters?: IDataObject;
	/** The credential's Conversion Secret. */
	secret?: string;
	ip?: string;
	userAgent?: string;
}

async function call({ query, method = 'GET', body = {}, parameters = {}, secret, ip = '198.51.100.7', userAgent = CHROME_USER_AGENT }: Call) {
	return callTrackingWebhook(node, {
		method,
		body,
		ip,
		query,
		headers: { 'user-agent': userAgent, accept: 'text/html' },
		parameters: { machineHits: 'emit', options: {}, ...parameters },
		credentials: async () => ({ ...credential, ...(secret === undefined ? {} : { conversionSecret: secret }) }),
	});
}

const option = (name: string) =>
	(node.description.properties.find((p) => p.name === 'options')?.options as INodeProperties[]).find((o) => o.name === name) as INodeProperties;

describe('Cadence Tracking Trigger: conversions', () => {
	it('offers Converted among the events, on by default, Conversion Domains as an option and the secret in the credential, hidden', () => {
		const events = node.description.properties.find((p) => p.name === 'events') as INodeProperties;
		expect((events.options as Array<{ value: string }>).map((o) => o.value)).toContain('converted');
		expect(events.default).toEqual([...DEFAULT_TRACKING_EVENTS]);
		expect(DEFAULT_TRACKING_EVENTS).toContain('converted');
		expect(option('conversionDomains')).toMatchObject({ type: 'string', default: '' });
		expect(option('conversionSecret')).toBeUndefined();
		const secret = new CadenceTrackingApi().properties.find((p) => p.name === 'conversionSecret');
		expect(secret).toMatchObject({ type: 'string', default: '', typeOptions: { password: true } });
	});

	it('a click to a Conversion Domain redirects with the reference; the report brings it back as a converted event', async () => {
		const t = new URL(tracker.clickUrl(data, 'https://www.acme.example/offer?utm_source=cadence')).searchParams.get('t') as string;
		const clicked = await call({ query: { t }, parameters: { options: { conversionDomains: 'acme.example, shop.example' } } });
		expect(clicked.res.statusCode).toBe(302);
		const landing = new URL(clicked.res.headers.location);
		expect(landing.searchParams.get('utm_source')).toBe('cadence');
		const reference = landing.searchParams.get(CONVERSION_PARAM) as string;
		expect(reference).toBe(mc);
		expect(clicked.events).toEqual([expect.objectContaining({ type: 'clicked', readerNetwork: '198.51.100.0/24', readerAgent: 'chrome/windows' })]);

		const report = await call({ query: { mc: reference, order: 'A-1' } });
		expect(report.res.statusCode).toBe(200);
		expect(report.res.body).toEqual(TRACKING_PIXEL_GIF);
		expect(report.events).toEqual([
			expect.objectContaining({ type: 'converted', email: data.email, campaign: 'spring', orderId: 'A-1', token: tracker.token(data) }),
		]);
	});

	it('records a signed value with the Conversion Secret; without it the conversion counts with no value', async () => {
		const f = { mc, order: 'A-9', value: '1500.50', currency: 'USD' };
		const sig = conversionSignature(CONVERSION_SECRET, f);
		const withSecret = await call({ query: { ...f, sig }, secret: CONVERSION_SECRET });
		expect(withSecret.events).toEqual([expect.objectContaining({ type: 'converted', value: 1500.5, currency: 'USD' })]);
		const unsigned = await call({ query: { mc, order: 'A-9', value: '1500.50' }, secret: CONVERSION_SECRET });
		expect(unsigned.events).toHaveLength(1);
		expect(unsigned.events[0]).not.toHaveProperty('value');
		expect(unsigned.events[0]).toMatchObject({ valueIgnored: 'unsigned' });
	});

	it('a Conversion Secret shorter than the minimum is not used, and says so', async () => {
		const short = 'short';
		const f = { mc, order: 'A-9', value: '10', currency: '' };
		const { res, events, warnings } = await call({
			query: { ...f, sig: conversionSignature(short, f) },
			secret: short,
		});
		expect(res.statusCode).toBe(403);
		expect(events).toEqual([]);
		expect(warnings.join('\n')).toMatch(/Conversion Secret is shorter/);
	});

	it('a forged reference, or a bad value, starts nothing and answers 4xx', async () => {
		const forged = await call({ query: { mc: mc.slice(0, -2) + (mc.endsWith('AA') ? 'BB' : 'AA') } });
		expect(forged.res.statusCode).toBe(404);
		expect(forged.events).toEqual([]);
		const bad = await call({ query: { mc, value: '-5' } });
		expect(bad.res.statusCode).toBe(400);
		expect(bad.events).toEqual([]);
	});

	it('a POST from a server gets the JSON receipt and starts the execution', async () => {
		const { res, events } = await call({ query: {}, method: 'POST', body: { mc, order: 'S-1' } });
		expect(res.statusCode).toBe(200);
		expect(JSON.parse(String(res.body))).toEqual({ recorded: true, value: null });
		expect(events).toEqual([expect.objectContaining({ type: 'converted', orderId: 'S-1' })]);
	});

	it('with Converted not among the events, a report is answered and starts nothing', async () => {
		const { res, events } = await call({ query: { mc }, parameters: { events: ['opened', 'clicked', 'unsubscribed'] } });
		expect(res.statusCode).toBe(200);
		expect(events).toEqual([]);
	});
});
