/**
 * Forwards as far as they can be observed: the reader of a human hit (network and software family), the rule that
 * calls a third clearly different reader of one token a forward, and template 4's copy of that rule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distinctReaders, FORWARD_OWN_READERS, isForwardedHit, networkOf, readerKey, type ReaderKey } from '../../core/hitClass';
import { createTracker, type TrackingData } from '../../core/tracker';
import { handleTrackingRequest } from '../../core/trackingHttp';

const OUTLOOK_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';
const IOS_MAIL = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const MAC_MAIL = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)';
const THUNDERBIRD_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2';
const ANDROID_CHROME = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';

describe('the reader of a hit', () => {
	it('is the /24 of an IPv4 address (mapped too) and the /48 of an IPv6 address', () => {
		expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
		expect(networkOf('::ffff:203.0.113.77')).toBe('203.0.113.0/24');
		expect(networkOf('2001:db8:85a3:1:2:3:4:5')).toBe('2001:db8:85a3::/48');
		expect(networkOf('2001:DB8::1')).toBe('2001:db8:0::/48');
		expect(networkOf('fe80::1%eth0')).toBe('fe80:0:0::/48');
		for (const bad of ['', '300.1.1.1', '1.2.3', 'example.com', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', undefined, 42])
			expect(networkOf(bad), String(bad)).toBeUndefined();
	});

	it('has the client and system family, versions left out; unknown software is no reader', () => {
		expect(readerKey('198.51.100.7', OUTLOOK_WIN)?.agent).toBe('edge/windows');
		expect(readerKey('198.51.100.7', 'Microsoft Outlook 16.0.17928; Windows NT 10.0')?.agent).toBe('outlook/windows');
		expect(readerKey('198.51.100.7', IOS_MAIL)?.agent).toBe('applemail/ios');
		expect(readerKey('198.51.100.7', MAC_MAIL)?.agent).toBe('applemail/macos');
		expect(readerKey('198.51.100.7', THUNDERBIRD_LINUX)?.agent).toBe('thunderbird/linux');
		expect(readerKey('198.51.100.7', ANDROID_CHROME)?.agent).toBe('chrome/android');
		expect(readerKey('198.51.100.7', 'Mozilla/5.0')).toBeUndefined();
		expect(readerKey('', IOS_MAIL)).toBeUndefined();
	});

	it('is on human opens and clicks only: not on Apple privacy prefetches, proxies or scanners', () => {
		const base = 'https://track.example.com/t';
		const tracker = createTracker({ secrets: ['a-signing-secret-of-enough-length'], baseUrl: base });
		const data: TrackingData = { email: 'a@b.example', campaign: 'c', batchTag: '', variant: '', sentAt: Date.now() - 3_600_000 };
		const t = new URL(tracker.openUrl(data)).searchParams.get('t');
		const hit = (ua: string) =>
			handleTrackingRequest({ method: 'GET', query: { t }, headers: { 'user-agent': ua }, ip: '198.51.100.7', now: Date.now() }, tracker).event;
		expect(hit(IOS_MAIL)).toMatchObject({ class: 'human', readerNetwork: '198.51.100.0/24', readerAgent: 'applemail/ios' });
		for (const ua of ['Mozilla/5.0', 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)', 'curl/8.5.0']) {
			expect(hit(ua)?.class).not.toBe('human');
			expect(hit(ua)).not.toHaveProperty('readerNetwork');
		}
	});
});

const r = (network: string, agent: string): ReaderKey => ({ network, agent });
const PHONE = r('100.64.1.0/24', 'applemail/ios');
const LAPTOP = r('198.51.100.0/24', 'outlook/windows');

describe('the forward rule', () => {
	it('takes the recipient reading on a phone, a laptop and again from home for one reader set: no forward', () => {
		const home = r('203.0.113.0/24', 'outlook/windows');
		const otherCellTower = r('100.64.9.0/24', 'applemail/ios');
		expect(isForwardedHit([], PHONE)).toBe(false);
		expect(isForwardedHit([PHONE], LAPTOP)).toBe(false);
		expect(isForwardedHit([PHONE, LAPTOP], home)).toBe(false);
		expect(isForwardedHit([PHONE, LAPTOP, home], otherCellTower)).toBe(false);
	});

	it('calls a third reader sharing neither network nor software with the first two a forward', () => {
		const colleague = r('192.0.2.0/24', 'thunderbird/linux');
		expect(isForwardedHit([PHONE, LAPTOP], colleague)).toBe(true);
		expect(FORWARD_OWN_READERS).toBe(2);
		expect(isForwardedHit([PHONE, LAPTOP], colleague, 3)).toBe(false);
	});

	const key = fc.record({ network: fc.constantFrom('a', 'b', 'c', 'd', 'e'), agent: fc.constantFrom('p', 'q', 'r', 's') });

	it('never calls a hit sharing a network or a software family with an earlier reader a forward', () => {
		fc.assert(
			fc.property(fc.array(key, { maxLength: 12 }), key, (earlier, hit) => {
				const shares = distinctReaders(earlier).some((k) => k.network === hit.network || k.agent === hit.agent);
				if (shares) expect(isForwardedHit(earlier, hit)).toBe(false);
			}),
			{ numRuns: 200 },
		);
	});

	it('counts fewer forwards, never more, as the allowance for own devices grows', () => {
		fc.assert(
			fc.property(fc.array(key, { maxLength: 12 }), key, fc.integer({ min: 0, max: 4 }), (earlier, hit, own) => {
				if (isForwardedHit(earlier, hit, own + 1)) expect(isForwardedHit(earlier, hit, own)).toBe(true);
			}),
			{ numRuns: 200 },
		);
	});

	it('distinct readers share nothing pairwise, and every hit shares something with one of them', () => {
		fc.assert(
			fc.property(fc.array(key, { maxLength: 15 }), (hits) => {
				const readers = distinctReaders(hits);
				for (let i = 0; i < readers.length; i++)
					for (let j = i + 1; j < readers.length; j++) {
						expect(readers[i].network).not.toBe(readers[j].network);
						expect(readers[i].agent).not.toBe(readers[j].agent);
					}
				for (const h of hits) expect(readers.some((k) => k.network === h.network || k.agent === h.agent)).toBe(true);
			}),
			{ numRuns: 150 },
		);
	});
});

type Json = Record<string, unknown>;

/** Runs template 4's "Forwarded?" Code node with n8n's `$input` and `$()` for one hit and the rows looked up before it. */
function templateRule(file: string): (hit: Json, rows: Json[]) => boolean {
	const wf = JSON.parse(readFileSync(join(__dirname, '..', '..', 'workflows', file), 'utf8')) as { nodes: Array<Json & { parameters: Json }> };
	const code = String(wf.nodes.find((n) => n.name === 'Forwarded?')?.parameters.jsCode);
	const run = new Function('$input', '$', code) as (input: unknown, dollar: unknown) => Array<{ json: Json }>;
	return (hit, rows) => {
		const out = run({ all: () => rows.map((json) => ({ json })) }, (name: string) => {
			expect(name).toBe('Tracking hits');
			return { first: () => ({ json: hit }) };
		});
		expect(out).toHaveLength(1);
		expect(out[0].json).toMatchObject(hit);
		return out[0].json.forwarded as boolean;
	};
}

