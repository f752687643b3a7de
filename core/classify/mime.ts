/**
 * A small, bounded MIME walker over the raw bytes of a message. The classifier needs headers, the part tree and the
 * decoded text of a few parts, not a full parser: mailparser builds everything (attachments included) and is an
 * order of magnitude slower. Every loop here is bounded by depth, part count and bytes, so hostile input cannot
 * make it hang; problems are collected instead of thrown.
 *
 * The message is held as a "binary string" (one char per byte, latin1), so offsets are byte offsets and slicing is
 * cheap; text is decoded per part through its charset only when asked for.
 */

export type HeaderList = Array<[name: string, value: string]>;

export interface MimePart {
	headers: HeaderList;
	/** Lower-case media type, e.g. `text/plain`; `text/plain` when absent. */
	type: string;
	params: Record<string, string>;
	/** Body range in the binary string. */
	start: number;
	end: number;
	children: MimePart[];
	depth: number;
	/** A message/rfc822 or text/rfc822-headers part: its child holds the returned original's headers. */
	embedded?: boolean;
}

export interface MimeMessage {
	/** The whole message as a binary string, CRLF normalised to LF. */
	bin: string;
	root: MimePart;
	/** Parts in document order (depth-first), root first. */
	parts: MimePart[];
	problems: string[];
	/** The limits below that cut in (a subset of `problems`): the message was read only in part. */
	limits: string[];
}

/** Nesting of multiparts and attached messages, counted across transfer encodings (an encoded attachment does not restart it). */
export const MIME_MAX_DEPTH = 8;
/** Parts read per message, attached and encoded messages included. */
export const MIME_MAX_PARTS = 200;
/** Decoded text kept per part: the classifier reads the first screens of a report, not whole attachments. */
export const MIME_MAX_TEXT = 256 * 1024;
/** RFC 5322 line limit: longer header lines are cut to this length for parsing. */
export const MIME_MAX_LINE = 998;
/** Bytes of one header block read; the rest of the block is skipped. */
export const MIME_MAX_HEADER_BYTES = 256 * 1024;
/** Header fields read per header block. */
export const MIME_MAX_HEADERS = 1000;
/** Length of one unfolded header value (a long To: or References: stays far below). */
export const MIME_MAX_HEADER_VALUE = 16 * 1024;

/**
 * Fields whose values the classifier reads (others it only tests for presence, which a cut line cannot change): a
 * cut line in one of these is reported.
 */
const VALUE_FIELDS = new Set([
	'from',
	'to',
	'cc',
	'subject',
	'date',
	'message-id',
	'in-reply-to',
	'references',
	'reply-to',
	'return-path',
	'delivered-to',
	'x-original-to',
	'envelope-to',
	'x-envelope-to',
	'x-failed-recipients',
	'x-cadence-token',
	'content-type',
	'content-transfer-encoding',
	'content-language',
	'auto-submitted',
	'precedence',
	'received',
	'x-mailer',
	'x-mimeole',
	'x-nai-header',
	'x-auto-response-suppress',
	'x-ms-exchange-generated-message-source',
	'x-ms-exchange-inbox-rules-loop',
	'x-hmxmroriginalrecipient',
	'feedback-type',
	'original-rcpt-to',
]);

/** Where a walk records what it had to skip: each limit is reported once per message. */
export interface LimitLog {
	problems: string[];
	limits: string[];
}

export function limitHit(log: LimitLog | undefined, text: string): void {
	if (!log || log.limits.includes(text)) return;
	log.limits.push(text);
	log.problems.push(text);
}

/** Index of the blank line ending the header block starting at `from` (searched before `limit` only), or -1. */
function headerEnd(bin: string, from: number, limit: number): number {
	if (bin.charCodeAt(from) === 10) return from;
	// Search the part's own range: a later blank line belongs to another part.
	const i = bin.slice(from, limit).indexOf('\n\n');
	return i < 0 ? -1 : from + i + 1;
}

/**
 * Parses the header block [from, to) into unfolded (lower-case name, value) pairs. Lines, values, fields and the
 * block itself are bounded (MIME_MAX_*); what is cut is reported to `log`.
 */
