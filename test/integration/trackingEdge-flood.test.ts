/**
 * The tracking edge under a connection flood, over real loopback HTTP: thousands of idle sockets, request heads and
 * bodies trickled a byte at a time (slowloris), and the connection limit reached, while a normal client keeps
 * getting its pixel and its redirect. Everything stays on 127.0.0.1 and well below the open-file limit.
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTracker, type TrackingData } from '../../core/tracker';
import {
	createTrackingEdge,
	DEFAULT_EDGE_IDLE_TIMEOUT_MS,
	DEFAULT_EDGE_MAX_CONNECTIONS,
	trackingEdgeConfigFromEnv,
	type TrackingEdge,
	type TrackingEdgeOptions,
} from '../../edge/index';
import { handleTrackingRequest, TRACKING_PIXEL_GIF } from '../../core/trackingHttp';

const SECRETS = ['flood-current-secret-0123456789'];
const HOOK_PATH = '/webhook/5f0c6a53-0000-4000-8000-0000000000f1/t';
const NOW = Date.UTC(2026, 10, 20, 10, 0, 0);
const data: TrackingData = {
	email: 'ana@dealer.example',
	campaign: 'spring',
	batchTag: 'English-Dealers-Marketing05',
	variant: '',
	sentAt: NOW - 3_600_000,
};
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const THUNDERBIRD = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2';
const CLICK_TARGET = 'https://shop.example.com/catalog';
/** A generous ceiling for one real hit answered during a flood (they take milliseconds). */
const ANSWER_WITHIN_MS = 3_000;

const tracker = createTracker({ secrets: SECRETS, baseUrl: `http://127.0.0.1${HOOK_PATH}`, now: () => NOW });
const tokenOf = (url: string) => new URL(url).searchParams.get('t') as string;
const openT = tokenOf(tracker.openUrl(data));
const clickT = tokenOf(tracker.clickUrl(data, CLICK_TARGET));

/** The soft open-file limit of this process (both ends of every socket live here), or a safe guess. */
function openFileLimit(): number {
	try {
		const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
		return m ? Number(m[1]) : 4096;
	} catch {
		return 4096;
	}
}
// Two descriptors per flood socket (client and edge side); stay well below the limit.
const FLOOD = Math.max(200, Math.min(3_000, Math.floor((openFileLimit() - 1_000) / 3)));

// ---- the stand-in for n8n: answers forwarded hits as the trigger does, optionally after a delay ----------------

let upstream: Server;
let upstreamUrl = '';
let upstreamDelayMs = 0;
const upstreamSockets = new Set<Socket>();

