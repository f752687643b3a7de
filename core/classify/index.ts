/**
 * Inbox message classifier: bounce / delay / delivered / auto_reply / complaint / unsubscribe / reply /
 * inbound / other, with one row per bounced recipient and attribution to our tracking token.
 *
 * Order of evidence: machine-readable reports first (ARF, SES JSON, RFC 3464), then automatic-reply signals, then
 * plain-text bounce notices, then human mail. Synchronous and bounded; never throws.
 */
import { findAddressKey, findSubstitute, findToken } from './attribution';
import { parseFeedbackReport } from './arf';
import { autoReplySignal } from './autoreply';
import { parseDsnFields, type DsnRecipient } from './dsn';
import { mdnIsRead, parseMdnFields } from './mdn';
import {
	decodeHeaderValue,
	headerValue,
	headerValues,
	limitHit,
	parseMime,
	partBody,
	partText,
	type HeaderList,
	type MimeMessage,
	type MimePart,
} from './mime';
import {
	commandOf,
	commandWordOf,
	findReplyCode,
	findStatuses,
	isHardReason,
	reasonFromStatus,
	reasonFromText,
	statusForReason,
	weakReasonFromText,
} from './reasons';

const STATUS_WINS = new Set(['expired', 'authfailure', 'requireptr', 'rejected', 'hasmoved']);
/** Temporary routing failures (no answer, bad connection, timeout) reported in a final notice: the queue expired. */
const EXPIRED_STATUS = /^4\.4\.[0127]$|^5\.4\.7$/;
import type { BounceRow, Classification, ClassifyOptions } from './types';
import { classifyReplyIntent } from './replyIntent';
import { asksToUnsubscribe } from './unsubscribeIntent';
import { looksLikeSes, parseSesNotification } from './vendors/amazonses';
import { detectMta, mtaSignals, powerMtaCategoryReason, type MtaProfile } from './vendors/lhost';
import {
	ADDRESS_LIST_MAX,
	emailsIn,
	NOTICE_MAX_RECIPIENTS,
	recipientsFromNotice,
	serverAnswer,
	splitOriginal,
	tidyDiagnostic,
} from './vendors/plaintext';
import { remoteHostIn, remoteHostReason } from './vendors/rhost';

/** What the writer of the notice and the refusing server tell about a row beyond its own text. */
interface RowHints {
	mta?: MtaProfile | null;
	/** The remote MTA named by the report (Remote-MTA), if any. */
	remoteHost?: string;
	/** The notice text, for MTAs whose codes sit outside the per-recipient diagnostic. */
	notice?: string;
	/** A reason the MTA's machine-readable report states itself (e.g. PowerMTA's bounce category). */
	statedReason?: string;
	/** The SMTP command the MTA's transcript says was refused. */
	command?: string;
	/** The diagnostic is a local delivery program's exit (Diagnostic-Code: X-Unix), not a server's answer. */
	localProgram?: boolean;
}

export * from './types';
export { MIME_MAX_DEPTH, MIME_MAX_HEADER_BYTES, MIME_MAX_HEADER_VALUE, MIME_MAX_HEADERS, MIME_MAX_LINE, MIME_MAX_PARTS, MIME_MAX_TEXT } from './mime';
export { DSN_MAX_RECIPIENTS } from './dsn';
export { MDN_MAX_FIELDS, MDN_MAX_TEXT, mdnIsRead, parseMdnFields, type MdnReport } from './mdn';
export { ADDRESS_LIST_MAX, NOTICE_MAX_RECIPIENTS } from './vendors/plaintext';
export { HARD_REASONS, isHardReason, reasonFromStatus, reasonFromText } from './reasons';
export { asksToUnsubscribe, newReplyText } from './unsubscribeIntent';
export {
	classifyReplyIntent,
	detectReplyLanguage,
	replyNewText,
	REPLY_INTENT_MAX_SCAN,
	REPLY_INTENT_MAX_TEXT,
	type ReplyIntent,
	type ReplyIntentResult,
} from './replyIntent';

/**
 * Reply prefixes mail clients write in the subject: English, German, Nordic, Dutch, French, Spanish, Portuguese,
 * Italian, Turkish, Arabic, Chinese and Russian.
 */
const REPLY_SUBJECT = /^\s*(?:re|aw|sv|antw|rép|réf|res|rv|r|ynt|cvp|رد|回复|回覆|答复|ответ)\s*[:：]/i;

export const CLASSIFY_DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
/** Characters of human-readable text read per message (the notice and the quoted original sit in its first pages). */
export const CLASSIFY_MAX_TEXT = 200_000;

const BOUNCE_SENDER_RE =
	/^(?:mailer-daemon|post_?master|mail-daemon|mailerdaemon|mmdf|double-bounce|bounce|bounces|nobody|root|daemon|mail|smtp|mta|returns?|no-reply|noreply|do-not-reply)(?:@|$)|mailer-daemon|mail delivery|post_?master/i;
