/**
 * People or machines: who produced a tracking hit, from the user agent, the HTTP method, the time
 * since the message was sent and known security gateways' signatures. The rules are data: an ordered table where
 * the first matching rule wins, so a reader can see (and a test can pin) why a hit got its class.
 */
import type { HitClass } from './events';

export type HitKind = 'open' | 'click' | 'unsubscribe';

export interface HitFacts {
	kind: HitKind;
	/** HTTP method, any case. */
	method: string;
	/** The User-Agent header as received; empty or missing is a fact too. */
	userAgent?: string | null;
	/** Epoch ms the message was sent (from the signed token). */
	sentAt?: number;
	/** Epoch ms of the hit. */
	now: number;
}

export interface HitClassOptions {
	/**
	 * A click or unsubscribe page fetch this many seconds (or fewer) after sending is a security gateway following
	 * the link on delivery: no person reads and clicks that fast. 0 turns the rule off.
	 */
	scannerClickSeconds?: number;
	/** Extra user-agent substrings (case-insensitive) to treat as scanners, e.g. an in-house gateway. */
	extraScannerAgents?: string[];
}

export const DEFAULT_SCANNER_CLICK_SECONDS = 30;

export interface HitClassRule {
	/** Stable id, carried on the event as `classRule` so figures can be audited. */
	id: string;
	class: HitClass;
	/** Why the rule holds, for the README and for people reading events. */
	reason: string;
	methods?: string[];
	kinds?: HitKind[];
	/** Matches the user agent (trimmed). */
	agent?: RegExp;
	/** Matches when the user agent is exactly this (trimmed). */
	agentExactly?: string;
	/** Matches when there is no user agent at all. */
	agentMissing?: boolean;
	/** Matches when the hit came within `scannerClickSeconds` of sentAt. */
	soonAfterSend?: boolean;
	/** Matches the extra scanner agents of the options. */
	extraAgents?: boolean;
}

// Security gateways and link scanners that name themselves. Most gateways (Safe Links, Proofpoint) disguise
// themselves as a desktop browser, which is why the method and timing rules exist beside these.
const GATEWAY_AGENTS =
	/proofpoint|urldefense|mimecast|barracuda|safelinks|safe ?links|microsoft defender|\batp\b|ms-?office existence discovery|microsoft office existence|bingpreview|messagelabs|symantec|broadcom|forcepoint|trend ?micro|sophos|fireeye|trellix|ironport|cisco|zscaler|forti(net|guard)|checkpoint|check point|avanan|abnormal ?security|tessian|vade ?secure|hornet ?security|spamtitan|trustwave|appriver|zix|cloudflare-?email|area ?1|libraesva|mailguard|virustotal|urlscan/i;

// HTTP libraries, command-line clients, headless browsers, crawlers and chat link-preview fetchers: nobody reads
// mail with these.
const AUTOMATED_AGENTS =
	/^(curl|wget|python|aiohttp|httpx|go-http-client|java\/|okhttp|apache-httpclient|libwww-perl|lwp|ruby|faraday|axios|node-fetch|node|undici|got|php|guzzle|powershell|winhttp|postman|insomnia|httpie|scrapy)\b|headlesschrome|phantomjs|puppeteer|playwright|selenium|webdriver|electron\/.*headless|\b(bot|crawler|spider|scanner|slurp)\b|bot\/|crawler|spider|facebookexternalhit|slack(bot|-imgproxy)|linkedinbot|twitterbot|whatsapp|telegrambot|discordbot|skypeuripreview|embedly|quora link preview|pinterest|google-?(site-?verification|read-aloud|inspectiontool)|mediapartners/i;

// Webmail image proxies: they fetch the pixel when the person opens the mail, so these are human opens.
const IMAGE_PROXY_AGENTS =
	/googleimageproxy|ggpht\.com|yahoomailproxy|yahoo mail proxy|mail\.ru imageproxy|front-?imageproxy|superhuman|hey-?imageproxy/i;

// Mail clients and browsers: what a person's software sends.
const PERSON_AGENTS =
	/microsoft outlook|outlook-(ios|android)|ms-office|msoffice|thunderbird|applemail|apple ?mail|airmail|spark|mailspring|evolution|kmail|claws|roundcube|^mozilla\/5\.0 \(.+\)/i;

/**
 * The rules in order; the first that matches decides. Exported so the node's documentation and the tests read
 * the same table the classifier runs.
 */
