/**
 * Signed, encrypted tracking tokens and the URLs that carry them.
 *
 * Every tracking URL is `${baseUrl}?t=${token}`: one webhook serves opens, clicks and unsubscribes, because the
 * token itself says which it is (and, for a click, where to go). The same token, kind `open`, is the message token
 * put in the Message-ID and `X-Cadence-Token`, so an open, a reply and a bounce of one message share one token.
 *
 * Token format (base64url of):  version(1) | keyHint(1) | siv(16) | AES-256-CTR(payload, iv = siv)
 *   siv = HMAC-SHA256(macKey, version | keyHint | payload)[0..16]
 * This is the SIV construction (deterministic authenticated encryption, as in RFC 5297 but with HMAC-SHA256 as the
 * PRF): the synthetic IV is both the nonce and the authentication tag, so a token costs 18 bytes of overhead
 * instead of GCM's 28, and the same data always gives the same token (a re-rendered message keeps its token).
 * The only thing a deterministic scheme reveals is that two tokens carry identical data; sentAt (ms) makes that
 * practically never. Keys are derived per secret with HKDF-SHA256; the first secret encrypts, all decrypt, so a
 * secret moved below the first line keeps verifying the links it signed (rotation: new secret first, old ones kept
 * for verification only).
 *
 * A conversion token (kind `conversion`) is the reference the click redirect hands the landing page (`mc=`): the
 * website sends it back to report a conversion. It is a kind of its own so a reference seen by a website can only
 * ever report a conversion, never fake an open, a click or an unsubscribe.
 *
 * Lifetime: `maxAgeDays` applies to open, click and conversion tokens. Unsubscribe tokens never expire: a person must be
 * able to leave for as long as the sender may mail them (RFC 8058 one-click posts can come months later), and
 * honouring an old unsubscribe costs nothing. They stop verifying only when their secret is removed.
 *
 * Payload: kind(1) | sentAt ms (uint48 BE) | email | campaign | batchTag | variant | [target]  (each string is a
 * LEB128 length + UTF-8 bytes). No field names, nothing in clear: the address is not readable from a URL.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { normalizeEmail } from './address';

export interface TrackingData {
	email: string;
	campaign: string;
	batchTag: string;
	variant: string;
	/** Epoch milliseconds. */
	sentAt: number;
}

export type TrackingKind = 'open' | 'click' | 'unsubscribe' | 'conversion';

export interface ParsedTracking {
	kind: TrackingKind;
	data: TrackingData;
	/** Click only: the original link. */
	target?: string;
}

export interface TrackerOptions {
	/** Signing secrets: the first encrypts new tokens, every one is accepted (key rotation). */
	secrets: string[];
	/** The tracking webhook's URL exactly as n8n shows it; tokens go in its `t` query parameter. */
	baseUrl: string;
	/**
	 * Open, click and conversion tokens whose sentAt is older than this many days parse to null. 0 or undefined: no limit.
	 * Unsubscribe tokens are never refused for their age.
	 */
	maxAgeDays?: number;
	/** Clock for the age check (tests). */
	now?: () => number;
}

export interface Tracker {
	/** The message token (Message-ID, X-Cadence-Token, open pixel): URL-safe. */
	token(data: TrackingData): string;
	/**
	 * Data of any valid token (message token from Message-ID / X-Cadence-Token, or a URL token); null if not ours.
	 * No lifetime: the tokens this reads come back in replies and bounces to our own mail, which are attributed
	 * however old the message is. The lifetime limits only what the public tracking URL accepts (`parse`).
	 */
	verifyToken(token: string): TrackingData | null;
	openUrl(data: TrackingData): string;
	clickUrl(data: TrackingData, targetUrl: string): string;
	unsubscribeUrl(data: TrackingData): string;
	/** The conversion reference of a message (kind `conversion`, URL-safe): what the click redirect gives the landing page. */
	conversionToken(data: TrackingData): string;
	/** A tracking URL, its query string, or the bare token; null for anything not signed by a known secret. */
	parse(url: string): ParsedTracking | null;
	/** The `t` value alone. */
	parseToken(t: string): ParsedTracking | null;
	/**
	 * Short lowercase base32 key for `reply+KEY@` / `bounce+KEY@` (local parts are limited and may be lower-cased),
	 * derived with the secret that signed the token, so it stays the same after a rotation.
	 */
	addressKey(token: string): string;
	/** The tracking URL that carries an existing token (`openUrl(d)` is `urlFor(token(d))`, without a second encryption). */
	urlFor(token: string): string;
}