const BOUNCE_SUBJECT_RE =
	/undeliver|undelivered|returned mail|return(?:ed)? to sender|delivery (?:status )?notification|delivery (?:has )?failed|delivery fail|delivery problem|failure notice|failed delivery|mail delivery|non[- ]?deliver|nondeliver|could not be delivered|couldn't be delivered|not be delivered|mail system error|delivery report|mail (?:could not|not) delivered|warning: could not send|message not delivered|unable to deliver|rejected|bounce|error sending|returned message|delivery error|system error|mail error|delivery notification|配信|不達|エラー|失敗|退信|未送达|退回|не доставлено|недоставлен|unzustellbar|nicht zustellbar|non remis|no entregado|message you sent|^warning: message .* delayed|delivery delayed/i;

type Row = BounceRow;

/** Classifies one raw RFC 822 message. Synchronous; never throws; bounded by `maxBytes`. */
export function classifyMessage(raw: Buffer | string, options: ClassifyOptions = {}): Classification {
	try {
		return classify(raw, options);
	} catch (error) {
		return { kind: 'other', bounces: [], problem: `could not parse the message: ${(error as Error)?.message ?? String(error)}` };
	}
}

function classify(raw: Buffer | string, options: ClassifyOptions): Classification {
	if (raw === null || raw === undefined || (typeof raw !== 'string' && !Buffer.isBuffer(raw)))
		return { kind: 'other', bounces: [], problem: 'the message is not a string or Buffer' };
	const maxBytes = options.maxBytes && options.maxBytes > 0 ? options.maxBytes : CLASSIFY_DEFAULT_MAX_BYTES;
	const size = typeof raw === 'string' ? raw.length : raw.length;
	if (size === 0 || (size < 4096 && String(raw).trim() === '')) return { kind: 'other', bounces: [], problem: 'empty message' };
	if (size > maxBytes) {
		// Still read the headers, so the item can be found and handled by hand.
		const head = parseMime(typeof raw === 'string' ? raw.slice(0, 65536) : raw.subarray(0, 65536), 65536);
		return {
			...envelope(head.root.headers),
			kind: 'other',
			bounces: [],
			problem: `the message is ${size} bytes, over the limit of ${maxBytes}`,
		};
	}
	const msg = parseMime(raw, maxBytes);
	const result = classifyMime(msg, options);
	// A limit that cut in is stated on every kind: the message was read only in part.
	if (msg.limits.length > 0) {
		const missing = msg.limits.filter((l) => !(result.problem ?? '').includes(l));
		if (missing.length > 0) result.problem = [result.problem, ...missing].filter(Boolean).join('; ');
	}
	return result;
}

/** A notice that names as many recipients as are read may name more: say so. */
function noteRecipientLimit(msg: MimeMessage, rows: number, max: number): void {
	if (rows >= max) limitHit(msg, `more than ${max} recipients in the report: the rest were not read`);
}

/** What every step of the classification reads: the parsed message, its envelope and the MTA that wrote it. */
interface Reading {
	msg: MimeMessage;
	options: ClassifyOptions;
	headers: HeaderList;
	base: Classification;
	subject: string;
	ctx: Context;
	mta: MtaProfile | null;
}

function classifyMime(msg: MimeMessage, options: ClassifyOptions): Classification {
	const headers = msg.root.headers;
	if (headers.length === 0) return { kind: 'other', bounces: [], problem: 'no message headers found' };
	const base: Classification = { kind: 'other', bounces: [], ...envelope(headers) };
	if (
		base.to &&
		base.to.length >= ADDRESS_LIST_MAX &&
		emailsIn(headerValues(headers, 'to').join(', '), ADDRESS_LIST_MAX + 1).length > ADDRESS_LIST_MAX
	)
		limitHit(msg, `more than ${ADDRESS_LIST_MAX} addresses in To: the rest were not read`);
	const subject = base.subject ?? '';
	const ctx = collect(msg);
	const mta = detectMta(mtaSignals(headers, subject, base.from ?? '', ctx.notice));
	const r: Reading = { msg, options, headers, base, subject, ctx, mta };
	return complaintReport(r) ?? sesReport(r) ?? deliveryStatusReport(r) ?? dispositionReport(r) ?? plainTextBounce(r) ?? autoReply(r) ?? humanMail(r);
}

