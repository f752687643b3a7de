/**
 * Conversions at the tracking endpoint: the reference a click hands the landing page, and the conversion report that
 * brings it back (signature, value rules, one event per message and order).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventId } from '../../core/events';
import { createTracker, type TrackingData } from '../../core/tracker';
import {
	CONVERSION_ORDER_MAX_LENGTH,
	CONVERSION_PARAM,
	CONVERSION_VALUE_MAX,
	CONVERSION_VALUE_MAX_DECIMALS,
	conversionSignature,
	handleTrackingRequest,
	hostInDomains,
	parseConversionValue,
	TRACKING_PIXEL_GIF,
	type TrackingHttpOptions,
	type TrackingRequest,
} from '../../core/trackingHttp';

const BASE = 'https://track.example.com/webhook/abc/t';
const SECRET = 'a-signing-secret-of-enough-length';
const CONVERSION_SECRET = 'website-conversion-secret-0123';
const SENT = Date.UTC(2026, 10, 20, 9, 0, 0);
const NOW = SENT + 3_600_000;
const tracker = createTracker({ secrets: [SECRET], baseUrl: BASE, maxAgeDays: 30, now: () => NOW });
const data: TrackingData = { email: 'ana@dealer.example', campaign: 'spring', batchTag: 'English-Dealers-Marketing05', variant: 'B', sentAt: SENT };
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const OPTS: TrackingHttpOptions = { conversionDomains: ['acme.example'], conversionSecret: CONVERSION_SECRET };

const tokenOf = (url: string) => new URL(url).searchParams.get('t') as string;
const mc = tracker.conversionToken(data);

function request(query: Record<string, unknown>, over: Partial<TrackingRequest> = {}): TrackingRequest {
	return { method: 'GET', query, headers: { 'user-agent': CHROME, accept: 'image/*' }, ip: '198.51.100.7', now: NOW, ...over };
}
const signed = (f: { order?: string; value?: string; currency?: string }) => ({
	[CONVERSION_PARAM]: mc,
	...f,
	sig: conversionSignature(CONVERSION_SECRET, { mc, order: f.order ?? '', value: f.value ?? '', currency: f.currency ?? '' }),
});

function click(target: string, opts: TrackingHttpOptions = OPTS) {
	return handleTrackingRequest(
		request({ t: tokenOf(tracker.clickUrl(data, target)) }, { headers: { 'user-agent': CHROME, accept: 'text/html' } }),
		tracker,
		opts,
	);
}

describe('the conversion reference on the landing page', () => {
	it('is a token of its own kind carrying the message data', () => {
		expect(tracker.parseToken(mc)).toEqual({ kind: 'conversion', data });
		expect(mc).toMatch(/^[A-Za-z0-9_-]+$/);
	});

	it('is appended to links to a Conversion Domain (subdomains too), UTM and fragment kept', () => {
		const location = click('https://shop.acme.example/p?utm_source=cadence&utm_medium=email#top').headers.location;
		const url = new URL(location);
		expect(url.searchParams.get('utm_source')).toBe('cadence');
		expect(url.searchParams.get('utm_medium')).toBe('email');
		expect(url.hash).toBe('#top');
		expect(tracker.parseToken(url.searchParams.get(CONVERSION_PARAM) as string)).toEqual({ kind: 'conversion', data });
	});

	it('is not given to other hosts, nor without Conversion Domains, nor to a link that has its own mc', () => {
		expect(click('https://partner.example/acme.example').headers.location).toBe('https://partner.example/acme.example');
		expect(click('https://notacme.example/').headers.location).toBe('https://notacme.example/');
		expect(click('https://acme.example/', {}).headers.location).toBe('https://acme.example/');
		expect(click('https://acme.example/?mc=').headers.location).toBe('https://acme.example/?mc=');
		expect(click('https://acme.example/?MC=own').headers.location).toBe('https://acme.example/?MC=own');
	});

	it('leaves the click event as it is: the url is the link, without the reference', () => {
		const answer = click('https://acme.example/offer');
		expect(answer.event).toMatchObject({ type: 'clicked', url: 'https://acme.example/offer' });
	});

	it('matches hosts exactly or as subdomains, case- and trailing-dot-insensitive', () => {
		fc.assert(
			fc.property(fc.domain(), fc.domain(), (a, b) => {
				expect(hostInDomains(a, [a.toUpperCase()])).toBe(true);
				expect(hostInDomains(`x.${a}.`, [a])).toBe(true);
				expect(hostInDomains(`${b}${a}`, [a])).toBe(b === '' || `${b}${a}` === a || `${b}${a}`.endsWith(`.${a}`));
				expect(hostInDomains(a, [])).toBe(false);
			}),
			{ numRuns: 100 },
		);
	});

	it('at the tracking URL (t=) a conversion reference is refused like any unknown token', () => {
		const answer = handleTrackingRequest(request({ t: mc }), tracker, OPTS);
		expect(answer.event).toBeUndefined();
		expect(answer.startExecution).toBe(false);
		expect(answer.body).toEqual(TRACKING_PIXEL_GIF);
	});
});

describe('a conversion report (?mc=…)', () => {
	it('without a value: the pixel, and one converted event carrying the message token and data', () => {
		const answer = handleTrackingRequest(request({ mc, order: 'A-1' }), tracker, OPTS);
		expect(answer.status).toBe(200);
		expect(answer.body).toEqual(TRACKING_PIXEL_GIF);
		expect(answer.startExecution).toBe(true);
		const messageToken = tracker.token(data);
		expect(answer.event).toMatchObject({
			id: eventId('converted', messageToken, 'A-1'),
			type: 'converted',
			email: data.email,
			campaign: 'spring',
			batchTag: data.batchTag,
			variant: 'B',
			token: messageToken,
			orderId: 'A-1',
		});
		expect(answer.event).not.toHaveProperty('value');
		expect(answer.event).not.toHaveProperty('class');
	});

	it('counts a reloaded thank-you page once (same id) and each order apart', () => {
		const id = (q: Record<string, unknown>, now = NOW) => handleTrackingRequest(request(q, { now }), tracker, OPTS).event?.id;
		expect(id({ mc, order: 'A-1' }, NOW + 5000)).toBe(id({ mc, order: 'A-1' }));
		expect(id({ mc, order: 'A-2' })).not.toBe(id({ mc, order: 'A-1' }));
		expect(id({ mc })).toBe(eventId('converted', tracker.token(data), ''));
	});

	it('records a value only with a valid signature; an unsigned value counts the conversion without it', () => {
		const good = handleTrackingRequest(request(signed({ order: 'A-1', value: '123.45', currency: 'eur' })), tracker, OPTS);
		expect(good.status).toBe(200);
		expect(good.event).toMatchObject({ value: 123.45, currency: 'EUR', orderId: 'A-1' });
		const unsigned = handleTrackingRequest(request({ mc, order: 'A-1', value: '123.45' }), tracker, OPTS);
		expect(unsigned.status).toBe(200);
		expect(unsigned.event).toMatchObject({ type: 'converted', valueIgnored: 'unsigned' });
		expect(unsigned.event).not.toHaveProperty('value');
	});

	it('refuses a wrong signature (any field changed, or no secret configured) with 403 and no event', () => {
		fc.assert(
			fc.property(fc.constantFrom('order', 'value', 'currency'), fc.stringMatching(/^[0-9]{1,4}$/), (field, suffix) => {
				const q = signed({ order: 'A-1', value: '10', currency: 'USD' });
				const tampered = { ...q, [field]: field === 'currency' ? 'GBP' : `${q[field]}${suffix}` };
				const answer = handleTrackingRequest(request(tampered), tracker, OPTS);
				expect(answer.status).toBe(403);
				expect(answer.event).toBeUndefined();
				expect(answer.startExecution).toBe(false);
			}),
			{ numRuns: 60 },
		);
		const noSecret = handleTrackingRequest(request(signed({ value: '10' })), tracker, { conversionSecret: '' });
		expect(noSecret.status).toBe(403);
		expect(handleTrackingRequest(request({ mc, value: '10', sig: 'zz' }), tracker, OPTS).status).toBe(403);
	});

	it('refuses a forged, expired or wrong-kind reference with 404 and no event', () => {
		const flipped = mc.slice(0, 30) + (mc[30] === 'A' ? 'B' : 'A') + mc.slice(31);
		const otherKey = createTracker({ secrets: ['another-secret-of-enough-length'], baseUrl: BASE }).conversionToken(data);
		const old = tracker.conversionToken({ ...data, sentAt: NOW - 31 * 86_400_000 });
		const wrongKinds = [tracker.token(data), tokenOf(tracker.clickUrl(data, 'https://acme.example/')), tokenOf(tracker.unsubscribeUrl(data))];
		for (const ref of [flipped, otherKey, old, ...wrongKinds, '', 'x'.repeat(5000)]) {
			const answer = handleTrackingRequest(request({ mc: ref, order: 'A-1' }), tracker, OPTS);
			expect(answer.status, ref.slice(0, 20)).toBe(404);
			expect(answer.event).toBeUndefined();
			expect(answer.startExecution).toBe(false);
		}
		expect(handleTrackingRequest(request({ mc: [mc, mc] }), tracker, OPTS).status).toBe(404);
	});

	it('refuses malformed fields with 400 naming the field', () => {
		const cases: Array<[Record<string, unknown>, RegExp]> = [
			[{ value: '-1' }, /value/],
			[{ value: '1e3' }, /value/],
			[{ value: 'NaN' }, /value/],
			[{ value: '12,50' }, /value/],
			[{ value: `${CONVERSION_VALUE_MAX + 1}` }, /value/],
			[{ value: `1.${'1'.repeat(CONVERSION_VALUE_MAX_DECIMALS + 1)}` }, /value/],
			[{ currency: 'euro' }, /currency/],
			[{ order: 'x'.repeat(CONVERSION_ORDER_MAX_LENGTH + 1) }, /order/],
			[{ order: 'A\n1' }, /order/],
		];
		for (const [q, message] of cases) {
			const answer = handleTrackingRequest(request({ mc, ...q }), tracker, OPTS);
			expect(answer.status, JSON.stringify(q)).toBe(400);
			expect(answer.body.toString()).toMatch(message);
			expect(answer.event).toBeUndefined();
		}
	});

	it('accepts every plain decimal within the bounds, and its value is the number written', () => {
		fc.assert(
			fc.property(fc.integer({ min: 0, max: CONVERSION_VALUE_MAX }), fc.integer({ min: 0, max: CONVERSION_VALUE_MAX_DECIMALS }), (n, decimals) => {
				const text = decimals === 0 ? String(n) : (n / 10 ** decimals).toFixed(decimals);
				expect(parseConversionValue(text)).toBe(Number(text));
			}),
			{ numRuns: 200 },
		);
		fc.assert(
			fc.property(fc.string({ maxLength: 30 }), (s) => {
				const v = parseConversionValue(s);
				if (v !== undefined) {
					expect(Number.isFinite(v) && v >= 0 && v <= CONVERSION_VALUE_MAX).toBe(true);
					expect(s.trim()).toMatch(/^\d+(\.\d+)?$/);
				}
			}),
			{ numRuns: 200 },
		);
	});

	it('a POST from the website server (form or JSON body) gets a JSON receipt; HEAD records nothing', () => {
		const json = handleTrackingRequest(request({}, { method: 'POST', body: { ...signed({ order: 'B-7', value: '99.9' }) } }), tracker, OPTS);
		expect(json.status).toBe(200);
		expect(JSON.parse(json.body.toString())).toEqual({ recorded: true, value: 99.9 });
		expect(json.event).toMatchObject({ type: 'converted', value: 99.9, orderId: 'B-7' });
		const form = handleTrackingRequest(request({}, { method: 'POST', body: `mc=${mc}&order=B-8&value=5` }), tracker, OPTS);
		expect(JSON.parse(form.body.toString())).toEqual({ recorded: true, value: null, valueIgnored: 'unsigned' });
		const head = handleTrackingRequest(request({ mc }, { method: 'HEAD' }), tracker, OPTS);
		expect(head.status).toBe(200);
		expect(head.startExecution).toBe(false);
		expect(head.event).toBeUndefined();
	});

	it('never throws, and never records without a valid reference, whatever the query', () => {
		fc.assert(
			fc.property(
				fc.dictionary(fc.constantFrom('mc', 'order', 'value', 'currency', 'sig'), fc.oneof(fc.string(), fc.array(fc.string()), fc.integer())),
				(q) => {
					const answer = handleTrackingRequest(request(q), tracker, OPTS);
					expect(answer.event).toBeUndefined();
					expect(answer.status).toBeGreaterThanOrEqual(200);
				},
			),
			{ numRuns: 150 },
		);
	});
});
