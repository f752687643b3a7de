/**
 * UTM parameters on tracked links: added to the redirect target before it is signed, existing parameters kept,
 * the fragment after the query, the per-link opt-out, untracked and unsubscribe links left alone, and hostile
 * links bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addUtmParameters, checkLinkTarget, UTM_DEFAULT_MEDIUM, UTM_DEFAULT_SOURCE, UTM_VALUE_MAX_LENGTH, utmPairs } from '../../core/links';
import { renderCadenceMessage, type CadenceMessageInput, type RenderTrackingOptions } from '../../core/sendRender';
import { createTracker, TRACKING_TARGET_MAX_BYTES } from '../../core/tracker';

const BASE = 'https://track.example.com/webhook/abc/t';
const tracker = createTracker({ secrets: ['utm test secret 0123456789'], baseUrl: BASE });
const PAIRS = utmPairs({ source: 'cadence', medium: 'email', campaign: 'spring', content: 'B' });
const UTM_QUERY = 'utm_source=cadence&utm_medium=email&utm_campaign=spring&utm_content=B';

function input(over: Partial<CadenceMessageInput> = {}): CadenceMessageInput {
	return {
		from: 'Sales <sales@sender.example.com>',
		to: 'anna@example.de',
		subject: 'Hi',
		campaign: 'spring',
		batchTag: 'English-Dealers-Marketing05',
		variant: 'B',
		sentAt: Date.UTC(2026, 10, 22, 8),
		...over,
	};
}

function render(html: string, opts: Partial<RenderTrackingOptions> = { utm: {} }, over: Partial<CadenceMessageInput> = {}) {
	return renderCadenceMessage(input({ html, ...over }), { tracker, openPixel: false, ...opts });
}

/** Every href of the HTML, `&amp;` decoded. */
function hrefs(html: string): string[] {
	return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
}

/** Where each tracked link of a body redirects to (the target signed in its token). */
function redirects(body: string): string[] {
	return [...body.matchAll(/https:\/\/track\.example\.com\/webhook\/abc\/t\?t=[\w-]+/g)]
		.map((m) => tracker.parse(m[0]))
		.filter((p) => p?.kind === 'click')
		.map((p) => p!.target!);
}

describe('addUtmParameters', () => {
	it('adds the parameters as a new query, after an existing one, and before the fragment', () => {
		expect(addUtmParameters('https://shop.example.com/p', PAIRS)).toBe(`https://shop.example.com/p?${UTM_QUERY}`);
		expect(addUtmParameters('https://shop.example.com/p?a=1&b=2', PAIRS)).toBe(`https://shop.example.com/p?a=1&b=2&${UTM_QUERY}`);
		expect(addUtmParameters('https://shop.example.com/p?a=1#sec-2', PAIRS)).toBe(`https://shop.example.com/p?a=1&${UTM_QUERY}#sec-2`);
		expect(addUtmParameters('https://shop.example.com#top?x', PAIRS)).toBe(`https://shop.example.com?${UTM_QUERY}#top?x`);
		expect(addUtmParameters('https://shop.example.com/?', PAIRS)).toBe(`https://shop.example.com/?${UTM_QUERY}`);
		expect(addUtmParameters('https://shop.example.com/?a=1&', PAIRS)).toBe(`https://shop.example.com/?a=1&${UTM_QUERY}`);
		// A second `?` belongs to the query: it is a parameter name, so a separator follows it.
		expect(addUtmParameters('http://a.example??', PAIRS)).toBe(`http://a.example??&${UTM_QUERY}`);
	});

	it('keeps parameters the link already has, whatever their case or encoding: never overwritten, never doubled', () => {
		expect(addUtmParameters('https://s.example/?utm_source=newsletter', PAIRS)).toBe(
			'https://s.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring&utm_content=B',
		);
		expect(addUtmParameters('https://s.example/?UTM_Medium=x&utm%5Fcampaign=y&utm_content', PAIRS)).toBe(
			'https://s.example/?UTM_Medium=x&utm%5Fcampaign=y&utm_content&utm_source=cadence',
		);
		const all = `https://s.example/?${UTM_QUERY}`;
		expect(addUtmParameters(all, PAIRS)).toBe(all);
	});

	it('leaves the rest of the link byte for byte, odd escapes included', () => {
		const odd = 'https://s.example/a%2Fb/%zz?q=%E0%A4%A&r=a+b&s=%20#f%20g';
		expect(addUtmParameters(odd, PAIRS)).toBe(`https://s.example/a%2Fb/%zz?q=%E0%A4%A&r=a+b&s=%20&${UTM_QUERY}#f%20g`);
	});

	it('empty values are left out; values are trimmed, encoded and cut', () => {
		expect(utmPairs({ source: 'cadence', medium: ' ', campaign: '', content: '' }).map((p) => p.pair)).toEqual(['utm_source=cadence']);
		expect(utmPairs({ source: 'a b&c=d#e', medium: 'e-mail', campaign: 'Frühling 2026', content: '' }).map((p) => p.pair)).toEqual([
			'utm_source=a%20b%26c%3Dd%23e',
			'utm_medium=e-mail',
			'utm_campaign=Fr%C3%BChling%202026',
		]);
		expect(utmPairs({ source: '\ud800x\udc00', medium: 'm', campaign: 'c', content: '' })[0].pair).toBe('utm_source=%EF%BF%BDx%EF%BF%BD');
		const long = utmPairs({ source: 'x'.repeat(10_000), medium: 'm', campaign: 'c', content: '' });
		expect(long[0].pair).toBe(`utm_source=${'x'.repeat(UTM_VALUE_MAX_LENGTH)}`);
	});

	it('defaults are named constants', () => {
		expect(UTM_DEFAULT_SOURCE).toBe('cadence');
		expect(UTM_DEFAULT_MEDIUM).toBe('email');
	});
});

