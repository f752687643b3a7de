/**
 * Attribution: which of our sent messages (token) or which substitute address (plus-tag) a message belongs to.
 * Token and key shapes are those written by the sender (core/tracker.ts): Message-ID `<TOKEN@domain>` and
 * `X-Cadence-Token: TOKEN` (base64url), Reply-To `reply+KEY@` and envelope sender `bounce+KEY@` (base32 KEY).
 */
import type { ClassifyOptions, ClassifyTokenData, ClassifyUtm } from './types';

const MSGID_TOKEN_RE = /<([A-Za-z0-9_-]{32,512})@[^<>\s]+>/g;
const HEADER_TOKEN_RE = /x-cadence-token:[ \t]*([A-Za-z0-9_-]{16,4096})/gi;
const KEY_RE = /(?:^|[<\s,:;"'])(?:reply|bounce)\+([a-z2-7]{8,64})@([a-z0-9.-]+)/gi;

/** Message-ID shaped ids that are clearly not ours (without a verifier we only have the shape to go on). */
function plausibleUnverified(token: string): boolean {
	return token.length >= 40 && /[A-Z]/.test(token) && /[a-z]/.test(token) && /\d/.test(token);
}

export interface TokenMatch {
	token: string;
	data?: ClassifyTokenData;
}

/** Token candidates in a text, header-named tokens first; verified when a verifier is given. */
export function findToken(texts: string[], options: ClassifyOptions): TokenMatch | null {
	const candidates: string[] = [];
	for (const text of texts) {
		if (!text) continue;
		HEADER_TOKEN_RE.lastIndex = 0;
		let m: RegExpExecArray | null;
		while ((m = HEADER_TOKEN_RE.exec(text)) !== null && candidates.length < 50) candidates.push(m[1]);
	}
	for (const text of texts) {
		if (!text) continue;
		MSGID_TOKEN_RE.lastIndex = 0;
		let m: RegExpExecArray | null;
		while ((m = MSGID_TOKEN_RE.exec(text)) !== null && candidates.length < 100) candidates.push(m[1]);
	}
	const seen = new Set<string>();
	for (const token of candidates) {
		if (seen.has(token)) continue;
		seen.add(token);
		if (options.verifyToken) {
			let data: ClassifyTokenData | null = null;
			try {
				data = options.verifyToken(token);
			} catch {
				data = null;
			}
			if (data) return { token, data };
		} else if (plausibleUnverified(token)) return { token };
	}
	return null;
}

function ownDomains(options: ClassifyOptions): Set<string> {
	const out = new Set<string>();
	for (const a of options.ownAddresses ?? []) {
		const v = a.trim().toLowerCase();
		out.add(v.includes('@') ? v.slice(v.lastIndexOf('@') + 1) : v.replace(/^@/, ''));
	}
	return out;
}

/** KEY of a reply+KEY@ / bounce+KEY@ address in the texts (restricted to our domains when they are known). */
export function findAddressKey(texts: string[], options: ClassifyOptions): string | undefined {
	const domains = ownDomains(options);
	for (const text of texts) {
		if (!text) continue;
		KEY_RE.lastIndex = 0;
		let m: RegExpExecArray | null;
		while ((m = KEY_RE.exec(text)) !== null) {
			if (domains.size > 0 && !domains.has(m[2].toLowerCase().replace(/\.$/, ''))) continue;
			return m[1].toLowerCase();
		}
	}
	return undefined;
}

export interface SubstituteMatch {
	plusTag: string;
	channel?: string;
	utm?: ClassifyUtm;
	address: string;
}

/**
 * A substitute address among the recipients: `base+tag@domain` where `base@domain` (or the whole domain) is ours.
 * Static tags map to a channel, dynamic tags to a visit's UTM fields; an unknown tag on our address is still a
 * substitute address (channel unknown), as a lead must not be lost because the mapping is late.
 */
export function findSubstitute(recipients: string[], options: ClassifyOptions): SubstituteMatch | null {
	const own = (options.ownAddresses ?? []).map((a) => a.trim().toLowerCase());
	if (own.length === 0) return null;
	const statics = lowerKeys(options.substituteChannels);
	const dynamics = lowerKeys(options.dynamicTags);
	for (const address of recipients) {
		const at = address.lastIndexOf('@');
		const plus = address.indexOf('+');
		if (at < 0 || plus < 0 || plus > at) continue;
		const base = address.slice(0, plus);
		const domain = address.slice(at + 1);
		const tag = address.slice(plus + 1, at);
		if (!tag || base === 'reply' || base === 'bounce') continue;
		const ours = own.some((o) => (o.includes('@') ? o === `${base}@${domain}` : o.replace(/^@/, '') === domain));
		if (!ours) continue;
		const st = statics[tag];
		if (st) return { plusTag: tag, channel: st.channel, utm: st.utm ? { ...st.utm } : undefined, address };
		const dy = dynamics[tag];
		if (dy) return { plusTag: tag, channel: dy.channel, utm: dy.utm ? { ...dy.utm } : undefined, address };
		return { plusTag: tag, address };
	}
	return null;
}

function lowerKeys<T>(map: Record<string, T> | undefined): Record<string, T> {
	const out: Record<string, T> = {};
	if (!map) return out;
	for (const [k, v] of Object.entries(map)) out[k.toLowerCase()] = v;
	return out;
}
