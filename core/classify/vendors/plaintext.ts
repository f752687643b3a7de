/**
 * Non-standard bounce formats (qmail, Exim, Sendmail transcripts, Gmail/Yahoo/Exchange texts, Japanese carriers...)
 * share one shape: a human-readable notice naming the failed recipient(s), each followed by the remote server's
 * answer, then a separator and a copy of the original message. This reads that shape instead of one parser per MTA.
 */

/** Recipients read from one notice. */
export const NOTICE_MAX_RECIPIENTS = 500;
/** Lines of a notice searched for recipients and server answers. */
export const NOTICE_MAX_LINES = 2000;

export interface TextRecipient {
	recipient: string;
	diagnostic: string;
}

/** Characters of a local part (RFC 5322 atext and dots) and of a domain label. */
const LOCAL_CHAR = new Uint8Array(128);
const LABEL_CHAR = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~.-") LOCAL_CHAR[ch.charCodeAt(0)] = 1;
for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-') LABEL_CHAR[ch.charCodeAt(0)] = 1;

function isLocalChar(c: number): boolean {
	return c < 128 && LOCAL_CHAR[c] === 1;
}
function isLabelChar(c: number): boolean {
	return c < 128 && LABEL_CHAR[c] === 1;
}

/**
 * The first address `local@label.label...` at or after `from`: [start, end), or null. Reads like the search for
 * `[atext.]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+` (leftmost, longest), but walks out from each `@` once, so a long
 * run of address characters costs one pass instead of one per starting offset.
 */
export function findEmail(text: string, from = 0): [start: number, end: number] | null {
	let pos = from;
	for (;;) {
		const at = text.indexOf('@', pos);
		if (at < 0) return null;
		let start = at;
		while (start > pos && isLocalChar(text.charCodeAt(start - 1))) start--;
		let end = at + 1;
		while (end < text.length && isLabelChar(text.charCodeAt(end))) end++;
		let labels = end > at + 1 ? 1 : 0;
		while (labels > 0 && text.charCodeAt(end) === 46 && isLabelChar(text.charCodeAt(end + 1))) {
			end += 2;
			while (end < text.length && isLabelChar(text.charCodeAt(end))) end++;
			labels++;
		}
		if (start < at && labels >= 2) return [start, end];
		pos = at + 1;
	}
}