export function parseHeaderBlock(bin: string, from: number, to: number, log?: LimitLog): HeaderList {
	const headers: HeaderList = [];
	if (to - from > MIME_MAX_HEADER_BYTES) {
		to = from + MIME_MAX_HEADER_BYTES;
		limitHit(log, `header block longer than ${MIME_MAX_HEADER_BYTES} bytes: the rest was not read`);
	}
	let pos = from;
	while (pos < to) {
		let eol = bin.indexOf('\n', pos);
		if (eol < 0 || eol > to) eol = to;
		let line: string;
		let cut = false;
		if (eol - pos > MIME_MAX_LINE) {
			line = bin.slice(pos, pos + MIME_MAX_LINE);
			cut = true;
		} else line = bin.slice(pos, eol);
		pos = eol + 1;
		if (line.length === 0) break;
		const c = line.charCodeAt(0);
		if ((c === 32 || c === 9) && headers.length > 0) {
			const last = headers[headers.length - 1];
			if (cut) lineCut(log, last[0]);
			if (last[1].length >= MIME_MAX_HEADER_VALUE) continue;
			const add = ' ' + line.trim();
			if (last[1].length + add.length > MIME_MAX_HEADER_VALUE) {
				last[1] = last[1] + add.slice(0, MIME_MAX_HEADER_VALUE - last[1].length);
				limitHit(log, `header value longer than ${MIME_MAX_HEADER_VALUE} characters: cut for parsing`);
			} else last[1] += add;
			continue;
		}
		const colon = line.indexOf(':');
		if (colon <= 0) continue;
		if (headers.length >= MIME_MAX_HEADERS) {
			limitHit(log, `more than ${MIME_MAX_HEADERS} header fields: the rest were not read`);
			break;
		}
		const name = line.slice(0, colon).trim().toLowerCase();
		if (cut) lineCut(log, name);
		headers.push([name, line.slice(colon + 1).trim()]);
	}
	return headers;
}

function lineCut(log: LimitLog | undefined, name: string): void {
	if (VALUE_FIELDS.has(name)) limitHit(log, `header line longer than ${MIME_MAX_LINE} characters: cut for parsing (${name})`);
}

export function headerValue(headers: HeaderList, name: string): string | undefined {
	for (const h of headers) if (h[0] === name) return h[1];
	return undefined;
}

export function headerValues(headers: HeaderList, name: string): string[] {
	const out: string[] = [];
	for (const h of headers) if (h[0] === name) out.push(h[1]);
	return out;
}

/** Splits `type/sub; a=b; c="d"` into the lower-case type and its parameters (RFC 2231 continuations joined). */
export function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
	const params: Record<string, string> = {};
	if (!value) return { type: 'text/plain', params };
	const semi = value.indexOf(';');
	const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() || 'text/plain';
	if (semi >= 0) {
		const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
		let m: RegExpExecArray | null;
		const rest = value.slice(semi);
		while ((m = re.exec(rest)) !== null) {
			let key = m[1].toLowerCase();
			const val = (m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '')).trim();
			// RFC 2231: name*0="a"; name*1="b" and name*=charset''value
			const star = /^([^*]+)\*(\d+)?\*?$/.exec(key);
			if (star) {
				key = star[1];
				params[key] = (params[key] ?? '') + val.replace(/^[\w-]*'[\w-]*'/, '');
			} else if (!(key in params)) params[key] = val;
		}
	}
	return { type: type.includes('/') ? type : 'text/plain', params };
}

/** Parses a raw message. Never throws; structural problems end up in `problems`. */
export function parseMime(raw: Buffer | string, maxBytes: number): MimeMessage {
	let bin: string;
	if (typeof raw === 'string') {
		// A JS string may hold decoded Unicode: keep it byte-oriented by going through UTF-8.
		bin = /[\u0100-\uffff]/.test(raw) ? Buffer.from(raw, 'utf8').toString('latin1') : raw;
	} else bin = raw.toString('latin1', 0, Math.min(raw.length, maxBytes));
	if (bin.length > maxBytes) bin = bin.slice(0, maxBytes);
	if (bin.indexOf('\r') >= 0) bin = bin.replace(/\r\n?/g, '\n');
	const walk: Walk = { parts: [], problems: [], limits: [] };
	const root = parsePart(bin, 0, bin.length, 0, walk);
	return { bin, root, parts: walk.parts, problems: walk.problems, limits: walk.limits };
}

