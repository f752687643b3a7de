/**
 * Non-standard bounce formats (qmail, Exim, Sendmail transcripts, Gmail/Yahoo/Exchange texts, Japanese carriers...)
 * share one shape: a human-readable notice naming the failed recipient(s), each followed by the remote server's
 * answer, then a separator and a copy of the original message. This reads that shape instead of one parser per MTA.
 */

export interface TextRecipient {
	recipient: string;
	diagnostic: string;
}

const EMAIL_RE = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

/** Lines that start the copy of the original message in a plain-text bounce. */
const SEPARATOR_RE =
	/^[ \t]*(?:[-=_*#>]{2,}(?!.*(?:transcript|error|reason|diagnostic|recipient|address))[^\n]*(?:original|copy of|unsent|returned|rejected|undelivered|headers? (?:of|are|is)|header (?:of )?the|message (?:header|text|body|follows)|below this line|follows|attached|mail (?:header|body))|(?:original|returned|unsent) (?:message|mail)(?: follows| headers)?:?[ \t]*$|-{3,}[ \t]*(?:begin|start)|the (?:original|returned) message(?: headers)? (?:follows|is attached)|message headers follow|content-type: message\/(?:rfc822|partial)|received: from .*(?:by|with) |return-path: ?<|message-id: ?<|x-cadence-token:)/im;

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
	for (let i = 0; i < lines.length && i < 2000; i++) {
		const line = lines[i];
		if (line.indexOf('@') < 0) continue;
		EMAIL_RE.lastIndex = 0;
		const m = EMAIL_RE.exec(line);
		if (!m) continue;
		const email = m[0].replace(/^[.]+|[.]+$/g, '').toLowerCase();
		if (ignore.has(email) || /^(?:mailer-daemon|postmaster|no-?reply|double-bounce)@/.test(email)) continue;
		const before = line.slice(0, m.index);
		const after = line.slice(m.index + m[0].length);
		// A recipient line: the address opens the line (optionally in <>, quotes or after a bullet/label), or
		// follows words that name a recipient.
		const opens = /^[\s>*\-•"'(<]*(?:[245]\d\d[ -]+<?)?(?:(?:recipient|to|address|rcpt to|original-recipient|final-recipient|envelope-to|failed recipient|destinataire|empfänger|宛先)[^:]*:\s*)?(?:rfc822;\s*)?<?$/i.test(before);
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
	for (let k = 0; k < found.length && k < 500; k++) {
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
	const m = /^(?:[245]\d\d[ -]+)?<([^<>\s]+@[^<>\s]+)>\.\.\./.exec(line);
	if (m) return m[1].toLowerCase() !== recipient;
	return /^[245]\d\d[ -]+\S+ \(\w+\)\.\.\. /.test(line);
}

/** The lines of a notice that look like a server's answer (reply codes, "said:", status codes). */
export function serverAnswer(notice: string): string {
	const lines = notice.split('\n');
	const picked: string[] = [];
	for (let i = 0; i < lines.length && i < 2000; i++) {
		const l = lines[i].trim();
		if (!l || BOILERPLATE_RE.test(l)) continue;
		if (/(?:^|\s|said:?|:)[245]\d\d[\s-]|[245]\.\d{1,3}\.\d{1,3}|said:|error|fail|reject|refus|denied|unknown|invalid|not exist|no such|quota|full|timed? ?out|expired|blocked|spam/i.test(l))
			picked.push(l);
		if (picked.length >= 12) break;
	}
	return tidyDiagnostic(picked.join(' '));
}

/** All addresses in a text, lower-cased, in order. */
export function emailsIn(text: string, limit = 50): string[] {
	const out: string[] = [];
	EMAIL_RE.lastIndex = 0;
	let m: RegExpExecArray | null;
	while ((m = EMAIL_RE.exec(text)) !== null && out.length < limit) out.push(m[0].replace(/\.+$/, '').toLowerCase());
	return out;
}
