/**
 * The tracking endpoint as a pure function: given one HTTP request (method, query, body, headers, ip, time) and a
 * tracker, what to answer and which event, if any, to emit. No I/O, no n8n: the trigger node only copies the
 * answer onto the response, so every endpoint and every hostile input is tested here without a server.
 *
 * One URL serves everything (`${baseUrl}?t=${token}`); the signed token says whether it is an open pixel, a click
 * (with its bound target) or an unsubscribe link. Nothing taken from the request is ever redirected to or written
 * into a page: redirect targets come from inside a verified token, or from the node's configuration.
 *
 * Conversions: a click on a link to one of the Conversion Domains redirects with the message's conversion reference
 * appended (`mc=<token>`, a token of its own kind); the website sends it back to this same URL
 * (`?mc=<token>&order=<id>&value=<amount>&currency=<ISO 4217>[&sig=<hmac>]`) and the hit becomes a `converted`
 * event. Anyone holding the landing URL can send that request, so a value is recorded only when `sig` is the
 * HMAC-SHA256 of the reported fields with the Conversion Secret (the website's server computes it); without a valid
 * signature the conversion counts with no value.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CadenceEvent, EventType, HitClass } from './events';
import { eventId } from './events';
import { addUtmParameters, checkLinkTarget } from './links';
import { classifyHit, isMachineHit, readerKey, type HitClassOptions, type HitKind } from './hitClass';
import { TRACKING_TOKEN_MAX_LENGTH, type ParsedTracking, type Tracker } from './tracker';

export interface TrackingRequest {
	method: string;
	/** Parsed query string (n8n's `getQueryData()`); values may be strings, arrays or objects. */
	query?: Record<string, unknown> | null;
	/** Parsed body (object for forms and JSON), or the raw text / bytes. */
	body?: unknown;
	/** Header names in any case. */
	headers?: Record<string, string | string[] | undefined> | null;
	ip?: string;
	/** Epoch ms of the request. */
	now: number;
}

export type MachineHitHandling = 'emit' | 'drop';
/** Machine hits are emitted, flagged, unless the user chooses to drop them. */
export const DEFAULT_MACHINE_HITS: MachineHitHandling = 'emit';

export interface TrackingHttpOptions extends HitClassOptions {
	/** What machine hits (apple_mpp, scanner) do: `emit` them flagged (default) or answer without an execution. */
	machineHits?: MachineHitHandling;
	/** Where a bad click link goes instead of the error page; must be an absolute http(s) URL. */
	fallbackUrl?: string;
	/** Shown on the unsubscribe pages, e.g. the sender's company name. */
	senderName?: string;
	/**
	 * Hosts (a host covers its subdomains) whose tracked links redirect with the conversion reference appended
	 * (`mc=`). Empty: no link carries one. A link that already has an `mc` parameter keeps it as written.
	 */
	conversionDomains?: string[];
	/** The key of the `sig` HMAC a conversion's value must carry to be recorded; empty: values are never recorded. */
	conversionSecret?: string;
}

/** The query parameter of the conversion reference, on the landing page and on the conversion request. */
export const CONVERSION_PARAM = 'mc';
/** Largest conversion value accepted. */
export const CONVERSION_VALUE_MAX = 1_000_000_000;
/** Most decimals a conversion value may have. */
export const CONVERSION_VALUE_MAX_DECIMALS = 4;
/** Longest order id accepted (characters). */
export const CONVERSION_ORDER_MAX_LENGTH = 128;
/** Shortest Conversion Secret accepted. */
export const CONVERSION_SECRET_MIN_LENGTH = 16;

/** The fields a conversion's `sig` covers, each exactly as sent ('' when absent). */
export interface ConversionFields {
	mc: string;
	order: string;
	value: string;
	currency: string;
}

/**
 * The `sig` of a conversion: lower-case hex HMAC-SHA256, keyed with the Conversion Secret, of
 * `mc`, `order`, `value` and `currency` exactly as sent, joined with line feeds. The website's server computes it.
 */
export function conversionSignature(secret: string, f: ConversionFields): string {
	return createHmac('sha256', secret).update([f.mc, f.order, f.value, f.currency].join('\n')).digest('hex');
}

