/**
 * Attribution: which of our sent messages (token) or which substitute address (plus or dotted tag) a message belongs to.
 * Token and key shapes are those written by the sender (core/tracker.ts): Message-ID `<TOKEN@domain>` and
 * `X-Cadence-Token: TOKEN` (base64url), Reply-To `reply+KEY@` and envelope sender `bounce+KEY@` (base32 KEY).
 */
import type { ClassifyOptions, ClassifyTokenData, ClassifyUtm } from './types';
import { ADDRESS_KEY_LENGTH } from '../tracker';
import { readVisitorTag, VISITOR_LOCAL_PART_MAX, VISITOR_TAG_PREFIX } from '../visitorAddress';

const MSGID_TOKEN_RE = /<([A-Za-z0-9_-]{32,512})@[^<>\s]+>/g;
const HEADER_TOKEN_RE = /x-cadence-token:[ \t]*([A-Za-z0-9_-]{16,4096})/gi;
const KEY_RE = /(?:^|[<\s,:;"'])(?:reply|bounce)\+([a-z2-7]{8,64})@([a-z0-9.-]+)/gi;
/**
 * KEY after one of our own addresses' local parts (`inbox+KEY@`, as the Reply-To Plus-Address option writes it for an
 * address): only the exact key length counts, and only when `inbox@domain` is one of the own addresses.
 */
const OWN_KEY_RE = new RegExp(`(?:^|[<\\s,:;"'])([a-z0-9._=-]{1,64})\\+([a-z2-7]{${ADDRESS_KEY_LENGTH}})@([a-z0-9.-]+)`, 'gi');

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

/**
 * KEY of a reply+KEY@ / bounce+KEY@ address in the texts (restricted to our domains when they are known), or of
 * an own address with the key after a plus (`inbox+KEY@domain` when `inbox@domain` is ours).
 */
export function findAddressKey(texts: string[], options: ClassifyOptions): string | undefined {
	const domains = ownDomains(options);
	const own = new Set((options.ownAddresses ?? []).map((a) => a.trim().toLowerCase()).filter((a) => a.includes('@')));
	for (const text of texts) {
		if (!text) continue;
		KEY_RE.lastIndex = 0;
		let m: RegExpExecArray | null;
		while ((m = KEY_RE.exec(text)) !== null) {
			if (domains.size > 0 && !domains.has(m[2].toLowerCase().replace(/\.$/, ''))) continue;
			return m[1].toLowerCase();
		}
		if (own.size === 0) continue;
		OWN_KEY_RE.lastIndex = 0;
		while ((m = OWN_KEY_RE.exec(text)) !== null) {
			if (own.has(`${m[1]}@${m[3]}`.toLowerCase().replace(/\.$/, ''))) return m[2].toLowerCase();
		}
	}
	return undefined;
}

/** Characters that may join one of our local parts to a tag (`info+ads@`, `info.ads@`, `info-ads@`, ...). */
export const SUBSTITUTE_SEPARATOR_CHARS = '+.-_=';
/** Separators recognised unless configured: the plus form and the dotted form. */
export const DEFAULT_SUBSTITUTE_SEPARATORS = '+.';
/** Longest local part looked at (RFC 5321 section 4.5.3.1.1); longer recipients are no substitute addresses. */
export const SUBSTITUTE_LOCAL_PART_MAX = VISITOR_LOCAL_PART_MAX;

/** Substitute-address settings beside ClassifyOptions' own (own addresses, static and dynamic tags). */
export interface SubstituteOptions {
	/** Separator characters, from SUBSTITUTE_SEPARATOR_CHARS (others are ignored); DEFAULT_SUBSTITUTE_SEPARATORS when absent. */
	substituteSeparators?: string;
	/** The secret visitor addresses are signed with (core/visitorAddress.ts); without it `v-` tags are unknown tags. */
	visitorSecret?: string;
}

export interface SubstituteMatch {
	plusTag: string;
	channel?: string;
	utm?: ClassifyUtm;
	/** A visitor address: the visitor id its code carries. */
	visitorId?: string;
	/** The separator between our local part and the tag. */
	separator: string;
	address: string;
}

interface OwnAddresses {
	full: Set<string>;
	domains: Set<string>;
}

function ownOf(options: ClassifyOptions): OwnAddresses {
	const own: OwnAddresses = { full: new Set(), domains: new Set() };
	for (const a of options.ownAddresses ?? []) {
		const v = String(a).trim().toLowerCase();
		if (v.includes('@') && !v.startsWith('@')) own.full.add(v);
		else if (v) own.domains.add(v.replace(/^@/, ''));
	}
	return own;
}

function separatorsOf(options: SubstituteOptions): string {
	const configured = typeof options.substituteSeparators === 'string' ? options.substituteSeparators : DEFAULT_SUBSTITUTE_SEPARATORS;
	return [...new Set(configured)].filter((c) => SUBSTITUTE_SEPARATOR_CHARS.includes(c)).join('');
}

type TagInfo = { channel?: string; utm?: ClassifyUtm; visitorId?: string };

/** A tag's channel and UTM fields: a static tag, a dynamic tag, or a genuine visitor code (its id's dynamic entry fills gaps). */
function resolveTag(
	tag: string,
	statics: Record<string, { channel: string; utm?: ClassifyUtm }>,
	dynamics: Record<string, { channel?: string; utm?: ClassifyUtm }>,
	secret: string | undefined,
): TagInfo | null {
	const known = statics[tag] ?? dynamics[tag];
	if (known) return { ...(known.channel ? { channel: known.channel } : {}), ...(known.utm ? { utm: { ...known.utm } } : {}) };
	if (!secret || !tag.startsWith(VISITOR_TAG_PREFIX)) return null;
	const visit = readVisitorTag(tag, secret);
	if (!visit) return null;
	const mapped = visit.visitorId ? dynamics[visit.visitorId.toLowerCase()] : undefined;
	const utm = { ...(mapped?.utm ?? {}), ...(visit.utm ?? {}) };
	return {
		channel: visit.channel,
		...(Object.keys(utm).length > 0 ? { utm } : {}),
		...(visit.visitorId ? { visitorId: visit.visitorId } : {}),
	};
}

/**
 * A substitute address among the recipients: our local part, a separator and a tag (`info+ads@`, `info.ads@`).
 * Static tags map to a channel, dynamic tags and signed visitor codes to a visit's channel and UTM fields.
 * The plus form counts when `base@domain` or the whole domain is ours, and an unknown tag still makes it a
 * substitute address (channel unknown), as a lead must not be lost because the mapping is late. Any other separator
 * counts only when `base@domain` itself is listed as ours and the tag is known: `john.smith@` is a person's
 * mailbox, not a tag of `john@`. An address listed as ours is never a substitute. Bounded; never throws.
 */
export function findSubstitute(recipients: string[], options: ClassifyOptions & SubstituteOptions): SubstituteMatch | null {
	const own = ownOf(options);
	if (own.full.size === 0 && own.domains.size === 0) return null;
	const separators = separatorsOf(options);
	const statics = lowerKeys(options.substituteChannels);
	const dynamics = lowerKeys(options.dynamicTags);
	const secret = typeof options.visitorSecret === 'string' && options.visitorSecret ? options.visitorSecret : undefined;
	for (const raw of recipients) {
		const address = String(raw).trim().toLowerCase();
		const at = address.lastIndexOf('@');
		if (at <= 0 || at > SUBSTITUTE_LOCAL_PART_MAX || own.full.has(address)) continue;
		const local = address.slice(0, at);
		const domain = address.slice(at + 1).replace(/\.$/, '');
		for (let i = 1; i < local.length - 1; i++) {
			const separator = local[i];
			if (!separators.includes(separator)) continue;
			const base = local.slice(0, i);
			if (base === 'reply' || base === 'bounce') break;
			const explicit = own.full.has(`${base}@${domain}`);
			if (!explicit && !(separator === '+' && own.domains.has(domain))) continue;
			const plusTag = local.slice(i + 1);
			const info = resolveTag(plusTag, statics, dynamics, secret);
			if (info) return { plusTag, separator, address, ...info };
			if (separator === '+') return { plusTag, separator, address };
		}
	}
	return null;
}

function lowerKeys<T>(map: Record<string, T> | undefined): Record<string, T> {
	const out: Record<string, T> = {};
	if (!map) return out;
	for (const [k, v] of Object.entries(map)) out[k.toLowerCase()] = v;
	return out;
}
