/**
 * The link rule and the HTML scanning behind click tracking. One rule decides both whether the renderer tracks a
 * link and whether the tracking endpoint redirects to it, so a link that is tracked always redirects and a link
 * the endpoint would refuse is left as written. The scanner reads HTML in one forward pass (linear in its input,
 * whatever the markup), with the tokenizer rules of HTML5 that matter for finding tags and attribute values.
 */

/** Longest link target (characters) the rule accepts. */
export const LINK_TARGET_MAX_LENGTH = 4096;

/**
 * The absolute http(s) URL a link may lead to, normalised (WHATWG URL `href`), or undefined when it is refused:
 * not a string, empty or over LINK_TARGET_MAX_LENGTH, not `http://` / `https://` with a host, credentials
 * (`user@` / `user:pass@`), a backslash, a control character (C0, DEL, C1) or any whitespace other than a plain
 * space, and a plain space anywhere before the query or fragment. A space in the query or fragment (typically a
 * contact field such as `?ref=Anna Smith`) is sent as `%20`, as every browser does.
 */
export function checkLinkTarget(target: unknown): string | undefined {
	if (typeof target !== 'string' || target.length === 0 || target.length > LINK_TARGET_MAX_LENGTH) return undefined;
	// eslint-disable-next-line no-control-regex
	if (/[\u0000-\u001f\u007f-\u009f\\]/.test(target)) return undefined;
	if (/[^\S ]/.test(target)) return undefined;
	const space = target.indexOf(' ');
	if (space >= 0) {
		const q = target.indexOf('?');
		const h = target.indexOf('#');
		const queryStart = q < 0 ? h : h < 0 ? q : Math.min(q, h);
		if (queryStart < 0 || space < queryStart) return undefined;
	}
	if (!/^https?:\/\/[^/]/i.test(target)) return undefined;
	let url: URL;
	try {
		url = new URL(target);
	} catch {
		return undefined;
	}
	if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return undefined;
	if (url.username || url.password) return undefined;
	return url.href;
}

/**
 * Length of the part of a raw (undecoded) link value that decides where it leads: through the first `/`, `?`,
 * `#` or `\` after `//`, or the whole value. Whatever follows can only change the path, query or fragment. A
 * character reference (`&...`) before that point makes it the whole value: a reference completed by later text
 * could decode to anything.
 */
export function linkOriginLength(raw: string): number {
	const slashes = raw.indexOf('//');
	if (slashes < 0) return raw.length;
	for (let i = slashes + 2; i < raw.length; i++) {
		const c = raw.charCodeAt(i);
		if (c === 38) return raw.length; // &
		if (c === 47 || c === 63 || c === 35 || c === 92) return i + 1; // / ? # \
	}
	return raw.length;
}

