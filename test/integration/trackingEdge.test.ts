/**
 * The tracking edge over real HTTP, in front of a real upstream: a small node:http server that records every request
 * reaching it and answers as the trigger does (the same core), so the tests see exactly what the edge forwards and
 * what it relays. What n8n itself makes of forwarded hits is in test/e2e/tracking.e2e.test.ts.
 */
import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTracker, type TrackingData } from '../../core/tracker';
import { createTrackingEdge, trackingEdgeConfigFromEnv, type TrackingEdge, type TrackingEdgeOptions } from '../../edge/index';
import { handleTrackingRequest, TRACKING_PIXEL_GIF, type TrackingHttpOptions } from '../../core/trackingHttp';

const SECRETS = ['edge-current-secret-0123456789', 'edge-retired-secret-0123456789'];
const HOOK_PATH = '/webhook/5f0c6a53-0000-4000-8000-0000000000e1/t';
const SENT = Date.UTC(2026, 10, 20, 9, 0, 0);
const NOW = SENT + 3_600_000;
const clock = () => NOW;
const data: TrackingData = { email: 'ana@dealer.example', campaign: 'spring', batchTag: 'English-Dealers-Marketing05', variant: 'B', sentAt: SENT };

const THUNDERBIRD = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const APPLE_MPP = 'Mozilla/5.0';
const PAGE_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const IMAGE_ACCEPT = 'image/avif,image/webp,image/*,*/*;q=0.8';
const ONE_CLICK = 'List-Unsubscribe=One-Click';
const FORM = 'application/x-www-form-urlencoded';
// Linux routes all of 127.0.0.0/8 to loopback: binding the client to 127.0.0.2 makes it tell apart from the edge.
const CLIENT_ADDRESS = '127.0.0.2';

interface Recorded {
	method: string;
	url: string;
	headers: IncomingHttpHeaders;
	body: Buffer;
	remotePort: number;
}

type UpstreamMode = 'trigger' | 'error-500' | 'not-registered' | 'hang';

