/**
 * RFC 3464 delivery status notifications: the machine-readable `message/delivery-status` part is one block of
 * per-message fields followed by one block per recipient. Some MTAs put the same fields in a text/plain part, so
 * this reads any text that has them.
 */
import { MIME_MAX_HEADER_VALUE, type HeaderList } from './mime';

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
	/** Limits that cut in while reading the report. */
	limits: string[];
}

/** Recipients read per report. */
export const DSN_MAX_RECIPIENTS = 500;
/** Field lines read per report. */
export const DSN_MAX_FIELDS = 5000;

/** JavaScript's `\s`. */
function isSpace(c: number): boolean {
	return (
		c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
		c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
	);
}

/** Whether `s[start, end)` holds an `@` with at least one character on each side. */
function hasInnerAt(s: string, start: number, end: number): boolean {
	for (let i = start + 1; i < end - 1; i++) if (s.charCodeAt(i) === 64) return true;
	return false;
}

/**
 * The first `<local@domain>` (no spaces or angle brackets inside, an `@` neither first nor last) whose `<` is at or
 * after `from`: the range inside the brackets, or null. Reads like `/<([^<>\s]+@[^<>\s]+)>/` in one pass.
 */
export function bracketedAddress(v: string, from = 0): [start: number, end: number] | null {
	let i = v.indexOf('<', from);
	while (i >= 0) {
		let j = i + 1;
		while (j < v.length) {
			const c = v.charCodeAt(j);
			if (c === 60 || c === 62 || isSpace(c)) break;
			j++;
		}
		if (v.charCodeAt(j) === 62 && hasInnerAt(v, i + 1, j)) return [i + 1, j];
		i = v.indexOf('<', j);
	}
	return null;
}

const ADDRESS_STOP = new Set([...'<>"\'()[],;:'].map((c) => c.charCodeAt(0)));

/** The first run of address characters holding an inner `@` (a bare `local@domain`), or null. */
function bareAddress(v: string): string | null {
	let i = 0;
	while (i < v.length) {
		const c = v.charCodeAt(i);
		if (isSpace(c) || ADDRESS_STOP.has(c)) {
			i++;
			continue;
		}
		let j = i + 1;
		while (j < v.length) {
			const d = v.charCodeAt(j);
			if (isSpace(d) || ADDRESS_STOP.has(d)) break;
			j++;
		}
		if (hasInnerAt(v, i, j)) return v.slice(i, j);
		i = j;
	}
	return null;
}

/** Strips `rfc822;` and angle brackets from an address field (one pass; no backtracking over long values). */
export function addressField(value: string | undefined): string {
	if (!value) return '';
	let v = value.trim();
	const semi = v.indexOf(';');
	if (semi >= 0 && semi < 12) v = v.slice(semi + 1).trim();
	const range = bracketedAddress(v);
	const m = range ? v.slice(range[0], range[1]) : bareAddress(v);
	return (m ?? v).replace(/\.$/, '').toLowerCase();
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
	const limits: string[] = [];
	const maxValue = MIME_MAX_HEADER_VALUE;
	const cut = (what: string) => {
		if (!limits.includes(what)) limits.push(what);
	};
	let last: [string, string] | undefined;
	for (const line of text.split('\n')) {
		if (fields.length > DSN_MAX_FIELDS) {
			cut(`more than ${DSN_MAX_FIELDS} delivery report fields: the rest were not read`);
			break;
		}
		if (line.length === 0) {
			last = undefined;
			// Blank lines separate blocks; kept as a marker for MTAs that write Action/Status before the recipient.
			if (fields.length > 0 && fields[fields.length - 1][0] !== '') fields.push(['', '']);
			continue;
		}
		const c = line.charCodeAt(0);
		if ((c === 32 || c === 9) && last) {
			const add = ' ' + line.trim();
			if (last[1].length + add.length > maxValue) {
				last[1] = (last[1] + add.slice(0, Math.max(0, maxValue - last[1].length))).slice(0, maxValue);
				cut(`delivery report field longer than ${maxValue} characters: cut for parsing`);
			} else last[1] += add;
			continue;
		}
		const colon = line.indexOf(':');
		if (colon <= 0 || colon > 40 || !/^[A-Za-z][\w-]*$/.test(line.slice(0, colon).trim())) {
			last = undefined;
			continue;
		}
		if (line.length - colon - 1 > maxValue) cut(`delivery report field longer than ${maxValue} characters: cut for parsing`);
		last = [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1, colon + 1 + maxValue).trim()];
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
		if (recipients.length > DSN_MAX_RECIPIENTS) {
			recipients.pop();
			cut(`more than ${DSN_MAX_RECIPIENTS} recipients in the report: the rest were not read`);
			break;
		}
	}
	if (recipients.length === 0 || recipients.every((r) => !r.hasFinal && !r.hasOriginal)) return null;
	return {
		reportingMta,
		limits,
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
