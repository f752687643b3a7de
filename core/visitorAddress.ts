/**
 * Per-visitor substitute addresses: `info+v-<code>@example.com`, issued by a website (or a Code node) for one visit
 * and resolved when the visitor writes to it. Stateless: the code carries the channel, the visitor id and the UTM
 * fields, and ends in an HMAC of them, so nothing needs storing and a code nobody issued is refused. When the UTM
 * fields do not fit the 64-octet local part, issue a short visitor id only and keep the visit's fields in the Inbox
 * node's Dynamic Plus-Tags keyed by that id (the classifier merges them in).
 *
 * Code layout (case-insensitive, as mail servers and people may change case): `v-` then the fields channel,
 * visitorId, source, medium, campaign, term, content joined by `_` (trailing empty fields dropped), then `_` and
 * the MAC. In a field `a`–`z` and `0`–`9` stand for themselves; every other UTF-8 byte is `-` and two hex digits.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseAddress } from './address';
import { TRACKING_SECRET_MIN_LENGTH } from './tracker';

/** The UTM fields a visitor address carries. */
export interface VisitorUtm {
	source?: string;
	medium?: string;
	campaign?: string;
	term?: string;
	content?: string;
}

export interface IssueVisitorAddressInput {
	/** One of our addresses, e.g. `info@example.com`. */
	base: string;
	channel: string;
	/** Identifies the visitor (e.g. the analytics client id); without it the address stands for channel and UTM only. */
	visitorId?: string;
	utm?: VisitorUtm;
	/** At least TRACKING_SECRET_MIN_LENGTH characters; the Inbox node needs the same secret to accept the code. */
	secret: string;
	/** What joins the base's local part to the code (`+` by default; `.` for servers that deliver dotted aliases). */
	separator?: string;
}

/** What a genuine visitor address says. */
export interface VisitorAddress {
	channel: string;
	visitorId?: string;
	utm?: VisitorUtm;
}

/** Marks a tag as a visitor code, so static tags and visitor codes never collide. */
export const VISITOR_TAG_PREFIX = 'v-';
/** Characters of the MAC that ends a code (base32: 5 bits each, 50 bits). */
export const VISITOR_MAC_CHARS = 10;
/** The longest local part mail servers must accept (RFC 5321 section 4.5.3.1.1); longer codes are refused. */
export const VISITOR_LOCAL_PART_MAX = 64;
/** Separators a visitor address may use between base and code. */
export const VISITOR_SEPARATORS = '+.-_=';
/** The separator used when none is given. */
export const DEFAULT_VISITOR_SEPARATOR = '+';

const UTM_KEYS = ['source', 'medium', 'campaign', 'term', 'content'] as const;
const FIELD_SEPARATOR = '_';
const MAC_CONTEXT = 'cadence-visitor-address\n';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const CODE_RE = /^[a-z0-9_-]+$/;
const MAC_RE = /^[a-z2-7]+$/;

function encodeField(value: string): string {
	let out = '';
	for (const byte of Buffer.from(value, 'utf8')) {
		const isLower = byte >= 0x61 && byte <= 0x7a;
		const isDigit = byte >= 0x30 && byte <= 0x39;
		out += isLower || isDigit ? String.fromCharCode(byte) : '-' + byte.toString(16).padStart(2, '0');
	}
	return out;
}

/** The field's text, or null when an escape is malformed or the bytes are not UTF-8. */
function decodeField(field: string): string | null {
	const bytes: number[] = [];
	for (let i = 0; i < field.length; i++) {
		if (field[i] !== '-') {
			bytes.push(field.charCodeAt(i));
			continue;
		}
		const hex = field.slice(i + 1, i + 3);
		if (!/^[0-9a-f]{2}$/.test(hex)) return null;
		bytes.push(parseInt(hex, 16));
		i += 2;
	}
	try {
		return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
	} catch {
		return null;
	}
}

function macOf(fields: string, secret: string): string {
	const digest = createHmac('sha256', secret)
		.update(MAC_CONTEXT + fields)
		.digest();
	let out = '';
	let bits = 0;
	let acc = 0;
	for (const byte of digest) {
		acc = (acc << 8) | byte;
		bits += 8;
		while (bits >= 5 && out.length < VISITOR_MAC_CHARS) {
			out += BASE32[(acc >>> (bits - 5)) & 31];
			bits -= 5;
		}
		acc &= (1 << bits) - 1;
		if (out.length >= VISITOR_MAC_CHARS) break;
	}
	return out;
}

function checkSecret(secret: unknown): string {
	if (typeof secret !== 'string' || secret.length < TRACKING_SECRET_MIN_LENGTH) {
		throw new Error(`Visitor address secret must be a string of at least ${TRACKING_SECRET_MIN_LENGTH} characters`);
	}
	return secret;
}

