/**
 * Rendering one tracked message: A/B variant choice, the unsubscribe placeholder, click tracking of
 * links, the open pixel, a text part from the HTML, and the headers that let opens, clicks, replies and bounces be
 * attributed (Message-ID with the token, X-Cadence-Token, List-Unsubscribe, Reply-To / VERP plus-addresses).
 * Pure: no I/O. `buildMimeMessage` turns the result into RFC 5322 bytes with nodemailer's composer.
 */
import { randomBytes } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import * as qp from 'nodemailer/lib/qp';
import { explainInvalidAddress, parseAddress } from './address';
import {
	addUtmParameters,
	checkLinkTarget,
	linkOriginLength,
	outsideFields,
	trimLinkValue,
	scanHtml,
	utmPairs,
	UTM_DEFAULT_MEDIUM,
	UTM_DEFAULT_SOURCE,
	type FieldRanges,
	type HtmlAttribute,
	type UtmPairs,
	type UtmValues,
} from './links';
import { chooseVariant, TRACKING_TARGET_MAX_BYTES, type Tracker, type TrackingData } from './tracker';

export { escapeHtml, type FieldRanges } from './links';

export interface SendVariant {
	name: string;
	/** Empty: the base subject / body is used for this variant. */
	subject?: string;
	html?: string;
	text?: string;
}

export interface CadenceMessageInput {
	/** `Name <address>` or a bare address. */
	from: string;
	/** The recipient's address. */
	to: string;
	subject: string;
	html?: string;
	text?: string;
	campaign: string;
	batchTag: string;
	/** The A/B variant name ('' when the send has no variants). */
	variant: string;
	/** Epoch ms, carried in the token. */
	sentAt: number;
	/** Explicit Reply-To, used when no Reply-To plus-address is configured. */
	replyTo?: string;
	/** Extra headers (name → value). */
	headers?: Record<string, string>;
	/** Ranges of `html` that came from contact fields: links there are not tracked unless `trackFieldLinks`. */
	htmlFields?: FieldRanges;
	/** Ranges of `text` that came from contact fields. */
	textFields?: FieldRanges;
}

export interface RenderTrackingOptions {
	tracker: Tracker;
	/** 1x1 GIF before `</body>`. Default true. */
	openPixel?: boolean;
	/** Rewrite http(s) links of the HTML and text parts to tracking URLs. Default true. */
	clickTracking?: boolean;
	/** `List-Unsubscribe` (+ `List-Unsubscribe-Post` when https). Default true. */
	listUnsubscribe?: boolean;
	/** Address for the `mailto:` entry of List-Unsubscribe (its subject carries the address key). */
	unsubscribeMailto?: string;
	/** A domain (→ `reply+KEY@domain`) or an address (`local@domain` → `local+KEY@domain`) for Reply-To. */
	replyPlusAddress?: string;
	/** A domain (→ `bounce+KEY@domain`) or an address for the VERP envelope sender. */
	verpAddress?: string;
	/** Generate a text part from the HTML when none is given. Default true. */
	generateText?: boolean;
	/** Also track links that come from contact fields (`htmlFields` / `textFields`). Default DEFAULT_TRACK_FIELD_LINKS. */
	trackFieldLinks?: boolean;
	/** UTM parameters added to the target of every tracked link; absent or false: none. */
	utm?: UtmOptions | false;
	/**
	 * Refuse a message whose HTML and text both lack the unsubscribe link (`[[unsubscribeUrl]]` or
	 * `{{unsubscribeUrl}}`), with reason NO_UNSUBSCRIBE_LINK_REASON. Absent: not checked (Cadence Send checks by default).
	 */
	requireUnsubscribeLink?: boolean;
}

/**
 * Overrides of the UTM values; an empty or absent one takes its default: source UTM_DEFAULT_SOURCE, medium
 * UTM_DEFAULT_MEDIUM, campaign the message's campaign. `utm_content` is always the A/B variant (left out without one).
 */
export interface UtmOptions {
	source?: string;
	medium?: string;
	campaign?: string;
}

/** Links inside contact-field values are left as written unless the user opts in. */
export const DEFAULT_TRACK_FIELD_LINKS = false;
/** Distinct links tracked per message; further links are left as written (a real message has a few dozen). */
export const TRACKED_LINKS_MAX = 500;
/** Longest extra header name: `Name: ` must fit the first line of a folded header. */
export const HEADER_NAME_MAX_LENGTH = 76;
/** Longest extra header value (characters, after control characters are removed). */
export const EXTRA_HEADER_VALUE_MAX_LENGTH = 900;

