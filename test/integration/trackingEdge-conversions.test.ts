/**
 * Conversions through the tracking edge over real HTTP (loopback), in front of a stand-in for n8n that answers as
 * the trigger does: valid reports reach n8n, forged ones never do, and a posted report n8n did not take is answered
 * 502 so the website's server retries.
 */
import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTracker, type TrackingData } from '../../core/tracker';
import { conversionSignature, handleTrackingRequest, TRACKING_PIXEL_GIF, type TrackingHttpOptions } from '../../core/trackingHttp';
import { createTrackingEdge, trackingEdgeConfigFromEnv, type TrackingEdge, type TrackingEdgeOptions } from '../../edge/index';

const SECRETS = ['edge-current-secret-0123456789'];
const CONVERSION_SECRET = 'website-conversion-secret-0123';
const HOOK_PATH = '/webhook/5f0c6a53-0000-4000-8000-0000000000e2/t';
const SENT = Date.UTC(2026, 10, 20, 9, 0, 0);
const NOW = SENT + 3_600_000;
const clock = () => NOW;
const data: TrackingData = { email: 'ana@dealer.example', campaign: 'spring', batchTag: 'English-Dealers-Marketing05', variant: 'B', sentAt: SENT };
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const tracker = createTracker({ secrets: SECRETS, baseUrl: `http://127.0.0.1${HOOK_PATH}`, now: clock });
const mc = tracker.conversionToken(data);

interface Answer {
	status: number;
	headers: IncomingHttpHeaders;
	body: Buffer;
}
interface Recorded {
	method: string;
	url: string;
	body: Buffer;
}

let server: Server;
let upstreamUrl = '';
let failing = false;
let triggerOptions: TrackingHttpOptions = {};
const received: Recorded[] = [];
let edge: TrackingEdge | undefined;
let edgeBase = '';

/** The stand-in for n8n: records what reaches it and answers with the trigger's core (form and JSON bodies). */
function startUpstream(): Promise<void> {
	server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks);
			received.push({ method: req.method ?? '', url: req.url ?? '', body });
			if (failing) {
				res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Error in workflow"}');
				return;
			}
			const type = String(req.headers['content-type'] ?? '');
			const parsed = type.startsWith('application/json')
				? JSON.parse(body.toString() || 'null')
				: type.startsWith('application/x-www-form-urlencoded')
					? parseQueryString(body.toString())
					: undefined;
			const url = new URL(req.url ?? '/', 'http://upstream');
			const answer = handleTrackingRequest(
				{ method: req.method ?? '', query: parseQueryString(url.search.slice(1)), body: parsed, headers: req.headers, ip: '127.0.0.1', now: NOW },
				tracker,
				triggerOptions,
			);
			res.writeHead(answer.status, { ...answer.headers, 'x-answered-by': 'upstream' });
			res.end(answer.body);
		});
	});
	return new Promise((resolve) =>
		server.listen(0, '127.0.0.1', () => {
			upstreamUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${HOOK_PATH}`;
			resolve();
		}),
	);
}

async function startEdge(over: Partial<TrackingEdgeOptions> = {}): Promise<TrackingEdge> {
	await edge?.close();
	edge = createTrackingEdge({ secrets: SECRETS, upstreamUrl, now: clock, ...over });
	const { port } = await edge.listen(0, '127.0.0.1');
	edgeBase = `http://127.0.0.1:${port}${HOOK_PATH}`;
	return edge;
}

function hit(
	query: string,
	{ method = 'GET', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const req = httpRequest(`${edgeBase}?${query}`, { method, headers: { 'user-agent': CHROME, ...headers }, agent: false }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
		});
		req.on('error', reject);
		req.end(body);
	});
}

beforeAll(startUpstream);
afterEach(() => {
	failing = false;
	triggerOptions = {};
	received.length = 0;
});
afterAll(async () => {
	await edge?.close();
	await new Promise<void>((r) => server.close(() => r()));
});