export const HIT_CLASS_RULES: readonly HitClassRule[] = [
	{
		id: 'head-request',
		class: 'scanner',
		reason: 'HEAD asks whether a URL exists without loading it: link checkers and gateways do that, people do not',
		methods: ['HEAD', 'OPTIONS'],
	},
	{
		id: 'image-proxy',
		class: 'image_proxy',
		reason: 'Gmail, Yahoo and other webmail proxies fetch images when the person opens the message',
		agent: IMAGE_PROXY_AGENTS,
	},
	{
		id: 'security-gateway',
		class: 'scanner',
		reason: 'a security gateway or link scanner that names itself in the user agent',
		agent: GATEWAY_AGENTS,
	},
	{
		id: 'extra-scanner-agent',
		class: 'scanner',
		reason: 'a user agent listed as a scanner in the node options',
		extraAgents: true,
	},
	{
		id: 'automated-client',
		class: 'scanner',
		reason: 'an HTTP library, command-line client, headless browser, crawler or link-preview fetcher',
		agent: AUTOMATED_AGENTS,
	},
	{
		id: 'apple-mpp',
		class: 'apple_mpp',
		reason:
			'Apple Mail Privacy Protection prefetches every image soon after delivery (and may re-fetch later) with the bare user agent "Mozilla/5.0"',
		kinds: ['open'],
		agentExactly: 'Mozilla/5.0',
	},
	{
		id: 'bare-agent-click',
		class: 'scanner',
		reason: 'a bare "Mozilla/5.0" following a link is a proxy or scanner, not a browser',
		kinds: ['click', 'unsubscribe'],
		agentExactly: 'Mozilla/5.0',
	},
	{
		id: 'click-soon-after-send',
		class: 'scanner',
		reason: 'a link followed within seconds of sending is a gateway checking it on delivery',
		kinds: ['click', 'unsubscribe'],
		soonAfterSend: true,
	},
	{
		id: 'no-agent-click',
		class: 'scanner',
		reason: 'every browser sends a user agent; a link fetch without one is a program',
		kinds: ['click', 'unsubscribe'],
		agentMissing: true,
	},
	{
		id: 'no-agent-open',
		class: 'unknown',
		reason: 'an image fetch without a user agent could be a mail client or a program',
		kinds: ['open'],
		agentMissing: true,
	},
	{
		id: 'person-software',
		class: 'human',
		reason: 'a mail client or a browser',
		agent: PERSON_AGENTS,
	},
];

export interface HitClassification {
	class: HitClass;
	/** Id of the rule that decided, or `no-rule` when none matched (class `unknown`). */
	rule: string;
}

function ruleMatches(rule: HitClassRule, facts: HitFacts, agent: string, opts: HitClassOptions): boolean {
	if (rule.methods && !rule.methods.includes(facts.method.toUpperCase())) return false;
	if (rule.kinds && !rule.kinds.includes(facts.kind)) return false;
	if (rule.agentMissing !== undefined && rule.agentMissing !== (agent === '')) return false;
	if (rule.agentExactly !== undefined && agent !== rule.agentExactly) return false;
	if (rule.agent && !rule.agent.test(agent)) return false;
	if (rule.extraAgents) {
		const lower = agent.toLowerCase();
		const extra = (opts.extraScannerAgents ?? []).map((s) => s.trim().toLowerCase()).filter(Boolean);
		if (!extra.some((s) => lower.includes(s))) return false;
	}
	if (rule.soonAfterSend) {
		const window = opts.scannerClickSeconds ?? DEFAULT_SCANNER_CLICK_SECONDS;
		if (!(window > 0) || facts.sentAt === undefined || !Number.isFinite(facts.sentAt)) return false;
		const elapsed = (facts.now - facts.sentAt) / 1000;
		// A hit "before" sending (clock skew between hosts) counts as soon after it.
		if (elapsed > window) return false;
	}
	return true;
}

/** Classifies one hit by the first matching rule of `rules` (the built-in table unless given). */
export function classifyHit(facts: HitFacts, opts: HitClassOptions = {}, rules: readonly HitClassRule[] = HIT_CLASS_RULES): HitClassification {
	// Long agents are cut before matching: the regexes stay linear, and 512 characters hold every real one.
	const agent = (facts.userAgent ?? '').slice(0, 512).trim();
	for (const rule of rules) {
		if (ruleMatches(rule, facts, agent, opts)) return { class: rule.class, rule: rule.id };
	}
	return { class: 'unknown', rule: 'no-rule' };
}

/** Machine hits are the ones the node may answer without starting an execution. */
export function isMachineHit(cls: HitClass): boolean {
	return cls === 'apple_mpp' || cls === 'scanner';
}

// ---- forwards -------------------------------------------------------------------------------------------------

/**
 * A reader of one message as far as a hit shows it: the network it came from (IPv4 /24, IPv6 /48) and the family of
 * its software (client and operating system, versions left out). A token is per recipient, so the same token read
 * by clearly different readers is the only honest trace of a forward.
 */