export interface RenderedMessage {
	from: string;
	/** The sender's display name ('' when none). */
	fromName: string;
	/** The sender's bare address, lower-cased. */
	fromAddress: string;
	to: string;
	subject: string;
	html?: string;
	text?: string;
	replyTo?: string;
	/** `<token@sender-domain>`. */
	messageId: string;
	token: string;
	addressKey: string;
	variant: string;
	unsubscribeUrl: string;
	/** Headers besides From/To/Subject/Reply-To/Message-ID/Date, in the order they are written. */
	headers: Record<string, string>;
	envelope: { from: string; to: string[] };
	/**
	 * Every rewritten link: the target as written, its tracking URL, and where the redirect leads when that differs
	 * from the target (UTM parameters added).
	 */
	trackedLinks: TrackedLink[];
}

export interface TrackedLink {
	target: string;
	url: string;
	redirect?: string;
}

/** Thrown for input that cannot make a message (bad address, nothing to send): the item fails, others go on. */
export class CadenceRenderError extends Error {
	constructor(
		message: string,
		readonly reason: string,
	) {
		super(message);
		this.name = 'CadenceRenderError';
	}
}

// The placeholder works in fixed fields ({{unsubscribeUrl}}) and in n8n expression fields, where `{{ }}` is
// taken by n8n itself ([[unsubscribeUrl]]).
const UNSUBSCRIBE_PLACEHOLDER = /\{\{\s*unsubscribeUrl\s*\}\}|\[\[\s*unsubscribeUrl\s*\]\]/g;
const HAS_UNSUBSCRIBE_PLACEHOLDER = /\{\{\s*unsubscribeUrl\s*\}\}|\[\[\s*unsubscribeUrl\s*\]\]/;

/** The reason of a message refused for lacking the unsubscribe link. */
export const NO_UNSUBSCRIBE_LINK_REASON = 'no-unsubscribe-link';

/**
 * Whether a body carries the unsubscribe link: the placeholder, or `unsubscribeUrl` itself (as written or
 * HTML-escaped) in a body that was already rendered.
 */
export function hasUnsubscribeLink(body: string | undefined, unsubscribeUrl?: string): boolean {
	if (typeof body !== 'string' || body === '') return false;
	if (HAS_UNSUBSCRIBE_PLACEHOLDER.test(body)) return true;
	return !!unsubscribeUrl && (body.includes(unsubscribeUrl) || body.includes(escapeHtmlAttr(unsubscribeUrl)));
}

/**
 * Replaces the unsubscribe placeholder in template text and in field values alike, keeping the field ranges in
 * step with the new text (each piece is filled on its own, so the ranges stay exact).
 */
function fillPlaceholder(body: string, fields: FieldRanges | undefined, url: string): { text: string; fields: FieldRanges } {
	if (!fields || fields.length === 0) return { text: body.replace(UNSUBSCRIBE_PLACEHOLDER, url), fields: [] };
	const out: string[] = [];
	const ranges: Array<[number, number]> = [];
	let length = 0;
	let at = 0;
	const piece = (start: number, end: number, field: boolean) => {
		if (end <= start) return;
		const filled = body.slice(start, end).replace(UNSUBSCRIBE_PLACEHOLDER, url);
		if (field) ranges.push([length, length + filled.length]);
		out.push(filled);
		length += filled.length;
	};
	for (const [start, end] of fields) {
		const s = Math.max(at, Math.min(start, body.length));
		const e = Math.max(s, Math.min(end, body.length));
		piece(at, s, false);
		piece(s, e, true);
		at = e;
	}
	piece(at, body.length, false);
	return { text: out.join(''), fields: ranges };
}

/**
 * Picks the contact's variant (deterministic in email + campaign) and its subject and bodies; a variant's empty
 * fields fall back to the base ones. With no variants, the variant name is ''.
 */
export function applySendVariant(
	base: { subject: string; html?: string; text?: string },
	variants: SendVariant[] | undefined,
	email: string,
	campaign: string,
): { variant: string; subject: string; html?: string; text?: string } {
	const named = (variants ?? []).filter((v) => v && typeof v.name === 'string' && v.name.trim() !== '');
	if (named.length === 0) return { variant: '', ...base };
	const name = chooseVariant(
		email,
		campaign,
		named.map((v) => v.name.trim()),
	);
	const chosen = named.find((v) => v.name.trim() === name)!;
	return {
		variant: name,
		subject: nonEmpty(chosen.subject) ?? base.subject,
		html: nonEmpty(chosen.html) ?? base.html,
		text: nonEmpty(chosen.text) ?? base.text,
	};
}

function nonEmpty(s: string | undefined): string | undefined {
	return typeof s === 'string' && s.trim() !== '' ? s : undefined;
}