beforeAll(async () => {
	upstream = createServer((req, res) => {
		req.resume();
		req.on('end', () => {
			const answer = handleTrackingRequest(
				{ method: req.method ?? '', query: parseQueryString((req.url ?? '').split('?')[1] ?? ''), headers: req.headers, now: NOW },
				tracker,
			);
			setTimeout(() => res.writeHead(answer.status, { ...answer.headers, 'x-answered-by': 'upstream' }).end(answer.body), upstreamDelayMs);
		});
	});
	upstream.on('connection', (s) => {
		upstreamSockets.add(s);
		s.on('close', () => upstreamSockets.delete(s));
	});
	await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
	upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}${HOOK_PATH}`;
});

afterAll(async () => {
	for (const s of upstreamSockets) s.destroy();
	await new Promise<void>((r) => upstream.close(() => r()));
});

// ---- the edge and the flood, all closed after each test ------------------------------------------------------

let edge: TrackingEdge | undefined;
let port = 0;
const clients: Socket[] = [];
const timers: NodeJS.Timeout[] = [];

async function startEdge(over: Partial<TrackingEdgeOptions> = {}): Promise<TrackingEdge> {
	edge = createTrackingEdge({ secrets: SECRETS, upstreamUrl, now: () => NOW, ...over });
	port = (await edge.listen(0, '127.0.0.1')).port;
	return edge;
}

afterEach(async () => {
	for (const t of timers) clearInterval(t);
	timers.length = 0;
	for (const s of clients) s.destroy();
	clients.length = 0;
	upstreamDelayMs = 0;
	await edge?.close();
	edge = undefined;
});

interface FloodSocket {
	socket: Socket;
	closed: boolean;
	received: string;
}

function openSocket(): Promise<FloodSocket> {
	return new Promise((resolve) => {
		const socket = connect(port, '127.0.0.1');
		const f: FloodSocket = { socket, closed: false, received: '' };
		clients.push(socket);
		socket.on('data', (c: Buffer) => {
			f.received += c.toString('latin1');
		});
		socket.on('error', () => undefined);
		socket.on('close', () => {
			f.closed = true;
			resolve(f);
		});
		socket.on('connect', () => resolve(f));
	});
}

/**
 * Sockets that connect and never send a byte, opened in batches that the edge accepts before the next (an
 * overflowing listen backlog makes the kernel drop SYNs, and clients retry only after a second).
 */
async function openIdle(n: number): Promise<FloodSocket[]> {
	const out: FloodSocket[] = [];
	const handled = () => {
		const s = edge?.stats();
		return s ? s.connectionsAccepted + s.connectionsRefused : 0;
	};
	const start = handled();
	for (let i = 0; i < n; i += 200) {
		out.push(...(await Promise.all(Array.from({ length: Math.min(200, n - i) }, openSocket))));
		await waitFor(() => handled() - start >= out.length, 5_000);
	}
	return out;
}

/** Sockets that send `head` and then one more byte of `drip` every `everyMs`, never finishing. */
async function openSlow(n: number, head: string, drip: string, everyMs = 100): Promise<FloodSocket[]> {
	const out = await openIdle(n);
	for (const f of out) f.socket.write(head);
	let i = 0;
	timers.push(
		setInterval(() => {
			const c = drip[i++ % drip.length];
			for (const f of out) if (!f.closed) f.socket.write(c);
		}, everyMs),
	);
	return out;
}

async function waitFor(check: () => boolean, withinMs: number): Promise<number> {
	const start = performance.now();
	while (!check()) {
		if (performance.now() - start > withinMs) throw new Error(`not within ${withinMs} ms`);
		await new Promise((r) => setTimeout(r, 25));
	}
	return performance.now() - start;
}

interface Answer {
	status: number;
	headers: IncomingHttpHeaders;
	body: Buffer;
	ms: number;
}

/** One real hit on a fresh connection; fails (rather than hangs) when no answer comes in time. */
function hit(t: string, headers: Record<string, string>): Promise<Answer> {
	const start = performance.now();
	return new Promise((resolve, reject) => {
		const req = httpRequest(`http://127.0.0.1:${port}${HOOK_PATH}?t=${t}`, { headers, agent: false, timeout: 10_000 }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - start }));
		});
		req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
		req.on('error', reject);
		req.end();
	});
}

async function expectRealHitsAnswered(): Promise<void> {
	const pixel = await hit(openT, { 'user-agent': THUNDERBIRD, accept: 'image/*' });
	expect(pixel.status).toBe(200);
	expect(pixel.body.equals(TRACKING_PIXEL_GIF)).toBe(true);
	expect(pixel.ms).toBeLessThan(ANSWER_WITHIN_MS);
	const click = await hit(clickT, { 'user-agent': CHROME, accept: 'text/html' });
	expect(click.status).toBe(302);
	expect(click.headers.location).toBe(CLICK_TARGET);
	expect(click.ms).toBeLessThan(ANSWER_WITHIN_MS);
}

