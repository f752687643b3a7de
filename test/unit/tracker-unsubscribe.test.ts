/**
 * Unsubscribe links outlive the open/click token lifetime and survive key rotation, on every verification path:
 * the tracker (parse, parseToken, verifyToken), the one-click POST through handleTrackingRequest as the trigger
 * (tracker from the credential) and the edge (tracker from its options, over loopback) run it. Forged, modified and
 * foreign tokens stay refused.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackerFromCredentials } from '../../nodes/shared/trackingCredential';
import { createTracker, type Tracker, type TrackingData } from '../../core/tracker';
import { createTrackingEdge, type TrackingEdge } from '../../edge/index';
import { handleTrackingRequest, TRACKING_PIXEL_GIF } from '../../core/trackingHttp';

const DAY = 86_400_000;
const BASE = 'https://n8n.example.com/webhook/0b7c/t';
const NEW_SECRET = 'new-secret-0123456789abcdef';
const OLD_SECRET = 'old-secret-0123456789abcdef';
const SENT = Date.UTC(2025, 0, 15, 9, 0, 0);
const data: TrackingData = { email: 'ana@dealer.example', campaign: 'spring', batchTag: 'English-Dealers-Marketing05', variant: 'B', sentAt: SENT };
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const PAGE = { 'user-agent': CHROME, accept: 'text/html' };
const ONE_CLICK = { 'List-Unsubscribe': 'One-Click' };

const tokenOf = (url: string) => new URL(url).searchParams.get('t') as string;
const at = (days: number) => SENT + days * DAY;
/** The tracker a 30-day Token Lifetime gives, `days` after sending. */
const verifierAt = (days: number, secrets = [NEW_SECRET, OLD_SECRET]) =>
	createTracker({ secrets, baseUrl: BASE, maxAgeDays: 30, now: () => at(days) });

const signer = createTracker({ secrets: [NEW_SECRET, OLD_SECRET], baseUrl: BASE });
const unsubUrl = signer.unsubscribeUrl(data);
const unsubT = tokenOf(unsubUrl);
const openT = tokenOf(signer.openUrl(data));
const clickT = tokenOf(signer.clickUrl(data, 'https://shop.example.com/'));

function oneClick(tracker: Pick<Tracker, 'parseToken' | 'token'>, t: string, now: number) {
	return handleTrackingRequest({ method: 'POST', query: { t }, body: ONE_CLICK, headers: PAGE, ip: '203.0.113.9', now }, tracker);
}

describe('unsubscribe tokens outlive the token lifetime', () => {
	it.each([31, 400, 3_650])('a %i-day-old unsubscribe link verifies with a 30-day lifetime', (days) => {
		const t = verifierAt(days);
		expect(t.parse(unsubUrl)).toEqual({ kind: 'unsubscribe', data });
		expect(t.parseToken(unsubT)).toEqual({ kind: 'unsubscribe', data });
		expect(t.verifyToken(unsubT)).toEqual(data);
	});

	it.each([31, 400])('the %i-day-old one-click POST unsubscribes, and GET shows the confirmation page', (days) => {
		const answer = oneClick(verifierAt(days), unsubT, at(days));
		expect(answer.status).toBe(200);
		expect(answer.startExecution).toBe(true);
		expect(answer.event).toMatchObject({ type: 'unsubscribed', email: data.email, campaign: 'spring', token: openT });
		expect(answer.body.toString()).toContain('You are unsubscribed');
		const page = handleTrackingRequest({ method: 'GET', query: { t: unsubT }, headers: PAGE, now: at(days) }, verifierAt(days));
		expect(page.status).toBe(200);
		expect(page.body.toString()).toContain('<form method="post"');
	});

	it('old open and click tokens are still refused: no event, pixel or error page', () => {
		const t = verifierAt(31);
		expect(t.parseToken(openT)).toBeNull();
		expect(t.parseToken(clickT)).toBeNull();
		const pixel = handleTrackingRequest({ method: 'GET', query: { t: openT }, headers: { accept: 'image/*' }, now: at(31) }, t);
		expect(pixel.body.equals(TRACKING_PIXEL_GIF)).toBe(true);
		expect(pixel.event).toBeUndefined();
		const click = handleTrackingRequest({ method: 'GET', query: { t: clickT }, headers: PAGE, now: at(31) }, t);
		expect(click.status).toBe(404);
		expect(click.headers.location).toBeUndefined();
		expect(click.event).toBeUndefined();
		// within the lifetime they still work
		expect(verifierAt(29).parseToken(clickT)?.kind).toBe('click');
	});

	it('the trigger path: a tracker read from the credential with a 30-day lifetime records a 400-day-old one-click', () => {
		const now = Date.now();
		const credential = { secrets: `${NEW_SECRET}\n${OLD_SECRET}\n`, baseUrl: BASE, maxAgeDays: 30 };
		const old = { ...data, sentAt: now - 400 * DAY };
		const t = trackerFromCredentials(credential);
		const answer = oneClick(t, tokenOf(t.unsubscribeUrl(old)), now);
		expect(answer).toMatchObject({ status: 200, startExecution: true, event: { type: 'unsubscribed', email: data.email } });
		expect(t.parse(t.openUrl(old))).toBeNull();
	});
});