/** `reply+KEY@domain` from a domain or from `local@domain`. */
export function plusAddress(domainOrAddress: string, defaultLocal: string, key: string): string {
	const s = domainOrAddress.trim().replace(/^@/, '');
	const at = s.lastIndexOf('@');
	const local = at > 0 ? s.slice(0, at) : defaultLocal;
	const domain = at > 0 ? s.slice(at + 1) : s;
	const address = `${local}+${key}@${domain}`;
	const parsed = parseAddress(address);
	if (!parsed) throw new CadenceRenderError(`"${domainOrAddress}" does not make a valid plus-address (${address})`, 'invalid-option');
	return parsed.email;
}

/** Splits `Name <addr>` and checks the address. */
export function parseMailbox(raw: string, what: string): { name: string; address: string } {
	const list = typeof raw === 'string' ? addressparser(raw) : [];
	const first = list.length === 1 && 'address' in list[0] ? (list[0] as { name: string; address: string }) : undefined;
	const parsed = parseAddress(first?.address);
	if (!first || !parsed) {
		const detail = list.length > 1 ? 'give a single address' : explainInvalidAddress(first?.address || raw);
		throw new CadenceRenderError(`Invalid ${what} address "${String(raw ?? '')}": ${detail}`, 'invalid-address');
	}
	return { name: cleanHeaderText(first.name).trim(), address: parsed.email };
}

/**
 * Headers the node writes itself, or that only servers on the way may add (trace, authentication): an extra
 * header of one of these names is refused, so the message's structure, addressing and attribution stay the
 * node's. Compared case-insensitively; `content-*`, `arc-*` and `resent-*` cover whole families.
 */
export const NODE_OWNED_HEADERS: readonly string[] = [
	'from',
	'sender',
	'to',
	'cc',
	'bcc',
	'subject',
	'message-id',
	'date',
	'reply-to',
	'mime-version',
	'content-*',
	'list-unsubscribe',
	'list-unsubscribe-post',
	'x-cadence-token',
	'return-path',
	'received',
	'received-spf',
	'dkim-signature',
	'authentication-results',
	'arc-*',
	'resent-*',
];

export function isNodeOwnedHeader(name: string): boolean {
	const n = name.toLowerCase();
	return NODE_OWNED_HEADERS.some((h) => (h.endsWith('*') ? n.startsWith(h.slice(0, -1)) : n === h));
}

/**
 * A header value as one line of text: CR/LF runs and tabs become one space, every other control character (C0,
 * DEL, C1) is removed. The node folds long values itself.
 */
export function cleanHeaderText(value: unknown): string {
	return (
		String(value ?? '')
			.replace(/[\r\n]+/g, ' ')
			// eslint-disable-next-line no-control-regex
			.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\t' ? ' ' : ''))
	);
}

/** RFC 5322 field name: printable US-ASCII except ":" (and not a name JavaScript objects treat specially). */
function checkHeaderName(name: string): void {
	if (!/^[!-9;-~]+$/.test(name) || name.length > HEADER_NAME_MAX_LENGTH || name === '__proto__') {
		const shown = cleanHeaderText(name).slice(0, HEADER_NAME_MAX_LENGTH);
		throw new CadenceRenderError(
			`Invalid header name "${shown}": use printable ASCII without spaces or ":", at most ${HEADER_NAME_MAX_LENGTH} characters`,
			'invalid-header',
		);
	}
	if (isNodeOwnedHeader(name)) {
		throw new CadenceRenderError(`The header "${name}" is set by the node and cannot be an extra header`, 'invalid-header');
	}
}

/** The parts of a message input that were checked and normalised by `checkCadenceMessage`. */
export interface CheckedMessage {
	sender: { name: string; address: string };
	/** The recipient, trimmed and lower-cased. */
	to: string;
	html?: string;
	text?: string;
	htmlFields?: FieldRanges;
	textFields?: FieldRanges;
	subject: string;
	headers: Record<string, string>;
	replyTo?: string;
	unsubscribeMailto?: string;
}

