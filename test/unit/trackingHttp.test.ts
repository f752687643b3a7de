import { describe, expect, it } from 'vitest';
import { createTracker, type TrackingData } from '../../core/tracker';
import {
	handleTrackingRequest,
	safeTrackingRedirect,
	TRACKING_PIXEL_GIF,
	type TrackingHttpOptions,
	type TrackingRequest,
} from '../../core/trackingHttp';

const BASE = 'https://track.example.com/webhook/5f0c6a53-0000-4000-8000-000000000001/t';
const SENT = Date.UTC(2026, 10, 20, 9, 0, 0);
const LATER = SENT + 3_600_000;
const tracker = createTracker({ secrets: ['current-secret', 'old-secret'], baseUrl: BASE, maxAgeDays: 90, now: () => LATER });
const data: TrackingData = { email: 'ana@dealer.example', campaign: 'spring', batchTag: 'English-Dealers-Marketing05', variant: 'B', sentAt: SENT };

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const IMAGE_ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

function tokenOf(url: string): string {
	return new URL(url).searchParams.get('t') as string;
}

function hit(t: unknown, over: Partial<TrackingRequest> = {}, opts: TrackingHttpOptions = {}) {
	return handleTrackingRequest(
		{
			method: 'GET',
			query: t === undefined ? {} : { t },
			headers: { 'user-agent': CHROME, accept: BROWSER_ACCEPT },
			ip: '198.51.100.7',
			now: LATER,
			...over,
		},
		tracker,
		opts,
	);
}

function expectSecureHeaders(headers: Record<string, string>) {
	expect(headers['cache-control']).toContain('no-store');
	expect(headers['x-content-type-options']).toBe('nosniff');
	expect(headers['referrer-policy']).toBe('no-referrer');
}

const openT = tokenOf(tracker.openUrl(data));
const clickT = tokenOf(tracker.clickUrl(data, 'https://shop.example.com/catalog?lang=en#top'));
const unsubT = tokenOf(tracker.unsubscribeUrl(data));