/** 1. Complaints: an ARF report, or Microsoft's JMRP (the complained-about message alone, marked X-HmXmrOriginalRecipient). */
function complaintReport({ msg, options, base, ctx }: Reading): Classification | null {
	const arfBody = ctx.feedback ?? (ctx.reportType === 'feedback-report' ? ctx.topText : '');
	let arf = arfBody ? parseFeedbackReport(arfBody) : null;
	if (!arf && ctx.originalHeaders.some((h) => headerValue(h, 'x-hmxmroriginalrecipient') !== undefined)) {
		const h = ctx.originalHeaders.find((x) => headerValue(x, 'x-hmxmroriginalrecipient') !== undefined) as HeaderList;
		arf = { feedbackType: 'abuse', originalRecipient: emailsIn(headerValue(h, 'x-hmxmroriginalrecipient') ?? '', 1)[0] ?? '' };
	}
	if (!arf) return null;
	const result: Classification = { ...base, kind: 'complaint', feedbackType: arf.feedbackType };
	attribute(result, msg, ctx, options, arf.originalRecipient || originalTo(ctx));
	return result;
}

/** 2. Amazon SES notifications (JSON): a complaint, or one row per bounced or delivered recipient. */
function sesReport({ msg, options, base, ctx }: Reading): Classification | null {
	if (!looksLikeSes(ctx.topText)) return null;
	const ses = parseSesNotification(ctx.topText);
	if (!ses || ses.type === 'other') return null;
	if (ses.type === 'complaint') {
		const result: Classification = { ...base, kind: 'complaint', feedbackType: ses.feedbackType || 'abuse' };
		attribute(result, msg, ctx, options, ses.recipients[0]?.recipient);
		return result;
	}
	const rows = ses.recipients.map((r) =>
		buildRow(r.recipient, ses.type === 'delivery' ? 'delivered' : r.action || 'failed', r.status, r.diagnostic, '', ses.bounceType === 'Transient'),
	);
	return finishReport(base, rows, msg, ctx, options);
}

/** 3. RFC 3464 delivery status notifications (or the one inside an attached message, for MTAs that forward it). */
function deliveryStatusReport({ msg, options, base, ctx, mta }: Reading): Classification | null {
	const dsnText = ctx.dsn ?? (mta?.forwardsReport ? ctx.embeddedDsn : undefined);
	const dsn = dsnText ? parseDsnFields(dsnText) : null;
	if (!dsn) return null;
	const notice = ctx.notice;
	const perRecipient = recipientsFromNotice(notice, ctx.ignore);
	const hints: RowHints = { mta, notice, statedReason: mta?.name === 'powermta' ? powerMtaCategoryReason(ctx.dsn ?? '') : '' };
	const rows = dsn.recipients.map((r) => rowFromDsn(r, notice, perRecipient, ctx, dsn.recipients.length === 1, hints));
	for (const l of dsn.limits) limitHit(msg, l);
	return finishReport(base, rows, msg, ctx, options);
}

/**
 * 3b. RFC 8098 disposition notifications (read receipts), before the bounce heuristics: they are sent with an empty
 * envelope sender and often return the original's headers, which reads like a bounce. `displayed` is a read
 * (`read_receipt`); any other disposition (deleted unread, denied, failed, ...) is `other` with its disposition. A
 * report that says it is a disposition notification but has no readable Disposition field is `other` with the
 * problem, never a reply. Attributed by Original-Message-ID, the returned headers, In-Reply-To/References and the
 * reply key, like a bounce.
 */
function dispositionReport({ msg, options, base, ctx }: Reading): Classification | null {
	const mdn = ctx.mdn !== undefined ? parseMdnFields(ctx.mdn) : null;
	if (!mdn) {
		if (ctx.reportType !== 'disposition-notification' && ctx.mdn === undefined) return null;
		const result: Classification = { ...base, kind: 'other', problem: 'a disposition notification without a readable Disposition field' };
		attribute(result, msg, ctx, options, senderOf(base.from));
		return result;
	}
	for (const l of mdn.limits) limitHit(msg, l);
	const result: Classification = { ...base, kind: mdnIsRead(mdn) ? 'read_receipt' : 'other' };
	if (mdn.disposition) result.disposition = mdn.modifiers.length > 0 ? `${mdn.disposition}/${mdn.modifiers.join(',')}` : mdn.disposition;
	else result.problem = 'a disposition notification without a readable Disposition field';
	if (mdn.originalMessageId) result.originalMessageId = mdn.originalMessageId;
	attribute(result, msg, ctx, options, mdn.recipient || senderOf(base.from));
	return result;
}

/**
 * 4. Plain-text bounce notices. An MTA recognised by its own signals whose notice names recipients is a bounce
 * whatever its Subject says.
 */
function plainTextBounce({ msg, options, headers, base, subject, ctx, mta }: Reading): Classification | null {
	if (!looksLikeBounce(headers, base.from ?? '', subject, ctx) && !(mta?.rowsOf !== undefined && mta.rowsOf(ctx.notice).length > 0)) return null;
	const rows = rowsFromNotice(ctx, headers, mta);
	noteRecipientLimit(msg, rows.length, NOTICE_MAX_RECIPIENTS);
	return rows.length > 0 ? finishReport(base, rows, msg, ctx, options) : null;
}