/** The sender, recipient and header part of `checkCadenceMessage`: everything but the content. */
export function checkCadenceEnvelope(
	input: Pick<CadenceMessageInput, 'from' | 'to' | 'replyTo' | 'headers'>,
	opts: Omit<RenderTrackingOptions, 'tracker'>,
): Omit<CheckedMessage, 'html' | 'text' | 'subject' | 'htmlFields' | 'textFields'> {
	const sender = parseMailbox(input.from, 'From');
	const recipient = parseAddress(input.to);
	if (!recipient) {
		throw new CadenceRenderError(`Invalid recipient address "${String(input.to ?? '')}": ${explainInvalidAddress(input.to)}`, 'invalid-address');
	}
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(input.headers ?? {})) {
		checkHeaderName(name);
		const clean = cleanHeaderText(value);
		if (clean.length > EXTRA_HEADER_VALUE_MAX_LENGTH) {
			throw new CadenceRenderError(`The value of header "${name}" is longer than ${EXTRA_HEADER_VALUE_MAX_LENGTH} characters`, 'invalid-header');
		}
		headers[name] = clean;
	}
	// Plus-addresses are checked with a stand-in key of the real key's shape.
	if (opts.replyPlusAddress?.trim()) plusAddress(opts.replyPlusAddress, 'reply', 'a'.repeat(20));
	if (opts.verpAddress?.trim()) plusAddress(opts.verpAddress, 'bounce', 'a'.repeat(20));
	const mailto = opts.unsubscribeMailto?.trim();
	return {
		sender,
		to: recipient.email,
		headers,
		replyTo: input.replyTo?.trim() ? parseMailbox(input.replyTo, 'Reply-To').address : undefined,
		unsubscribeMailto: mailto ? parseMailbox(mailto, 'List-Unsubscribe mailto').address : undefined,
	};
}

/**
 * Everything that can make a message impossible, checked without rendering (no tokens, no link rewriting), so a
 * caller can refuse bad items before any SMTP traffic and render each message only when it is sent.
 * Throws CadenceRenderError.
 */
export function checkCadenceMessage(input: Omit<CadenceMessageInput, 'sentAt'>, opts: Omit<RenderTrackingOptions, 'tracker'>): CheckedMessage {
	const envelope = checkCadenceEnvelope(input, opts);
	const html = typeof input.html === 'string' && input.html.trim() !== '' ? input.html : undefined;
	const text = typeof input.text === 'string' && input.text.trim() !== '' ? input.text : undefined;
	if (!html && !text) throw new CadenceRenderError('The message has neither an HTML nor a text body', 'empty-body');
	if (opts.requireUnsubscribeLink === true && !hasUnsubscribeLink(html) && !hasUnsubscribeLink(text)) {
		throw new CadenceRenderError(
			'Neither the HTML nor the text body has the unsubscribe link: put [[unsubscribeUrl]] where it goes (href="[[unsubscribeUrl]]"), or turn the unsubscribe-link check off',
			NO_UNSUBSCRIBE_LINK_REASON,
		);
	}
	return {
		...envelope,
		html,
		text,
		htmlFields: html ? input.htmlFields : undefined,
		textFields: text ? input.textFields : undefined,
		subject: cleanHeaderText(input.subject),
	};
}

export function renderCadenceMessage(input: CadenceMessageInput, opts: RenderTrackingOptions): RenderedMessage {
	return renderCheckedMessage(checkCadenceMessage(input, opts), input, opts);
}

/** Renders a message that `checkCadenceMessage` accepted (its result and the same input and options). */
export function renderCheckedMessage(checked: CheckedMessage, input: CadenceMessageInput, opts: RenderTrackingOptions): RenderedMessage {
	const tracker = opts.tracker;
	const { sender } = checked;
	const data = trackingDataOf(checked, input);
	// The open token is the message token: one token for the pixel, the Message-ID and X-Cadence-Token.
	const token = tracker.token(data);
	const addressKey = tracker.addressKey(token);
	const unsubscribeUrl = tracker.unsubscribeUrl(data);
	const links = createLinkTracker(tracker, data, unsubscribeUrl, opts.utm ? utmPairs(utmValuesOf(opts.utm, data)) : []);
	const html = checked.html ? renderHtmlPart(checked.html, checked.htmlFields, opts, unsubscribeUrl, tracker.urlFor(token), links.track) : undefined;
	const text = renderTextPart(checked.text, checked.textFields, html, opts, unsubscribeUrl, links.track);
	const headers = trackingHeaders(token, addressKey, unsubscribeUrl, checked, opts);
	const replyTo = opts.replyPlusAddress?.trim() ? plusAddress(opts.replyPlusAddress, 'reply', addressKey) : checked.replyTo;
	const envelopeFrom = opts.verpAddress?.trim() ? plusAddress(opts.verpAddress, 'bounce', addressKey) : sender.address;
	return {
		from: input.from.trim(),
		fromName: sender.name,
		fromAddress: sender.address,
		to: checked.to,
		subject: checked.subject,
		html,
		text,
		replyTo,
		messageId: `<${token}@${sender.address.slice(sender.address.lastIndexOf('@') + 1)}>`,
		token,
		addressKey,
		variant: input.variant,
		unsubscribeUrl,
		headers,
		envelope: { from: envelopeFrom, to: [checked.to] },
		trackedLinks: links.trackedLinks,
	};
}

/** What every token of the message carries: the checked recipient and the send's campaign, batch, variant, time. */
function trackingDataOf(checked: CheckedMessage, input: CadenceMessageInput): TrackingData {
	return {
		email: checked.to,
		campaign: input.campaign,
		batchTag: input.batchTag,
		variant: input.variant,
		sentAt: input.sentAt,
	};
}

