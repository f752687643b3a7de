import { describe, expect, it } from 'vitest';
import { ADDRESS_KEY_LENGTH, TRACKING_TOKEN_MAX_LENGTH, chooseVariant, createTracker, isAddressKey, type TrackingData } from '../../core/tracker';

const BASE = 'https://track.example.com/webhook/5f0c1a/t';
const data: TrackingData = {
	email: 'anna.schmidt@example.de',
	campaign: 'spring-2026',
	batchTag: 'English-Equipment Dealers-Marketing05',
	variant: 'B',
	sentAt: Date.UTC(2026, 10, 20, 9, 30, 15, 123),
};
const tracker = createTracker({ secrets: ['first secret, long enough to be real'], baseUrl: BASE });

function tokenOf(url: string): string {
	return new URL(url).searchParams.get('t')!;
}

describe('tracking URLs', () => {
	it('puts the token in the t parameter of the base URL and round-trips each kind', () => {
		const open = tracker.openUrl(data);
		const click = tracker.clickUrl(data, 'https://shop.example.com/p?id=7&utm=x#top');
		const unsub = tracker.unsubscribeUrl(data);
		for (const u of [open, click, unsub]) {
			expect(u.startsWith(`${BASE}?t=`)).toBe(true);
			expect([...new URL(u).searchParams.keys()]).toEqual(['t']);
		}
		expect(tracker.parse(open)).toEqual({ kind: 'open', data });
		expect(tracker.parse(click)).toEqual({ kind: 'click', data, target: 'https://shop.example.com/p?id=7&utm=x#top' });
		expect(tracker.parse(unsub)).toEqual({ kind: 'unsubscribe', data });
	});

	it('keeps a query the base URL already has', () => {
		const t = createTracker({ secrets: ['s1'], baseUrl: 'https://h.example.com/webhook/x/t?src=mail' });
		const u = new URL(t.openUrl(data));
		expect(u.searchParams.get('src')).toBe('mail');
		expect(t.parse(u.href)?.kind).toBe('open');
	});

	it('builds the URL from base URLs with a bare "?", a fragment or an old t parameter', () => {
		for (const [base, expected] of [
			['https://h.example.com/webhook/x/t?', 'https://h.example.com/webhook/x/t?t='],
			['https://h.example.com/webhook/x/t#frag', 'https://h.example.com/webhook/x/t?t='],
			['https://h.example.com/webhook/x/t?t=old&a=b', 'https://h.example.com/webhook/x/t?a=b&t='],
		]) {
			const t = createTracker({ secrets: ['s1'], baseUrl: base });
			const url = t.clickUrl(data, 'https://shop.example.com/');
			expect(url.startsWith(expected)).toBe(true);
			expect(t.parse(url)?.target).toBe('https://shop.example.com/');
		}
	});

	it('parses a query string or a bare token as well as a URL', () => {
		const url = tracker.clickUrl(data, 'https://a.example.com/');
		const t = tokenOf(url);
		expect(tracker.parse(`?t=${t}`)?.target).toBe('https://a.example.com/');
		expect(tracker.parse(`t=${t}&x=1`)?.target).toBe('https://a.example.com/');
		expect(tracker.parse(t)?.target).toBe('https://a.example.com/');
		expect(tracker.parseToken(t)?.kind).toBe('click');
		expect(tracker.parse(`/webhook/5f0c1a/t?t=${t}`)?.kind).toBe('click');
	});

	it('does not show the address, campaign or target in clear, and tokens are URL-safe', () => {
		const url = tracker.clickUrl(data, 'https://secret-target.example.com/');
		const t = tokenOf(url);
		expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
		for (const needle of ['anna', 'schmidt', 'example.de', 'spring', 'Marketing', 'secret-target']) {
			expect(url.toLowerCase()).not.toContain(needle.toLowerCase());
			expect(Buffer.from(t, 'base64url').toString('latin1').toLowerCase()).not.toContain(needle.toLowerCase());
		}
	});

	it('is compact: an open token for typical data stays under 140 characters', () => {
		expect(tracker.token(data).length).toBeLessThan(140);
	});

	it('is deterministic: the message token is the open URL token', () => {
		expect(tracker.token(data)).toBe(tracker.token({ ...data }));
		expect(tokenOf(tracker.openUrl(data))).toBe(tracker.token(data));
		expect(tracker.urlFor(tracker.token(data))).toBe(tracker.openUrl(data));
		expect(tracker.token({ ...data, sentAt: data.sentAt + 1 })).not.toBe(tracker.token(data));
	});
});