/** `s` without leading (when asked) and trailing dots. */
function trimDots(s: string, leading: boolean): string {
	let a = 0;
	let b = s.length;
	if (leading) while (a < b && s.charCodeAt(a) === 46) a++;
	while (b > a && s.charCodeAt(b - 1) === 46) b--;
	return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Lines that start the copy of the original message in a plain-text bounce. */
// Two marker characters then the rest of the line: the words looked for are letters, so where the run of markers
// ends does not change the answer, and fixing its length keeps the search linear.
const SEPARATOR_RE =
	/^[ \t]*(?:[-=_*#>]{2}(?!.*(?:transcript|error|reason|diagnostic|recipient|address))[^\n]*(?:original|copy of|unsent|returned|rejected|undelivered|headers? (?:of|are|is)|header (?:of )?the|message (?:header|text|body|follows)|below this line|follows|attached|mail (?:header|body))|(?:original|returned|unsent) (?:message|mail)(?: follows| headers)?:?[ \t]*$|-{3,}[ \t]*(?:begin|start)|the (?:original|returned) message(?: headers)? (?:follows|is attached)|message headers follow|content-type: message\/(?:rfc822|partial)|received: from .*(?:by|with) |return-path: ?<|message-id: ?<|x-cadence-token:)/im;

/** Lines that are boilerplate of the notice, not an answer from a server. */
const BOILERPLATE_RE =
	/^(?:hi\.|this (?:is|message was)|i'm afraid|i am afraid|sorry|your message|the following|a message that you sent|it is a|delivery to the following|technical details|for further assistance|please|if you|to contact|you (?:can|may)|the mail system|note:|\(other mxes|(?:-|=|_|\*){3,}|original message|reporting-mta|final-recipient|action:|status:|remote-mta|arrival-date|last-attempt-date|diagnostic-code|received-from-mta|x-[\w-]+:)/i;

export function splitOriginal(text: string): { notice: string; original: string } {
	const m = SEPARATOR_RE.exec(text);
	if (!m || m.index < 1) return { notice: text, original: m ? text : '' };
	return { notice: text.slice(0, m.index), original: text.slice(m.index) };
}

/** Normalises whitespace and drops angle brackets around a diagnostic. */
export function tidyDiagnostic(text: string): string {
	return text.replace(/\s+/g, ' ').trim().slice(0, 1000);
}

/**
 * Finds recipient lines in a notice and the server answer that follows each. `ignore` lists addresses that are
 * not recipients (the sender of the original, the bounce's own addresses).
 */
export function recipientsFromNotice(notice: string, ignore: Set<string>): TextRecipient[] {
	const lines = notice.split('\n');
	const found: Array<{ recipient: string; line: number; rest: string }> = [];
	const seen = new Set<string>();
	for (let i = 0; i < lines.length && i < NOTICE_MAX_LINES; i++) {
		const line = lines[i];
		if (line.indexOf('@') < 0) continue;
		const m = findEmail(line);
		if (!m) continue;
		const email = trimDots(line.slice(m[0], m[1]), true).toLowerCase();
		if (ignore.has(email) || /^(?:mailer-daemon|postmaster|no-?reply|double-bounce)@/.test(email)) continue;
		const before = line.slice(0, m[0]);
		const after = line.slice(m[1]);
		// A recipient line: the address opens the line (optionally in <>, quotes or after a bullet/label), or
		// follows words that name a recipient.
		const opens =
			/^[\s>*\-•"'(<]*(?:[245]\d\d[ -]+<?)?(?:(?:recipient|to|address|rcpt to|original-recipient|final-recipient|envelope-to|failed recipient|destinataire|empfänger|宛先)[^:]*:\s*)?(?:rfc822;\s*)?<?$/i.test(
				before,
			);
		const named = /(?:\b(?:to|for|recipient|address|rcpt to:?|user|mailbox|delivery to|message to)\s*<?$)|(?:rcpt to:\s*<?$)/i.test(before);
		if (!opens && !named) continue;
		if (!opens && /\b(?:from|sender|reply-to|mail from)[:\s<]*$/i.test(before)) continue;
		if (seen.has(email)) {
			// The same address again: keep the first line but let the later one extend its text.
			continue;
		}
		seen.add(email);
		found.push({ recipient: email, line: i, rest: after.replace(/^[>\s:"']+/, '') });
	}
	const out: TextRecipient[] = [];
	for (let k = 0; k < found.length && k < NOTICE_MAX_RECIPIENTS; k++) {
		const start = found[k].line + 1;
		const stop = Math.min(k + 1 < found.length ? found[k + 1].line : lines.length, start + 40);
		const body: string[] = [];
		if (found[k].rest) body.push(found[k].rest);
		for (let i = start; i < stop; i++) {
			const l = lines[i].trim();
			if (l === '') {
				if (body.length > 0 && /^\s*$/.test(lines[i + 1] ?? '')) break;
				continue;
			}
			// Transcript lines ("550 <x>... Host unknown", "<<< 421 ...") each belong to their own recipient.
			if (body.length > 0 && /^(?:[245]\d\d[ -]|<<<|>>>|while talking)/i.test(l) && startsOtherRecipient(l, found[k].recipient)) break;
			body.push(l);
		}
		out.push({ recipient: found[k].recipient, diagnostic: tidyDiagnostic(body.join(' ')) });
	}
	return out;
}

/** A transcript line that opens another recipient's answer: `550 <other@x>... text` or `550 host (smtp)... text`. */
function startsOtherRecipient(line: string, recipient: string): boolean {
	// `<x@y>` is `<` then non-space characters holding an `@` that neither opens nor closes them.
	const m = /^(?:[245]\d\d[ -]+)?<([^<>\s]+)>\.\.\./.exec(line);
	if (m) {
		const at = m[1].indexOf('@', 1);
		if (at > 0 && at < m[1].length - 1) return m[1].toLowerCase() !== recipient;
	}
	// A transcript line opens with its code and host: only its first screen is read.
	return /^[245]\d\d[ -]+\S+ \(\w+\)\.\.\. /.test(line.length > TRANSCRIPT_LINE ? line.slice(0, TRANSCRIPT_LINE) : line);
}

/** Characters of a transcript line read for its code, host and address. */
const TRANSCRIPT_LINE = 998;

/** The lines of a notice that look like a server's answer (reply codes, "said:", status codes). */
export function serverAnswer(notice: string): string {
	const lines = notice.split('\n');
	const picked: string[] = [];
	for (let i = 0; i < lines.length && i < NOTICE_MAX_LINES; i++) {
		const l = lines[i].trim();
		if (!l || BOILERPLATE_RE.test(l)) continue;
		if (
			/(?:^|\s|said:?|:)[245]\d\d[\s-]|[245]\.\d{1,3}\.\d{1,3}|said:|error|fail|reject|refus|denied|unknown|invalid|not exist|no such|quota|full|timed? ?out|expired|blocked|spam/i.test(
				l,
			)
		)
			picked.push(l);
		if (picked.length >= 12) break;
	}
	return tidyDiagnostic(picked.join(' '));
}

/** Addresses read from one header or text by default (the envelope's To list, for one). */
export const ADDRESS_LIST_MAX = 50;

/** All addresses in a text (up to `limit`), lower-cased, in order. */
export function emailsIn(text: string, limit = ADDRESS_LIST_MAX): string[] {
	const out: string[] = [];
	let pos = 0;
	let m: [number, number] | null;
	while (out.length < limit && (m = findEmail(text, pos)) !== null) {
		out.push(trimDots(text.slice(m[0], m[1]), false).toLowerCase());
		pos = m[1];
	}
	return out;
}