/** Tokens longer than this are refused unread (a click token with a 2 KB target stays well below). */
export const TRACKING_TOKEN_MAX_LENGTH = 4096;
/** Longest click target (bytes of UTF-8) a token will carry; longer links are left untracked by the renderer. */
export const TRACKING_TARGET_MAX_BYTES = 2048;
/** Shortest signing secret accepted (the credential and the edge refuse shorter ones). */
export const TRACKING_SECRET_MIN_LENGTH = 16;
/** Length of `addressKey` results. 20 base32 characters = 100 bits. */
export const ADDRESS_KEY_LENGTH = 20;

const VERSION = 1;
const SIV_BYTES = 16;
const HEADER_BYTES = 2;
const MAX_STRING_BYTES = 1024;
const KIND_CODES: Record<TrackingKind, number> = { open: 1, click: 2, unsubscribe: 3, conversion: 4 };
const KINDS_BY_CODE: Array<TrackingKind | undefined> = [undefined, 'open', 'click', 'unsubscribe', 'conversion'];
const HKDF_SALT = 'n8n-nodes-mail-cadence/tracker';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const ADDRESS_KEY_RE = /^[a-z2-7]{20}$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
const DAY_MS = 86_400_000;

interface DerivedKey {
	enc: Buffer;
	mac: Buffer;
	addr: Buffer;
	hint: number;
}

function deriveKey(secret: string): DerivedKey {
	const okm = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), HKDF_SALT, 'tracker v1', 96));
	const mac = okm.subarray(32, 64);
	return {
		enc: okm.subarray(0, 32),
		mac,
		addr: okm.subarray(64, 96),
		// Lets verification go straight to the right secret; on a collision every matching secret is tried.
		hint: createHmac('sha256', mac).update('key hint').digest()[0],
	};
}

// ---- compact binary payload ---------------------------------------------------------------------------------

class Writer {
	private parts: Buffer[] = [];
	private length = 0;
	byte(n: number): void {
		this.push(Buffer.from([n]));
	}
	uint48(n: number): void {
		const b = Buffer.alloc(6);
		b.writeUIntBE(n, 0, 6);
		this.push(b);
	}
	string(s: string, what: string, maxBytes = MAX_STRING_BYTES): void {
		const bytes = Buffer.from(s, 'utf8');
		if (bytes.length > maxBytes) throw new RangeError(`tracking ${what} is longer than ${maxBytes} bytes`);
		let n = bytes.length;
		const len: number[] = [];
		do {
			len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
			n >>>= 7;
		} while (n > 0);
		this.push(Buffer.from(len));
		this.push(bytes);
	}
	private push(b: Buffer): void {
		this.parts.push(b);
		this.length += b.length;
	}
	done(): Buffer {
		return Buffer.concat(this.parts, this.length);
	}
}

/** Reads the payload; any malformation returns undefined (never throws on untrusted bytes). */
class Reader {
	pos = 0;
	constructor(private readonly buf: Buffer) {}
	byte(): number | undefined {
		return this.pos < this.buf.length ? this.buf[this.pos++] : undefined;
	}
	uint48(): number | undefined {
		if (this.pos + 6 > this.buf.length) return undefined;
		const n = this.buf.readUIntBE(this.pos, 6);
		this.pos += 6;
		return n;
	}
	string(): string | undefined {
		let len = 0;
		for (let shift = 0; ; shift += 7) {
			const b = this.byte();
			if (b === undefined || shift > 14) return undefined;
			len |= (b & 0x7f) << shift;
			if ((b & 0x80) === 0) break;
		}
		if (this.pos + len > this.buf.length) return undefined;
		const s = this.buf.toString('utf8', this.pos, this.pos + len);
		this.pos += len;
		return s;
	}
	get atEnd(): boolean {
		return this.pos === this.buf.length;
	}
}

function checkData(data: TrackingData): void {
	if (!data || typeof data !== 'object') throw new TypeError('tracking data must be an object');
	for (const key of ['email', 'campaign', 'batchTag', 'variant'] as const) {
		if (typeof data[key] !== 'string') throw new TypeError(`tracking data: ${key} must be a string`);
	}
	if (!Number.isSafeInteger(data.sentAt) || data.sentAt < 0 || data.sentAt >= 2 ** 48) {
		throw new TypeError(`tracking data: sentAt must be epoch milliseconds, got ${String(data.sentAt)}`);
	}
}