/** 5. Automatic replies (out of office, autoresponders), attributed to their sender. */
function autoReply({ msg, options, headers, base, subject, ctx }: Reading): Classification | null {
	if (!autoReplySignal(headers, subject)) return null;
	const result: Classification = { ...base, kind: 'auto_reply' };
	attribute(result, msg, ctx, options, senderOf(base.from));
	return result;
}

/** 6. Human mail: unsubscribe request, reply (with what it says), inbound lead, or other. */
function humanMail({ msg, options, headers, base, subject, ctx }: Reading): Classification {
	const result: Classification = { ...base };
	const sender = senderOf(base.from);
	attribute(result, msg, ctx, options, sender, true);
	const isReply = Boolean(result.token || result.addressKey || base.inReplyTo || headerValue(headers, 'references') || REPLY_SUBJECT.test(subject));
	if ((isReply || result.token || result.addressKey) && asksToUnsubscribe(subject, ctx.topText)) result.kind = 'unsubscribe';
	else if (result.token || result.addressKey) result.kind = 'reply';
	else classifyUnattributed(result, headers, subject, ctx, options, sender, isReply);
	if (result.kind === 'reply') readReplyIntent(result, subject, ctx, options, sender);
	// A repaired structure (e.g. a multipart whose boundary never appears, read as text) still says what was wrong.
	if (msg.problems.length > 0) result.problem = msg.problems.join('; ');
	return result;
}

/**
 * Mail without our token or address key: an inbound lead when written to a substitute address, an unsubscribe
 * request when it asks (as a reply or by its Subject), a reply when it looks like one; else it stays other.
 */
function classifyUnattributed(
	result: Classification,
	headers: HeaderList,
	subject: string,
	ctx: Context,
	options: ClassifyOptions,
	sender: string | undefined,
	isReply: boolean,
): void {
	const sub = findSubstitute(recipientsOf(headers), options);
	if (sub) {
		result.kind = 'inbound';
		result.plusTag = sub.plusTag;
		if (sub.channel) result.channel = sub.channel;
		if (sub.utm) result.utm = sub.utm;
		if (sub.visitorId) result.visitorId = sub.visitorId;
		result.contact = sender;
	} else if (asksToUnsubscribe(subject, ctx.topText) && (isReply || /unsubscribe|abmelden|退订|отпис|baja|désinscri/i.test(subject)))
		result.kind = 'unsubscribe';
	else if (isReply) result.kind = 'reply';
}

/** What a reply says: only the writer's new text counts; the writer's own address is never a referral. */
function readReplyIntent(result: Classification, subject: string, ctx: Context, options: ClassifyOptions, sender: string | undefined): void {
	const intent = classifyReplyIntent(subject, ctx.topText, { sender, ownAddresses: options.ownAddresses });
	result.replyIntent = intent.intent;
	if (intent.referral) result.referral = intent.referral;
	if (intent.language) result.replyLanguage = intent.language;
}

interface Context {
	/** Body of the delivery-status part (or DSN-looking text). */
	dsn?: string;
	/** Body of the disposition-notification part (RFC 8098), or, in a disposition-notification report without one, its text. */
	mdn?: string;
	/** A delivery-status part inside an attached message (a bounce forwarded as an attachment). */
	embeddedDsn?: string;
	feedback?: string;
	reportType: string;
	/** Decoded text of the top-level human-readable parts (outside returned originals). */
	topText: string;
	/** The human-readable notice: topText before the copy of the original. */
	notice: string;
	/** Returned original: its headers/text (from message/rfc822 parts or the quoted copy in the text). */
	originalHeaders: HeaderList[];
	originalText: string;
	subject: string;
	/** Addresses that are not bounced recipients: our sender, the notice's own addresses. */
	ignore: Set<string>;
}