export interface ReaderKey {
	/** `203.0.113.0/24` or `2001:db8:85a3::/48`. */
	network: string;
	/** `outlook/windows`, `applemail/ios`, `chrome/android`, … */
	agent: string;
}

/**
 * How many distinct readers of one token are taken for the recipient's own devices (a phone and a computer) before
 * another distinct reader counts as a forward. Higher undercounts forwards; lower counts multi-device reading as
 * forwards.
 */
export const FORWARD_OWN_READERS = 2;

const CLIENT_FAMILIES: ReadonlyArray<readonly [string, RegExp]> = [
	['outlook', /microsoft outlook|outlook-(ios|android)|ms-?office|msoffice/i],
	['thunderbird', /thunderbird/i],
	['edge', /\bedg(e|a|ios)?\//i],
	['opera', /\bopr\/|opera/i],
	['firefox', /firefox\/|fxios\//i],
	['chrome', /chrome\/|crios\//i],
	['safari', /version\/[\d.]+.*safari\//i],
	['applemail', /applemail|apple ?mail|applewebkit\/[\d.]+ \(khtml, like gecko\)( mobile\/\w+)?$/i],
];

const OS_FAMILIES: ReadonlyArray<readonly [string, RegExp]> = [
	['windows', /windows/i],
	['ios', /iphone|ipad|ipod/i],
	['android', /android/i],
	['macos', /macintosh|mac os x/i],
	['linux', /linux|x11|cros/i],
];

function familyOf(agent: string, families: ReadonlyArray<readonly [string, RegExp]>): string {
	for (const [name, re] of families) if (re.test(agent)) return name;
	return 'other';
}

/** The /24 of an IPv4 address (also IPv4-mapped IPv6), the /48 of an IPv6 address; undefined for anything else. */
export function networkOf(ip: unknown): string | undefined {
	if (typeof ip !== 'string') return undefined;
	let a = ip.trim().toLowerCase();
	if (a.length === 0 || a.length > 64) return undefined;
	const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
	if (mapped) a = mapped[1];
	const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
	if (v4) {
		const octets = v4.slice(1).map(Number);
		if (octets.some((o) => o > 255)) return undefined;
		return `${octets[0]}.${octets[1]}.${octets[2]}.0/24`;
	}
	a = a.replace(/%.*$/, ''); // zone index
	if (!/^[0-9a-f:]+$/.test(a) || !a.includes(':')) return undefined;
	const halves = a.split('::');
	if (halves.length > 2) return undefined;
	const head = halves[0] ? halves[0].split(':') : [];
	const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
	if ([...head, ...tail].some((g) => g.length === 0 || g.length > 4)) return undefined;
	const missing = 8 - head.length - tail.length;
	if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
	const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
	return `${groups
		.slice(0, 3)
		.map((g) => parseInt(g, 16).toString(16))
		.join(':')}::/48`;
}

/**
 * The reader key of a hit, or undefined when it cannot tell readers apart: no usable address, or software of
 * neither a known client nor a known system (an unknown reader is never counted as a different one).
 */
export function readerKey(ip: unknown, userAgent: unknown): ReaderKey | undefined {
	const network = networkOf(ip);
	if (!network) return undefined;
	const agent = typeof userAgent === 'string' ? userAgent.slice(0, 512).trim() : '';
	const client = familyOf(agent, CLIENT_FAMILIES);
	const os = familyOf(agent, OS_FAMILIES);
	if (client === 'other' && os === 'other') return undefined;
	return { network, agent: `${client}/${os}` };
}

/**
 * The distinct readers among a token's earlier human hits, in the order given (oldest first): a hit is a new reader
 * only when it shares neither its network nor its software family with any reader before it.
 */
export function distinctReaders(hits: readonly ReaderKey[]): ReaderKey[] {
	const readers: ReaderKey[] = [];
	for (const h of hits) {
		if (readers.every((r) => r.network !== h.network && r.agent !== h.agent)) readers.push(h);
	}
	return readers;
}

/**
 * The forward rule: a human open or click is a forward when its token already has at least FORWARD_OWN_READERS
 * distinct readers (oldest first) and this hit shares neither network nor software family with any of them. Only
 * human hits go in: Apple MPP, image proxies and scanners fetch from shared networks with shared agents.
 */
export function isForwardedHit(earlier: readonly ReaderKey[], hit: ReaderKey, ownReaders = FORWARD_OWN_READERS): boolean {
	const readers = distinctReaders(earlier);
	return readers.length >= ownReaders && readers.every((r) => r.network !== hit.network && r.agent !== hit.agent);
}
