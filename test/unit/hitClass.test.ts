import { describe, expect, it } from 'vitest';
import { classifyHit, HIT_CLASS_RULES, isMachineHit, type HitKind } from '../../core/hitClass';
import type { HitClass } from '../../core/events';

const SENT = Date.UTC(2026, 10, 20, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// User agents as these clients send them. The gateway strings that name their vendor are examples of the
// signatures the rules look for; disguised gateways (Safe Links, Proofpoint) are caught by method and timing.
const UA = {
	appleMpp: 'Mozilla/5.0',
	appleMailMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
	iosMail: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
	gmailProxy: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
	yahooProxy: 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html',
	outlookDesktop: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)',
	outlookIos: 'Outlook-iOS/723.4027091.prod.iphone (4.2425.0)',
	thunderbird: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.4.2',
	chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
	edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
	safariIos:
		'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
	firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
	officeDiscovery: 'Microsoft Office Existence Discovery',
	bingPreview: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b',
	proofpoint: 'Mozilla/5.0 (compatible; Proofpoint URL Defense)',
	mimecast: 'Mozilla/5.0 (compatible; Mimecast URL Protect)',
	barracuda: 'Mozilla/5.0 (compatible; Barracuda Sentinel)',
	curl: 'curl/8.5.0',
	wget: 'Wget/1.21.4',
	pythonRequests: 'python-requests/2.32.3',
	goClient: 'Go-http-client/1.1',
	java: 'Java/17.0.9',
	okhttp: 'okhttp/4.12.0',
	headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
	googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
	slack: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
	facebook: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
};

interface Case {
	name: string;
	kind: HitKind;
	method?: string;
	ua: string | undefined;
	/** ms after sending */
	after?: number;
	expected: HitClass;
	rule: string;
}

const CASES: Case[] = [
	// opens
	{ name: 'Apple MPP prefetch at delivery', kind: 'open', ua: UA.appleMpp, after: 5_000, expected: 'apple_mpp', rule: 'apple-mpp' },
	{ name: 'Apple MPP re-fetch a day later', kind: 'open', ua: UA.appleMpp, after: 24 * HOUR, expected: 'apple_mpp', rule: 'apple-mpp' },
	{ name: 'Apple MPP with padding', kind: 'open', ua: '  Mozilla/5.0 ', expected: 'apple_mpp', rule: 'apple-mpp' },
	{ name: 'Apple Mail on a Mac, MPP off', kind: 'open', ua: UA.appleMailMac, after: HOUR, expected: 'human', rule: 'person-software' },
	{ name: 'iOS Mail, MPP off', kind: 'open', ua: UA.iosMail, after: HOUR, expected: 'human', rule: 'person-software' },
	{ name: 'Gmail image proxy', kind: 'open', ua: UA.gmailProxy, after: 2 * HOUR, expected: 'image_proxy', rule: 'image-proxy' },
	{
		name: 'Gmail image proxy right after sending (still a person opening)',
		kind: 'open',
		ua: UA.gmailProxy,
		after: 3_000,
		expected: 'image_proxy',
		rule: 'image-proxy',
	},
	{ name: 'Yahoo mail proxy', kind: 'open', ua: UA.yahooProxy, after: HOUR, expected: 'image_proxy', rule: 'image-proxy' },
	{ name: 'Outlook desktop', kind: 'open', ua: UA.outlookDesktop, after: HOUR, expected: 'human', rule: 'person-software' },
	{ name: 'Outlook for iOS', kind: 'open', ua: UA.outlookIos, after: HOUR, expected: 'human', rule: 'person-software' },
	{ name: 'Thunderbird', kind: 'open', ua: UA.thunderbird, after: HOUR, expected: 'human', rule: 'person-software' },
	{ name: 'webmail in Chrome', kind: 'open', ua: UA.chrome, after: HOUR, expected: 'human', rule: 'person-software' },
	{ name: 'open fetched with HEAD', kind: 'open', method: 'HEAD', ua: UA.outlookDesktop, after: HOUR, expected: 'scanner', rule: 'head-request' },
	{ name: 'Proofpoint fetching the pixel', kind: 'open', ua: UA.proofpoint, after: 2_000, expected: 'scanner', rule: 'security-gateway' },
	{ name: 'curl on the pixel', kind: 'open', ua: UA.curl, expected: 'scanner', rule: 'automated-client' },
	{ name: 'pixel without user agent', kind: 'open', ua: undefined, after: HOUR, expected: 'unknown', rule: 'no-agent-open' },
	{ name: 'pixel with an unheard-of agent', kind: 'open', ua: 'SomeMailer 2.0', after: HOUR, expected: 'unknown', rule: 'no-rule' },
	// clicks
	{ name: 'person clicks in Chrome an hour later', kind: 'click', ua: UA.chrome, after: HOUR, expected: 'human', rule: 'person-software' },
	{ name: 'person clicks in Safari on iOS', kind: 'click', ua: UA.safariIos, after: 10 * MINUTE, expected: 'human', rule: 'person-software' },
	{ name: 'person clicks in Firefox', kind: 'click', ua: UA.firefox, after: 45_000, expected: 'human', rule: 'person-software' },
	{
		name: 'Safe Links: Edge look-alike within seconds of sending',
		kind: 'click',
		ua: UA.edge,
		after: 4_000,
		expected: 'scanner',
		rule: 'click-soon-after-send',
	},
	{ name: 'Safe Links: HEAD check', kind: 'click', method: 'HEAD', ua: UA.edge, after: HOUR, expected: 'scanner', rule: 'head-request' },
	{ name: 'clock skew: click "before" sending', kind: 'click', ua: UA.chrome, after: -2_000, expected: 'scanner', rule: 'click-soon-after-send' },
	{ name: 'Microsoft Office existence discovery', kind: 'click', ua: UA.officeDiscovery, after: HOUR, expected: 'scanner', rule: 'security-gateway' },
	{ name: 'Outlook.com link preview (BingPreview)', kind: 'click', ua: UA.bingPreview, after: HOUR, expected: 'scanner', rule: 'security-gateway' },
	{ name: 'Proofpoint URL Defense', kind: 'click', ua: UA.proofpoint, after: HOUR, expected: 'scanner', rule: 'security-gateway' },
	{ name: 'Mimecast URL Protect', kind: 'click', ua: UA.mimecast, after: HOUR, expected: 'scanner', rule: 'security-gateway' },
	{ name: 'Barracuda', kind: 'click', ua: UA.barracuda, after: HOUR, expected: 'scanner', rule: 'security-gateway' },
	{ name: 'curl', kind: 'click', ua: UA.curl, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'wget', kind: 'click', ua: UA.wget, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'python-requests', kind: 'click', ua: UA.pythonRequests, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'Go client', kind: 'click', ua: UA.goClient, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'Java client', kind: 'click', ua: UA.java, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'okhttp', kind: 'click', ua: UA.okhttp, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'headless Chrome', kind: 'click', ua: UA.headless, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'Googlebot', kind: 'click', ua: UA.googlebot, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'Slack link preview', kind: 'click', ua: UA.slack, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'Facebook link preview', kind: 'click', ua: UA.facebook, after: HOUR, expected: 'scanner', rule: 'automated-client' },
	{ name: 'bare Mozilla/5.0 following a link', kind: 'click', ua: UA.appleMpp, after: HOUR, expected: 'scanner', rule: 'bare-agent-click' },
	{ name: 'click without user agent', kind: 'click', ua: '', after: HOUR, expected: 'scanner', rule: 'no-agent-click' },
	// unsubscribe
	{
		name: 'unsubscribe by a person',
		kind: 'unsubscribe',
		method: 'POST',
		ua: UA.chrome,
		after: 3 * HOUR,
		expected: 'human',
		rule: 'person-software',
	},
	{
		name: 'unsubscribe page fetched by a gateway on delivery',
		kind: 'unsubscribe',
		ua: UA.edge,
		after: 1_000,
		expected: 'scanner',
		rule: 'click-soon-after-send',
	},
];