function collect(msg: MimeMessage): Context {
	const ctx: Context = {
		reportType: (msg.root.params['report-type'] ?? '').toLowerCase(),
		subject: decodeHeaderValue(headerValue(msg.root.headers, 'subject') ?? ''),
		topText: '',
		notice: '',
		originalHeaders: [],
		originalText: '',
		ignore: new Set<string>(),
	};
	const texts: string[] = [];
	let textLength = 0;
	const originals: string[] = [];
	const inside = new Set<MimePart>();
	for (const part of msg.parts) {
		if (inside.has(part)) {
			for (const c of part.children) inside.add(c);
			if (!ctx.embeddedDsn && (part.type === 'message/delivery-status' || part.type === 'message/global-delivery-status'))
				ctx.embeddedDsn = partText(msg, part);
			continue;
		}
		if (part.embedded) {
			for (const c of part.children) {
				inside.add(c);
				ctx.originalHeaders.push(c.headers);
				originals.push(partBody(msg, c).slice(0, 65536));
			}
			continue;
		}
		const t = part.type;
		if (t === 'message/delivery-status' || t === 'message/global-delivery-status') {
			if (!ctx.dsn) ctx.dsn = partText(msg, part);
			else ctx.dsn += '\n\n' + partText(msg, part);
		} else if (t === 'message/disposition-notification' || t === 'message/global-disposition-notification') {
			if (ctx.mdn === undefined) ctx.mdn = partText(msg, part);
		} else if (t === 'message/feedback-report') ctx.feedback = partText(msg, part);
		else if (part.children.length === 0 && (t.startsWith('text/') || t === 'message/rfc822-body') && textLength < CLASSIFY_MAX_TEXT) {
			const isHtml = t === 'text/html';
			// Prefer plain text; HTML only when no plain text came before (multipart/alternative).
			if (!isHtml || texts.length === 0) {
				const text = partText(msg, part);
				texts.push(text);
				textLength += text.length;
			}
		}
	}
	ctx.topText = texts.join('\n');
	// A disposition-notification report whose fields sit in a text part (some clients label the part text/plain).
	if (ctx.mdn === undefined && ctx.reportType === 'disposition-notification' && /^disposition:/im.test(ctx.topText))
		ctx.mdn = ctx.topText.slice(ctx.topText.search(/^(?:reporting-ua|original-recipient|final-recipient|original-message-id|disposition):/im));
	// Some MTAs put DSN fields in a text part.
	if (!ctx.dsn && /^final-recipient:/im.test(ctx.topText) && /^status:/im.test(ctx.topText)) {
		const i = ctx.topText.search(/^(?:reporting-mta|final-recipient|original-recipient):/im);
		ctx.dsn = ctx.topText.slice(i);
	}
	const { notice, original } = splitOriginal(ctx.topText);
	// DSN fields pasted into the text are not the notice's words.
	const fieldsAt = notice.search(/^(?:reporting-mta|final-recipient|original-recipient|arrival-date):/im);
	ctx.notice = fieldsAt > 0 ? notice.slice(0, fieldsAt) : notice;
	ctx.originalText = originals.join('\n') + '\n' + original;
	collectIgnored(ctx, msg.root.headers, original);
	return ctx;
}

/** Addresses that are not bounced recipients: the original's senders, and this message's own To and From. */
function collectIgnored(ctx: Context, headers: HeaderList, original: string): void {
	for (const h of ctx.originalHeaders) for (const a of emailsIn(headerValues(h, 'from').join(' '), 5)) ctx.ignore.add(a);
	for (const a of emailsIn(
		original
			.slice(0, 20000)
			.match(/^(?:from|sender|return-path|reply-to):.*$/gim)
			?.join(' ') ?? '',
		10,
	))
		ctx.ignore.add(a);
	for (const a of emailsIn(headerValues(headers, 'to').join(' '), 10)) ctx.ignore.add(a);
	for (const a of emailsIn(headerValues(headers, 'from').join(' '), 5)) ctx.ignore.add(a);
}

function envelope(headers: HeaderList): Partial<Classification> {
	const out: Partial<Classification> = {};
	const subject = headerValue(headers, 'subject');
	if (subject !== undefined) out.subject = decodeHeaderValue(subject);
	const from = headerValue(headers, 'from');
	if (from !== undefined) out.from = decodeHeaderValue(from);
	const to = headerValues(headers, 'to');
	if (to.length > 0) out.to = emailsIn(to.join(', '));
	const date = headerValue(headers, 'date');
	if (date !== undefined) out.date = date;
	const id = headerValue(headers, 'message-id');
	if (id !== undefined) out.messageId = id.trim();
	const irt = headerValue(headers, 'in-reply-to');
	if (irt !== undefined) out.inReplyTo = irt.trim();
	return out;
}

function senderOf(from: string | undefined): string | undefined {
	if (!from) return undefined;
	return emailsIn(from, 1)[0];
}

function recipientsOf(headers: HeaderList): string[] {
	const fields = ['to', 'cc', 'delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to'];
	const out: string[] = [];
	for (const f of fields) out.push(...emailsIn(headerValues(headers, f).join(', '), 20));
	return out;
}

function originalTo(ctx: Context): string | undefined {
	for (const h of ctx.originalHeaders) {
		const to = emailsIn(headerValues(h, 'to').join(' '), 1)[0];
		if (to) return to;
	}
	const m = /^to:[ \t]*(.*)$/im.exec(ctx.originalText);
	return m ? emailsIn(m[1], 1)[0] : undefined;
}