/** The UTM values of one message: the overrides, else the defaults, the campaign and the variant. */
export function utmValuesOf(utm: UtmOptions, data: Pick<TrackingData, 'campaign' | 'variant'>): UtmValues {
	const pick = (v: string | undefined, fallback: string) => (typeof v === 'string' && v.trim() !== '' ? v : fallback);
	return {
		source: pick(utm.source, UTM_DEFAULT_SOURCE),
		medium: pick(utm.medium, UTM_DEFAULT_MEDIUM),
		campaign: pick(utm.campaign, data.campaign),
		content: data.variant,
	};
}

/**
 * Turns a link target into its tracking URL, or null to leave the link as written; `utm` false leaves the UTM
 * parameters out (a link marked `data-noutm`).
 */
type TrackLink = (target: string, utm?: boolean) => string | null;

/**
 * A link is tracked only when the redirect will accept it (the same rule), it is not already a tracking or
 * unsubscribe URL, and the message has tracked fewer than TRACKED_LINKS_MAX distinct links: anything else stays
 * as written. Each distinct target gets one tracking URL, listed once in `trackedLinks`.
 */
function createLinkTracker(
	tracker: Tracker,
	data: TrackingData,
	unsubscribeUrl: string,
	utm: UtmPairs,
): { track: TrackLink; trackedLinks: TrackedLink[] } {
	const trackedLinks: TrackedLink[] = [];
	const clickUrls = new Map<string, string | null>();
	const plainUrls = new Map<string, string | null>();
	const isTrackingUrl = (url: string) => url === unsubscribeUrl || tracker.parse(url) !== null;
	const track = (target: string, withUtm = true): string | null => {
		const cache = withUtm && utm.length > 0 ? clickUrls : plainUrls;
		let url = cache.get(target);
		if (url === undefined) {
			url = null;
			if (
				trackedLinks.length < TRACKED_LINKS_MAX &&
				Buffer.byteLength(target) <= TRACKING_TARGET_MAX_BYTES &&
				checkLinkTarget(target) &&
				!isTrackingUrl(target)
			) {
				const redirect = cache === clickUrls ? utmTarget(target, utm) : target;
				url = tracker.clickUrl(data, redirect);
				trackedLinks.push(redirect === target ? { target, url } : { target, url, redirect });
			}
			cache.set(target, url);
		}
		return url;
	};
	return { track, trackedLinks };
}

/**
 * The link target with the UTM parameters it lacks, as long as the result still fits a token and the link rule;
 * otherwise the target as written (the link stays tracked, without UTM).
 */
function utmTarget(target: string, utm: UtmPairs): string {
	const withUtm = addUtmParameters(target, utm);
	return withUtm !== target && Buffer.byteLength(withUtm) <= TRACKING_TARGET_MAX_BYTES && checkLinkTarget(withUtm) ? withUtm : target;
}

/** The HTML part: placeholder filled, links tracked (field links only on opt-in), then the open pixel. */
function renderHtmlPart(
	html: string,
	fields: FieldRanges | undefined,
	opts: RenderTrackingOptions,
	unsubscribeUrl: string,
	openUrl: string,
	track: TrackLink,
): string {
	const filled = fillPlaceholder(html, fields, escapeHtmlAttr(unsubscribeUrl));
	let out = filled.text;
	if (opts.clickTracking !== false) out = rewriteHtmlLinks(out, track, fieldLinksTracked(opts) ? undefined : filled.fields);
	if (opts.openPixel !== false) out = insertOpenPixel(out, openUrl);
	return out;
}

/**
 * The text part: the given text with the placeholder filled and links tracked, or else one generated from the
 * rendered HTML, so its links are tracked as well (the pixel has no text form).
 */
function renderTextPart(
	text: string | undefined,
	fields: FieldRanges | undefined,
	renderedHtml: string | undefined,
	opts: RenderTrackingOptions,
	unsubscribeUrl: string,
	track: TrackLink,
): string | undefined {
	if (text) {
		const filled = fillPlaceholder(text, fields, unsubscribeUrl);
		return opts.clickTracking !== false ? rewriteTextLinks(filled.text, track, fieldLinksTracked(opts) ? undefined : filled.fields) : filled.text;
	}
	if (renderedHtml && opts.generateText !== false) return htmlToTextPart(renderedHtml);
	return text;
}

/** Links inside contact-field values are tracked only when the user opts in. */
function fieldLinksTracked(opts: RenderTrackingOptions): boolean {
	return opts.trackFieldLinks ?? DEFAULT_TRACK_FIELD_LINKS;
}