/** One walk over a message: the part list and budget are shared by every level, decoded ones included. */
interface Walk extends LimitLog {
	parts: MimePart[];
}

type PartWithBin = MimePart & { bin?: string };

function parsePart(bin: string, from: number, to: number, depth: number, walk: Walk, defaultType = 'text/plain'): MimePart {
	const { parts } = walk;
	let hEnd = headerEnd(bin, from, to);
	let bodyStart: number;
	if (hEnd < 0) {
		// No blank line: all headers (a truncated message) or no headers at all.
		hEnd = to;
		bodyStart = to;
	} else bodyStart = hEnd + 1;
	const headers = parseHeaderBlock(bin, from, hEnd, walk);
	const ct = headerValue(headers, 'content-type');
	const { type, params } = ct ? parseContentType(ct) : { type: defaultType, params: {} };
	const part: MimePart = { headers, type, params, start: bodyStart, end: to, children: [], depth };
	parts.push(part);
	if (parts.length > MIME_MAX_PARTS) {
		limitHit(walk, `more than ${MIME_MAX_PARTS} MIME parts: the rest were not read`);
		return part;
	}
	if (depth >= MIME_MAX_DEPTH) {
		if (type.startsWith('multipart/') || type === 'message/rfc822' || type === 'message/global')
			limitHit(walk, `MIME nesting too deep (over ${MIME_MAX_DEPTH} levels, encoded attachments included): the inner parts were not read`);
		return part;
	}
	if (type.startsWith('multipart/')) splitMultipart(bin, part, walk);
	else if (type === 'message/rfc822' || type === 'message/global' || type === 'text/rfc822-headers' || type === 'message/rfc822-headers') {
		part.embedded = true;
		const cte = (headerValue(headers, 'content-transfer-encoding') ?? '').toLowerCase();
		if (cte === 'base64' || cte === 'quoted-printable') {
			// Rare, but some MTAs encode the returned message: decode it into its own binary string region, walked
			// with the same depth and part budget as the rest of the message.
			let decoded = decodeTransfer(bin.slice(bodyStart, to), cte);
			if (decoded.indexOf('\r') >= 0) decoded = decoded.replace(/\r\n?/g, '\n');
			const first = parts.length;
			const child = parsePart(decoded, 0, decoded.length, depth + 1, walk);
			part.children.push(child);
			// Offsets of these parts refer to `decoded`, so keep its text reachable through a synthetic marker.
			for (let i = first; i < parts.length; i++) if ((parts[i] as PartWithBin).bin === undefined) (parts[i] as PartWithBin).bin = decoded;
		} else if (bodyStart < to) {
			let s = bodyStart;
			while (s < to && bin.charCodeAt(s) === 10) s++;
			part.children.push(parsePart(bin, s, to, depth + 1, walk));
		}
	}
	return part;
}

/** Whitespace as the boundary guess reads it (JS `\s` restricted to one-byte characters). */
function isSpaceByte(c: number): boolean {
	return c === 32 || (c >= 9 && c <= 13) || c === 0xa0;
}

/** The boundary of a multipart that declared none: its first line `--X` after only blank space, or ''. */
export function guessBoundary(head: string): string {
	let i = 0;
	while (i < head.length && isSpaceByte(head.charCodeAt(i))) i++;
	// The delimiter must open a line: what precedes it is whole blank lines.
	if (i > 0 && head.charCodeAt(i - 1) !== 10) return '';
	const re = /--([^\s]{1,200})[ \t]*\n/y;
	re.lastIndex = i;
	const m = re.exec(head);
	return m ? m[1] : '';
}