describe('tampering and bad input', () => {
	it('changing any single character of a click URL token yields null, never another target', () => {
		const url = tracker.clickUrl(data, 'https://good.example.com/path');
		const t = tokenOf(url);
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
		for (let i = 0; i < t.length; i++) {
			for (const ch of [alphabet[(alphabet.indexOf(t[i]) + 1) % 64], alphabet[(alphabet.indexOf(t[i]) + 37) % 64]]) {
				const forged = t.slice(0, i) + ch + t.slice(i + 1);
				expect(tracker.parse(url.replace(t, forged)), `position ${i}`).toBeNull();
			}
		}
	});

	it('refuses truncated, extended and spliced tokens', () => {
		const t = tracker.token(data);
		expect(tracker.parseToken(t.slice(0, -1))).toBeNull();
		expect(tracker.parseToken(t + 'A')).toBeNull();
		const other = tracker.token({ ...data, email: 'x@y.example.com' });
		expect(tracker.parseToken(t.slice(0, 30) + other.slice(30))).toBeNull();
	});

	it('returns null (never throws) for junk', () => {
		const junk: unknown[] = [
			'',
			'   ',
			'?t=',
			't=%%%',
			'https://track.example.com/webhook/5f0c1a/t',
			'not base64 !!!',
			'AAAA',
			'A'.repeat(TRACKING_TOKEN_MAX_LENGTH + 1),
			'x'.repeat(1_000_000),
			'http://[broken',
			null,
			undefined,
			42,
			{},
		];
		for (const j of junk) {
			expect(tracker.parse(j as string)).toBeNull();
			expect(tracker.parseToken(j as string)).toBeNull();
			expect(tracker.verifyToken(j as string)).toBeNull();
		}
	});

	it('refuses tokens of an unknown secret', () => {
		const stranger = createTracker({ secrets: ['someone else'], baseUrl: BASE });
		expect(tracker.parse(stranger.openUrl(data))).toBeNull();
		expect(tracker.verifyToken(stranger.token(data))).toBeNull();
	});
});

