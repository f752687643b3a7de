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
 */
export function scanHtml(html: string, visitor: HtmlVisitor): void {
	const len = html.length;
	let pos = 0;
	let textStart = 0;
	const flush = (end: number) => {
		if (end > textStart) visitor.text?.(textStart, end);
	};
	while (pos < len) {
		const lt = html.indexOf('<', pos);
		if (lt < 0) break;
		const next = html.charCodeAt(lt + 1);
		if (next === 33 /* ! */ || next === 63 /* ? */ || (next === 47 /* / */ && !isAsciiLetter(html.charCodeAt(lt + 2)) && lt + 2 < len)) {
			flush(lt);
			let end: number;
			if (html.startsWith('<!--', lt)) {
				// `<!-->` and `<!--->` are complete (empty) comments.
				if (html.charCodeAt(lt + 4) === 62) end = lt + 5;
				else if (html.startsWith('->', lt + 4)) end = lt + 6;
				else {
					const close = html.indexOf('-->', lt + 4);
					end = close < 0 ? -1 : close + 3;
				}
			} else {
				const close = html.indexOf('>', lt + 2);
				end = close < 0 ? -1 : close + 1;
			}
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
		let p = nameStart + 1;
		while (p < len) {
			const c = html.charCodeAt(p);
			if (isSpace(c) || c === 47 || c === 62) break;
			p++;
		}
		const name = html.slice(nameStart, p).toLowerCase();
		const attributes = visitor.attributesOf?.has(name) ? ([] as HtmlAttribute[]) : undefined;
		let end = -1;
		for (;;) {
			while (p < len && (isSpace(html.charCodeAt(p)) || html.charCodeAt(p) === 47)) p++;
			if (p >= len) break;
			if (html.charCodeAt(p) === 62) {
				end = p + 1;
				break;
			}
			const attrStart = p;
			p++; // the first character of a name may be anything, even "="
			while (p < len) {
				const c = html.charCodeAt(p);
				if (isSpace(c) || c === 47 || c === 62 || c === 61) break;
				p++;
			}
			const attrNameEnd = p;
			while (p < len && isSpace(html.charCodeAt(p))) p++;
			let valueStart = p;
			let valueEnd = p;
			let rawStart = p;
			let rawEnd = p;
			if (p < len && html.charCodeAt(p) === 61) {
				p++;
				while (p < len && isSpace(html.charCodeAt(p))) p++;
				const q = html.charCodeAt(p);
				if (q === 34 || q === 39) {
					const close = html.indexOf(q === 34 ? '"' : "'", p + 1);
					if (close < 0) {
						p = len;
						break;
					}
					rawStart = p;
					valueStart = p + 1;
					valueEnd = close;
					rawEnd = p = close + 1;
				} else {
					rawStart = valueStart = p;
					while (p < len && !isSpace(html.charCodeAt(p)) && html.charCodeAt(p) !== 62) p++;
					rawEnd = valueEnd = p;
				}
			} else {
				// No value: the position after the name (nothing to replace).
				rawStart = rawEnd = valueStart = valueEnd = attrNameEnd;
			}
			attributes?.push({
				name: html.slice(attrStart, attrNameEnd).toLowerCase(),
				nameStart: attrStart,
				nameEnd: attrNameEnd,
				value: html.slice(valueStart, valueEnd),
				valueStart,
				valueEnd,
				rawStart,
				rawEnd,
			});
		}
		if (end < 0) return; // a tag open to the end of the input is no tag
		flush(lt);
		visitor.tag?.({ name, closing, start: lt, end, attributes });
		pos = textStart = end;
		if (!closing && RAW_TEXT_ELEMENTS.has(name)) {
			const stop = findEndTag(html, name, end);
			if (stop > end) visitor.text?.(end, stop, name);
			pos = textStart = stop;
		}
	}
	flush(len);
}

/** Index of the `</name` that ends a raw text element (followed by space, "/" or ">"), or the input's length. */
function findEndTag(html: string, name: string, from: number): number {
	for (let i = html.indexOf('</', from); i >= 0; i = html.indexOf('</', i + 2)) {
		const after = html.charCodeAt(i + 2 + name.length);
		if (html.substr(i + 2, name.length).toLowerCase() === name && (isSpace(after) || after === 47 || after === 62 || Number.isNaN(after))) return i;
	}
	return html.length;
}