function splitMultipart(bin: string, part: MimePart, walk: Walk): void {
	const { parts, problems } = walk;
	let boundary = part.params.boundary;
	if (!boundary) {
		problems.push('multipart without boundary');
		// A folded Content-Type whose continuation lost its indent drops the boundary parameter: the body's first
		// delimiter-looking line tells it.
		const head = bin.slice(part.start, Math.min(part.end, part.start + 2000));
		boundary = guessBoundary(head);
		if (!boundary) return;
	}
	const delim = '--' + boundary;
	const childType = part.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
	let pos = part.start;
	// Find the first delimiter (at the body start or after a newline).
	let first = bin.startsWith(delim, pos) ? pos : bin.indexOf('\n' + delim, pos);
	if (first < 0 || first >= part.end) {
		problems.push('MIME boundary not found');
		// Some MTAs declare a multipart but write a plain body: read it as text rather than lose the notice.
		if (part.start < part.end) {
			const body: MimePart = { headers: [], type: 'text/plain', params: {}, start: part.start, end: part.end, children: [], depth: part.depth + 1 };
			part.children.push(body);
			parts.push(body);
		}
		return;
	}
	if (first !== pos) first += 1;
	pos = first;
	let closed = false;
	while (pos < part.end && part.children.length < MIME_MAX_PARTS && parts.length <= MIME_MAX_PARTS) {
		// pos is at a delimiter line
		const after = pos + delim.length;
		if (bin.startsWith('--', after)) {
			closed = true;
			break;
		}
		let lineEnd = bin.indexOf('\n', after);
		if (lineEnd < 0 || lineEnd >= part.end) break;
		const childStart = lineEnd + 1;
		let next = bin.indexOf('\n' + delim, childStart - 1);
		if (next < 0 || next >= part.end) next = -1;
		const childEnd = next < 0 ? part.end : next;
		part.children.push(parsePart(bin, childStart, Math.max(childStart, childEnd), part.depth + 1, walk, childType));
		if (next < 0) break;
		pos = next + 1;
		lineEnd = 0;
	}
	if (!closed) problems.push('MIME multipart not closed');
}

/** Decodes a base64 or quoted-printable body into a binary string. */
export function decodeTransfer(body: string, cte: string): string {
	if (cte === 'base64') return Buffer.from(body, 'base64').toString('latin1');
	if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
	return body;
}

export function decodeQuotedPrintable(s: string): string {
	if (s.indexOf('=') < 0) return s;
	return s.replace(/=(?:\r?\n|([0-9A-Fa-f]{2}))/g, (_m, hex: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : ''));
}

const CHARSET_ALIASES: Record<string, string> = {
	'ks_c_5601-1987': 'euc-kr',
	'x-sjis': 'shift_jis',
	sjis: 'shift_jis',
	'iso-2022-jp-2': 'iso-2022-jp',
	cp932: 'shift_jis',
	'windows-31j': 'shift_jis',
	ascii: 'us-ascii',
	'x-user-defined': 'windows-1252',
	unknown: 'utf-8',
	'unknown-8bit': 'utf-8',
	'x-unknown': 'utf-8',
	'iso-8859-8-i': 'iso-8859-8',
};

/**
 * Decodes a binary string in the given charset to text. Unknown charsets fall back to UTF-8 then latin1; a stateless
 * decoder per call keeps this free of module state (construction is cheap next to the decode).
 */
export function decodeCharset(bin: string, charset: string | undefined): string {
	// Pure ASCII needs no decoding (ESC starts the escape sequences of ISO-2022 charsets).
	if (!/[\x80-\xff]/.test(bin) && bin.indexOf('\x1b') < 0) return bin;
	let cs = (charset ?? '').trim().toLowerCase().replace(/^"|"$/g, '');
	cs = CHARSET_ALIASES[cs] ?? cs;
	const bytes = Buffer.from(bin, 'latin1');
	if (cs === '' || cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii') {
		const text = bytes.toString('utf8');
		// Mislabelled 8-bit text: if UTF-8 fails badly, latin1 is the least damaging reading.
		return text.indexOf('\ufffd') >= 0 && cs !== 'utf-8' && cs !== 'utf8' ? bin : text;
	}
	if (cs === 'iso-8859-1' || cs === 'latin1') return bin;
	try {
		return new TextDecoder(cs).decode(bytes);
	} catch {
		return bytes.toString('utf8');
	}
}