/**
 * X-Cadence-Token, then List-Unsubscribe (the URL, and the mailto carrying the address key) with one-click POST
 * for an https URL (RFC 8058), then the user's extra headers.
 */
function trackingHeaders(
	token: string,
	addressKey: string,
	unsubscribeUrl: string,
	checked: CheckedMessage,
	opts: RenderTrackingOptions,
): Record<string, string> {
	const headers: Record<string, string> = { 'X-Cadence-Token': token };
	if (opts.listUnsubscribe !== false) {
		const entries = [`<${unsubscribeUrl}>`];
		if (checked.unsubscribeMailto) entries.push(`<mailto:${checked.unsubscribeMailto}?subject=unsubscribe%20${addressKey}>`);
		headers['List-Unsubscribe'] = entries.join(', ');
		if (unsubscribeUrl.startsWith('https://')) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
	}
	Object.assign(headers, checked.headers);
	return headers;
}

/**
 * The message as RFC 5322 bytes: headers, then the text and HTML parts (multipart/alternative when both), each
 * UTF-8 quoted-printable. Written directly instead of through nodemailer's general composer, which streams every
 * part through transforms and costs about 5x as much per message; the encoders are nodemailer's (RFC 2047 words,
 * quoted-printable, line folding). Dot-stuffing is the SMTP layer's job.
 */
export function buildMimeMessage(msg: RenderedMessage, date: Date = new Date()): Promise<Buffer> {
	try {
		return Promise.resolve(buildMimeBuffer(msg, date));
	} catch (error) {
		return Promise.reject(error);
	}
}

export function buildMimeBuffer(msg: RenderedMessage, date: Date = new Date()): Buffer {
	const lines: string[] = [
		folded('From', msg.fromName ? `${displayName(msg.fromName)} <${cleanHeaderText(msg.fromAddress)}>` : cleanHeaderText(msg.fromAddress)),
		`To: ${cleanHeaderText(msg.to)}`,
	];
	if (msg.replyTo) lines.push(`Reply-To: ${cleanHeaderText(msg.replyTo)}`);
	lines.push(header('Subject', msg.subject), `Message-ID: ${cleanHeaderText(msg.messageId)}`, `Date: ${rfc5322Date(date)}`, 'MIME-Version: 1.0');
	for (const [name, value] of Object.entries(msg.headers)) {
		if (!/^[!-9;-~]+$/.test(name))
			throw new CadenceRenderError(`Invalid header name "${cleanHeaderText(name).slice(0, HEADER_NAME_MAX_LENGTH)}"`, 'invalid-header');
		// Tracking URLs are long but plain ASCII without spaces: written unfolded (well under the 998-octet limit).
		lines.push(/^list-unsubscribe/i.test(name) || name === 'X-Cadence-Token' ? `${name}: ${cleanHeaderText(value)}` : header(name, value));
	}
	const parts: Array<[string, string]> = [];
	if (msg.text !== undefined) parts.push(['text/plain', msg.text]);
	if (msg.html !== undefined) parts.push(['text/html', msg.html]);
	if (parts.length === 0) throw new CadenceRenderError('The message has neither an HTML nor a text body', 'empty-body');
	const body = (type: string, content: string) =>
		`Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp.wrap(qp.encode(toCrlf(content)), 76)}\r\n`;
	if (parts.length === 1) return Buffer.from(`${lines.join('\r\n')}\r\n${body(parts[0][0], parts[0][1])}`, 'latin1');
	const boundary = `----cadence-${randomBytes(12).toString('hex')}`;
	let out = `${lines.join('\r\n')}\r\nContent-Type: multipart/alternative;\r\n boundary="${boundary}"\r\n\r\n`;
	for (const [type, content] of parts) out += `--${boundary}\r\n${body(type, content)}`;
	out += `--${boundary}--\r\n`;
	// Every character above is ASCII: headers are RFC 2047-encoded and bodies quoted-printable.
	return Buffer.from(out, 'latin1');
}

function toCrlf(s: string): string {
	return s.replace(/\r\n|\r|\n/g, '\r\n');
}

/** Longer runs without a space cannot be folded: such values are written as encoded-words, which can. */
const HEADER_WORD_MAX = 200;

function longestWord(s: string): number {
	let longest = 0;
	let run = 0;
	for (let i = 0; i < s.length; i++) {
		if (s.charCodeAt(i) === 32) run = 0;
		else if (++run > longest) longest = run;
	}
	return longest;
}

/** Encoded-words for non-ASCII text, and for the whole value when a word is too long to fold. */
function encodeHeaderText(v: string): string {
	return longestWord(v) > HEADER_WORD_MAX ? mimeFuncs.encodeWord(v, 'Q', 52) : mimeFuncs.encodeWords(v, 'Q', 52);
}