describe('people or machines: real user agents', () => {
	it.each(CASES)('$name → $expected ($rule)', (c) => {
		const result = classifyHit({
			kind: c.kind,
			method: c.method ?? 'GET',
			userAgent: c.ua,
			sentAt: SENT,
			now: SENT + (c.after ?? HOUR),
		});
		expect(result).toEqual({ class: c.expected, rule: c.rule });
	});

	it('every rule in the table is exercised by a case above', () => {
		const used = new Set(CASES.map((c) => c.rule));
		const unused = HIT_CLASS_RULES.map((r) => r.id).filter((id) => id !== 'extra-scanner-agent' && !used.has(id));
		expect(unused).toEqual([]);
		// ids are unique: events carry them for audits
		expect(new Set(HIT_CLASS_RULES.map((r) => r.id)).size).toBe(HIT_CLASS_RULES.length);
	});
});

describe('options', () => {
	const click = (after: number, opts = {}) =>
		classifyHit({ kind: 'click', method: 'GET', userAgent: UA.chrome, sentAt: SENT, now: SENT + after }, opts);

	it('the click window is configurable and 0 turns it off', () => {
		expect(click(29_000).class).toBe('scanner');
		expect(click(31_000).class).toBe('human');
		expect(click(90_000, { scannerClickSeconds: 120 }).class).toBe('scanner');
		expect(click(1_000, { scannerClickSeconds: 0 }).class).toBe('human');
	});

	it('the window does not apply to opens (a person may open at once; proxies are told by agent)', () => {
		expect(classifyHit({ kind: 'open', method: 'GET', userAgent: UA.chrome, sentAt: SENT, now: SENT + 1_000 }).class).toBe('human');
	});

	it('without sentAt the timing rule cannot fire', () => {
		expect(classifyHit({ kind: 'click', method: 'GET', userAgent: UA.chrome, now: SENT }).class).toBe('human');
	});

	it('extra scanner agents, case-insensitive, blanks ignored', () => {
		const opts = { extraScannerAgents: ['  ', 'ACME-LinkGuard'] };
		const hit = classifyHit({ kind: 'click', method: 'GET', userAgent: 'Mozilla/5.0 (X11) acme-linkguard/3', sentAt: SENT, now: SENT + HOUR }, opts);
		expect(hit).toEqual({ class: 'scanner', rule: 'extra-scanner-agent' });
		expect(click(HOUR, opts).class).toBe('human');
	});

	it('method case does not matter; huge agents are cut, not choked on', () => {
		expect(classifyHit({ kind: 'open', method: 'head', userAgent: UA.chrome, now: SENT }).class).toBe('scanner');
		const huge = 'Mozilla/5.0 (' + 'x'.repeat(200_000);
		expect(classifyHit({ kind: 'open', method: 'GET', userAgent: huge, now: SENT }).class).toBe('unknown');
	});

	it('machine hits are apple_mpp and scanner only', () => {
		expect((['human', 'apple_mpp', 'image_proxy', 'scanner', 'unknown'] as HitClass[]).filter(isMachineHit)).toEqual(['apple_mpp', 'scanner']);
	});
});