/** The decoded text of a part (transfer encoding and charset), capped at MIME_MAX_TEXT characters. */
export function partText(msg: MimeMessage, part: MimePart): string {
	const bin = (part as MimePart & { bin?: string }).bin ?? msg.bin;
	let body = bin.slice(part.start, Math.min(part.end, part.start + MIME_MAX_TEXT * 2));
	const cte = (headerValue(part.headers, 'content-transfer-encoding') ?? '').trim().toLowerCase();
	body = decodeTransfer(body, cte);
	if (body.length > MIME_MAX_TEXT) body = body.slice(0, MIME_MAX_TEXT);
	let text = decodeCharset(body, part.params.charset);
	if (part.type === 'text/html') text = htmlToText(text);
	if (text.indexOf('\r') >= 0) text = text.replace(/\r\n?/g, '\n');
	return text;
}

/** The raw binary string body of a part (no decoding), e.g. for DSN fields, which are ASCII. */
export function partBody(msg: MimeMessage, part: MimePart): string {
	const bin = (part as MimePart & { bin?: string }).bin ?? msg.bin;
	return bin.slice(part.start, part.end);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * Drops `<script>`, `<style>` and `<head>` elements with their content. One forward scan: the closing tag of each
 * name is looked up at most once past each position, so a thousand unclosed `<script` cost one search, not a
 * thousand.
 */
function dropHiddenElements(html: string): string {
	const open = /<(script|style|head)\b/gi;
	const noClose = new Set<string>();
	const closers: Record<string, RegExp> = { script: /<\/script\s*>/gi, style: /<\/style\s*>/gi, head: /<\/head\s*>/gi };
	let out = '';
	let last = 0;
	let m: RegExpExecArray | null;
	while ((m = open.exec(html)) !== null) {
		const name = m[1].toLowerCase();
		if (noClose.has(name)) continue;
		const close = closers[name];
		close.lastIndex = m.index + m[0].length;
		const c = close.exec(html);
		if (!c) {
			// No closing tag after here, so none after any later opening tag either.
			noClose.add(name);
			continue;
		}
		out += html.slice(last, m.index) + ' ';
		last = c.index + c[0].length;
		open.lastIndex = last;
	}
	return last === 0 ? html : out + html.slice(last);
}

/** Removes tags `<...>`; a `<` with no `>` after it is kept with the rest of the text (one scan). */
function stripTags(html: string): string {
	let out = '';
	let last = 0;
	let i = html.indexOf('<');
	while (i >= 0) {
		const close = html.indexOf('>', i + 1);
		// No `>` after this `<`: none after any later `<` either.
		if (close < 0) break;
		out += html.slice(last, i);
		last = close + 1;
		i = html.indexOf('<', last);
	}
	return last === 0 ? html : out + html.slice(last);
}

/** HTML without its hidden elements and tags, block ends and `<br>` as newlines (entities left as they are). */
export function htmlWithoutTags(html: string): string {
	return stripTags(dropHiddenElements(html).replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d|table|blockquote)>/gi, '\n'));
}

export function htmlToText(html: string): string {
	return htmlWithoutTags(html)
		.replace(/&(#x?[0-9a-f]+|\w+);/gi, (m, e: string) => {
			if (e[0] === '#') {
				const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
				return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
			}
			return ENTITIES[e.toLowerCase()] ?? m;
		})
		.replace(/[ \t]+/g, ' ');
}

/** Decodes RFC 2047 encoded words in a header value given as a binary string. */
export function decodeHeaderValue(value: string): string {
	let out = value;
	if (out.indexOf('=?') >= 0) {
		out = out.replace(/(\?=)\s+(=\?)/g, '$1$2').replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_m, cs: string, enc: string, text: string) => {
			const charset = cs.replace(/\*.*$/, '');
			const bin = enc === 'B' || enc === 'b' ? Buffer.from(text, 'base64').toString('latin1') : decodeQuotedPrintable(text.replace(/_/g, ' '));
			return decodeCharset(bin, charset);
		});
	}
	// Raw 8-bit header bytes are nearly always UTF-8 nowadays.
	return /[\x80-\xff]/.test(out) && !/[\u0100-\uffff]/.test(out) ? decodeCharset(out, 'utf-8') : out;
}
