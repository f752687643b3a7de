/**
 * The Cadence Tracking Trigger in a real n8n (pinned version, package installed from its packed tarball): real HTTP
 * requests to the pixel, click and unsubscribe URLs get the right answers, and exactly the right executions start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker, type TrackingData } from '../../core/tracker';
import { n8nAvailability, nodeOutput, startN8nInstance, type Availability, type N8nInstance } from '../helpers/n8nInstance';

const WEBHOOK_EMIT = '7a1c0e52-41d6-4c8e-9f3a-0c5e2b6d1a01';
const WEBHOOK_DROP = '7a1c0e52-41d6-4c8e-9f3a-0c5e2b6d1a02';
const WF_EMIT = 'cadenceTrackE2e1';
const WF_DROP = 'cadenceTrackE2e2';
const CREDENTIAL_ID = 'cadenceTrackCred';
const SECRETS = ['e2e-current-secret-0123456789abcdef', 'e2e-retired-secret-0123456789abcdef'];
const TRIGGER = 'Cadence Tracking Trigger';

const THUNDERBIRD = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const PAGE_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function triggerWorkflow(id: string, webhookId: string, machineHits: 'emit' | 'drop', events?: string[]) {
	return {
		id,
		name: `Tracking e2e (${machineHits})`,
		nodes: [
			{
				id: `${id}-trigger`,
				name: TRIGGER,
				type: 'n8n-nodes-mail-cadence.cadenceTrackingTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters: { machineHits, ...(events ? { events } : {}), options: { senderName: 'Acme Export' } },
				credentials: { cadenceTrackingApi: { id: CREDENTIAL_ID, name: 'Cadence Tracking e2e' } },
			},
		],
		connections: {},
		settings: { executionOrder: 'v1' },
	};
}

/**
 * The tracking edge command as users run it: the repo's bin script beside the *packed* package's dist (the copy
 * installed into n8n), so the test runs exactly what ships.
 */
let edgeDir = '';
const edges: EdgeProcess[] = [];

interface EdgeProcess {
	url: string;
	logs(): Array<Record<string, unknown>>;
	stop(): Promise<Array<Record<string, unknown>>>;
}