describe('a normal client keeps getting answers during a connection flood', () => {
	it(`${FLOOD} idle sockets and 100 slowloris sockets are open: pixel and click still answered`, async () => {
		const e = await startEdge();
		const idle = await openIdle(FLOOD);
		const slow = await openSlow(100, `GET ${HOOK_PATH}?t=${openT} HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: aaaaaaaaaaaaaaaa\r\n');
		expect(e.stats().connections).toBe(FLOOD + 100);
		await expectRealHitsAnswered();
		// the flood was still there while the real hits were answered
		expect(idle.filter((f) => !f.closed).length).toBe(FLOOD);
		expect(slow.filter((f) => !f.closed).length).toBe(100);
	});

	it('at the connection limit the longest idle connections make room: the limit holds and real hits are answered', async () => {
		const e = await startEdge({ maxConnections: 300 });
		expect(e.maxConnections).toBe(300);
		const idle = await openIdle(1_000);
		// slowloris sockets are idle too until their request head is complete
		const slow = await openSlow(100, `GET ${HOOK_PATH}?t=${openT} HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: aaaaaaaaaaaaaaaa\r\n');
		await waitFor(() => e.stats().connectionsAccepted >= 1_100, 5_000);
		await expectRealHitsAnswered();
		const stats = e.stats();
		expect(stats.connections).toBeLessThanOrEqual(300);
		// (the pixel's connection closes before the click's opens)
		expect(stats.connectionsEvicted).toBeGreaterThanOrEqual(1_100 + 1 - 300);
		expect(stats.connectionsRefused).toBe(0);
		// the oldest went first: the first idle sockets are closed, the newest slowloris ones still open
		await waitFor(() => idle.slice(0, 500).every((f) => f.closed), 2_000);
		expect(slow.slice(-50).every((f) => !f.closed)).toBe(true);
	});

	it('a connection with a request in flight is never evicted; with every connection busy a new one is refused', async () => {
		upstreamDelayMs = 800;
		const e = await startEdge({ maxConnections: 2 });
		const clicks = [hit(clickT, { 'user-agent': CHROME, accept: 'text/html' }), hit(clickT, { 'user-agent': CHROME, accept: 'text/html' })];
		await waitFor(() => e.stats().forwarded === 2, 2_000);
		const extra = await openSocket();
		await waitFor(() => extra.closed, 2_000);
		for (const click of await Promise.all(clicks)) {
			expect(click.status).toBe(302);
			expect(click.headers['x-answered-by']).toBe('upstream');
		}
		expect(e.stats()).toMatchObject({ connectionsRefused: 1, connectionsEvicted: 0, relayed: 2 });
		// idle connections filling the limit make room for new hits
		await Promise.all([openSocket(), openSocket()]);
		await waitFor(() => e.stats().connections === 2, 2_000);
		await expectRealHitsAnswered();
		expect(e.stats().connectionsEvicted).toBeGreaterThanOrEqual(1);
	});
});

describe('connections are closed in bounded time', () => {
	it('sockets that never send a byte are closed after the idle timeout, counted from accept', async () => {
		const e = await startEdge({ idleTimeoutMs: 300 });
		const idle = await openIdle(500);
		const took = await waitFor(() => idle.every((f) => f.closed), 3_000);
		expect(took).toBeGreaterThan(100);
		expect(e.stats()).toMatchObject({ connections: 0, connectionsTimedOut: 500 });
	});

	it('a kept-alive connection is closed once idle after its request', async () => {
		await startEdge({ idleTimeoutMs: 300 });
		const f = await openSocket();
		f.socket.write(`GET ${HOOK_PATH}?t=${openT} HTTP/1.1\r\nHost: x\r\nUser-Agent: ${THUNDERBIRD}\r\n\r\n`);
		await waitFor(() => f.received.includes('\r\n\r\n'), 2_000);
		expect(f.received).toMatch(/^HTTP\/1\.1 200/);
		expect(f.received).toMatch(/keep-alive/i);
		// Node keeps the socket a second past the advertised keep-alive time
		await waitFor(() => f.closed, 3_000);
	});

	it('slowloris: a request head trickled a byte at a time is cut off by the headers timeout with a 408', async () => {
		const e = await startEdge({ headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, idleTimeoutMs: 60_000 });
		const slow = await openSlow(50, `GET ${HOOK_PATH}?t=${openT} HTTP/1.1\r\nHost: x\r\n`, 'X-Slow: aaaaaaaaaaaaaaaa\r\n', 50);
		await expectRealHitsAnswered();
		// 1 s allowed, checked every 0.5 s: closed well within 5 s although bytes keep coming
		await waitFor(() => slow.every((f) => f.closed), 5_000);
		expect(slow.every((f) => f.received.startsWith('HTTP/1.1 408'))).toBe(true);
		expect(e.stats().clientErrors).toBeGreaterThanOrEqual(50);
	});

	it('slowloris: a POST body trickled a byte at a time is cut off by the request timeout', async () => {
		const e = await startEdge({ headersTimeoutMs: 500, requestTimeoutMs: 1_000, idleTimeoutMs: 60_000 });
		const head = `POST ${HOOK_PATH}?t=${openT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n`;
		const slow = await openSlow(20, head, 'List-Unsubscribe=One-Click&', 50);
		const took = await waitFor(() => slow.every((f) => f.closed), 5_000);
		expect(took).toBeGreaterThan(500);
		expect(slow.every((f) => f.received.startsWith('HTTP/1.1 408'))).toBe(true);
		await waitFor(() => e.stats().connections === 0, 2_000);
		expect(e.stats()).toMatchObject({ requests: 20, forwarded: 0 });
		expect(e.stats().clientErrors).toBeGreaterThanOrEqual(20);
	});

	it('garbage instead of HTTP gets a 400 and the connection closes', async () => {
		const e = await startEdge();
		const f = await openSocket();
		f.socket.write('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n');
		await waitFor(() => f.closed, 2_000);
		expect(f.received).toMatch(/^HTTP\/1\.1 400/);
		expect(e.stats().clientErrors).toBe(1);
	});
});

describe('connection limits are configuration', () => {
	it('defaults, options and environment variables, with bad values refused', () => {
		const ok: TrackingEdgeOptions = { secrets: SECRETS, upstreamUrl: 'http://127.0.0.1:5678/webhook/x/t' };
		expect(createTrackingEdge(ok).maxConnections).toBeLessThanOrEqual(DEFAULT_EDGE_MAX_CONNECTIONS);
		expect(createTrackingEdge(ok).server.timeout).toBe(DEFAULT_EDGE_IDLE_TIMEOUT_MS);
		expect(() => createTrackingEdge({ ...ok, maxConnections: 0 })).toThrow(/connection limit/);
		expect(() => createTrackingEdge({ ...ok, idleTimeoutMs: -5 })).toThrow(/idle timeout/);
		expect(() => createTrackingEdge({ ...ok, headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 })).toThrow(/must not exceed/);
		const env = { CADENCE_TRACKING_SECRETS: SECRETS[0], CADENCE_UPSTREAM_URL: 'http://127.0.0.1:5678/webhook/x/t' };
		expect(
			trackingEdgeConfigFromEnv({ ...env, CADENCE_MAX_CONNECTIONS: '2000', CADENCE_IDLE_TIMEOUT_MS: '4000', CADENCE_HEADERS_TIMEOUT_MS: '3000' })
				.options,
		).toMatchObject({ maxConnections: 2000, idleTimeoutMs: 4000, headersTimeoutMs: 3000 });
		expect(trackingEdgeConfigFromEnv(env).options).toMatchObject({
			maxConnections: DEFAULT_EDGE_MAX_CONNECTIONS,
			idleTimeoutMs: DEFAULT_EDGE_IDLE_TIMEOUT_MS,
		});
		expect(() => trackingEdgeConfigFromEnv({ ...env, CADENCE_MAX_CONNECTIONS: 'lots' })).toThrow(/CADENCE_MAX_CONNECTIONS/);
		expect(() => trackingEdgeConfigFromEnv({ ...env, CADENCE_IDLE_TIMEOUT_MS: '0' })).toThrow(/idle timeout/);
	});
});