function looksLikeBounce(headers: HeaderList, from: string, subject: string, ctx: Context): boolean {
	if (headerValue(headers, 'x-failed-recipients')) return true;
	const fromBounce = BOUNCE_SENDER_RE.test(from) || from.trim() === '' || /<>/.test(from);
	const subjBounce = BOUNCE_SUBJECT_RE.test(subject);
	const hasOriginal = ctx.originalHeaders.length > 0 || ctx.originalText.trim().length > 0;
	const returnPathEmpty = /^<?\s*>?$/.test(headerValue(headers, 'return-path') ?? 'x');
	// A daemon's notice quoting a server's refusal, even under a reply-like subject.
	const quotesRefusal = /(?:^|\s)[45]\d\d[\s-]/m.test(ctx.notice) && /error|fail|undeliver|not delivered/i.test(ctx.notice);
	return (
		(fromBounce && (subjBounce || hasOriginal || quotesRefusal)) ||
		(subjBounce && (hasOriginal || returnPathEmpty)) ||
		(returnPathEmpty && hasOriginal)
	);
}

/**
 * The status to report: a generic code in the report (x.0.0, x.y.0) often wraps the remote server's precise one, and
 * providers put their own code before the remote server's, so the last specific code in the answer is the most precise.
 */
function preciseStatus(status: string, statuses: string[]): string {
	if (statuses.length === 0) return status;
	const specific = statuses.filter((x) => !/\.0\.0$/.test(x));
	const last = specific[specific.length - 1] ?? statuses[0];
	if (!status || /\.0\.0$/.test(status)) return !status || status[0] === last[0] ? last : status;
	if (last !== status && !/\.0\.0$/.test(last) && (last[0] === status[0] || /\.0$/.test(status))) return last;
	return status;
}

/**
 * The reason the diagnostic's words and the code give (a few codes are definitive whatever the text says: an expired
 * queue mentions the timeouts that led to it), then the weak readings of the diagnostic and of the notice's opening.
 * `proven` is what the words or the code prove by themselves.
 */
function reasonFromWords(diag: string, context: string, st: string, byText: string, byStatus: string): { reason: string; proven: string } {
	let reason = STATUS_WINS.has(byStatus) && byText !== 'mailboxfull' ? byStatus : byText || byStatus;
	const proven = reason;
	if (!reason) {
		reason = weakReasonFromText(diag);
		// "Recipient address rejected: <policy text>" under a 5.7.x code is a policy refusal, not a missing user.
		if (reason === 'userunknown' && /^\d\.7\./.test(st)) reason = '';
	}
	if (!reason) {
		// The notice's opening says why; reading all of a long notice costs more than it tells.
		// Only definite statements: generic words in the notice's boilerplate ("returned to sender") say nothing.
		reason = reasonFromText(context.length > 2000 ? context.slice(0, 2000) : context);
	}
	return { reason, proven };
}

/**
 * Rules on the refused SMTP command: refusals of the sender (MAIL FROM) are about us, not the recipient's address;
 * "user unknown" after DATA (or with no command at all) comes from a content filter, not a missing mailbox
 * (Sisimai's rule): only a RCPT answer or a x.1.x code proves the mailbox is gone.
 */
function reasonForCommand(reason: string, command: string, byStatus: string): string {
	if (command === 'MAIL' && (reason === 'userunknown' || reason === 'hostunknown' || reason === 'filtered')) return 'rejected';
	if (reason === 'userunknown' && byStatus !== 'userunknown' && command !== 'RCPT') return 'filtered';
	return reason;
}

function buildRow(
	recipient: string,
	action: string,
	status: string,
	diagnostic: string,
	context: string,
	temporary = false,
	contextIsOwn = true,
	hints: RowHints = {},
): Row {
	const diag = tidyDiagnostic(diagnostic);
	const replyCode = findReplyCode(diag);
	let st = preciseStatus(status, findStatuses(diag));
	const byText = reasonFromText(diag);
	const byStatus = EXPIRED_STATUS.test(st) ? 'expired' : reasonFromStatus(st);
	const words = reasonFromWords(diag, context, st, byText, byStatus);
	let reason = words.reason;
	// Google Groups refuses posts (group gone or posting not allowed) in a localised notice: the group rejected us.
	if (/@googlegroups\.com$/.test(recipient) && (!reason || reason === 'undefined')) reason = 'rejected';
	const command = hints.command || hints.mta?.commandOf?.(diag) || commandOf(diag) || (contextIsOwn ? commandOf(context) : '') || commandWordOf(diag);
	reason = reasonForCommand(reason, command, byStatus);
	// The MTA's own words or codes, and the refusing provider's, outrank the generic reading.
	const providerReason = remoteHostReason(hints.remoteHost || remoteHostIn(diag), recipient, diag, st, command, replyCode);
	const mtaReason = hints.statedReason || hints.mta?.reasonOf?.(diag, hints.notice ?? '') || '';
	if (providerReason) reason = providerReason;
	else if (mtaReason)
		reason = mergeMtaReason(
			mtaReason,
			provenAgainstMta(words.proven, byStatus, command),
			st,
			st.startsWith('4') || (!st && replyCode.startsWith('4')),
		);
	// Some MTAs report a queue that gave up as `Action: expired`.
	if (action === 'expired') reason = 'expired';
	if (command === 'HELO' && !reason) reason = 'blocked';
	// A local delivery program failed (procmail, maildrop: "X-Unix; 77"): unless its words say why, the permanent
	// status class names the cause, else the mailer itself failed.
	if (hints.localProgram && !byText) reason = (st.startsWith('5') ? reasonFromStatus(st) : '') || 'mailererror';
	const isTemp =
		temporary || st.startsWith('4') || (!st && replyCode.startsWith('4')) || action === 'delayed' || Boolean(hints.mta?.temporary?.(reason, diag));
	// Sisimai's convention: a refusal we cannot read is on hold; no words at all is undefined.
	if (!reason) reason = action === 'delayed' || action === 'expired' ? 'expired' : diag ? 'onhold' : 'undefined';
	if (reason === 'delivered' && action !== 'delivered') reason = 'undefined';
	if (!st) st = reason === 'delivered' ? '2.0.0' : statusForReason(reason, isTemp);
	return {
		recipient,
		action: action || (st.startsWith('4') ? 'delayed' : st.startsWith('2') ? 'delivered' : 'failed'),
		status: st,
		replyCode,
		diagnostic: diag,
		reason,
		hard: isHardReason(reason),
	};
}