/** The stand-in for n8n: records requests and answers like the trigger (its own copy of the core). */
interface Upstream {
	url: string;
	requests: Recorded[];
	mode: UpstreamMode;
	triggerOptions: TrackingHttpOptions;
	close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
	const tracker = createTracker({ secrets: SECRETS, baseUrl: `http://127.0.0.1${HOOK_PATH}`, now: clock });
	const sockets = new Set<Socket>();
	const state: Upstream = { url: '', requests: [], mode: 'trigger', triggerOptions: {}, close: async () => undefined };
	const server: Server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks);
			state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, remotePort: req.socket.remotePort ?? 0 });
			if (state.mode === 'hang') return;
			if (state.mode === 'error-500') {
				res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Error in workflow"}');
				return;
			}
			if (state.mode === 'not-registered') {
				res.writeHead(404, { 'content-type': 'application/json' }).end('{"code":404,"message":"The requested webhook is not registered."}');
				return;
			}
			const url = new URL(req.url ?? '/', 'http://upstream');
			const contentType = String(req.headers['content-type'] ?? '');
			const answer = handleTrackingRequest(
				{
					method: req.method ?? '',
					query: parseQueryString(url.search.slice(1)),
					body: contentType.startsWith(FORM) ? parseQueryString(body.toString()) : undefined,
					headers: req.headers,
					ip: String(req.headers['x-forwarded-for'] ?? '')
						.split(',')
						.pop()
						?.trim(),
					now: NOW,
				},
				tracker,
				state.triggerOptions,
			);
			res.writeHead(answer.status, { ...answer.headers, 'x-answered-by': 'upstream' });
			res.end(answer.body);
		});
	});
	server.on('connection', (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${HOOK_PATH}`;
	state.close = () =>
		new Promise<void>((r) => {
			for (const s of sockets) s.destroy();
			server.close(() => r());
		});
	return state;
}

interface Answer {
	status: number;
	headers: IncomingHttpHeaders;
	body: Buffer;
}

function hit(
	url: string,
	{
		method = 'GET',
		headers = {},
		body,
		localAddress = CLIENT_ADDRESS,
	}: { method?: string; headers?: Record<string, string>; body?: string | Buffer; localAddress?: string } = {},
): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const req = httpRequest(url, { method, headers, localAddress, agent: false }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
		});
		req.on('error', reject);
		req.end(body);
	});
}

/** Sends raw bytes (requests a client library would refuse to build) and returns the raw answer. */
function rawHit(port: number, text: string): Promise<string> {
	return new Promise((resolve) => {
		const socket = connect(port, '127.0.0.1');
		const chunks: Buffer[] = [];
		socket.on('data', (c: Buffer) => chunks.push(c));
		socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
		socket.on('error', () => resolve(Buffer.concat(chunks).toString('latin1')));
		// write without ending: a half-closed socket would let the server drop the connection without answering
		socket.write(text);
		setTimeout(() => socket.end(), 1_000).unref();
	});
}

const tracker = createTracker({ secrets: SECRETS, baseUrl: `http://127.0.0.1${HOOK_PATH}`, now: clock });
const tokenOf = (url: string) => new URL(url).searchParams.get('t') as string;
const openT = tokenOf(tracker.openUrl(data));
const clickTarget = 'https://shop.example.com/catalog?lang=en';
const clickT = tokenOf(tracker.clickUrl(data, clickTarget));
const unsubT = tokenOf(tracker.unsubscribeUrl(data));

let upstream: Upstream;
let edge: TrackingEdge | undefined;
let edgeBase = '';
const logged: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];

async function startEdge(over: Partial<TrackingEdgeOptions> = {}): Promise<TrackingEdge> {
	await edge?.close();
	logged.length = 0;
	edge = createTrackingEdge({
		secrets: SECRETS,
		upstreamUrl: upstream.url,
		now: clock,
		log: (level, message, fields) => logged.push({ level, message, fields }),
		...over,
	});
	const { port } = await edge.listen(0, '127.0.0.1');
	edgeBase = `http://127.0.0.1:${port}`;
	return edge;
}

const at = (t: string, path = HOOK_PATH) => `${edgeBase}${path}?t=${encodeURIComponent(t)}`;

/** What the core answers for this hit: the edge must answer exactly this when it answers alone. */
function coreAnswer(t: string, method: string, headers: Record<string, string>, opts: TrackingHttpOptions = {}, body?: unknown) {
	return handleTrackingRequest({ method, query: { t }, headers, body, ip: CLIENT_ADDRESS, now: NOW }, tracker, opts);
}

function expectSameAnswer(got: Answer, expected: ReturnType<typeof coreAnswer>) {
	expect(got.status).toBe(expected.status);
	expect(got.body.equals(expected.body)).toBe(true);
	for (const [name, value] of Object.entries(expected.headers)) expect(got.headers[name], name).toBe(value);
}

beforeAll(async () => {
	upstream = await startUpstream();
});

afterEach(() => {
	upstream.mode = 'trigger';
	upstream.triggerOptions = {};
	upstream.requests.length = 0;
});

afterAll(async () => {
	await edge?.close();
	await upstream.close();
});

describe('machine hits in drop mode are answered by the edge and never reach n8n', () => {
	it('Apple MPP and scanner opens, HEAD and scanner clicks, gateway clicks right after sending', async () => {
		const e = await startEdge({ machineHits: 'drop' });
		const earlyClickT = tokenOf(tracker.clickUrl({ ...data, sentAt: NOW - 5_000 }, clickTarget));
		const cases: Array<{ t: string; method: string; headers: Record<string, string> }> = [
			{ t: openT, method: 'GET', headers: { 'user-agent': APPLE_MPP, accept: IMAGE_ACCEPT } },
			{ t: openT, method: 'HEAD', headers: { 'user-agent': THUNDERBIRD } },
			{ t: openT, method: 'GET', headers: { 'user-agent': 'curl/8.5.0', accept: '*/*' } },
			{ t: clickT, method: 'GET', headers: { 'user-agent': 'python-requests/2.32.3' } },
			{ t: clickT, method: 'HEAD', headers: { 'user-agent': CHROME } },
			{ t: clickT, method: 'GET', headers: { 'user-agent': 'Mozilla/5.0 (compatible; Proofpoint URL Defense)', accept: PAGE_ACCEPT } },
			{ t: earlyClickT, method: 'GET', headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } },
		];
		for (const c of cases) {
			const got = await hit(at(c.t), { method: c.method, headers: c.headers });
			expectSameAnswer(got, coreAnswer(c.t, c.method, c.headers, { machineHits: 'drop' }));
			expect([200, 302]).toContain(got.status);
		}
		expect(upstream.requests).toEqual([]);
		expect(e.stats()).toMatchObject({ requests: cases.length, answeredHere: cases.length, notForwardedHits: cases.length, forwarded: 0 });
	});

	it('hits of events the trigger does not emit, and unsubscribe pages (GET), stay at the edge too', async () => {
		await startEdge({ machineHits: 'drop', events: ['opened', 'unsubscribed'] });
		const click = await hit(at(clickT), { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
		expect(click.status).toBe(302);
		expect(click.headers.location).toBe(clickTarget);
		const page = await hit(at(unsubT), { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
		expectSameAnswer(page, coreAnswer(unsubT, 'GET', { 'user-agent': CHROME, accept: PAGE_ACCEPT }));
		expect(page.body.toString()).toContain('<form method="post"');
		expect(upstream.requests).toEqual([]);
	});
});

describe('hits that start an execution are passed to n8n as they came, and its answer is relayed', () => {
	it('a human open: method, path and query, headers, X-Forwarded-For of the real client, over kept-alive connections', async () => {
		await startEdge({ machineHits: 'drop' });
		const headers = {
			'user-agent': THUNDERBIRD,
			accept: IMAGE_ACCEPT,
			'accept-language': 'de-DE',
			'x-forwarded-for': '203.0.113.66',
			'x-forwarded-proto': 'https',
		};
		const url = `${at(openT)}&utm_source=mail`;
		const first = await hit(url, { headers });
		const second = await hit(url, { headers });
		expect(first.status).toBe(200);
		expect(first.headers['x-answered-by']).toBe('upstream');
		expect(first.headers['content-type']).toBe('image/gif');
		expect(first.body.equals(TRACKING_PIXEL_GIF)).toBe(true);
		expect(second.headers['x-answered-by']).toBe('upstream');
		expect(upstream.requests).toHaveLength(2);
		const [r] = upstream.requests;
		expect(r.method).toBe('GET');
		expect(r.url).toBe(`${HOOK_PATH}?t=${encodeURIComponent(openT)}&utm_source=mail`);
		expect(r.headers['user-agent']).toBe(THUNDERBIRD);
		expect(r.headers['accept-language']).toBe('de-DE');
		// what the client claimed is replaced: the edge faces clients and trusts none of them
		expect(r.headers['x-forwarded-for']).toBe(CLIENT_ADDRESS);
		expect(r.headers['x-forwarded-proto']).toBe('http');
		expect(r.headers['x-forwarded-host']).toBe(new URL(edgeBase).host);
		expect(r.headers.host).toBe(new URL(upstream.url).host);
		// one kept-alive connection to n8n served both
		expect(upstream.requests[1].remotePort).toBe(r.remotePort);
	});

	it('behind a trusted proxy the edge passes X-Forwarded-For/-Proto/-Host on as that proxy wrote them', async () => {
		await startEdge({ trustProxy: true });
		await hit(at(openT), {
			headers: {
				'user-agent': THUNDERBIRD,
				'x-forwarded-for': '203.0.113.66',
				'x-forwarded-proto': 'https',
				'x-forwarded-host': 'track.example.com',
			},
		});
		const [r] = upstream.requests;
		// n8n's N8N_PROXY_HOPS=1 then reads the client the proxy saw, as for requests the proxy sends to n8n itself
		expect(r.headers['x-forwarded-for']).toBe('203.0.113.66');
		expect(r.headers['x-forwarded-proto']).toBe('https');
		expect(r.headers['x-forwarded-host']).toBe('track.example.com');
		// a proxy that sent none: the edge's own view
		upstream.requests.length = 0;
		await hit(at(openT), { headers: { 'user-agent': THUNDERBIRD } });
		expect(upstream.requests[0].headers['x-forwarded-for']).toBe(CLIENT_ADDRESS);
		expect(upstream.requests[0].headers['x-forwarded-proto']).toBe('http');
	});

	it('a human click, GET and (in emit mode) HEAD: 302 relayed from n8n', async () => {
		await startEdge({ machineHits: 'emit' });
		const get = await hit(at(clickT), { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
		expect(get.status).toBe(302);
		expect(get.headers.location).toBe(clickTarget);
		expect(get.headers['x-answered-by']).toBe('upstream');
		const head = await hit(at(clickT), { method: 'HEAD', headers: { 'user-agent': CHROME } });
		expect(head.status).toBe(302);
		expect(head.headers['x-answered-by']).toBe('upstream');
		expect(upstream.requests.map((r) => r.method)).toEqual(['GET', 'HEAD']);
	});

	it('a one-click unsubscribe POST reaches n8n with its body and content type intact', async () => {
		await startEdge({ machineHits: 'drop' });
		const got = await hit(at(unsubT), { method: 'POST', headers: { 'content-type': FORM, 'user-agent': 'Google-Unsubscribe' }, body: ONE_CLICK });
		expect(got.status).toBe(200);
		expect(got.headers['x-answered-by']).toBe('upstream');
		expect(got.body.toString()).toContain('You are unsubscribed');
		const [r] = upstream.requests;
		expect(r.method).toBe('POST');
		expect(r.body.toString()).toBe(ONE_CLICK);
		expect(r.headers['content-type']).toBe(FORM);
		expect(r.headers['content-length']).toBe(String(ONE_CLICK.length));
		expect(r.headers['x-forwarded-for']).toBe(CLIENT_ADDRESS);
	});

	it('a POST with a valid unsubscribe token but a body the edge does not read (multipart) goes to n8n to decide', async () => {
		await startEdge();
		const boundary = 'cadence-boundary';
		const body = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
		await hit(at(unsubT), { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
		expect(upstream.requests).toHaveLength(1);
		expect(upstream.requests[0].body.toString()).toBe(body);
	});

	it('the token may come in the form body instead of the query', async () => {
		await startEdge();
		const got = await hit(`${edgeBase}${HOOK_PATH}`, { method: 'POST', headers: { 'content-type': FORM }, body: `t=${unsubT}&${ONE_CLICK}` });
		expect(got.headers['x-answered-by']).toBe('upstream');
		expect(upstream.requests).toHaveLength(1);
	});
});

describe('hostile inputs are never forwarded and never redirect', () => {
	const other = createTracker({ secrets: ['attacker-secret-0123456789abcdef'], baseUrl: `http://127.0.0.1${HOOK_PATH}` });
	const expired = tokenOf(tracker.openUrl({ ...data, sentAt: NOW - 200 * 86_400_000 }));
	const flipped = clickT.slice(0, 30) + (clickT[30] === 'A' ? 'B' : 'A') + clickT.slice(31);
	const hostileTokens: Array<[string, string]> = [
		['forged random token', 'AQB' + 'x'.repeat(60)],
		['truncated click token', clickT.slice(0, -5)],
		['one character changed', flipped],
		['signed with another key', tokenOf(other.clickUrl(data, 'https://evil.example/'))],
		['expired', expired],
		['over-long', clickT + 'A'.repeat(6_000)],
		['path traversal', '../../../../etc/passwd'],
		['header injection', `${clickT}\r\nLocation: https://evil.example/`],
		['javascript: as token', 'javascript:alert(1)'],
		['//evil as token', '//evil.example'],
		['signed javascript: target', tokenOf(tracker.clickUrl(data, 'javascript:alert(1)'))],
		['signed //evil target', tokenOf(tracker.clickUrl(data, '//evil.example/'))],
	];

	it.each(hostileTokens)('%s × GET/HEAD/POST, page and image requests', async (_name, t) => {
		await startEdge({ machineHits: 'emit', maxAgeDays: 90 });
		for (const method of ['GET', 'HEAD', 'POST']) {
			for (const accept of [PAGE_ACCEPT, IMAGE_ACCEPT]) {
				const got = await hit(at(t), {
					method,
					headers: { 'user-agent': CHROME, accept, referer: 'https://evil.example/', ...(method === 'POST' ? { 'content-type': FORM } : {}) },
					body: method === 'POST' ? ONE_CLICK : undefined,
				});
				expect(got.status).not.toBe(302);
				expect(got.headers.location).toBeUndefined();
				expect(got.body.toString('latin1')).not.toMatch(/evil|passwd|<script/);
			}
		}
		expect(upstream.requests).toEqual([]);
	});

	it('encoded header injection and repeated t: no redirect, nothing forwarded', async () => {
		await startEdge();
		for (const search of [`t=${clickT}%0d%0aLocation:%20https://evil.example/`, `t=${clickT}&t=${clickT}`, `t[]=${clickT}`, `t[a]=${clickT}`]) {
			const got = await hit(`${edgeBase}${HOOK_PATH}?${search}`, { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
			expect(got.status, search).toBe(404);
			expect(got.headers.location).toBeUndefined();
		}
		expect(upstream.requests).toEqual([]);
	});

	it('with a Fallback URL, bad links go there and only there', async () => {
		await startEdge({ fallbackUrl: 'https://www.example.com/' });
		const got = await hit(at('//evil.example'), { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
		expect(got.status).toBe(302);
		expect(got.headers.location).toBe('https://www.example.com/');
		expect(upstream.requests).toEqual([]);
	});

	it('only the tracking path is served: other paths and traversals to n8n get 404 and are not forwarded', async () => {
		const e = await startEdge();
		for (const path of [
			'/',
			'/rest/login',
			`${HOOK_PATH}/../../../rest/workflows`,
			`${HOOK_PATH}/`,
			HOOK_PATH.toUpperCase(),
			'/webhook/5f0c6a53-0000-4000-8000-0000000000e1/%74',
		]) {
			const got = await hit(`${edgeBase}${path}?t=${openT}`, { headers: { 'user-agent': THUNDERBIRD } });
			expect(got.status, path).toBe(404);
		}
		const raw = await rawHit(
			Number(new URL(edgeBase).port),
			`GET ${HOOK_PATH}/../../rest/settings?t=${openT} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
		);
		expect(raw).toMatch(/^HTTP\/1\.1 404/);
		expect(upstream.requests).toEqual([]);
		expect(e.stats().refused).toBe(7);
	});

	it('raw CR/LF in the request line or headers never becomes a header, here or at n8n', async () => {
		await startEdge();
		const port = Number(new URL(edgeBase).port);
		// The CR/LF ends the request line, so what follows is just a request header the client sent itself; it never
		// turns into a response header.
		const line = await rawHit(port, `GET ${HOOK_PATH}?t=${openT}\r\nLocation: https://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n`);
		expect(line).not.toMatch(/^location:/im);
		expect(line.slice(line.indexOf('\r\n\r\n'))).not.toContain('evil');
		// A bare CR inside a header is a parse error: 400 from Node's parser, the edge never sees the request.
		const header = await rawHit(port, `GET ${HOOK_PATH}?t=${openT} HTTP/1.1\r\nHost: x\r\nUser-Agent: a\rLocation: https://evil.example/\r\n\r\n`);
		expect(header).toMatch(/^HTTP\/1\.1 400/);
		for (const r of upstream.requests) for (const v of Object.values(r.headers)) expect(String(v)).not.toMatch(/[\r\n]/);
	});

	it('a request body over the limit is refused without reading it all', async () => {
		await startEdge({ maxBodyBytes: 1024 });
		const got = await hit(at(unsubT), { method: 'POST', headers: { 'content-type': FORM }, body: `${ONE_CLICK}&pad=${'x'.repeat(4096)}` });
		expect(got.status).toBe(413);
		expect(upstream.requests).toEqual([]);
	});

	it('client-sent hop-by-hop and forwarding headers do not reach n8n', async () => {
		await startEdge();
		await hit(at(openT), {
			headers: {
				'user-agent': THUNDERBIRD,
				connection: 'keep-alive, x-secret-hop',
				'x-secret-hop': '1',
				'x-real-ip': '10.0.0.1',
				forwarded: 'for=10.0.0.1',
				'proxy-authorization': 'Basic eDp5',
			},
		});
		const [r] = upstream.requests;
		for (const name of ['x-secret-hop', 'x-real-ip', 'forwarded', 'proxy-authorization']) expect(r.headers[name], name).toBeUndefined();
	});
});

describe('when n8n does not take a forwarded hit', () => {
	async function expectFallbacks(e: TrackingEdge) {
		const pixel = await hit(at(openT), { headers: { 'user-agent': THUNDERBIRD, accept: IMAGE_ACCEPT } });
		expect(pixel.status).toBe(200);
		expect(pixel.headers['content-type']).toBe('image/gif');
		expect(pixel.body.equals(TRACKING_PIXEL_GIF)).toBe(true);
		const click = await hit(at(clickT), { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
		expect(click.status).toBe(302);
		expect(click.headers.location).toBe(clickTarget);
		const unsubscribe = await hit(at(unsubT), { method: 'POST', headers: { 'content-type': FORM }, body: ONE_CLICK });
		expect(unsubscribe.status).toBe(502);
		expect(unsubscribe.headers['content-type']).toContain('text/html');
		expect(unsubscribe.headers['retry-after']).toBeDefined();
		expect(unsubscribe.body.toString()).toContain('not unsubscribed yet');
		expect(unsubscribe.body.toString()).toContain(`action="?t=${unsubT}"`);
		// a POST without One-Click records nothing: its answer does not need n8n
		const refused = await hit(at(unsubT), { method: 'POST', headers: { 'content-type': FORM }, body: 'x=1' });
		expect(refused.status).toBe(400);
		expect(e.stats()).toMatchObject({ forwarded: 4, relayed: 0, upstreamFailures: 4, lostEvents: 2, unsubscribeRetryPages: 1 });
		const lost = logged.filter((l) => l.message.startsWith('tracking event lost'));
		expect(lost.map((l) => l.fields?.type)).toEqual(['opened', 'clicked']);
		expect(lost[1].fields).toMatchObject({ token: openT, url: clickTarget, class: 'human' });
		expect(logged.some((l) => l.level === 'warn' && l.message.startsWith('unsubscribe not recorded'))).toBe(true);
	}

	it('n8n is down (connection refused)', async () => {
		const closed = await startUpstream();
		const downUrl = closed.url;
		await closed.close();
		await expectFallbacks(await startEdge({ upstreamUrl: downUrl }));
	});

	it('n8n does not answer in time', async () => {
		upstream.mode = 'hang';
		await expectFallbacks(await startEdge({ upstreamTimeoutMs: 300 }));
		expect(logged.find((l) => l.message.startsWith('tracking event lost'))?.fields?.reason).toMatch(/no answer within 300 ms/);
	});

	it('n8n answers 500, or 404 because the workflow is not active', async () => {
		upstream.mode = 'error-500';
		await expectFallbacks(await startEdge());
		upstream.mode = 'not-registered';
		await expectFallbacks(await startEdge());
	});
});

describe('configuration', () => {
	it('refuses what cannot work, saying what is wrong', () => {
		const ok: TrackingEdgeOptions = { secrets: SECRETS, upstreamUrl: 'http://127.0.0.1:5678/webhook/x/t' };
		expect(() => createTrackingEdge({ ...ok, secrets: [] })).toThrow(/signing secrets/);
		expect(() => createTrackingEdge({ ...ok, secrets: ['short'] })).toThrow(/shorter than 16/);
		expect(() => createTrackingEdge({ ...ok, upstreamUrl: 'n8n:5678' })).toThrow(/http\(s\)|not a URL/);
		expect(() => createTrackingEdge({ ...ok, upstreamUrl: 'http://127.0.0.1:5678/webhook/x/t?t=1' })).toThrow(/no query/);
		expect(() => createTrackingEdge({ ...ok, machineHits: 'ignore' as 'drop' })).toThrow(/emit" or "drop/);
		expect(() => createTrackingEdge({ ...ok, events: ['sent' as 'opened'] })).toThrow(/unknown event "sent"/);
		expect(() => createTrackingEdge({ ...ok, fallbackUrl: 'javascript:alert(1)' })).toThrow(/fallback URL/);
		expect(() => createTrackingEdge({ ...ok, upstreamTimeoutMs: -1 })).toThrow(/timeout/);
		expect(createTrackingEdge(ok).path).toBe('/webhook/x/t');
	});

	it("reads the command's environment variables, listing every problem at once", () => {
		const config = trackingEdgeConfigFromEnv({
			CADENCE_TRACKING_SECRETS: `${SECRETS[0]}\n${SECRETS[1]}\n`,
			CADENCE_UPSTREAM_URL: 'http://127.0.0.1:5678/webhook/x/t',
			CADENCE_MACHINE_HITS: 'drop',
			CADENCE_EVENTS: 'opened, unsubscribed',
			CADENCE_SCANNER_CLICK_SECONDS: '0',
			CADENCE_EXTRA_SCANNER_AGENTS: 'acme-guard, corp-proxy',
			PORT: '9090',
		});
		expect(config).toMatchObject({ port: 9090, host: '127.0.0.1', logLevel: 'info' });
		expect(config.options).toMatchObject({
			secrets: SECRETS,
			machineHits: 'drop',
			events: ['opened', 'unsubscribed'],
			scannerClickSeconds: 0,
			extraScannerAgents: ['acme-guard', 'corp-proxy'],
			trustProxy: false,
		});
		expect(() => trackingEdgeConfigFromEnv({ PORT: 'eighty', CADENCE_MACHINE_HITS: 'drop' })).toThrow(
			/CADENCE_TRACKING_SECRETS[\s\S]*CADENCE_UPSTREAM_URL[\s\S]*PORT/,
		);
		expect(() =>
			trackingEdgeConfigFromEnv({ CADENCE_TRACKING_SECRETS: SECRETS[0], CADENCE_UPSTREAM_URL: 'http://h/t', CADENCE_MACHINE_HITS: 'sometimes' }),
		).toThrow(/emit" or "drop/);
	});
});