function edgeCommand(inst: N8nInstance): string {
	if (!edgeDir) {
		edgeDir = mkdtempSync(join(tmpdir(), 'cadence-edge-'));
		mkdirSync(join(edgeDir, 'bin'));
		copyFileSync(join(__dirname, '..', '..', 'bin', 'mail-cadence-tracking-edge.js'), join(edgeDir, 'bin', 'mail-cadence-tracking-edge.js'));
		symlinkSync(join(inst.userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-mail-cadence', 'dist'), join(edgeDir, 'dist'), 'dir');
	}
	return join(edgeDir, 'bin', 'mail-cadence-tracking-edge.js');
}

async function startEdge(inst: N8nInstance, env: Record<string, string>): Promise<EdgeProcess> {
	const child: ChildProcess = spawn(process.execPath, [edgeCommand(inst)], {
		env: { PATH: process.env.PATH ?? '', PORT: '0', CADENCE_TRACKING_SECRETS: SECRETS.join('\n'), CADENCE_TRACKING_MAX_AGE_DAYS: '90', ...env },
		stdio: ['ignore', 'ignore', 'pipe'],
	});
	const lines: Array<Record<string, unknown>> = [];
	let buffered = '';
	child.stderr?.on('data', (chunk: Buffer) => {
		buffered += chunk.toString();
		const parts = buffered.split('\n');
		buffered = parts.pop() ?? '';
		for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
	});
	const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
	const deadline = Date.now() + 10_000;
	while (!lines.some((l) => l.message === 'tracking edge listening')) {
		if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the tracking edge did not start: ${JSON.stringify(lines)} ${buffered}`);
		await new Promise((r) => setTimeout(r, 50));
	}
	const edge: EdgeProcess = {
		url: String(lines.find((l) => l.message === 'tracking edge listening')?.url),
		logs: () => lines,
		async stop() {
			if (child.exitCode === null) {
				child.kill('SIGTERM');
				expect(await exited).toBe(0);
			}
			return lines;
		},
	};
	edges.push(edge);
	return edge;
}

/** A request from 127.0.0.2 (all of 127/8 is loopback on Linux), so the client's address differs from the edge's. */
function requestFrom(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
	return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
		const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers, localAddress: '127.0.0.2', agent: false }, (res) => {
			const chunks: Buffer[] = [];
			res.on('data', (c: Buffer) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
		});
		req.on('error', reject);
		req.end(opts.body);
	});
}

let availability: Availability = { ok: false, reason: 'not checked' };
let n8n: N8nInstance | undefined;
let baseUrl = '';
let tracker: ReturnType<typeof createTracker>;
const data: TrackingData = {
	email: 'ana@dealer.example',
	campaign: 'e2e-spring',
	batchTag: 'English-Dealers-Marketing05',
	variant: 'B',
	sentAt: Date.now() - 3_600_000,
};

async function request(url: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
	const res = await fetch(url, { redirect: 'manual', ...init });
	const body = Buffer.from(await res.arrayBuffer());
	return { status: res.status, headers: res.headers, body };
}

// A real n8n on a loaded 2-core CI machine: each test may run once more there, and .ci/run's summary names every test
// that needed it, with its first failure.
describe('Cadence Tracking Trigger in a real n8n', { retry: process.env.CI ? 1 : 0 }, () => {
	beforeAll(async () => {
		availability = n8nAvailability();
		if (!availability.ok) {
			console.warn(`SKIPPED tracking e2e: ${availability.reason}`);
			return;
		}
		n8n = await startN8nInstance({
			name: 'e2e-tracking',
			credentials: (port) => [
				{
					id: CREDENTIAL_ID,
					name: 'Cadence Tracking e2e',
					type: 'cadenceTrackingApi',
					data: { baseUrl: `http://127.0.0.1:${port}/webhook/${WEBHOOK_EMIT}/t`, secrets: SECRETS.join('\n'), maxAgeDays: 90 },
				},
			],
			workflows: () => [triggerWorkflow(WF_EMIT, WEBHOOK_EMIT, 'emit'), triggerWorkflow(WF_DROP, WEBHOOK_DROP, 'drop', ['opened', 'unsubscribed'])],
			// As documented for the tracking edge: n8n takes the client's address from the edge's X-Forwarded-For.
			// Direct requests (no such header) still get the socket address.
			env: { N8N_PROXY_HOPS: '1' },
		});
		baseUrl = n8n.webhookUrl(WEBHOOK_EMIT, 't');
		tracker = createTracker({ secrets: SECRETS, baseUrl });
	});

	afterAll(async () => {
		for (const e of edges) await e.stop();
		await n8n?.stop();
		if (edgeDir) rmSync(edgeDir, { recursive: true, force: true });
	});

	const live = (ctx: { skip: (note?: string) => void }) => {
		if (!availability.ok) ctx.skip(availability.reason);
		return n8n as N8nInstance;
	};

	it('serves the trigger at /webhook/<webhookId>/t, the URL the credential holds', async (ctx) => {
		const inst = live(ctx);
		expect(baseUrl).toBe(`${inst.baseUrl}/webhook/${WEBHOOK_EMIT}/t`);
		expect(tracker.openUrl(data).startsWith(`${baseUrl}?t=`)).toBe(true);
	});

	it('open pixel: GIF with no-cache headers, one opened event, classified', async (ctx) => {
		const inst = live(ctx);
		const before = inst.executions({ workflowId: WF_EMIT }).length;
		const r = await request(tracker.openUrl(data), { headers: { 'user-agent': THUNDERBIRD, accept: 'image/*' } });
		expect(r.status).toBe(200);
		expect(r.headers.get('content-type')).toBe('image/gif');
		expect(r.body.length).toBe(43);
		expect(r.body.subarray(0, 6).toString()).toBe('GIF89a');
		expect(r.headers.get('cache-control')).toContain('no-store');
		expect(r.headers.get('x-content-type-options')).toBe('nosniff');
		expect(r.headers.get('referrer-policy')).toBe('no-referrer');
		const execs = await inst.waitForExecutions(WF_EMIT, before + 1);
		const [event] = nodeOutput(execs[execs.length - 1], TRIGGER);
		expect(event).toMatchObject({
			type: 'opened',
			email: data.email,
			campaign: data.campaign,
			batchTag: data.batchTag,
			variant: data.variant,
			token: tracker.token(data),
			class: 'human',
			ip: expect.stringMatching(/127\.0\.0\.1/),
			userAgent: THUNDERBIRD,
		});
	});

	it('click: GET and HEAD answer 302 to the bound target; events say human and scanner', async (ctx) => {
		const inst = live(ctx);
		const before = inst.executions({ workflowId: WF_EMIT }).length;
		const target = 'https://shop.example.com/catalog?lang=en';
		const url = tracker.clickUrl(data, target);
		const get = await request(url, { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
		expect(get.status).toBe(302);
		expect(get.headers.get('location')).toBe(target);
		expect(get.headers.get('referrer-policy')).toBe('no-referrer');
		const head = await request(url, { method: 'HEAD', headers: { 'user-agent': CHROME } });
		expect(head.status).toBe(302);
		expect(head.headers.get('location')).toBe(target);
		const execs = await inst.waitForExecutions(WF_EMIT, before + 2);
		const events = execs.slice(-2).map((e) => nodeOutput(e, TRIGGER)[0]);
		expect(events.map((e) => [e.type, e.class, e.method, e.url]).sort()).toEqual([
			['clicked', 'human', 'GET', target],
			['clicked', 'scanner', 'HEAD', target],
		]);
	});

	it('bad tokens: pixel for images, error page for pages, never a redirect, no execution', async (ctx) => {
		const inst = live(ctx);
		const before = inst.executions().length;
		const clickT = new URL(tracker.clickUrl(data, 'https://shop.example.com/')).searchParams.get('t') as string;
		const other = createTracker({ secrets: ['attacker-secret-0123456789abcdef'], baseUrl });
		const img = await request(`${baseUrl}?t=forged`, { headers: { accept: 'image/webp,*/*' } });
		expect(img.status).toBe(200);
		expect(img.headers.get('content-type')).toBe('image/gif');
		for (const url of [
			`${baseUrl}?t=${clickT.slice(0, -4)}`,
			other.clickUrl(data, 'https://evil.example/'),
			`${baseUrl}?t=${encodeURIComponent('//evil.example')}`,
			`${baseUrl}?t=${clickT}%0d%0aLocation:%20https://evil.example/`,
			`${baseUrl}?t=..%2F..%2Fetc%2Fpasswd`,
			`${baseUrl}?t=${clickT}&t=${clickT}`,
		]) {
			const r = await request(url, { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
			expect(r.status, url).toBe(404);
			expect(r.headers.get('location')).toBeNull();
			expect(r.body.toString()).not.toMatch(/evil|passwd/);
		}
		// n8n saves executions after answering: give a wrongly started one time to show up
		await new Promise((r) => setTimeout(r, 1_500));
		expect(inst.executions().length).toBe(before);
	});

	it('unsubscribe: GET shows a form that POSTs; one-click POST unsubscribes, idempotently', async (ctx) => {
		const inst = live(ctx);
		const before = inst.executions({ workflowId: WF_EMIT }).length;
		const url = tracker.unsubscribeUrl(data);
		const page = await request(url, { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
		expect(page.status).toBe(200);
		expect(page.headers.get('content-type')).toContain('text/html');
		expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
		const html = page.body.toString();
		expect(html).toContain('Acme Export');
		const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
		expect(action).toBeDefined();
		// the form posts back to the same URL, as a browser would resolve its relative action
		const formUrl = new URL((action as string).replace(/&#38;/g, '&'), url).href;
		expect(formUrl).toBe(url);

		// RFC 8058: what a mailbox provider sends to the List-Unsubscribe URL
		const oneClick = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' };
		const first = await request(url, oneClick);
		const second = await request(formUrl, { ...oneClick, headers: { ...oneClick.headers, 'user-agent': CHROME } });
		expect(first.status).toBe(200);
		expect(second.status).toBe(200);
		expect(second.body.toString()).toContain('unsubscribed');
		const refused = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' });
		expect(refused.status).toBe(400);

		const execs = await inst.waitForExecutions(WF_EMIT, before + 2);
		await new Promise((r) => setTimeout(r, 1_000));
		const events = inst
			.executions({ workflowId: WF_EMIT, withData: true })
			.slice(before)
			.map((e) => nodeOutput(e, TRIGGER)[0]);
		expect(events.map((e) => e.type)).toEqual(['unsubscribed', 'unsubscribed']);
		expect(events[0].id).toBe(events[1].id);
		expect(events[0]).toMatchObject({ email: data.email, campaign: data.campaign, token: tracker.token(data) });
		expect(execs.length).toBe(before + 2);
	});

	it('drop mode and the Events filter: machine hits and unwanted events are answered without an execution', async (ctx) => {
		const inst = live(ctx);
		const dropUrl = inst.webhookUrl(WEBHOOK_DROP, 't');
		const dropTracker = createTracker({ secrets: SECRETS, baseUrl: dropUrl });
		const before = inst.executions({ workflowId: WF_DROP }).length;
		const machine = [
			{ url: dropTracker.openUrl(data), ua: 'Mozilla/5.0' }, // Apple MPP
			{ url: dropTracker.openUrl(data), ua: 'curl/8.5.0' },
			{ url: dropTracker.clickUrl(data, 'https://shop.example.com/'), ua: 'python-requests/2.32.3' },
		];
		for (const m of machine) {
			const r = await request(m.url, { headers: { 'user-agent': m.ua } });
			expect([200, 302]).toContain(r.status);
		}
		// this trigger does not emit clicks: a person's click is still redirected, but starts nothing
		const click = await request(dropTracker.clickUrl(data, 'https://shop.example.com/'), { headers: { 'user-agent': CHROME } });
		expect(click.status).toBe(302);
		expect(click.headers.get('location')).toBe('https://shop.example.com/');
		const human = await request(dropTracker.openUrl(data), { headers: { 'user-agent': THUNDERBIRD } });
		expect(human.status).toBe(200);
		const execs = await inst.waitForExecutions(WF_DROP, before + 1);
		await new Promise((r) => setTimeout(r, 1_500));
		const all = inst.executions({ workflowId: WF_DROP, withData: true }).slice(before);
		expect(all.length).toBe(1);
		expect(nodeOutput(all[0], TRIGGER)[0]).toMatchObject({ type: 'opened', class: 'human' });
		expect(execs.every((e) => e.status === 'success')).toBe(true);
	});

	it('tracking edge (packed package, bin): machine hits and unwanted events never reach n8n; a human open does, with the client IP', async (ctx) => {
		const inst = live(ctx);
		const help = spawnSync(process.execPath, [edgeCommand(inst), '--help'], { encoding: 'utf8' });
		expect(help.status).toBe(0);
		expect(help.stdout).toContain('CADENCE_UPSTREAM_URL');
		const misconfigured = spawnSync(process.execPath, [edgeCommand(inst)], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
		expect(misconfigured.status).toBe(2);
		expect(misconfigured.stderr).toContain('CADENCE_TRACKING_SECRETS');

		const upstream = inst.webhookUrl(WEBHOOK_DROP, 't');
		// configured as the drop-mode trigger is: Machine Hits drop, Events opened + unsubscribed
		const edge = await startEdge(inst, { CADENCE_UPSTREAM_URL: upstream, CADENCE_MACHINE_HITS: 'drop', CADENCE_EVENTS: 'opened,unsubscribed' });
		expect(edge.url).toMatch(new RegExp(`/webhook/${WEBHOOK_DROP}/t$`));
		const viaEdge = (url: string) => url.replace(upstream, edge.url);
		const dropTracker = createTracker({ secrets: SECRETS, baseUrl: upstream });
		const before = inst.executions({ workflowId: WF_DROP }).length;

		const machine = [
			{ url: dropTracker.openUrl(data), ua: 'Mozilla/5.0', status: 200 }, // Apple MPP
			{ url: dropTracker.openUrl(data), ua: 'curl/8.5.0', status: 200 },
			{ url: dropTracker.clickUrl(data, 'https://shop.example.com/'), ua: 'python-requests/2.32.3', status: 302 },
			{ url: dropTracker.clickUrl(data, 'https://shop.example.com/'), ua: CHROME, status: 302 }, // clicks are not emitted
			{ url: `${upstream}?t=forged`, ua: CHROME, status: 404 },
			{ url: `${upstream}?t=${encodeURIComponent('//evil.example')}`, ua: CHROME, status: 404 },
		];
		for (const m of machine) {
			const direct = await request(m.url, { headers: { 'user-agent': m.ua, accept: PAGE_ACCEPT } });
			const edged = await request(viaEdge(m.url), { headers: { 'user-agent': m.ua, accept: PAGE_ACCEPT } });
			expect(edged.status, m.ua).toBe(m.status);
			// the same answer as the trigger's own, byte for byte
			expect(edged.status).toBe(direct.status);
			expect(edged.body.equals(direct.body), m.url).toBe(true);
			for (const name of ['content-type', 'location', 'cache-control', 'referrer-policy', 'content-security-policy']) {
				expect(edged.headers.get(name), name).toBe(direct.headers.get(name));
			}
		}

		const human = await requestFrom(viaEdge(dropTracker.openUrl(data)), { headers: { 'user-agent': THUNDERBIRD, accept: 'image/*' } });
		expect(human.status).toBe(200);
		expect(human.headers['content-type']).toBe('image/gif');
		expect(human.body.length).toBe(43);
		const execs = await inst.waitForExecutions(WF_DROP, before + 1);
		await new Promise((r) => setTimeout(r, 1_500));
		const all = inst.executions({ workflowId: WF_DROP, withData: true }).slice(before);
		expect(all.length).toBe(1);
		// N8N_PROXY_HOPS=1: n8n's req.ip is the address the edge saw, not the edge's own 127.0.0.1
		expect(nodeOutput(all[0], TRIGGER)[0]).toMatchObject({ type: 'opened', class: 'human', ip: '127.0.0.2', userAgent: THUNDERBIRD });
		expect(execs.every((e) => e.status === 'success')).toBe(true);

		const unsubscribe = await requestFrom(viaEdge(dropTracker.unsubscribeUrl(data)), {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: 'List-Unsubscribe=One-Click',
		});
		expect(unsubscribe.status).toBe(200);
		expect(unsubscribe.body.toString()).toContain('You are unsubscribed');
		const withUnsubscribe = await inst.waitForExecutions(WF_DROP, before + 2);
		expect(nodeOutput(withUnsubscribe[withUnsubscribe.length - 1], TRIGGER)[0]).toMatchObject({ type: 'unsubscribed', ip: '127.0.0.2' });

		const lines = await edge.stop();
		const counters = lines.filter((l) => l.message === 'tracking edge counters').pop();
		expect(counters).toMatchObject({ requests: machine.length + 2, forwarded: 2, relayed: 2, upstreamFailures: 0, lostEvents: 0 });
	});

	it('tracking edge in front of a workflow that is not active: pixel and redirect still answered, unsubscribe asks to retry', async (ctx) => {
		const inst = live(ctx);
		const inactive = inst.webhookUrl('7a1c0e52-41d6-4c8e-9f3a-0c5e2b6dffff', 't');
		const edge = await startEdge(inst, { CADENCE_UPSTREAM_URL: inactive, CADENCE_MACHINE_HITS: 'drop' });
		const t = createTracker({ secrets: SECRETS, baseUrl: edge.url });
		const pixel = await request(t.openUrl(data), { headers: { 'user-agent': THUNDERBIRD, accept: 'image/*' } });
		expect(pixel.status).toBe(200);
		expect(pixel.headers.get('content-type')).toBe('image/gif');
		const click = await request(t.clickUrl(data, 'https://shop.example.com/'), { headers: { 'user-agent': CHROME, accept: PAGE_ACCEPT } });
		expect(click.status).toBe(302);
		expect(click.headers.get('location')).toBe('https://shop.example.com/');
		const unsubscribe = await request(t.unsubscribeUrl(data), {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: 'List-Unsubscribe=One-Click',
		});
		expect(unsubscribe.status).toBe(502);
		expect(unsubscribe.body.toString()).toContain('Please try again');
		const lines = await edge.stop();
		expect(lines.filter((l) => String(l.message).startsWith('tracking event lost')).map((l) => [l.type, l.reason])).toEqual([
			['opened', 'n8n answered 404'],
			['clicked', 'n8n answered 404'],
		]);
		expect(lines.filter((l) => l.message === 'tracking edge counters').pop()).toMatchObject({ lostEvents: 2, unsubscribeRetryPages: 1 });
	});

	it('every execution succeeded', async (ctx) => {
		const inst = live(ctx);
		const statuses = inst.executions().map((e) => e.status);
		expect(statuses.length).toBeGreaterThan(0);
		expect(statuses.filter((s) => s !== 'success')).toEqual([]);
	});
});
