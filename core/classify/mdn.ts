/**
 * RFC 8098 message disposition notifications (read receipts): the machine-readable `message/disposition-notification`
 * part (`message/global-disposition-notification` under RFC 6533) is one block of fields. The ones read here:
 * Reporting-UA, Original-Recipient, Final-Recipient, Original-Message-ID and Disposition
 * (`action-mode/sending-mode; disposition-type/modifier, ...`).
 *
 * Only `displayed` without an error modifier is a read. `deleted` (discarded unread), `dispatched` and `processed`
 * (handled without being shown) and the obsolete RFC 2298 forms `denied` and `failed` (as a type or a modifier) are
 * not.
 */
import { addressField } from './dsn';
import { MIME_MAX_HEADER_VALUE } from './mime';

/** Field lines read per notification (a real one has fewer than ten). */
export const MDN_MAX_FIELDS = 200;
/** Characters of the notification part read (its fields sit in the first lines). */
export const MDN_MAX_TEXT = 64 * 1024;

export interface MdnReport {
	/** The disposition type, lower-cased: `displayed`, `deleted`, `dispatched`, `processed`, or an obsolete one; '' when absent. */
	disposition: string;
	/** Disposition modifiers, lower-cased (`error`, and the obsolete `denied`, `failed`, `expired`, ...). */
	modifiers: string[];
	/** `manual-action` or `automatic-action`, lower-cased; '' when absent. */
	actionMode: string;
	/** The Message-ID of the message the notification is about, as written (with its angle brackets), or ''. */
	originalMessageId: string;
	/** The recipient who displayed (or deleted) the message: Final-Recipient, else Original-Recipient, lower-cased; or ''. */
	recipient: string;
	/** Reporting-UA: the mail client that wrote the notification, or ''. */
	reportingUa: string;
	/** Limits that cut in while reading the notification. */
	limits: string[];
}

/** Disposition types and modifiers that say the message was not read. */
const NOT_READ = new Set(['deleted', 'denied', 'failed', 'error', 'dispatched', 'processed', 'expired', 'mailbox-terminated', 'superseded']);

/** Whether the notification says a person displayed the message. */
export function mdnIsRead(mdn: MdnReport): boolean {
	return mdn.disposition === 'displayed' && !mdn.modifiers.some((m) => NOT_READ.has(m));
}

function noteLimit(limits: string[], what: string): void {
	if (!limits.includes(what)) limits.push(what);
}

/** `name: value` fields of the part, folded lines joined; each value cut at MIME_MAX_HEADER_VALUE. First value of a name wins. */
function readFields(text: string, limits: string[]): Map<string, string> {
	const fields = new Map<string, string>();
	let last: string | undefined;
	let count = 0;
	let pos = 0;
	while (pos < text.length) {
		let eol = text.indexOf('\n', pos);
		if (eol < 0) eol = text.length;
		const line = text.slice(pos, eol).replace(/\r$/, '');
		pos = eol + 1;
		if (line.length === 0) {
			last = undefined;
			continue;
		}
		const c = line.charCodeAt(0);
		if ((c === 32 || c === 9) && last !== undefined) {
			const value = fields.get(last) ?? '';
			if (value.length < MIME_MAX_HEADER_VALUE) fields.set(last, (value + ' ' + line.trim()).slice(0, MIME_MAX_HEADER_VALUE));
			else noteLimit(limits, `disposition notification field longer than ${MIME_MAX_HEADER_VALUE} characters: cut for parsing`);
			continue;
		}
		if (++count > MDN_MAX_FIELDS) {
			noteLimit(limits, `more than ${MDN_MAX_FIELDS} disposition notification fields: the rest were not read`);
			break;
		}
		const colon = line.indexOf(':');
		const name = colon > 0 && colon <= 40 ? line.slice(0, colon).trim().toLowerCase() : '';
		if (!/^[a-z][\w-]*$/.test(name)) {
			last = undefined;
			continue;
		}
		if (line.length - colon - 1 > MIME_MAX_HEADER_VALUE)
			noteLimit(limits, `disposition notification field longer than ${MIME_MAX_HEADER_VALUE} characters: cut for parsing`);
		if (fields.has(name)) {
			last = undefined;
			continue;
		}
		last = name;
		fields.set(name, line.slice(colon + 1, colon + 1 + MIME_MAX_HEADER_VALUE).trim());
	}
	return fields;
}

/** `Disposition: automatic-action/MDN-sent-automatically; displayed/error` → its parts, lower-cased. */
function readDisposition(value: string): Pick<MdnReport, 'disposition' | 'modifiers' | 'actionMode'> {
	const v = value.toLowerCase().replace(/\([^()]*\)/g, ' ');
	const semi = v.indexOf(';');
	const mode = semi >= 0 ? v.slice(0, semi) : '';
	const rest = (semi >= 0 ? v.slice(semi + 1) : v).trim();
	const slash = rest.indexOf('/');
	const type = (slash >= 0 ? rest.slice(0, slash) : rest).trim().split(/[\s,;]+/)[0] ?? '';
	const modifiers =
		slash >= 0
			? rest
					.slice(slash + 1)
					.split(/[,;\s]+/)
					.map((m) => m.trim())
					.filter(Boolean)
					.slice(0, 20)
			: [];
	return { disposition: type, modifiers, actionMode: mode.split('/')[0]?.trim() ?? '' };
}

/** The address of a recipient field (`rfc822; a@b.example`), or '' when it holds none. */
function recipientField(value: string | undefined): string {
	const address = addressField(value);
	return address.includes('@') ? address : '';
}

/** The first `<...>` of a Message-ID field (bounded), or the trimmed value. */
function messageIdField(value: string | undefined): string {
	if (!value) return '';
	const open = value.indexOf('<');
	const close = open >= 0 ? value.indexOf('>', open) : -1;
	return (open >= 0 && close > open ? value.slice(open, close + 1) : value.trim()).slice(0, 998);
}

/**
 * Reads the fields of a disposition notification part. Returns null when the text holds no Disposition field (not a
 * notification), unless a limit cut the text before one could be found (then `disposition` is ''). Bounded by MDN_MAX_TEXT characters and MDN_MAX_FIELDS fields; never throws.
 */
export function parseMdnFields(body: string): MdnReport | null {
	if (typeof body !== 'string' || body.length === 0) return null;
	const limits: string[] = [];
	let text = body;
	if (text.length > MDN_MAX_TEXT) {
		text = text.slice(0, MDN_MAX_TEXT);
		noteLimit(limits, `disposition notification longer than ${MDN_MAX_TEXT} characters: the rest was not read`);
	}
	const fields = readFields(text, limits);
	const disposition = fields.get('disposition');
	if (disposition === undefined && limits.length === 0) return null;
	return {
		...readDisposition(disposition ?? ''),
		originalMessageId: messageIdField(fields.get('original-message-id')),
		recipient: recipientField(fields.get('final-recipient')) || recipientField(fields.get('original-recipient')),
		reportingUa: (fields.get('reporting-ua') ?? '').slice(0, 200),
		limits,
	};
}