describe('secret rotation and lifetime', () => {
	it('the first secret signs, every secret verifies', () => {
		const old = createTracker({ secrets: ['old secret'], baseUrl: BASE });
		const rotated = createTracker({ secrets: ['new secret', 'old secret'], baseUrl: BASE });
		const oldUrl = old.unsubscribeUrl(data);
		expect(rotated.parse(oldUrl)).toEqual({ kind: 'unsubscribe', data });
		const newUrl = rotated.unsubscribeUrl(data);
		expect(newUrl).not.toBe(oldUrl);
		expect(old.parse(newUrl)).toBeNull();
		const retired = createTracker({ secrets: ['new secret'], baseUrl: BASE });
		expect(retired.parse(oldUrl)).toBeNull();
		expect(retired.parse(newUrl)?.kind).toBe('unsubscribe');
	});

	it('maxAgeDays: older tokens parse to null', () => {
		const sentAt = Date.UTC(2026, 0, 1);
		let clock = sentAt + 29 * 86_400_000;
		const t = createTracker({ secrets: ['s'], baseUrl: BASE, maxAgeDays: 30, now: () => clock });
		const url = t.openUrl({ ...data, sentAt });
		expect(t.parse(url)?.kind).toBe('open');
		clock = sentAt + 31 * 86_400_000;
		expect(t.parse(url)).toBeNull();
		// replies and bounces quote the message token: attributed however old the message is
		expect(t.verifyToken(tokenOf(url))).not.toBeNull();
		const forever = createTracker({ secrets: ['s'], baseUrl: BASE, maxAgeDays: 0 });
		expect(forever.parse(url)?.kind).toBe('open');
	});

	it('rejects bad options and bad data when creating tokens', () => {
		expect(() => createTracker({ secrets: [], baseUrl: BASE })).toThrow(/secret/);
		expect(() => createTracker({ secrets: [''], baseUrl: BASE })).toThrow(/secret/);
		expect(() => createTracker({ secrets: ['s'], baseUrl: 'not a url' })).toThrow();
		expect(() => createTracker({ secrets: ['s'], baseUrl: 'ftp://x.example.com/' })).toThrow(/http/);
		expect(() => tracker.token({ ...data, sentAt: Number.NaN })).toThrow(/sentAt/);
		expect(() => tracker.clickUrl(data, `https://x.example.com/${'a'.repeat(3000)}`)).toThrow(/longer/);
	});
});

describe('message tokens and address keys', () => {
	it('verifyToken accepts the message token and URL tokens, trimmed', () => {
		const t = tracker.token(data);
		expect(tracker.verifyToken(t)).toEqual(data);
		expect(tracker.verifyToken(` ${t}\r\n`)).toEqual(data);
		expect(tracker.verifyToken(tokenOf(tracker.clickUrl(data, 'https://a.example.com/')))).toEqual(data);
	});

	it('addressKey is short, lowercase base32, deterministic and differs per token', () => {
		const t = tracker.token(data);
		const k = tracker.addressKey(t);
		expect(k).toHaveLength(ADDRESS_KEY_LENGTH);
		expect(isAddressKey(k)).toBe(true);
		expect(tracker.addressKey(t)).toBe(k);
		expect(tracker.addressKey(tracker.token({ ...data, email: 'b@example.de' }))).not.toBe(k);
		expect(`reply+${k}`.length).toBeLessThanOrEqual(64);
		expect(createTracker({ secrets: ['other'], baseUrl: BASE }).addressKey(t)).not.toBe(k);
	});

	it('isAddressKey refuses other shapes', () => {
		for (const s of ['', 'ABCDEFGHIJKLMNOPQRST', 'abcdefghijklmnopqrs', 'abcdefghijklmnopqrst1', 'abcdefghijklmnopqrs1', 42]) {
			expect(isAddressKey(s)).toBe(false);
		}
		expect(isAddressKey('abcdefghijklmnopqrs7')).toBe(true);
	});
});

describe('chooseVariant', () => {
	it('is deterministic in normalised email and campaign', () => {
		const v = chooseVariant('Anna@Example.de ', 'c1', ['A', 'B']);
		expect(chooseVariant('anna@example.de', 'c1', ['A', 'B'])).toBe(v);
		expect(chooseVariant('x@example.de', 'c1', [])).toBe('');
		expect(chooseVariant('x@example.de', 'c1', ['only'])).toBe('only');
	});

	it('spreads contacts evenly and reshuffles per campaign', () => {
		const counts: Record<string, number> = { A: 0, B: 0, C: 0 };
		let changed = 0;
		for (let i = 0; i < 3000; i++) {
			const v = chooseVariant(`user${i}@example.com`, 'c1', ['A', 'B', 'C']);
			counts[v]++;
			if (chooseVariant(`user${i}@example.com`, 'c2', ['A', 'B', 'C']) !== v) changed++;
		}
		for (const n of Object.values(counts)) expect(n).toBeGreaterThan(900);
		expect(changed).toBeGreaterThan(1500);
	});
});