describe("template 4's Forwarded? node", () => {
	for (const file of ['4-tracking-events.json', 'postgres/4-tracking-events.json']) {
		it(`${file}: decides as isForwardedHit on the earlier rows, in time order, whatever order they come in`, () => {
			const rule = templateRule(file);
			const row = fc.record({
				network: fc.constantFrom('n1', 'n2', 'n3', 'n4', ''),
				agent: fc.constantFrom('a1', 'a2', 'a3', 'a4'),
				minute: fc.integer({ min: 0, max: 10_000 }),
			});
			fc.assert(
				fc.property(
					fc.uniqueArray(row, { maxLength: 10, selector: (x) => x.minute }),
					fc.constantFrom('n1', 'n2', 'n5', ''),
					fc.constantFrom('a1', 'a5'),
					(rows, network, agent) => {
						const stored = rows.map((x, i) => ({
							eventId: `e${i}`,
							at: new Date(Date.UTC(2026, 0, 1) + x.minute * 60_000).toISOString(),
							readerNetwork: x.network,
							readerAgent: x.agent,
						}));
						const earlier = [...rows]
							.sort((a, b) => a.minute - b.minute)
							.filter((x) => x.network)
							.map((x) => r(x.network, x.agent));
						const hit = { id: 'now', type: 'opened', readerNetwork: network, readerAgent: agent };
						const expected = network !== '' && isForwardedHit(earlier, r(network, agent));
						expect(rule(hit, stored)).toBe(expected);
						// The hit's own row (a replay of the same event) is never an earlier reader.
						expect(rule(hit, [...stored, { eventId: 'now', at: stored[0]?.at, readerNetwork: 'zz', readerAgent: 'zz' }])).toBe(expected);
					},
				),
				{ numRuns: 150 },
			);
			// The empty item a look-up without rows gives (Always Output Data) changes nothing.
			expect(rule({ id: 'x', readerNetwork: 'n1', readerAgent: 'a1' }, [{}])).toBe(false);
		});
	}
});