describe('replies and bounces to old mail are attributed', () => {
	it('verifyToken (the inbox path) reads an old message token: the lifetime limits only the public URL', () => {
		const t = verifierAt(400);
		expect(t.parseToken(openT)).toBeNull();
		expect(t.verifyToken(openT)).toEqual(data);
	});

	it('the reply and bounce address key of a message stays the same after its secret moves to the second line', () => {
		const before = createTracker({ secrets: [OLD_SECRET], baseUrl: BASE });
		const token = before.token(data);
		const after = createTracker({ secrets: [NEW_SECRET, OLD_SECRET], baseUrl: BASE });
		expect(after.addressKey(token)).toBe(before.addressKey(token));
		// a token of the new secret gets a key of the new secret
		const fresh = after.token({ ...data, sentAt: SENT + 1 });
		expect(after.addressKey(fresh)).not.toBe(before.addressKey(fresh));
	});
});

describe('key rotation: the first secret signs, every secret verifies', () => {
	const retiredSigner = createTracker({ secrets: [OLD_SECRET], baseUrl: BASE });
	const oldUnsubT = tokenOf(retiredSigner.unsubscribeUrl(data));

	it('a 400-day-old unsubscribe link signed with a secret now on the second line verifies and unsubscribes', () => {
		const t = verifierAt(400);
		expect(t.parseToken(oldUnsubT)).toEqual({ kind: 'unsubscribe', data });
		expect(t.verifyToken(oldUnsubT)).toEqual(data);
		const answer = oneClick(t, oldUnsubT, at(400));
		expect(answer).toMatchObject({ status: 200, startExecution: true, event: { type: 'unsubscribed' } });
		// the event carries the message token as the current signer makes it
		expect(answer.event?.token).toBe(openT);
	});

	it('only the first secret signs: new links verify without the old secret and not with the old one alone', () => {
		expect(unsubT).not.toBe(oldUnsubT);
		expect(createTracker({ secrets: [NEW_SECRET], baseUrl: BASE }).parseToken(unsubT)?.kind).toBe('unsubscribe');
		expect(createTracker({ secrets: [OLD_SECRET], baseUrl: BASE }).parseToken(unsubT)).toBeNull();
		// the order of the lines decides which one signs
		const swapped = createTracker({ secrets: [OLD_SECRET, NEW_SECRET], baseUrl: BASE });
		expect(tokenOf(swapped.unsubscribeUrl(data))).toBe(oldUnsubT);
	});

	it('a removed secret no longer verifies its links (that is what removing is for)', () => {
		const t = createTracker({ secrets: [NEW_SECRET], baseUrl: BASE, maxAgeDays: 30, now: () => at(400) });
		expect(t.parseToken(oldUnsubT)).toBeNull();
		expect(oneClick(t, oldUnsubT, at(400)).startExecution).toBe(false);
	});
});