describe('UTM parameters in a rendered message', () => {
	it('a tracked link redirects to its target with source, medium, campaign and the variant as content', () => {
		const msg = render('<a href="https://shop.example.com/catalog?a=1&amp;b=2#shoes">Catalog</a>');
		expect(redirects(msg.html!)).toEqual([`https://shop.example.com/catalog?a=1&b=2&${UTM_QUERY}#shoes`]);
		expect(msg.trackedLinks).toEqual([
			{ target: 'https://shop.example.com/catalog?a=1&b=2#shoes', url: hrefs(msg.html!)[0], redirect: redirects(msg.html!)[0] },
		]);
		// The generated text part carries the same tracked link.
		expect(redirects(msg.text!)).toEqual(redirects(msg.html!));
	});

	it('without a variant there is no utm_content; overrides replace the defaults, empty ones keep them', () => {
		const msg = render('<a href="https://s.example/">x</a>', { utm: { source: 'crm', medium: '', campaign: 'q4 push' } }, { variant: '' });
		expect(redirects(msg.html!)).toEqual(['https://s.example/?utm_source=crm&utm_medium=email&utm_campaign=q4%20push']);
	});

	it('the text body’s links get them too', () => {
		const msg = renderCadenceMessage(input({ text: 'See https://s.example/x?y=1.' }), { tracker, utm: {} });
		expect(redirects(msg.text!)).toEqual([`https://s.example/x?y=1&${UTM_QUERY}`]);
		expect(msg.text!.endsWith('.')).toBe(true);
	});

	it('data-noutm: tracked without UTM; data-notrack, mailto and relative links: unchanged; unsubscribe: never UTM', () => {
		const html =
			'<a data-noutm href="https://a.example/">a</a><a data-notrack href="https://b.example/">b</a>' +
			'<a href="mailto:x@y.example">m</a><a href="/rel">r</a><a href="[[unsubscribeUrl]]">u</a><a href="https://a.example/">a2</a>';
		const msg = render(html);
		const links = hrefs(msg.html!);
		expect(redirects(msg.html!)).toEqual(['https://a.example/', `https://a.example/?${UTM_QUERY}`]);
		expect(links.slice(1, 5)).toEqual(['https://b.example/', 'mailto:x@y.example', '/rel', msg.unsubscribeUrl]);
		expect(msg.unsubscribeUrl).not.toContain('utm_');
		expect(msg.headers['List-Unsubscribe']).not.toContain('utm_');
		expect(tracker.parse(msg.unsubscribeUrl)?.kind).toBe('unsubscribe');
	});

	it('without the utm option (the core default) and with click tracking off, targets stay as written', () => {
		expect(redirects(render('<a href="https://s.example/">x</a>', {}).html!)).toEqual(['https://s.example/']);
		const off = render('<a href="https://s.example/">x</a>', { utm: {}, clickTracking: false });
		expect(hrefs(off.html!)).toEqual(['https://s.example/']);
	});

	it('a link that fits a token only without UTM stays tracked, without UTM', () => {
		const target = `https://s.example/?q=${'a'.repeat(TRACKING_TARGET_MAX_BYTES - 40)}`;
		const msg = render(`<a href="${target}">x</a>`);
		expect(redirects(msg.html!)).toEqual([target]);
		expect(msg.trackedLinks[0].redirect).toBeUndefined();
	});
});