export interface TrackingResponse {
	status: number;
	headers: Record<string, string>;
	body: Buffer;
	/** The event of this hit, when the token was valid and the hit is one we record (also for dropped ones). */
	event?: CadenceEvent;
	/** True when the trigger should start an execution with `event`. */
	startExecution: boolean;
}

/** A 1x1 transparent GIF (43 bytes). */
export const TRACKING_PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

/** Answered on every response: nothing cached, nothing sniffed, the tracking URL never leaks as a referrer. */
export const TRACKING_SECURE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
	'cache-control': 'no-store, no-cache, must-revalidate, max-age=0',
	pragma: 'no-cache',
	expires: '0',
	'x-content-type-options': 'nosniff',
	'referrer-policy': 'no-referrer',
	'x-robots-tag': 'noindex, nofollow',
});

/** Headers of every page: pages carry no script and may only post their form back to this same endpoint. */
export const TRACKING_HTML_HEADERS: Readonly<Record<string, string>> = Object.freeze({
	'content-type': 'text/html; charset=utf-8',
	'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	'x-frame-options': 'DENY',
});

const EVENT_TYPES: Record<HitKind, EventType> = { open: 'opened', click: 'clicked', unsubscribe: 'unsubscribed' };
const ONE_CLICK_VALUE = 'One-Click';

function headerValue(headers: TrackingRequest['headers'], name: string): string {
	if (!headers) return '';
	let v = headers[name];
	if (v === undefined) {
		const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
		v = key === undefined ? undefined : headers[key];
	}
	if (Array.isArray(v)) v = v[0];
	return typeof v === 'string' ? v : '';
}

/** The `t` value if it is one plain string of sane length; anything else (arrays, objects, huge) is no token. */
function tokenFrom(value: unknown): string | undefined {
	if (typeof value !== 'string') return undefined;
	const t = value.trim();
	return t.length > 0 && t.length <= TRACKING_TOKEN_MAX_LENGTH ? t : undefined;
}