/** Reasons an MTA's table may state but the diagnostic's own words may still correct (Sisimai's retry list). */
const TENTATIVE_REASONS = new Set([
	'undefined',
	'onhold',
	'systemerror',
	'securityerror',
	'expired',
	'suspend',
	'networkerror',
	'hostunknown',
	'userunknown',
]);
/** Reasons the diagnostic's words prove against a tentative MTA reason. */
const PROVEN_REASONS = new Set([
	'mailboxfull',
	'mesgtoobig',
	'exceedlimit',
	'suspend',
	'hasmoved',
	'norelaying',
	'authfailure',
	'userunknown',
	'filtered',
	'requireptr',
	'notcompliantrfc',
	'badreputation',
	'rejected',
	'hostunknown',
	'spamdetected',
	'speeding',
	'toomanyconn',
	'blocked',
]);
/** Of those, the ones that outrank an MTA's "unknown user" (a full or moved mailbox also fails RCPT). */
const BEFORE_USERUNKNOWN = new Set(['mailboxfull', 'mesgtoobig', 'exceedlimit', 'suspend', 'hasmoved', 'norelaying', 'authfailure']);

/**
 * What the words prove, read the way the MTA tables are: "user unknown" without a RCPT refusal or x.1.x code is a
 * filter, and a filter cannot have refused a command sent before the message (CONN/HELO/MAIL/RCPT).
 */
function provenAgainstMta(proven: string, byStatus: string, command: string): string {
	const early = command === 'CONN' || command === 'HELO' || command === 'MAIL' || command === 'RCPT';
	if (proven === 'userunknown' && byStatus !== 'userunknown' && command !== 'RCPT') return early ? '' : 'filtered';
	if (proven === 'filtered' && byStatus !== 'filtered' && early) return '';
	return proven;
}

/**
 * Policy, reputation and content refusals: an answer whose own words say one of these is not about a missing mailbox,
 * even when the MTA's notice frames every refusal at RCPT TO as an unknown recipient.
 */
const POLICY_REASONS = new Set(['blocked', 'spamdetected', 'virusdetected', 'policyviolation', 'badreputation', 'requireptr', 'authfailure']);

/**
 * An MTA's own reason, unless it is tentative and the generic reading of the words proves another. An MTA's "unknown
 * user" also yields to an RFC 3463 security/policy status (X.7.X is never a missing mailbox), to policy words, and on
 * a temporary answer (4xx, 4.x.x) to any reason the words prove.
 */
function mergeMtaReason(mtaReason: string, generic: string, st = '', temporary = false): string {
	if (!TENTATIVE_REASONS.has(mtaReason) || mtaReason === generic) return mtaReason;
	if (mtaReason === 'userunknown') {
		if (BEFORE_USERUNKNOWN.has(generic)) return generic;
		if (/^\d\.7\./.test(st) || POLICY_REASONS.has(generic) || (temporary && generic)) return generic;
		return mtaReason;
	}
	return PROVEN_REASONS.has(generic) ? generic : mtaReason;
}