describe('properties', () => {
	const values = fc.record({
		source: fc.string({ maxLength: 30 }),
		medium: fc.string({ maxLength: 30 }),
		campaign: fc.string({ unit: 'binary', maxLength: 30 }),
		content: fc.string({ maxLength: 10 }),
	});

	/** Web URLs, some already carrying UTM parameters (in odd case or encoding) among others. */
	const withUtm = fc.oneof(
		fc.webUrl({ withQueryParameters: true, withFragments: true }),
		fc
			.tuple(
				fc.webUrl({ withFragments: true }),
				fc.shuffledSubarray(['utm_source=x', 'UTM_MEDIUM=y', 'utm%5Fcampaign=z', 'utm_content', 'a=1', 'a=2', 'b=%20+c'], { minLength: 1 }),
			)
			.map(([url, params]) => {
				const hash = url.indexOf('#');
				return hash < 0 ? `${url}?${params.join('&')}` : `${url.slice(0, hash)}?${params.join('&')}${url.slice(hash)}`;
			}),
	);

	it('existing query parameters survive in order, the fragment stays, the result parses, no UTM name appears twice', () => {
		fc.assert(
			fc.property(withUtm, values, (url, v) => {
				const out = addUtmParameters(url, utmPairs(v));
				const before = new URL(url);
				const after = new URL(out);
				expect(after.hash).toBe(before.hash);
				expect(after.origin + after.pathname).toBe(before.origin + before.pathname);
				const oldEntries = [...before.searchParams.entries()];
				const newEntries = [...after.searchParams.entries()];
				expect(newEntries.slice(0, oldEntries.length)).toEqual(oldEntries);
				const count = (entries: Array<[string, string]>, name: string) => entries.filter(([k]) => k.toLowerCase() === name).length;
				for (const key of ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content']) {
					const had = count(oldEntries, key);
					expect(count(newEntries, key)).toBe(had > 0 ? had : v[key.slice(4) as keyof typeof v].trim() ? 1 : 0);
				}
				for (const [k] of oldEntries) expect(count(newEntries, k.toLowerCase())).toBe(count(oldEntries, k.toLowerCase()));
			}),
			{ numRuns: 200 },
		);
	});

	const hostileUrl = fc.oneof(
		fc.webUrl({ withQueryParameters: true, withFragments: true }),
		fc.tuple(fc.string({ unit: 'binary', maxLength: 60 }), fc.integer({ min: 1, max: 300 })).map(([s, n]) => `https://h.example/?${s.repeat(n)}`),
		fc
			.tuple(fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '&&', '==', '#', '?', '+', 'é', '\ud83d\ude00', ' '), fc.integer({ min: 1, max: 2000 }))
			.map(([s, n]) => `https://h.example/p?x=${s.repeat(n)}`),
	);

	it('hostile links: every tracked redirect passes the link rule and fits a token, in bounded time', () => {
		fc.assert(
			fc.property(hostileUrl, values, (url, v) => {
				const started = performance.now();
				const msg = renderCadenceMessage(input({ html: undefined, text: `${url} ` }), { tracker, utm: v });
				for (const link of msg.trackedLinks) {
					const redirect = link.redirect ?? link.target;
					expect(checkLinkTarget(redirect)).toBeDefined();
					expect(Buffer.byteLength(redirect)).toBeLessThanOrEqual(TRACKING_TARGET_MAX_BYTES);
					expect(tracker.parse(link.url)?.target).toBe(redirect);
				}
				expect(performance.now() - started).toBeLessThan(1000);
			}),
			{ numRuns: 100 },
		);
	});
});