describe('forged and modified tokens are refused', () => {
	const t = verifierAt(400);

	it('a token signed with a secret that is not configured', () => {
		const foreign = createTracker({ secrets: ['attacker-secret-0123456789abcdef'], baseUrl: BASE });
		const forged = tokenOf(foreign.unsubscribeUrl(data));
		expect(t.parseToken(forged)).toBeNull();
		const answer = oneClick(t, forged, at(400));
		expect(answer.startExecution).toBe(false);
		expect(answer.event).toBeUndefined();
	});

	it('an open or click token turned into an unsubscribe by editing its kind byte stays refused', () => {
		for (const token of [openT, clickT]) {
			const raw = Buffer.from(token, 'base64url');
			for (const byte of [0, 1, 18]) {
				const edited = Buffer.from(raw);
				edited[byte] ^= 0x02;
				expect(t.parseToken(edited.toString('base64url'))).toBeNull();
			}
		}
	});

	it('property: any change of one character of an unsubscribe token is refused', () => {
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
		fc.assert(
			fc.property(fc.nat({ max: unsubT.length - 1 }), fc.constantFrom(...alphabet), (i, c) => {
				fc.pre(unsubT[i] !== c);
				const modified = unsubT.slice(0, i) + c + unsubT.slice(i + 1);
				expect(t.parseToken(modified)).toBeNull();
				expect(oneClick(t, modified, at(400)).event).toBeUndefined();
			}),
			{ numRuns: 200 },
		);
	});

	it('property: truncated, extended or random tokens are refused', () => {
		fc.assert(
			fc.property(fc.nat({ max: unsubT.length - 1 }), fc.string({ unit: fc.constantFrom(...'AQwz09-_'), maxLength: 40 }), (cut, tail) => {
				const changed = unsubT.slice(0, cut) + tail;
				fc.pre(changed !== unsubT);
				expect(t.parseToken(changed)).toBeNull();
			}),
			{ numRuns: 200 },
		);
	});
});

describe('the edge, configured with a 30-day lifetime, forwards an old one-click unsubscribe to n8n', () => {
	let upstream: Server;
	let edge: TrackingEdge;
	let edgeUrl = '';
	const received: string[] = [];
	const HOOK = '/webhook/0b7c/t';
	const now = Date.now();
	const old = { ...data, sentAt: now - 400 * DAY };
	const edgeSigner = createTracker({ secrets: [OLD_SECRET], baseUrl: `http://127.0.0.1${HOOK}` });

	beforeAll(async () => {
		// the trigger behind the edge, as n8n runs it
		const trigger = createTracker({ secrets: [NEW_SECRET, OLD_SECRET], baseUrl: `http://127.0.0.1${HOOK}`, maxAgeDays: 30 });
		upstream = createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				const answer = handleTrackingRequest(
					{
						method: req.method ?? '',
						query: parseQueryString((req.url ?? '').split('?')[1] ?? ''),
						body: parseQueryString(Buffer.concat(chunks).toString()),
						headers: req.headers,
						now: Date.now(),
					},
					trigger,
				);
				if (answer.event) received.push(answer.event.type);
				res.writeHead(answer.status, { ...answer.headers, 'x-answered-by': 'upstream' }).end(answer.body);
			});
		});
		await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
		edge = createTrackingEdge({
			secrets: [NEW_SECRET, OLD_SECRET],
			maxAgeDays: 30,
			upstreamUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}${HOOK}`,
		});
		edgeUrl = `http://127.0.0.1:${(await edge.listen(0, '127.0.0.1')).port}${HOOK}`;
	});

	afterAll(async () => {
		await edge.close();
		await new Promise<void>((r) => upstream.close(() => r()));
	});

	function post(t: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
		return new Promise((resolve, reject) => {
			const req = httpRequest(
				`${edgeUrl}?t=${t}`,
				{ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': CHROME }, agent: false },
				(res) => {
					let body = '';
					res.on('data', (c: Buffer) => (body += c.toString()));
					res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
				},
			);
			req.on('error', reject);
			req.end('List-Unsubscribe=One-Click');
		});
	}

	it('recorded by the trigger and acknowledged; an old click is refused by the edge alone', async () => {
		const got = await post(tokenOf(edgeSigner.unsubscribeUrl(old)));
		expect(got.status).toBe(200);
		expect(got.headers['x-answered-by']).toBe('upstream');
		expect(got.body).toContain('You are unsubscribed');
		expect(received).toEqual(['unsubscribed']);
		const stale = await post(tokenOf(edgeSigner.clickUrl(old, 'https://shop.example.com/')));
		expect(stale.status).toBe(404);
		expect(stale.headers['x-answered-by']).toBeUndefined();
		expect(received).toEqual(['unsubscribed']);
	});
});