describe('open pixel', () => {
	it('answers the GIF and emits opened with the hit facts', () => {
		const r = hit(openT, {
			headers: { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2', accept: IMAGE_ACCEPT },
		});
		expect(r.status).toBe(200);
		expect(r.headers['content-type']).toBe('image/gif');
		expect(r.body.equals(TRACKING_PIXEL_GIF)).toBe(true);
		expect(r.body.length).toBe(43);
		expect(r.headers['content-length']).toBe('43');
		expectSecureHeaders(r.headers);
		expect(r.startExecution).toBe(true);
		expect(r.event).toMatchObject({
			type: 'opened',
			at: new Date(LATER).toISOString(),
			email: 'ana@dealer.example',
			campaign: 'spring',
			batchTag: 'English-Dealers-Marketing05',
			variant: 'B',
			token: openT,
			class: 'human',
			classRule: 'person-software',
			ip: '198.51.100.7',
			method: 'GET',
			sentAt: new Date(SENT).toISOString(),
			secondsSinceSent: 3600,
		});
		expect(r.event?.userAgent).toContain('Thunderbird');
		expect(r.event?.id).toMatch(/^[\w-]{22}$/);
	});

	it('answers the GIF for a bad token, without an event, even when a browser asks for a page', () => {
		for (const t of [undefined, '', 'garbage', openT.slice(0, -3)]) {
			const r = hit(t, { headers: { accept: IMAGE_ACCEPT } });
			expect(r.status).toBe(200);
			expect(r.body.equals(TRACKING_PIXEL_GIF)).toBe(true);
			expect(r.event).toBeUndefined();
			expect(r.startExecution).toBe(false);
		}
		// no Accept at all (many mail clients): still the pixel
		expect(hit('garbage', { headers: {} }).headers['content-type']).toBe('image/gif');
		expect(hit('garbage', { headers: { 'sec-fetch-dest': 'image', accept: '*/*' } }).headers['content-type']).toBe('image/gif');
	});

	it('HEAD gets the headers without a body, classified as a scanner', () => {
		const r = hit(openT, { method: 'HEAD' });
		expect(r.status).toBe(200);
		expect(r.body.length).toBe(0);
		expect(r.headers['content-length']).toBe('43');
		expect(r.event?.class).toBe('scanner');
	});

	it('Apple MPP opens are emitted flagged by default and start nothing when machine hits are dropped', () => {
		const mpp = { headers: { 'user-agent': 'Mozilla/5.0' } };
		const emitted = hit(openT, mpp);
		expect(emitted.event?.class).toBe('apple_mpp');
		expect(emitted.startExecution).toBe(true);
		const dropped = hit(openT, mpp, { machineHits: 'drop' });
		expect(dropped.body.equals(TRACKING_PIXEL_GIF)).toBe(true);
		expect(dropped.startExecution).toBe(false);
		// image proxies are people opening: never dropped
		const proxy = hit(
			openT,
			{ headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)' } },
			{ machineHits: 'drop' },
		);
		expect(proxy.event?.class).toBe('image_proxy');
		expect(proxy.startExecution).toBe(true);
	});

	it('POST to an open token is refused', () => {
		const r = hit(openT, { method: 'POST', body: { 'List-Unsubscribe': 'One-Click' } });
		expect(r.status).toBe(405);
		expect(r.startExecution).toBe(false);
	});

	it('each hit is its own event id; the same hit replayed keeps its id', () => {
		const a = hit(openT);
		expect(hit(openT).event?.id).toBe(a.event?.id);
		expect(hit(openT, { now: LATER + 1 }).event?.id).not.toBe(a.event?.id);
	});
});

describe('click redirect', () => {
	it('302s to the bound target on GET and HEAD and emits clicked with the url', () => {
		for (const method of ['GET', 'HEAD']) {
			const r = hit(clickT, { method });
			expect(r.status).toBe(302);
			expect(r.headers.location).toBe('https://shop.example.com/catalog?lang=en#top');
			expectSecureHeaders(r.headers);
			expect(r.event).toMatchObject({ type: 'clicked', url: 'https://shop.example.com/catalog?lang=en#top', email: data.email });
			// the event joins the message on the message (open) token, not the click token
			expect(r.event?.token).toBe(openT);
		}
		expect(hit(clickT, { method: 'HEAD' }).event?.class).toBe('scanner');
		expect(hit(clickT).event?.class).toBe('human');
	});

	it('a gateway clicking on delivery is a scanner; drop mode still redirects but starts nothing', () => {
		const r = hit(clickT, { now: SENT + 3_000 }, { machineHits: 'drop' });
		expect(r.status).toBe(302);
		expect(r.event?.class).toBe('scanner');
		expect(r.startExecution).toBe(false);
		expect(hit(clickT, { now: SENT + 3_000 }).startExecution).toBe(true);
	});

	it('a bad token shows the error page, or the configured fallback', () => {
		const r = hit('nope');
		expect(r.status).toBe(404);
		expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
		expect(r.headers['content-security-policy']).toContain("default-src 'none'");
		expect(r.body.toString()).toContain('not valid');
		expect(r.headers.location).toBeUndefined();
		const f = hit('nope', {}, { fallbackUrl: 'https://www.example.com/' });
		expect(f.status).toBe(302);
		expect(f.headers.location).toBe('https://www.example.com/');
		expect(f.startExecution).toBe(false);
		// a fallback that is not an http(s) URL is ignored
		expect(hit('nope', {}, { fallbackUrl: 'javascript:alert(1)' }).status).toBe(404);
	});

	it('POST to a click token is refused', () => {
		expect(hit(clickT, { method: 'POST' }).status).toBe(405);
	});
});

describe('unsubscribe', () => {
	it('GET shows a confirmation page whose form posts back with One-Click, and records nothing', () => {
		const r = hit(unsubT, {}, { senderName: 'Acme <Export>' });
		expect(r.status).toBe(200);
		expect(r.startExecution).toBe(false);
		expect(r.event).toBeUndefined();
		const html = r.body.toString();
		expect(html).toContain('<form method="post" action="?t=' + unsubT + '">');
		expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
		expect(html).toContain('Acme &#60;Export&#62;');
		expect(html).not.toContain('<script');
		expectSecureHeaders(r.headers);
		expect(r.headers['x-frame-options']).toBe('DENY');
	});

	it('RFC 8058 one-click POST unsubscribes at once: form body, raw body, token in query or body', () => {
		const bodies: Array<[unknown, unknown]> = [
			[{ 'List-Unsubscribe': 'One-Click' }, unsubT],
			['List-Unsubscribe=One-Click', unsubT],
			[Buffer.from('List-Unsubscribe=One-Click'), unsubT],
			[{ 'List-Unsubscribe': 'One-Click', t: unsubT }, undefined],
			[`List-Unsubscribe=One-Click&t=${unsubT}`, undefined],
		];
		for (const [body, t] of bodies) {
			const r = hit(t, { method: 'POST', body, headers: { 'user-agent': 'Mozilla/5.0 (compatible; Google-Unsubscribe)' } });
			expect(r.status).toBe(200);
			expect(r.startExecution).toBe(true);
			expect(r.event).toMatchObject({ type: 'unsubscribed', email: data.email, campaign: 'spring', token: openT });
		}
	});

	it('is idempotent: a repeated POST answers the same with the same event id', () => {
		const a = hit(unsubT, { method: 'POST', body: { 'List-Unsubscribe': 'One-Click' } });
		const b = hit(unsubT, { method: 'POST', body: { 'List-Unsubscribe': 'One-Click' }, now: LATER + 86_400_000, ip: '203.0.113.9' });
		expect(b.status).toBe(a.status);
		expect(b.body.equals(a.body)).toBe(true);
		expect(b.event?.id).toBe(a.event?.id);
	});

	it('a POST is honoured even from a machine and in drop mode (it is never a prefetch)', () => {
		const r = hit(
			unsubT,
			{ method: 'POST', body: { 'List-Unsubscribe': 'One-Click' }, headers: { 'user-agent': 'curl/8.5.0' } },
			{ machineHits: 'drop' },
		);
		expect(r.event?.class).toBe('scanner');
		expect(r.startExecution).toBe(true);
	});

	it('a POST without One-Click is refused and records nothing', () => {
		for (const body of [undefined, {}, { 'List-Unsubscribe': 'yes' }, 'List-Unsubscribe=One-Click-Maybe', { 'List-Unsubscribe': ['One-Click'] }]) {
			const r = hit(unsubT, { method: 'POST', body });
			expect(r.status).toBe(400);
			expect(r.startExecution).toBe(false);
		}
	});
});

describe('methods', () => {
	it('other methods get 405 with Allow', () => {
		for (const method of ['PUT', 'DELETE', 'PATCH', 'TRACE', '']) {
			const r = hit(openT, { method });
			expect(r.status).toBe(405);
			expect(r.headers.allow).toBe('GET, HEAD, POST');
			expectSecureHeaders(r.headers);
		}
	});
});

describe('hostile inputs: none redirects to the request, echoes it, or starts an execution', () => {
	const other = createTracker({ secrets: ['attacker-secret'], baseUrl: BASE });
	const expired = tokenOf(createTracker({ secrets: ['current-secret'], baseUrl: BASE }).openUrl({ ...data, sentAt: SENT - 200 * 86_400_000 }));
	const flipped = clickT.slice(0, 30) + (clickT[30] === 'A' ? 'B' : 'A') + clickT.slice(31);
	const hostile: Array<[string, unknown]> = [
		['forged random token', 'AQB' + 'x'.repeat(60)],
		['truncated click token', clickT.slice(0, clickT.length - 5)],
		['one character changed', flipped],
		['re-signed with another key', tokenOf(other.clickUrl(data, 'https://evil.example/'))],
		['expired (beyond maxAgeDays)', expired],
		['over-long', clickT + 'A'.repeat(10_000)],
		['path traversal', '../../../../etc/passwd'],
		['encoded traversal', '..%2F..%2Fetc%2Fpasswd'],
		['header injection', `${clickT}\r\nLocation: https://evil.example/`],
		['header injection, encoded', `${clickT}%0d%0aSet-Cookie:%20a=b`],
		['javascript: as token', 'javascript:alert(1)'],
		['//evil as token', '//evil.example'],
		['html as token', '<script>alert(1)</script>'],
		['array of tokens', [clickT, clickT]],
		['object as token', { t: clickT }],
		['number as token', 12345],
	];

	it.each(hostile)('%s', (_name, t) => {
		for (const method of ['GET', 'HEAD', 'POST']) {
			const r = hit(t, {
				method,
				body: { 'List-Unsubscribe': 'One-Click' },
				headers: { 'user-agent': CHROME, accept: BROWSER_ACCEPT, referer: 'https://evil.example/' },
			});
			expect(r.startExecution).toBe(false);
			expect(r.event).toBeUndefined();
			expect(r.status).not.toBe(302);
			expect(r.headers.location).toBeUndefined();
			const text = r.body.toString('latin1');
			expect(text).not.toContain('evil');
			expect(text).not.toContain('<script');
			expect(text).not.toContain('passwd');
			for (const v of Object.values(r.headers)) expect(v).not.toMatch(/[\r\n]/);
		}
	});

	it('a correctly signed token whose target is not http(s) never redirects', () => {
		for (const target of [
			'javascript:alert(1)',
			'//evil.example/',
			'data:text/html,<script>alert(1)</script>',
			'https://user:pw@evil.example/',
			'/relative',
			'https://ok.example/\r\nX: y',
			'http:/\\evil.example',
			'file:///etc/passwd',
		]) {
			const r = hit(tokenOf(tracker.clickUrl(data, target)));
			expect(r.status, target).toBe(404);
			expect(r.headers.location).toBeUndefined();
			expect(r.startExecution).toBe(false);
		}
	});

	it('a token signed with the old (rotated) secret still works', () => {
		const old = createTracker({ secrets: ['old-secret'], baseUrl: BASE });
		const r = hit(tokenOf(old.clickUrl(data, 'https://shop.example.com/')));
		expect(r.status).toBe(302);
		expect(r.startExecution).toBe(true);
	});

	it('a tracker that throws is a bad token, not a crash', () => {
		const broken = {
			parseToken: () => {
				throw new Error('boom');
			},
			token: () => '',
		};
		const r = handleTrackingRequest({ method: 'GET', query: { t: openT }, now: LATER }, broken);
		expect(r.status).toBe(200);
		expect(r.startExecution).toBe(false);
	});
});

describe('safeTrackingRedirect', () => {
	it('keeps absolute http(s) URLs and refuses the rest', () => {
		expect(safeTrackingRedirect('https://a.example/x?y=1#z')).toBe('https://a.example/x?y=1#z');
		expect(safeTrackingRedirect('HTTP://A.example')).toBe('http://a.example/');
		for (const bad of [
			'',
			'javascript:alert(1)',
			'//evil',
			'https://',
			'https:///x',
			'ftp://a.example',
			'https://a.example/ x',
			'https://a.example\\@evil',
			42,
			null,
		])
			expect(safeTrackingRedirect(bad), String(bad)).toBeUndefined();
	});
});