describe('conversions through the tracking edge', () => {
	it('forwards a valid report (GET) to n8n and relays its pixel', async () => {
		await startEdge();
		const answer = await hit(`mc=${mc}&order=A-1`);
		expect(answer.status).toBe(200);
		expect(answer.headers['x-answered-by']).toBe('upstream');
		expect(answer.body.equals(TRACKING_PIXEL_GIF)).toBe(true);
		expect(received.map((r) => r.url)).toEqual([`${HOOK_PATH}?mc=${mc}&order=A-1`]);
	});

	it('forwards a posted JSON report with its body, and relays the receipt', async () => {
		await startEdge({ conversionSecret: CONVERSION_SECRET });
		triggerOptions = { conversionSecret: CONVERSION_SECRET };
		const f = { mc, order: 'B-2', value: '42.10', currency: 'EUR' };
		const body = JSON.stringify({ ...f, sig: conversionSignature(CONVERSION_SECRET, f) });
		const answer = await hit('', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
		expect(answer.status).toBe(200);
		expect(answer.headers['x-answered-by']).toBe('upstream');
		expect(JSON.parse(answer.body.toString())).toEqual({ recorded: true, value: 42.1 });
		expect(received).toHaveLength(1);
		expect(received[0].body.toString()).toBe(body);
	});

	it('answers a forged reference, a wrong signature and a bad value itself, and never forwards them', async () => {
		await startEdge({ conversionSecret: CONVERSION_SECRET });
		const forged = tracker.token(data); // a valid token, but not a conversion reference
		expect((await hit(`mc=${forged}`)).status).toBe(404);
		expect((await hit(`mc=${mc}&value=10&sig=${'0'.repeat(64)}`)).status).toBe(403);
		expect((await hit(`mc=${mc}&value=abc`)).status).toBe(400);
		const posted = await hit('', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `mc=${forged}&order=1` });
		expect(posted.status).toBe(404);
		expect(received).toEqual([]);
		expect(edge?.stats().forwarded).toBe(0);
	});

	it('answers a report here when Converted is not among the events', async () => {
		await startEdge({ events: ['opened', 'clicked', 'unsubscribed'] });
		const answer = await hit(`mc=${mc}`);
		expect(answer.status).toBe(200);
		expect(answer.headers['x-answered-by']).toBeUndefined();
		expect(received).toEqual([]);
		expect(edge?.stats().notForwardedHits).toBe(1);
	});

	it('answers 502 with Retry-After when n8n does not take a posted report, so the website retries', async () => {
		const e = await startEdge();
		failing = true;
		const answer = await hit('', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `mc=${mc}&order=C-3` });
		expect(answer.status).toBe(502);
		expect(answer.headers['retry-after']).toBe('120');
		expect(received).toHaveLength(1);
		expect(e.stats()).toMatchObject({ forwarded: 1, upstreamFailures: 1, conversionRetryAnswers: 1 });
	});

	it('a click answered by the edge alone (n8n failing) carries the conversion reference as the trigger would', async () => {
		await startEdge({ conversionDomains: ['shop.example.com'] });
		failing = true;
		const t = new URL(tracker.clickUrl(data, 'https://shop.example.com/catalog?lang=en')).searchParams.get('t') as string;
		const answer = await hit(`t=${t}`, { headers: { accept: 'text/html' } });
		expect(answer.status).toBe(302);
		const location = new URL(String(answer.headers.location));
		expect(location.searchParams.get('lang')).toBe('en');
		expect(location.searchParams.get('mc')).toBe(mc);
	});

	it('reads the conversion options from the environment and refuses a short secret', () => {
		const env = { CADENCE_TRACKING_SECRETS: SECRETS[0], CADENCE_UPSTREAM_URL: 'http://127.0.0.1:5678/webhook/x/t' };
		const config = trackingEdgeConfigFromEnv({
			...env,
			CADENCE_CONVERSION_DOMAINS: 'acme.example, shop.example',
			CADENCE_CONVERSION_SECRET: CONVERSION_SECRET,
		});
		expect(config.options).toMatchObject({ conversionDomains: ['acme.example', 'shop.example'], conversionSecret: CONVERSION_SECRET });
		expect(() => trackingEdgeConfigFromEnv({ ...env, CADENCE_CONVERSION_SECRET: 'short' })).toThrow(/conversion secret is shorter than 16/);
		expect(trackingEdgeConfigFromEnv({ ...env, CADENCE_EVENTS: 'converted' }).options.events).toEqual(['converted']);
	});
});