/** The code (`v-…`) for a visit, without base and separator. Throws a readable error for bad input. */
export function visitorTag(input: Omit<IssueVisitorAddressInput, 'base' | 'separator'>): string {
	const secret = checkSecret(input.secret);
	const channel = typeof input.channel === 'string' ? input.channel.trim() : '';
	if (!channel) throw new Error('Visitor address: channel is required');
	const values = [channel, String(input.visitorId ?? '').trim(), ...UTM_KEYS.map((k) => String(input.utm?.[k] ?? '').trim())];
	while (values.length > 1 && values[values.length - 1] === '') values.pop();
	const fields = values.map(encodeField).join(FIELD_SEPARATOR);
	return `${VISITOR_TAG_PREFIX}${fields}${FIELD_SEPARATOR}${macOf(fields, secret)}`;
}

/**
 * `base` with a signed code for this visit: `info+v-ads_k3f9_google_cpc_<mac>@example.com`. Pure. Throws a readable
 * error when the base is not an address, the separator is not one of VISITOR_SEPARATORS (or appears in the base's
 * local part), the secret is short, or the local part would exceed VISITOR_LOCAL_PART_MAX.
 */
export function issueVisitorAddress(input: IssueVisitorAddressInput): string {
	const base = parseAddress(input.base);
	if (!base) throw new Error(`Visitor address: base ${JSON.stringify(String(input.base))} is not an email address`);
	const separator = input.separator ?? DEFAULT_VISITOR_SEPARATOR;
	if (separator.length !== 1 || !VISITOR_SEPARATORS.includes(separator)) {
		throw new Error(`Visitor address: separator must be one of ${VISITOR_SEPARATORS.split('').join(' ')}, got ${JSON.stringify(separator)}`);
	}
	if (base.local.includes(separator)) throw new Error(`Visitor address: the base's local part ${base.local} already contains "${separator}"`);
	const local = `${base.local}${separator}${visitorTag(input)}`;
	if (local.length > VISITOR_LOCAL_PART_MAX) {
		throw new Error(
			`Visitor address: local part is ${local.length} characters, over the ${VISITOR_LOCAL_PART_MAX} mail servers must accept; ` +
				'issue a short visitor id only and keep the UTM fields in the Inbox node (Dynamic Plus-Tags keyed by that id)',
		);
	}
	return `${local}@${base.domain}`;
}

/** What a visitor code says, or null when it is not one, is cut short or was not signed with `secret`. Never throws. */
export function readVisitorTag(tag: unknown, secret: unknown): VisitorAddress | null {
	if (typeof tag !== 'string' || typeof secret !== 'string' || secret.length < TRACKING_SECRET_MIN_LENGTH) return null;
	if (tag.length > VISITOR_LOCAL_PART_MAX) return null;
	const code = tag.toLowerCase();
	if (!code.startsWith(VISITOR_TAG_PREFIX) || !CODE_RE.test(code)) return null;
	const cut = code.lastIndexOf(FIELD_SEPARATOR);
	if (cut < VISITOR_TAG_PREFIX.length) return null;
	const fields = code.slice(VISITOR_TAG_PREFIX.length, cut);
	const mac = code.slice(cut + 1);
	if (mac.length !== VISITOR_MAC_CHARS || !MAC_RE.test(mac)) return null;
	if (!timingSafeEqual(Buffer.from(mac), Buffer.from(macOf(fields, secret)))) return null;
	const values = fields.split(FIELD_SEPARATOR);
	if (values.length > 2 + UTM_KEYS.length) return null;
	const decoded = values.map(decodeField);
	if (decoded.some((v) => v === null) || !decoded[0]) return null;
	const out: VisitorAddress = { channel: decoded[0] as string };
	if (decoded[1]) out.visitorId = decoded[1];
	const utm: VisitorUtm = {};
	UTM_KEYS.forEach((k, i) => {
		const v = decoded[i + 2];
		if (v) utm[k] = v;
	});
	if (Object.keys(utm).length > 0) out.utm = utm;
	return out;
}

/**
 * What a visitor address says, with the base it was issued on, or null when the address holds no genuine code.
 * Whether the base is one of ours is the caller's check. Never throws.
 */
export function resolveVisitorAddress(address: unknown, secret: unknown): (VisitorAddress & { base: string }) | null {
	if (typeof address !== 'string') return null;
	const email = address.trim().toLowerCase();
	const at = email.lastIndexOf('@');
	if (at <= 0 || at > VISITOR_LOCAL_PART_MAX) return null;
	const local = email.slice(0, at);
	// The code starts after a separator and a non-empty base; the first genuine code wins.
	for (let i = local.indexOf(VISITOR_TAG_PREFIX, 2); i > 1; i = local.indexOf(VISITOR_TAG_PREFIX, i + 1)) {
		if (!VISITOR_SEPARATORS.includes(local[i - 1])) continue;
		const found = readVisitorTag(local.slice(i), secret);
		if (found) return { ...found, base: `${local.slice(0, i - 1)}@${email.slice(at + 1)}` };
	}
	return null;
}
