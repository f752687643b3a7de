/**
 * RFC 3464 delivery status notifications: the machine-readable `message/delivery-status` part is one block of
 * per-message fields followed by one block per recipient. Some MTAs put the same fields in a text/plain part, so
 * this reads any text that has them.
 */
import type { HeaderList } from './mime';

export interface DsnRecipient {
	recipient: string;
	originalRecipient: string;
	action: string;
	status: string;
	diagnostic: string;
	remoteMta: string;
	/** The Diagnostic-Code type (`smtp`, `x-unix`, ...), lower-cased, or ''. */
	diagnosticType: string;
	/** Text after the status code, e.g. `4.0.0 (host name lookup failure)`. */
	statusComment: string;
}

export interface DsnReport {
	reportingMta: string;
	recipients: DsnRecipient[];
}

/** Strips `rfc822;` and angle brackets from an address field. */
export function addressField(value: string | undefined): string {
	if (!value) return '';
	let v = value.trim();
	const semi = v.indexOf(';');
	if (semi >= 0 && semi < 12) v = v.slice(semi + 1).trim();
	const m = /<([^<>\s]+@[^<>\s]+)>/.exec(v) ?? /([^\s<>"'()[\],;:]+@[^\s<>"'()[\],;:]+)/.exec(v);
	return (m ? m[1] : v).replace(/\.$/, '').toLowerCase();
}

/** Drops the `smtp;` type prefix of a Diagnostic-Code. */
function diagnosticField(value: string | undefined): string {
	if (!value) return '';
	return value.replace(/^\s*(?:smtp|x-[\w-]+|mail|unix)\s*;\s*/i, '').replace(/\s+/g, ' ').trim();
}

/**
 * Parses DSN fields from a text (the body of a delivery-status part). Recipient blocks are started by their
 * Final-Recipient (or Original-Recipient) field rather than by blank lines, as several MTAs omit or add blank lines.
 * Returns null when no recipient block is found.
 */
export function parseDsnFields(body: string): DsnReport | null {
	const text = body.indexOf('\r') >= 0 ? body.replace(/\r\n?/g, '\n') : body;
	const fields: HeaderList = [];
	let last: [string, string] | undefined;
	for (const line of text.split('\n')) {
		if (fields.length > 5000) break;
		if (line.length === 0) {
			last = undefined;
			// Blank lines separate blocks; kept as a marker for MTAs that write Action/Status before the recipient.
			if (fields.length > 0 && fields[fields.length - 1][0] !== '') fields.push(['', '']);
			continue;
		}
		const c = line.charCodeAt(0);
		if ((c === 32 || c === 9) && last) {
			last[1] += ' ' + line.trim();
			continue;
		}
		const colon = line.indexOf(':');
		if (colon <= 0 || colon > 40 || !/^[A-Za-z][\w-]*$/.test(line.slice(0, colon).trim())) {
			last = undefined;
			continue;
		}
		last = [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
		fields.push(last);
	}
	let reportingMta = '';
	type Pending = DsnRecipient & { hasFinal: boolean; hasOriginal: boolean; early: boolean };
	const recipients: Pending[] = [];
	let current: Pending | undefined;
	let blockStart = true;
	const open = (early = false) => {
		current = { recipient: '', originalRecipient: '', action: '', status: '', diagnostic: '', remoteMta: '', diagnosticType: '', statusComment: '', hasFinal: false, hasOriginal: false, early };
		recipients.push(current);
		return current;
	};
	for (const [name, value] of fields) {
		if (name === '') {
			blockStart = true;
			continue;
		}
		// A block that opens with per-recipient fields before its recipient (Oracle Messaging Server does this).
		if (blockStart && (name === 'action' || name === 'status') && (!current || current.hasFinal || current.hasOriginal)) open(true);
		blockStart = false;
		switch (name) {
			case 'reporting-mta':
				if (!reportingMta) reportingMta = value.replace(/^dns;\s*/i, '');
				break;
			case 'final-recipient': {
				const r = current && !current.hasFinal && (!current.action || current.early) ? current : open();
				r.hasFinal = true;
				r.recipient = addressField(value);
				break;
			}
			case 'original-recipient': {
				const r = current && !current.hasOriginal && (!current.action || current.early) ? current : open();
				r.hasOriginal = true;
				r.originalRecipient = addressField(value);
				break;
			}
			case 'action':
				if (current && !current.action) current.action = value.trim().toLowerCase().replace(/[\s(].*$/, '');
				break;
			case 'status':
				if (current && !current.status) {
					current.status = (/([245]\.\d{1,3}\.\d{1,3})/.exec(value) ?? ['', ''])[1];
					current.statusComment = value.replace(/^[^(]*\(?/, '').replace(/\)\s*$/, '').trim();
				}
				break;
			case 'diagnostic-code':
				if (current && !current.diagnostic) {
					current.diagnostic = diagnosticField(value);
					current.diagnosticType = (/^\s*([\w-]+)\s*;/.exec(value)?.[1] ?? '').toLowerCase();
				}
				break;
			case 'remote-mta':
				if (current && !current.remoteMta) current.remoteMta = value.replace(/^dns;\s*/i, '');
				break;
			default:
		}
		if (recipients.length >= 500) break;
	}
	if (recipients.length === 0 || recipients.every((r) => !r.hasFinal && !r.hasOriginal)) return null;
	return {
		reportingMta,
		recipients: recipients.map((r) => ({
			recipient: r.recipient || r.originalRecipient,
			originalRecipient: r.originalRecipient,
			action: r.action,
			status: r.status,
			diagnostic: r.diagnostic,
			diagnosticType: r.diagnosticType,
			remoteMta: r.remoteMta,
			statusComment: r.statusComment,
		})),
	};
}