/** `Name: value`, control characters removed, non-ASCII words as RFC 2047 encoded-words, folded at 76 characters. */
function header(name: string, value: string): string {
	return folded(name, encodeHeaderText(cleanHeaderText(value)));
}

/** `Name: value` for a value that is already ASCII and encoded, folded at 76 characters. */
function folded(name: string, encoded: string): string {
	return mimeFuncs.foldLines(`${name}: ${encoded}`, 76).replace(/\r?\n$/, '');
}

/** A display name as an atom, a quoted string, or encoded-words when it is not ASCII (or cannot be folded). */
function displayName(name: string): string {
	const n = cleanHeaderText(name).trim();
	if (/[^\x20-\x7e]/.test(n) || longestWord(n) > HEADER_WORD_MAX) return encodeHeaderText(n);
	if (/^[\w!#$%&'*+\-/=?^`{|}~ ]+$/.test(n)) return n;
	return `"${n.replace(/(["\\])/g, '\\$1')}"`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function rfc5322Date(d: Date): string {
	const p = (n: number) => String(n).padStart(2, '0');
	return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

// ---- HTML helpers -------------------------------------------------------------------------------------------

const LINK_TAGS: ReadonlySet<string> = new Set(['a', 'area']);
const NO_TRACK_ATTRIBUTES: ReadonlySet<string> = new Set(['data-notrack', 'data-cadence-notrack']);
/** A tracked link with one of these attributes leads to its target as written, without UTM parameters. */
const NO_UTM_ATTRIBUTES: ReadonlySet<string> = new Set(['data-noutm', 'data-cadence-noutm']);

function firstAttribute(attributes: readonly HtmlAttribute[] | undefined, name: string): HtmlAttribute | undefined {
	return attributes?.find((a) => a.name === name);
}

/**
 * Rewrites the href of every `<a>`/`<area>` whose target is http(s) through `track` (which returns null to leave a
 * link alone: the unsubscribe link, tracking URLs, over-long targets, links the redirect would refuse). mailto:,
 * tel:, anchors, relative links and links marked `data-notrack` stay as they are; a link marked `data-noutm` is
 * tracked without UTM parameters. With `fields`, only links whose destination (the tag, the href name and the
 * value through its host) is template text are tracked: a contact field can add a path or query to a template
 * link, never choose where a tracked link leads.
 */
export function rewriteHtmlLinks(html: string, track: (target: string, utm?: boolean) => string | null, fields?: FieldRanges): string {
	const out: string[] = [];
	let last = 0;
	scanHtml(html, {
		attributesOf: LINK_TAGS,
		tag(tag) {
			if (tag.closing || !LINK_TAGS.has(tag.name)) return;
			const attributes = tag.attributes ?? [];
			if (attributes.some((a) => NO_TRACK_ATTRIBUTES.has(a.name))) return;
			const href = firstAttribute(attributes, 'href');
			if (!href) return;
			const target = trimLinkValue(decodeHtmlEntities(href.value));
			if (!/^https?:\/\//i.test(target)) return;
			if (
				fields &&
				fields.length > 0 &&
				!(
					outsideFields(fields, tag.start, tag.start + 1 + tag.name.length) &&
					outsideFields(fields, href.nameStart, href.nameEnd) &&
					outsideFields(fields, href.valueStart, href.valueStart + linkOriginLength(href.value))
				)
			) {
				return;
			}
			const url = track(target, !attributes.some((a) => NO_UTM_ATTRIBUTES.has(a.name)));
			if (!url) return;
			out.push(html.slice(last, href.rawStart), `"${escapeHtmlAttr(url)}"`);
			last = href.rawEnd;
		},
	});
	if (last === 0) return html;
	out.push(html.slice(last));
	return out.join('');
}

const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = new Set([...'.,;:!?)]}>']);

/**
 * Rewrites bare http(s) URLs of a text part; trailing punctuation stays outside the link. With `fields`, only
 * URLs whose scheme and host are template text are tracked.
 */
export function rewriteTextLinks(text: string, track: (target: string) => string | null, fields?: FieldRanges): string {
	return text.replace(TEXT_URL, (match: string, offset: number) => {
		let end = match.length;
		while (end > 0 && TRAILING_PUNCTUATION.has(match[end - 1])) end--;
		const trimmed = match.slice(0, end);
		if (fields && fields.length > 0 && !outsideFields(fields, offset, offset + linkOriginLength(trimmed))) return match;
		const url = track(trimmed);
		return url ? url + match.slice(end) : match;
	});
}

/** A 1x1 GIF before the last `</body>` end tag, or at the end when there is none. */
export function insertOpenPixel(html: string, openUrl: string): string {
	const img = `<img src="${escapeHtmlAttr(openUrl)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />`;
	let idx = -1;
	scanHtml(html, {
		tag(tag) {
			if (tag.closing && tag.name === 'body') idx = tag.start;
		},
	});
	return idx < 0 ? html + img : html.slice(0, idx) + img + html.slice(idx);
}

export function escapeHtmlAttr(s: string): string {
	return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const NAMED_ENTITIES: Record<string, string> = {
	amp: '&',
	lt: '<',
	gt: '>',
	quot: '"',
	apos: "'",
	nbsp: '\u00a0',
	copy: '©',
	reg: '®',
	trade: '™',
	hellip: '…',
	mdash: '—',
	ndash: '–',
	laquo: '«',
	raquo: '»',
	lsquo: '‘',
	rsquo: '’',
	ldquo: '“',
	rdquo: '”',
	bull: '•',
	middot: '·',
	euro: '€',
};

export function decodeHtmlEntities(s: string): string {
	if (!s.includes('&')) return s;
	// Named references need their semicolon: `?a=1&copy=2` in a link is a query, not "©".
	return s.replace(/&(#x[0-9a-f]{1,6};?|#[0-9]{1,7};?|[a-z][a-z0-9]{1,31};)/gi, (whole: string, ref: string) => {
		const ent = ref.endsWith(';') ? ref.slice(0, -1) : ref;
		if (ent[0] === '#') {
			const code = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
			return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole;
		}
		return NAMED_ENTITIES[ent.toLowerCase()] ?? whole;
	});
}

const BLOCK_TAGS = new Set([
	'p',
	'div',
	'table',
	'tr',
	'h1',
	'h2',
	'h3',
	'h4',
	'h5',
	'h6',
	'ul',
	'ol',
	'blockquote',
	'section',
	'article',
	'header',
	'footer',
	'hr',
	'pre',
]);
const TEXT_PART_ATTRIBUTES: ReadonlySet<string> = new Set(['a', 'img']);

/**
 * A readable text part from HTML: block elements become line breaks, list items get "- ", links become
 * "label (url)" (just the url when the label is the url), images their alt text; head, style, script and comments
 * go. Not a layout engine: enough for the text/plain alternative of a marketing message. One pass over the
 * markup (this runs for every message of a send). Links do not nest (as in HTML, a new `<a>` ends the open one),
 * so each piece of text is gathered into at most one label.
 */
export function htmlToTextPart(html: string): string {
	const out: string[] = [];
	let anchor: { at: number; href: string } | null = null;
	let inHead = false;
	const closeAnchor = () => {
		if (!anchor) return;
		const label = out.splice(anchor.at).join('').replace(/\s+/g, ' ').trim();
		let href = anchor.href;
		anchor = null;
		if (/^(mailto|tel):/i.test(href)) href = href.replace(/^(mailto|tel):/i, '').split('?')[0];
		else if (!/^https?:\/\//i.test(href)) href = '';
		out.push(' ', !href || label === href ? label || href : label ? `${label} (${href})` : href, ' ');
	};
	scanHtml(html, {
		attributesOf: TEXT_PART_ATTRIBUTES,
		text(start, end, rawTextOf) {
			if (inHead || (rawTextOf !== undefined && rawTextOf !== 'textarea')) return;
			out.push(decodeHtmlEntities(html.slice(start, end)).replace(/\s+/g, ' '));
		},
		tag({ name, closing, attributes }) {
			if (name === 'head') inHead = !closing;
			else if (name === 'body') inHead = false;
			if (inHead) return;
			if (name === 'a') {
				closeAnchor();
				if (!closing) {
					const h = firstAttribute(attributes, 'href');
					anchor = { at: out.length, href: h ? decodeHtmlEntities(h.value).trim() : '' };
				}
			} else if (name === 'img') {
				const alt = firstAttribute(attributes, 'alt');
				const value = alt ? decodeHtmlEntities(alt.value).trim() : '';
				out.push(value ? ` ${value} ` : ' ');
			} else if (name === 'br') out.push('\n');
			else if (name === 'li') out.push(closing ? '' : '\n- ');
			else if (name === 'td' || name === 'th') out.push(' ');
			else if (BLOCK_TAGS.has(name)) out.push('\n\n');
		},
	});
	const lines = out.join('').split('\n');
	const result: string[] = [];
	for (const raw of lines) {
		const line = collapse(raw);
		if (line === '' && (result.length === 0 || result[result.length - 1] === '')) continue;
		result.push(line);
	}
	while (result.length > 0 && result[result.length - 1] === '') result.pop();
	return result.join('\n');
}

function collapse(s: string): string {
	return s.replace(/[ \t\f\v\r\u00a0]+/g, ' ').trim();
}