/** A link value as a URL parser reads it: leading and trailing C0 controls and spaces removed (no regex: linear). */
export function trimLinkValue(s: string): string {
	let start = 0;
	let end = s.length;
	while (start < end && s.charCodeAt(start) <= 32) start++;
	while (end > start && s.charCodeAt(end - 1) <= 32) end--;
	return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Text for HTML content or a quoted attribute value: `& < > " '` escaped. */
export function escapeHtml(s: string): string {
	return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Sorted, non-overlapping `[start, end)` character ranges of a body that came from contact fields (expression
 * results) rather than from the template text.
 */
export type FieldRanges = ReadonlyArray<readonly [number, number]>;

/** True when no character of `[start, end)` lies in a field range (binary search: O(log ranges)). */
export function outsideFields(ranges: FieldRanges, start: number, end: number): boolean {
	let lo = 0;
	let hi = ranges.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (ranges[mid][1] <= start) lo = mid + 1;
		else hi = mid;
	}
	return lo >= ranges.length || ranges[lo][0] >= end;
}

// ---- HTML scanner --------------------------------------------------------------------------------------------

export interface HtmlAttribute {
	/** Lower-case name. */
	name: string;
	nameStart: number;
	nameEnd: number;
	/** The raw value (entities not decoded); '' for an attribute without a value. */
	value: string;
	valueStart: number;
	valueEnd: number;
	/** The value with its quotes, if any: what to replace to change the value. */
	rawStart: number;
	rawEnd: number;
}

export interface HtmlTag {
	/** Lower-case tag name. */
	name: string;
	closing: boolean;
	/** Index of `<` and one past `>`. */
	start: number;
	end: number;
	/** Only for the tag names in `HtmlVisitor.attributesOf`, in document order. */
	attributes?: HtmlAttribute[];
}

export interface HtmlVisitor {
	/** Text between tags; `rawTextOf` names the element (script, style, ...) whose raw content this is. */
	text?(start: number, end: number, rawTextOf?: string): void;
	tag?(tag: HtmlTag): void;
	/** Lower-case tag names whose attributes are collected; others are read past without allocation. */
	attributesOf?: ReadonlySet<string>;
}

/** Elements whose content is text up to their end tag (HTML5 raw text and RCDATA elements). */
const RAW_TEXT_ELEMENTS = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes']);

function isSpace(c: number): boolean {
	return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

function isAsciiLetter(c: number): boolean {
	return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Walks the tags, comments and text of `html` once, front to back. Comments, `<!...>`, `<?...>` and the content
 * of raw text elements are never read as tags; a tag, comment or quoted value that is still open at the end of
 * the input ends the scan (HTML5 drops such a tag), so no position is read more than a bounded number of times.
 * Each state is a helper that takes and returns positions: nothing is allocated per character.
 */
export function scanHtml(html: string, visitor: HtmlVisitor): void {
	const len = html.length;
	let pos = 0;
	let textStart = 0;
	while (pos < len) {
		const lt = html.indexOf('<', pos);
		if (lt < 0) break;
		const next = html.charCodeAt(lt + 1);
		if (startsMarkupDeclaration(html, lt, next)) {
			emitText(visitor, textStart, lt);
			const end = markupDeclarationEnd(html, lt);
			if (end < 0) return; // open to the end of the input
			pos = textStart = end;
			continue;
		}
		const closing = next === 47;
		const nameStart = lt + (closing ? 2 : 1);
		if (!isAsciiLetter(html.charCodeAt(nameStart))) {
			pos = lt + 1; // a "<" that starts nothing: text
			continue;
		}
		const nameEnd = tagNameEnd(html, nameStart + 1);
		const name = html.slice(nameStart, nameEnd).toLowerCase();
		const attributes = visitor.attributesOf?.has(name) ? ([] as HtmlAttribute[]) : undefined;
		const end = readAttributes(html, nameEnd, attributes);
		if (end < 0) return; // a tag open to the end of the input is no tag
		emitText(visitor, textStart, lt);
		visitor.tag?.({ name, closing, start: lt, end, attributes });
		pos = textStart = end;
		if (!closing && RAW_TEXT_ELEMENTS.has(name)) pos = textStart = readRawText(html, name, end, visitor);
	}
	emitText(visitor, textStart, len);
}

/** Text between two markup items is reported only when it is not empty. */
function emitText(visitor: HtmlVisitor, start: number, end: number): void {
	if (end > start) visitor.text?.(start, end);
}

/** `<!`, `<?` and `</` not followed by a letter open a comment or bogus comment, never a tag. */
function startsMarkupDeclaration(html: string, lt: number, next: number): boolean {
	return next === 33 /* ! */ || next === 63 /* ? */ || (next === 47 /* / */ && !isAsciiLetter(html.charCodeAt(lt + 2)) && lt + 2 < html.length);
}

/** One past the end of the comment (`-->`) or bogus comment (`>`) at `lt`, or -1 when it is open to the end. */
function markupDeclarationEnd(html: string, lt: number): number {
	if (html.startsWith('<!--', lt)) {
		// `<!-->` and `<!--->` are complete (empty) comments.
		if (html.charCodeAt(lt + 4) === 62) return lt + 5;
		if (html.startsWith('->', lt + 4)) return lt + 6;
		const close = html.indexOf('-->', lt + 4);
		return close < 0 ? -1 : close + 3;
	}
	const close = html.indexOf('>', lt + 2);
	return close < 0 ? -1 : close + 1;
}

/** A tag name runs to white space, "/" or ">". */
function tagNameEnd(html: string, p: number): number {
	const len = html.length;
	while (p < len) {
		const c = html.charCodeAt(p);
		if (isSpace(c) || c === 47 || c === 62) break;
		p++;
	}
	return p;
}

/** An attribute name runs to white space, "/", ">" or "=". */
function attributeNameEnd(html: string, p: number): number {
	const len = html.length;
	while (p < len) {
		const c = html.charCodeAt(p);
		if (isSpace(c) || c === 47 || c === 62 || c === 61) break;
		p++;
	}
	return p;
}

/** First non-space position at or after `p`. */
function skipSpaces(html: string, p: number): number {
	const len = html.length;
	while (p < len && isSpace(html.charCodeAt(p))) p++;
	return p;
}

/**
 * A tag's attributes up to its `>` (white space and stray "/" separate them): one past the `>`, or -1 when the
 * tag is open to the end of the input. Attributes are pushed to `attributes` only when it is given.
 */
function readAttributes(html: string, p: number, attributes: HtmlAttribute[] | undefined): number {
	const len = html.length;
	for (;;) {
		while (p < len && (isSpace(html.charCodeAt(p)) || html.charCodeAt(p) === 47)) p++;
		if (p >= len) return -1;
		if (html.charCodeAt(p) === 62) return p + 1;
		p = readAttribute(html, p, attributes);
		if (p < 0) return -1;
	}
}

/**
 * One attribute from `attrStart` (name, then optionally `=` and a quoted or unquoted value): the position after
 * it, or -1 when its quoted value is open to the end of the input.
 */
function readAttribute(html: string, attrStart: number, attributes: HtmlAttribute[] | undefined): number {
	const nameEnd = attributeNameEnd(html, attrStart + 1); // the first character of a name may be anything, even "="
	let p = skipSpaces(html, nameEnd);
	if (p >= html.length || html.charCodeAt(p) !== 61) {
		// No value: the position after the name (nothing to replace).
		attributes?.push(htmlAttribute(html, attrStart, nameEnd, nameEnd, nameEnd, nameEnd, nameEnd));
		return p;
	}
	p = skipSpaces(html, p + 1);
	const q = html.charCodeAt(p);
	if (q === 34 || q === 39) {
		const close = html.indexOf(q === 34 ? '"' : "'", p + 1);
		if (close < 0) return -1;
		attributes?.push(htmlAttribute(html, attrStart, nameEnd, p, p + 1, close, close + 1));
		return close + 1;
	}
	const valueEnd = unquotedValueEnd(html, p);
	attributes?.push(htmlAttribute(html, attrStart, nameEnd, p, p, valueEnd, valueEnd));
	return valueEnd;
}

/** An unquoted attribute value runs to white space or ">". */
function unquotedValueEnd(html: string, p: number): number {
	const len = html.length;
	while (p < len && !isSpace(html.charCodeAt(p)) && html.charCodeAt(p) !== 62) p++;
	return p;
}

/** The attribute record: a lower-case name and the raw (undecoded) value with its positions. */
function htmlAttribute(
	html: string,
	nameStart: number,
	nameEnd: number,
	rawStart: number,
	valueStart: number,
	valueEnd: number,
	rawEnd: number,
): HtmlAttribute {
	return {
		name: html.slice(nameStart, nameEnd).toLowerCase(),
		nameStart,
		nameEnd,
		value: html.slice(valueStart, valueEnd),
		valueStart,
		valueEnd,
		rawStart,
		rawEnd,
	};
}

/** The content of a raw text element is one text piece up to its end tag: the position of that end tag. */
function readRawText(html: string, name: string, from: number, visitor: HtmlVisitor): number {
	const stop = findEndTag(html, name, from);
	if (stop > from) visitor.text?.(from, stop, name);
	return stop;
}

/** Index of the `</name` that ends a raw text element (followed by space, "/" or ">"), or the input's length. */
function findEndTag(html: string, name: string, from: number): number {
	for (let i = html.indexOf('</', from); i >= 0; i = html.indexOf('</', i + 2)) {
		const after = html.charCodeAt(i + 2 + name.length);
		if (html.substr(i + 2, name.length).toLowerCase() === name && (isSpace(after) || after === 47 || after === 62 || Number.isNaN(after))) return i;
	}
	return html.length;
}

// ---- UTM parameters ------------------------------------------------------------------------------------------

/** `utm_source` when none is configured: web analytics show visits from the cadence under this source. */
export const UTM_DEFAULT_SOURCE = 'cadence';
/** `utm_medium` when none is configured. */
export const UTM_DEFAULT_MEDIUM = 'email';
/** Longest UTM value (characters) used; a longer value is cut to this length. */
export const UTM_VALUE_MAX_LENGTH = 200;

/** The UTM values one message's links get; an empty value is left out. */
export interface UtmValues {
	source: string;
	medium: string;
	campaign: string;
	/** The A/B variant ('' without one). */
	content: string;
}

/** The encoded `name=value` pairs to add to a message's links, computed once per message. */
export type UtmPairs = ReadonlyArray<{ name: string; pair: string }>;

const UTM_ORDER = ['source', 'medium', 'campaign', 'content'] as const;

/**
 * The `utm_*=value` pairs for `values`, in the order source, medium, campaign, content: values trimmed, cut to
 * UTM_VALUE_MAX_LENGTH, lone surrogates replaced (so encoding cannot throw), percent-encoded; empty ones left out.
 */
export function utmPairs(values: UtmValues): UtmPairs {
	const pairs: Array<{ name: string; pair: string }> = [];
	for (const key of UTM_ORDER) {
		const raw = typeof values[key] === 'string' ? values[key].trim() : '';
		const value = raw.slice(0, UTM_VALUE_MAX_LENGTH).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
		if (value) pairs.push({ name: `utm_${key}`, pair: `utm_${key}=${encodeURIComponent(value)}` });
	}
	return pairs;
}

/** A query parameter's name as a server reads it (`+` is a space, percent-escapes decoded), lower-cased. */
function queryName(part: string): string {
	const eq = part.indexOf('=');
	const name = (eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' ');
	try {
		return decodeURIComponent(name).toLowerCase();
	} catch {
		return name.toLowerCase(); // a malformed escape: compared as written
	}
}

/**
 * `target` with the UTM pairs its query does not already have appended (a name already present, in any case or
 * encoding, is kept as written: never overwritten, never doubled), before the fragment. The rest of the link is
 * left byte for byte as it was. Linear in the link's length.
 */
export function addUtmParameters(target: string, pairs: UtmPairs): string {
	if (pairs.length === 0) return target;
	const hash = target.indexOf('#');
	const beforeHash = hash < 0 ? target : target.slice(0, hash);
	const fragment = hash < 0 ? '' : target.slice(hash);
	const q = beforeHash.indexOf('?');
	const present = new Set(
		q < 0
			? []
			: beforeHash
					.slice(q + 1)
					.split('&')
					.map(queryName),
	);
	const added = pairs.filter((p) => !present.has(p.name)).map((p) => p.pair);
	if (added.length === 0) return target;
	const separator = q < 0 ? '?' : q === beforeHash.length - 1 || beforeHash.endsWith('&') ? '' : '&';
	return `${beforeHash}${separator}${added.join('&')}${fragment}`;
}