function rowFromDsn(
	r: DsnRecipient,
	notice: string,
	perRecipient: Array<{ recipient: string; diagnostic: string }>,
	ctx: Context,
	single: boolean,
	hints: RowHints,
): Row {
	let diagnostic = r.diagnostic;
	const localProgram = r.diagnosticType === 'x-unix';
	const ownNotice = perRecipient.find((p) => p.recipient === r.recipient || p.recipient === r.originalRecipient)?.diagnostic ?? '';
	if ((!diagnostic || diagnostic.length < 8) && !localProgram) {
		// The report said nothing useful: the notice's words about this recipient (or, with one recipient, about
		// the message), then the comment some MTAs put after the status code.
		diagnostic = [diagnostic, ownNotice || (single ? serverAnswer(notice) : '') || r.statusComment].filter(Boolean).join(' ');
	}
	const action = r.action === 'delivered' || r.action === 'relayed' || r.action === 'expanded' ? 'delivered' : r.action;
	// The notice's words about this recipient say which command was refused ("in reply to RCPT TO command").
	return buildRow(
		r.recipient || originalTo(ctx) || '',
		action,
		r.status,
		diagnostic,
		single ? notice + '\n' + ctx.subject : ownNotice + '\n' + ctx.subject,
		false,
		true,
		{
			...hints,
			remoteHost: r.remoteMta,
			localProgram,
		},
	);
}

function rowsFromNotice(ctx: Context, headers: HeaderList, mta: MtaProfile | null): Row[] {
	const notice = ctx.notice;
	const own = mta?.rowsOf?.(notice) ?? [];
	if (own.length > 0)
		return own.map((r) =>
			buildRow(r.recipient, '', '', r.diagnostic, notice + '\n' + ctx.subject, false, false, { mta, notice, command: r.command }),
		);
	let found = recipientsFromNotice(notice, ctx.ignore);
	const failed = emailsIn(headerValues(headers, 'x-failed-recipients').join(', '));
	if (found.length === 0) {
		const fallback = failed.length > 0 ? failed : [originalTo(ctx) ?? ''];
		const answer = mta?.diagnosticOf?.(notice) || serverAnswer(notice) || tidyDiagnostic(notice);
		found = fallback.map((recipient) => ({ recipient, diagnostic: answer }));
	}
	// Warnings ("message delayed", "will be retried") are temporary: the MTA is still trying.
	const delayedNotice = /\bdelay(?:ed)?\b|will be retried|still trying|warning:/i.test(ctx.subject) && !/fail|permanent/i.test(ctx.subject);
	return found.map((f) => {
		const diagnostic =
			f.diagnostic.length >= 8 ? f.diagnostic : [f.diagnostic, mta?.diagnosticOf?.(notice) || serverAnswer(notice)].filter(Boolean).join(' ');
		return buildRow(f.recipient, delayedNotice ? 'delayed' : '', '', diagnostic, notice + '\n' + ctx.subject, delayedNotice, found.length === 1, {
			mta,
			notice,
		});
	});
}

function finishReport(base: Classification, rows: Row[], msg: MimeMessage, ctx: Context, options: ClassifyOptions): Classification {
	const failed = rows.filter((r) => r.action !== 'delivered' && r.action !== 'delayed');
	const delayed = rows.filter((r) => r.action === 'delayed');
	const result: Classification = { ...base };
	if (failed.length > 0) {
		result.kind = 'bounce';
		result.bounces = [...failed, ...delayed].sort((a, b) => rows.indexOf(a) - rows.indexOf(b));
	} else if (delayed.length > 0) {
		result.kind = 'delay';
		result.bounces = delayed;
	} else {
		result.kind = 'delivered';
		result.bounces = rows;
	}
	attribute(result, msg, ctx, options, result.bounces[0]?.recipient || originalTo(ctx));
	return result;
}

/** Token, address key and contact. Reports look in the returned original; human mail in its own headers only. */
function attribute(
	result: Classification,
	msg: MimeMessage,
	ctx: Context,
	options: ClassifyOptions,
	fallbackContact: string | undefined,
	ownOnly = false,
): void {
	const headers = msg.root.headers;
	const own = ['in-reply-to', 'references', 'x-cadence-token']
		.map((h) =>
			headerValues(headers, h)
				.map((v) => (h === 'x-cadence-token' ? `X-Cadence-Token: ${v}` : v))
				.join(' '),
		)
		.join('\n');
	const texts = ownOnly
		? [own]
		: [own, ctx.mdn ?? '', ...ctx.originalHeaders.map((h) => h.map(([n, v]) => `${n}: ${v}`).join('\n')), ctx.originalText, ctx.dsn ?? ''];
	const match = findToken(texts, options);
	if (match) {
		result.token = match.token;
		if (match.data) result.tokenData = match.data;
	}
	const addressTexts = [
		['to', 'cc', 'delivered-to', 'x-original-to', 'return-path', 'envelope-to'].map((h) => headerValues(headers, h).join(', ')).join('\n'),
	];
	if (!ownOnly) addressTexts.push(ctx.originalText.slice(0, 65536), ...ctx.originalHeaders.map((h) => h.map(([n, v]) => `${n}: ${v}`).join('\n')));
	const key = findAddressKey(addressTexts, options);
	if (key) result.addressKey = key;
	const contact = match?.data?.email || fallbackContact;
	if (contact) result.contact = contact.toLowerCase();
}