/** Form fields of a POST body: an object parsed by n8n, or raw urlencoded text/bytes. */
function formFields(body: unknown): Record<string, unknown> {
	if (body === undefined || body === null) return {};
	if (Buffer.isBuffer(body) || typeof body === 'string') {
		const text = (Buffer.isBuffer(body) ? body.toString('utf8') : body).slice(0, 16_384);
		return Object.fromEntries(new URLSearchParams(text));
	}
	return typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

function isOneClick(fields: Record<string, unknown>): boolean {
	const v = fields['List-Unsubscribe'];
	return typeof v === 'string' && v.trim() === ONE_CLICK_VALUE;
}

/**
 * Where a click may redirect: the link rule the renderer also applies before tracking a link (`checkLinkTarget`),
 * so every tracked link redirects. Only absolute http(s) URLs without control characters or credentials are ever
 * put in a Location header.
 */
export function safeTrackingRedirect(target: unknown): string | undefined {
	return checkLinkTarget(target);
}

/** Escapes the five HTML-special characters of page text (numeric references, as every page writes them). */
export function escapePageText(s: string): string {
	return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A tracking page (error, unsubscribe, confirmation): the same frame, style and robots rule for every answer. */
export function trackingPage(title: string, inner: string): Buffer {
	return Buffer.from(
		'<!doctype html><html lang="en"><head><meta charset="utf-8">' +
			'<meta name="viewport" content="width=device-width,initial-scale=1">' +
			'<meta name="robots" content="noindex,nofollow">' +
			`<title>${escapePageText(title)}</title>` +
			'<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}' +
			'button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #555;background:#fff;cursor:pointer}</style>' +
			`</head><body>${inner}</body></html>`,
		'utf8',
	);
}

/** ` from <sender>` for page sentences, or nothing without a sender name. */
export function fromSenderPhrase(senderName: string | undefined): string {
	const name = (senderName ?? '').trim();
	return name ? ` from ${escapePageText(name.slice(0, 200))}` : '';
}

interface Answer {
	status: number;
	headers?: Record<string, string>;
	body?: Buffer;
}

function finish(method: string, answer: Answer, event?: CadenceEvent, startExecution = false): TrackingResponse {
	const body = answer.body ?? Buffer.alloc(0);
	const headers: Record<string, string> = { ...TRACKING_SECURE_HEADERS, ...answer.headers };
	headers['content-length'] = String(body.length);
	// HEAD gets the headers GET would get, without the body.
	return { status: answer.status, headers, body: method === 'HEAD' ? Buffer.alloc(0) : body, event, startExecution };
}

const pixel = (): Answer => ({ status: 200, headers: { 'content-type': 'image/gif' }, body: TRACKING_PIXEL_GIF });

function badLink(opts: TrackingHttpOptions): Answer {
	const fallback = safeTrackingRedirect(opts.fallbackUrl);
	if (fallback) return { status: 302, headers: { location: fallback } };
	return {
		status: 404,
		headers: TRACKING_HTML_HEADERS,
		body: trackingPage('Link not valid', '<h1>This link is not valid</h1><p>It may be incomplete or out of date.</p>'),
	};
}

function methodNotAllowed(allow: string): Answer {
	return { status: 405, headers: { allow, 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from('Method not allowed\n') };
}

/**
 * An image request (pixel) for anything that does not ask for a page: mail clients and proxies never ask for
 * text/html when loading an image, and a browser navigating to a link always does.
 */
function wantsPage(headers: TrackingRequest['headers']): boolean {
	const dest = headerValue(headers, 'sec-fetch-dest').toLowerCase();
	if (dest === 'image') return false;
	if (dest === 'document' || dest === 'iframe') return true;
	return headerValue(headers, 'accept').toLowerCase().includes('text/html');
}

function buildEvent(
	kind: HitKind,
	parsed: ParsedTracking,
	messageToken: string,
	req: TrackingRequest,
	cls: { class: HitClass; rule: string },
	url: string | undefined,
): CadenceEvent {
	const type = EVENT_TYPES[kind];
	const userAgent = headerValue(req.headers, 'user-agent').slice(0, 512);
	const ip = (req.ip ?? '').slice(0, 64);
	const at = new Date(req.now).toISOString();
	const { data } = parsed;
	return {
		// An unsubscribe is one fact however often it is posted (idempotent); each open or click hit is its own.
		id: kind === 'unsubscribe' ? eventId(type, messageToken) : eventId(type, messageToken, req.now, ip, userAgent, url),
		type,
		at,
		email: data.email,
		campaign: data.campaign,
		batchTag: data.batchTag,
		variant: data.variant,
		token: messageToken,
		class: cls.class,
		classRule: cls.rule,
		...(url !== undefined ? { url } : {}),
		ip,
		userAgent,
		method: req.method.toUpperCase(),
		sentAt: new Date(data.sentAt).toISOString(),
		secondsSinceSent: Math.round((req.now - data.sentAt) / 1000),
		...readerFields(kind, cls.class, ip, userAgent),
	};
}

/**
 * A human open's or click's reader (network and software family), which the store compares with the token's earlier
 * readers to tell a forward (`isForwardedHit`); machine hits and unknown readers carry none.
 */
function readerFields(kind: HitKind, cls: HitClass, ip: string, userAgent: string): { readerNetwork?: string; readerAgent?: string } {
	if (cls !== 'human' || kind === 'unsubscribe') return {};
	const key = readerKey(ip, userAgent);
	return key ? { readerNetwork: key.network, readerAgent: key.agent } : {};
}

/** Answers one tracking request. Never throws on request data. */
export function handleTrackingRequest(req: TrackingRequest, tracker: TrackingHttpTracker, opts: TrackingHttpOptions = {}): TrackingResponse {
	const method = String(req.method ?? '').toUpperCase();
	if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') return finish(method, methodNotAllowed('GET, HEAD, POST'));

	const fields = method === 'POST' ? formFields(req.body) : {};
	const t = tokenFrom(req.query?.t) ?? (method === 'POST' ? tokenFrom(fields.t) : undefined);
	if (t === undefined && isConversionRequest(req.query, fields)) return answerConversion(method, req, fields, tracker, opts);
	const parsed = t === undefined ? null : parseTokenQuietly(tracker, t);
	// A conversion reference is no tracking link: at `t` it is refused like any unknown token.
	if (!parsed || t === undefined || parsed.kind === 'conversion') return finish(method, invalidTokenAnswer(method, req, opts));

	const kind: HitKind = parsed.kind;
	const messageToken = messageTokenOf(tracker, parsed, t);
	const cls = classifyHit({ kind, method, userAgent: headerValue(req.headers, 'user-agent'), sentAt: parsed.data.sentAt, now: req.now }, opts);
	const hit: Hit = {
		method,
		req,
		token: t,
		parsed,
		messageToken,
		cls,
		drop: (opts.machineHits ?? DEFAULT_MACHINE_HITS) === 'drop' && isMachineHit(cls.class),
	};
	if (kind === 'open') return answerOpen(hit);
	if (kind === 'click') return answerClick(hit, tracker, opts);
	return answerUnsubscribe(hit, fields, opts);
}

/** What the endpoint needs of a tracker; `conversionToken` only when links carry conversion references. */
export type TrackingHttpTracker = Pick<Tracker, 'parseToken' | 'token'> & Partial<Pick<Tracker, 'conversionToken'>>;

/** A valid token's request, as the answer for its kind needs it. */
interface Hit {
	/** Upper-case GET, HEAD or POST. */
	method: string;
	req: TrackingRequest;
	/** The token that arrived. */
	token: string;
	parsed: ParsedTracking;
	/** The message's open token, which every event of the message carries. */
	messageToken: string;
	cls: { class: HitClass; rule: string };
	/** True when the hit is recorded but starts no execution (a machine hit the user chose to drop). */
	drop: boolean;
}

/** The token's data, or null for a token that is not ours or that the tracker cannot read. */
function parseTokenQuietly(tracker: Pick<Tracker, 'parseToken'>, t: string): ParsedTracking | null {
	try {
		return tracker.parseToken(t);
	} catch {
		return null;
	}
}

/**
 * The kind of a bad token is unknown: a POST and a page visit get the error page or the configured fallback, an
 * image fetch gets the pixel (no broken image in any mail).
 */
function invalidTokenAnswer(method: string, req: TrackingRequest, opts: TrackingHttpOptions): Answer {
	if (method === 'POST') return badLink(opts);
	return wantsPage(req.headers) ? badLink(opts) : pixel();
}

/**
 * Events carry the message token (the open token), the one in Message-ID and the `sent` event, so every event of
 * one message joins on it; for an open, or when it cannot be made, it is the token that arrived.
 */
function messageTokenOf(tracker: Pick<Tracker, 'token'>, parsed: ParsedTracking, t: string): string {
	if (parsed.kind === 'open') return t;
	try {
		return tracker.token(parsed.data);
	} catch {
		return t;
	}
}

/** An open answers GET and HEAD with the pixel and records the hit. */
function answerOpen(hit: Hit): TrackingResponse {
	if (hit.method === 'POST') return finish(hit.method, methodNotAllowed('GET, HEAD'));
	const event = buildEvent('open', hit.parsed, hit.messageToken, hit.req, hit.cls, undefined);
	return finish(hit.method, pixel(), event, !hit.drop);
}

/** A click answers GET and HEAD with a redirect to its bound target when the link rule accepts it. */
function answerClick(hit: Hit, tracker: TrackingHttpTracker, opts: TrackingHttpOptions): TrackingResponse {
	if (hit.method === 'POST') return finish(hit.method, methodNotAllowed('GET, HEAD'));
	const target = safeTrackingRedirect(hit.parsed.target);
	if (!target) return finish(hit.method, badLink(opts));
	const event = buildEvent('click', hit.parsed, hit.messageToken, hit.req, hit.cls, target);
	const location = withConversionReference(target, hit, tracker, opts);
	return finish(hit.method, { status: 302, headers: { location } }, event, !hit.drop);
}

/** True when `host` is one of `domains` or a subdomain of one (names compared lower-case, without a trailing dot). */
export function hostInDomains(host: string, domains: readonly string[] | undefined): boolean {
	const h = host.toLowerCase().replace(/\.$/, '');
	return (domains ?? []).some((d) => {
		const domain = d
			.trim()
			.toLowerCase()
			.replace(/^\*?\./, '')
			.replace(/\.$/, '');
		return domain.length > 0 && (h === domain || h.endsWith(`.${domain}`));
	});
}

/**
 * The redirect target with the conversion reference appended when its host is a Conversion Domain and it has no
 * `mc` parameter yet (UTM and every other parameter kept as written); the target as it is otherwise, or when the
 * result would not pass the link rule.
 */
function withConversionReference(target: string, hit: Hit, tracker: TrackingHttpTracker, opts: TrackingHttpOptions): string {
	if (!tracker.conversionToken || !hostInDomains(new URL(target).hostname, opts.conversionDomains)) return target;
	try {
		const mc = tracker.conversionToken(hit.parsed.data);
		return checkLinkTarget(addUtmParameters(target, [{ name: CONVERSION_PARAM, pair: `${CONVERSION_PARAM}=${mc}` }])) ?? target;
	} catch {
		return target;
	}
}

/**
 * GET and HEAD only show the confirmation page (link scanners fetch every URL they see); a POST with One-Click
 * is deliberate (a person's button or the mailbox provider's RFC 8058 request): it is always recorded, whatever
 * its class, and answered the same however often it repeats.
 */
function answerUnsubscribe(hit: Hit, fields: Record<string, unknown>, opts: TrackingHttpOptions): TrackingResponse {
	if (hit.method !== 'POST') return finish(hit.method, unsubscribeConfirmPage(hit.token, opts));
	if (!isOneClick(fields)) {
		return finish(hit.method, {
			status: 400,
			headers: { 'content-type': 'text/plain; charset=utf-8' },
			body: Buffer.from('Expected List-Unsubscribe=One-Click\n'),
		});
	}
	const event = buildEvent('unsubscribe', hit.parsed, hit.messageToken, hit.req, hit.cls, undefined);
	return finish(
		hit.method,
		{
			status: 200,
			headers: TRACKING_HTML_HEADERS,
			body: trackingPage(
				'Unsubscribed',
				`<h1>You are unsubscribed</h1><p>You will not receive these emails${fromSenderPhrase(opts.senderName)} again.</p>`,
			),
		},
		event,
		true,
	);
}

/** The confirmation page: a form that posts One-Click back to this same URL. */
function unsubscribeConfirmPage(t: string, opts: TrackingHttpOptions): Answer {
	const action = `?t=${encodeURIComponent(t)}`;
	return {
		status: 200,
		headers: TRACKING_HTML_HEADERS,
		body: trackingPage(
			'Unsubscribe',
			`<h1>Unsubscribe</h1><p>Stop receiving these emails${fromSenderPhrase(opts.senderName)}?</p>` +
				`<form method="post" action="${escapePageText(action)}">` +
				`<input type="hidden" name="List-Unsubscribe" value="${ONE_CLICK_VALUE}">` +
				'<button type="submit">Unsubscribe</button></form>',
		),
	};
}

// ---- conversions --------------------------------------------------------------------------------------------

const VALUE_RE = new RegExp(`^\\d{1,10}(?:\\.\\d{1,${CONVERSION_VALUE_MAX_DECIMALS}})?$`);
const CURRENCY_RE = /^[A-Z]{3}$/;
// Printable text without controls: an order id goes into an event id and a table, never into a page.
// eslint-disable-next-line no-control-regex
const ORDER_FORBIDDEN_RE = /[\u0000-\u001f\u007f-\u009f]/;
const SIGNATURE_RE = /^[0-9a-f]{64}$/;

/** A field of a conversion request: the query's, else (POST) the body's; a number is taken as written in JSON. */
function conversionField(query: TrackingRequest['query'], fields: Record<string, unknown>, name: string): string | undefined {
	const pick = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
	return pick(query?.[name]) ?? pick(fields[name]);
}

function isConversionRequest(query: TrackingRequest['query'], fields: Record<string, unknown>): boolean {
	return query?.[CONVERSION_PARAM] !== undefined || fields[CONVERSION_PARAM] !== undefined;
}

/** A reported value: a plain decimal (digits, optional point and up to the allowed decimals), at most the maximum. */
export function parseConversionValue(raw: string): number | undefined {
	const s = raw.trim();
	if (!VALUE_RE.test(s)) return undefined;
	const n = Number(s);
	return Number.isFinite(n) && n >= 0 && n <= CONVERSION_VALUE_MAX ? n : undefined;
}

function textAnswer(status: number, text: string): Answer {
	return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from(`${text}\n`) };
}

/** The checked fields of a conversion request, or the 4xx answer naming what is wrong. */
type ConversionCheck = { ok: true; order: string; value?: number; currency: string; valueIgnored?: string } | { ok: false; answer: Answer };

function checkConversion(f: ConversionFields, sig: string | undefined, opts: TrackingHttpOptions): ConversionCheck {
	const order = f.order.trim();
	if (order.length > CONVERSION_ORDER_MAX_LENGTH || ORDER_FORBIDDEN_RE.test(order)) {
		return { ok: false, answer: textAnswer(400, `order must be at most ${CONVERSION_ORDER_MAX_LENGTH} printable characters`) };
	}
	const currency = f.currency.trim().toUpperCase();
	if (currency && !CURRENCY_RE.test(currency)) return { ok: false, answer: textAnswer(400, 'currency must be a three-letter ISO 4217 code') };
	const value = f.value.trim() === '' ? undefined : parseConversionValue(f.value);
	if (f.value.trim() !== '' && value === undefined) {
		return {
			ok: false,
			answer: textAnswer(
				400,
				`value must be a decimal number from 0 to ${CONVERSION_VALUE_MAX} with at most ${CONVERSION_VALUE_MAX_DECIMALS} decimals`,
			),
		};
	}
	if (sig !== undefined) {
		const secret = opts.conversionSecret ?? '';
		const given = sig.trim().toLowerCase();
		const good =
			secret.length > 0 && SIGNATURE_RE.test(given) && timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(conversionSignature(secret, f), 'hex'));
		if (!good) return { ok: false, answer: textAnswer(403, 'sig is not the signature of this conversion') };
		return { ok: true, order, value, currency };
	}
	// Unsigned: anyone with the landing URL could have sent it, so it counts as a conversion without a value.
	return value === undefined ? { ok: true, order, currency } : { ok: true, order, currency, valueIgnored: 'unsigned' };
}

/**
 * A conversion report: GET (a thank-you page pixel, or a server) answers the pixel, POST (a server, form or JSON
 * body) a small JSON receipt; HEAD answers like GET and records nothing. A reference that is forged, of another
 * kind, or past the token lifetime is refused 404 and records nothing; malformed fields 400; a wrong `sig` 403.
 * One event per message and order (`id` from both), so a reloaded thank-you page counts once.
 */
function answerConversion(
	method: string,
	req: TrackingRequest,
	fields: Record<string, unknown>,
	tracker: TrackingHttpTracker,
	opts: TrackingHttpOptions,
): TrackingResponse {
	const mc = tokenFrom(conversionField(req.query, fields, CONVERSION_PARAM));
	const parsed = mc === undefined ? null : parseTokenQuietly(tracker, mc);
	if (!parsed || mc === undefined || parsed.kind !== 'conversion') return finish(method, textAnswer(404, 'Conversion reference not valid'));
	const f: ConversionFields = {
		mc,
		order: conversionField(req.query, fields, 'order') ?? '',
		value: conversionField(req.query, fields, 'value') ?? '',
		currency: conversionField(req.query, fields, 'currency') ?? '',
	};
	const checked = checkConversion(f, conversionField(req.query, fields, 'sig'), opts);
	if (!checked.ok) return finish(method, checked.answer);
	const messageToken = messageTokenOf(tracker, parsed, mc);
	const { data } = parsed;
	const event: CadenceEvent = {
		id: eventId('converted', messageToken, checked.order),
		type: 'converted',
		at: new Date(req.now).toISOString(),
		email: data.email,
		campaign: data.campaign,
		batchTag: data.batchTag,
		variant: data.variant,
		token: messageToken,
		...(checked.value !== undefined ? { value: checked.value } : {}),
		...(checked.currency ? { currency: checked.currency } : {}),
		...(checked.order ? { orderId: checked.order } : {}),
		...(checked.valueIgnored ? { valueIgnored: checked.valueIgnored } : {}),
		ip: (req.ip ?? '').slice(0, 64),
		userAgent: headerValue(req.headers, 'user-agent').slice(0, 512),
		method,
		sentAt: new Date(data.sentAt).toISOString(),
		secondsSinceSent: Math.round((req.now - data.sentAt) / 1000),
	};
	if (method === 'POST') {
		const receipt = { recorded: true, value: checked.value ?? null, ...(checked.valueIgnored ? { valueIgnored: checked.valueIgnored } : {}) };
		return finish(method, { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(receipt)) }, event, true);
	}
	return finish(method, pixel(), method === 'GET' ? event : undefined, method === 'GET');
}