function encodePayload(kind: TrackingKind, data: TrackingData, target?: string): Buffer {
	checkData(data);
	const w = new Writer();
	w.byte(KIND_CODES[kind]);
	w.uint48(data.sentAt);
	w.string(data.email, 'email');
	w.string(data.campaign, 'campaign');
	w.string(data.batchTag, 'batch tag');
	w.string(data.variant, 'variant');
	if (kind === 'click') w.string(target ?? '', 'target URL', TRACKING_TARGET_MAX_BYTES);
	return w.done();
}

function decodePayload(buf: Buffer): ParsedTracking | null {
	const r = new Reader(buf);
	const kind = KINDS_BY_CODE[r.byte() ?? 0];
	const sentAt = r.uint48();
	const email = r.string();
	const campaign = r.string();
	const batchTag = r.string();
	const variant = r.string();
	if (!kind || sentAt === undefined || email === undefined || campaign === undefined) return null;
	if (batchTag === undefined || variant === undefined) return null;
	const data: TrackingData = { email, campaign, batchTag, variant, sentAt };
	if (kind === 'click') {
		const target = r.string();
		if (target === undefined || !r.atEnd) return null;
		return { kind, data, target };
	}
	return r.atEnd ? { kind, data } : null;
}

// ---- the tracker --------------------------------------------------------------------------------------------

export function createTracker(opts: TrackerOptions): Tracker {
	const keys = checkedSecrets(opts?.secrets).map(deriveKey);
	const signer = keys[0];
	const urlPrefix = trackingUrlPrefix(opts.baseUrl);
	const maxAgeMs = opts.maxAgeDays && opts.maxAgeDays > 0 ? opts.maxAgeDays * DAY_MS : 0;
	const now = opts.now ?? Date.now;

	/** The token checked and decrypted; `enforceAge` false for tokens read from our own mail (replies, bounces). */
	function open(token: unknown, enforceAge = true): ParsedTracking | null {
		const found = verifyWithKeys(keys, token);
		if (!found) return null;
		const parsed = decodePayload(found.payload);
		if (!parsed) return null;
		if (enforceAge && maxAgeMs > 0 && parsed.kind !== 'unsubscribe' && now() - parsed.data.sentAt > maxAgeMs) return null;
		return parsed;
	}

	/** A tracking URL is the prefix and the token: tokens are base64url and need no escaping. */
	function urlFor(token: string): string {
		return urlPrefix + token;
	}

	const tracker: Tracker = {
		token: (data) => seal(signer, encodePayload('open', data)),
		verifyToken: (token) => open(typeof token === 'string' ? token.trim() : token, false)?.data ?? null,
		openUrl: (data) => urlFor(seal(signer, encodePayload('open', data))),
		clickUrl(data, targetUrl) {
			if (typeof targetUrl !== 'string' || targetUrl.length === 0) throw new TypeError('click target must be a URL');
			return urlFor(seal(signer, encodePayload('click', data, targetUrl)));
		},
		unsubscribeUrl: (data) => urlFor(seal(signer, encodePayload('unsubscribe', data))),
		conversionToken: (data) => seal(signer, encodePayload('conversion', data)),
		parse(url) {
			try {
				const t = tokenInUrl(url);
				return t === undefined ? null : open(t);
			} catch {
				return null;
			}
		},
		parseToken: (t) => open(t),
		urlFor,
		addressKey(token) {
			// With the key that signed the token, so a message's reply and bounce addresses survive a key rotation.
			const key = verifyWithKeys(keys, String(token))?.key ?? signer;
			const mac = createHmac('sha256', key.addr).update(String(token)).digest();
			return toBase32(mac).slice(0, ADDRESS_KEY_LENGTH);
		},
	};
	return tracker;
}

/** The configured secrets: at least one, each a non-empty string. */
function checkedSecrets(secrets: unknown): string[] {
	if (!Array.isArray(secrets) || secrets.length === 0) throw new RangeError('the tracker needs at least one secret');
	for (const s of secrets) {
		if (typeof s !== 'string' || s.length === 0) throw new RangeError('tracker secrets must be non-empty strings');
	}
	return secrets as string[];
}

/** The base URL with its own `t` and fragment removed, ending where a token is appended (`…?t=` or `…&t=`). */
function trackingUrlPrefix(baseUrl: string): string {
	const base = new URL(baseUrl); // throws on a malformed base URL: better now than in every link
	if (base.protocol !== 'https:' && base.protocol !== 'http:') {
		throw new RangeError(`the tracking base URL must be http(s), got ${base.protocol}`);
	}
	base.searchParams.delete('t');
	base.hash = '';
	// Tokens are base64url, so the URL is a plain concatenation (the URL API costs more than the encryption).
	return base.href + (base.href.endsWith('?') ? '' : base.search ? '&' : '?') + 't=';
}

/**
 * The token in a tracking URL, its query string, or a bare token: null when a URL or query has no `t`, undefined
 * for no string or one too long to be a tracking URL. Throws on a malformed absolute URL.
 */
function tokenInUrl(url: unknown): string | null | undefined {
	if (typeof url !== 'string') return undefined;
	const s = url.trim();
	if (s.length === 0 || s.length > TRACKING_TOKEN_MAX_LENGTH + 2048) return undefined;
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return new URL(s).searchParams.get('t');
	if (s.includes('=') || s.startsWith('?')) {
		const q = s.includes('?') ? s.slice(s.indexOf('?') + 1) : s;
		return new URLSearchParams(q.split('#')[0]).get('t');
	}
	return s;
}

/** The synthetic IV: the first SIV_BYTES of HMAC(macKey, header | payload), both nonce and authentication tag. */
function siv(key: DerivedKey, header: Buffer, payload: Buffer): Buffer {
	return createHmac('sha256', key.mac).update(header).update(payload).digest().subarray(0, SIV_BYTES);
}

/** A token for `payload`, always encrypted with the signer (the first secret). */
function seal(signer: DerivedKey, payload: Buffer): string {
	const header = Buffer.from([VERSION, signer.hint]);
	const iv = siv(signer, header, payload);
	const cipher = createCipheriv('aes-256-ctr', signer.enc, iv);
	return Buffer.concat([header, iv, cipher.update(payload), cipher.final()]).toString('base64url');
}

/** The key that signed `token` and its decrypted payload, or null when no configured key did. */
function verifyWithKeys(keys: readonly DerivedKey[], token: unknown): { key: DerivedKey; payload: Buffer } | null {
	if (typeof token !== 'string') return null;
	if (token.length < 4 || token.length > TRACKING_TOKEN_MAX_LENGTH || !BASE64URL_RE.test(token)) return null;
	const raw = Buffer.from(token, 'base64url');
	// Base64url decoding ignores trailing bits; re-encoding makes sure no character of the token was changed.
	if (raw.length <= HEADER_BYTES + SIV_BYTES || raw.toString('base64url') !== token) return null;
	if (raw[0] !== VERSION) return null;
	const header = raw.subarray(0, HEADER_BYTES);
	const iv = raw.subarray(HEADER_BYTES, HEADER_BYTES + SIV_BYTES);
	const body = raw.subarray(HEADER_BYTES + SIV_BYTES);
	for (const key of keys) {
		if (key.hint !== raw[1]) continue;
		const decipher = createDecipheriv('aes-256-ctr', key.enc, iv);
		const payload = Buffer.concat([decipher.update(body), decipher.final()]);
		if (!timingSafeEqual(siv(key, header, payload), iv)) continue;
		return { key, payload };
	}
	return null;
}

/** True for strings shaped like `addressKey` output (20 lowercase base32 characters). */
export function isAddressKey(s: unknown): boolean {
	return typeof s === 'string' && ADDRESS_KEY_RE.test(s);
}

function toBase32(buf: Buffer): string {
	let out = '';
	let bits = 0;
	let value = 0;
	for (const byte of buf) {
		value = (value << 8) | byte;
		bits += 8;
		while (bits >= 5) {
			out += BASE32[(value >>> (bits - 5)) & 31];
			bits -= 5;
		}
		value &= (1 << bits) - 1;
	}
	if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
	return out;
}

/**
 * The A/B variant of a contact: deterministic in the normalised address and the campaign, so a contact sees the
 * same variant on every send of a campaign and metrics can recompute it. Returns '' when there are no variants.
 */
export function chooseVariant(email: string, campaign: string, variants: string[]): string {
	if (!Array.isArray(variants) || variants.length === 0) return '';
	const digest = createHash('sha256')
		.update(`${normalizeEmail(email)}\u0000${campaign ?? ''}`)
		.digest();
	return variants[digest.readUInt32BE(0) % variants.length];
}
