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
		c === 32 ||
		(c >= 9 && c <= 13) ||
		c === 0xa0 ||
		c === 0x1680 ||
		(c >= 0x2000 && c <= 0x200a) ||
		c === 0x2028 ||
		c === 0x2029 ||
		c === 0x202f ||
		c === 0x205f ||
		c === 0x3000 ||
		c === 0xfeff
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
	return value
		.replace(/^\s*(?:smtp|x-[\w-]+|mail|unix)\s*;\s*/i, '')
		.replace(/\s+/g, ' ')
		.trim();
}

/** Records a limit once, in the order limits cut in. */
function noteLimit(limits: string[], what: string): void {
	if (!limits.includes(what)) limits.push(what);
}

/**
 * Reads `name: value` field lines into a list, joining folded continuation lines; a blank line becomes the marker
 * `['', '']` (blocks are separated by blank lines); lines that are not fields end the current field.
 */
function readFieldLines(text: string, limits: string[]): HeaderList {
	const fields: HeaderList = [];
	const maxValue = MIME_MAX_HEADER_VALUE;
	let last: [string, string] | undefined;
	for (const line of text.split('\n')) {
		if (fields.length > DSN_MAX_FIELDS) {
			noteLimit(limits, `more than ${DSN_MAX_FIELDS} delivery report fields: the rest were not read`);
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
			appendContinuation(last, line, limits);
			continue;
		}
		const colon = line.indexOf(':');
		if (colon <= 0 || colon > 40 || !/^[A-Za-z][\w-]*$/.test(line.slice(0, colon).trim())) {
			last = undefined;
			continue;
		}
		if (line.length - colon - 1 > maxValue) noteLimit(limits, `delivery report field longer than ${maxValue} characters: cut for parsing`);
		last = [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1, colon + 1 + maxValue).trim()];
		fields.push(last);
	}
	return fields;
}

/** A folded line continues the field before it, which stays within MIME_MAX_HEADER_VALUE characters. */
function appendContinuation(last: [string, string], line: string, limits: string[]): void {
	const maxValue = MIME_MAX_HEADER_VALUE;
	const add = ' ' + line.trim();
	if (last[1].length + add.length > maxValue) {
		last[1] = (last[1] + add.slice(0, Math.max(0, maxValue - last[1].length))).slice(0, maxValue);
		noteLimit(limits, `delivery report field longer than ${maxValue} characters: cut for parsing`);
	} else last[1] += add;
}

/** A recipient block being read, with which of its recipient fields were seen. */
type PendingRecipient = DsnRecipient & { hasFinal: boolean; hasOriginal: boolean; early: boolean };

/** The report as its fields are read: the per-message Reporting-MTA and the recipient blocks so far. */
interface DsnReading {
	reportingMta: string;
	recipients: PendingRecipient[];
	current: PendingRecipient | undefined;
}

/** Opens a new recipient block; `early` marks one opened by Action/Status before its recipient field. */
function openRecipient(reading: DsnReading, early = false): PendingRecipient {
	const current: PendingRecipient = {
		recipient: '',
		originalRecipient: '',
		action: '',
		status: '',
		diagnostic: '',
		remoteMta: '',
		diagnosticType: '',
		statusComment: '',
		hasFinal: false,
		hasOriginal: false,
		early,
	};
	reading.current = current;
	reading.recipients.push(current);
	return current;
}

/** A recipient field fills the open block unless that block already has one or is past its own fields. */
function blockForRecipientField(reading: DsnReading, seen: 'hasFinal' | 'hasOriginal'): PendingRecipient {
	const current = reading.current;
	return current && !current[seen] && (!current.action || current.early) ? current : openRecipient(reading);
}

/** Applies one field to the report: the first value of each per-recipient field wins within its block. */
function applyDsnField(reading: DsnReading, name: string, value: string): void {
	const current = reading.current;
	switch (name) {
		case 'reporting-mta':
			if (!reading.reportingMta) reading.reportingMta = value.replace(/^dns;\s*/i, '');
			break;
		case 'final-recipient': {
			const r = blockForRecipientField(reading, 'hasFinal');
			r.hasFinal = true;
			r.recipient = addressField(value);
			break;
		}
		case 'original-recipient': {
			const r = blockForRecipientField(reading, 'hasOriginal');
			r.hasOriginal = true;
			r.originalRecipient = addressField(value);
			break;
		}
		case 'action':
			if (current && !current.action)
				current.action = value
					.trim()
					.toLowerCase()
					.replace(/[\s(].*$/, '');
			break;
		case 'status':
			if (current && !current.status) {
				current.status = (/([245]\.\d{1,3}\.\d{1,3})/.exec(value) ?? ['', ''])[1];
				current.statusComment = value
					.replace(/^[^(]*\(?/, '')
					.replace(/\)\s*$/, '')
					.trim();
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
}

/** Groups fields into recipient blocks, each started by its recipient field (or by Action/Status after a blank line). */
function readRecipientBlocks(fields: HeaderList, limits: string[]): DsnReading {
	const reading: DsnReading = { reportingMta: '', recipients: [], current: undefined };
	let blockStart = true;
	for (const [name, value] of fields) {
		if (name === '') {
			blockStart = true;
			continue;
		}
		const current = reading.current;
		// A block that opens with per-recipient fields before its recipient (Oracle Messaging Server does this).
		if (blockStart && (name === 'action' || name === 'status') && (!current || current.hasFinal || current.hasOriginal)) openRecipient(reading, true);
		blockStart = false;
		applyDsnField(reading, name, value);
		if (reading.recipients.length > DSN_MAX_RECIPIENTS) {
			reading.recipients.pop();
			noteLimit(limits, `more than ${DSN_MAX_RECIPIENTS} recipients in the report: the rest were not read`);
			break;
		}
	}
	return reading;
}

/** A recipient as reported: its Final-Recipient, or its Original-Recipient when the final one is missing. */
function finishRecipient(r: PendingRecipient): DsnRecipient {
	return {
		recipient: r.recipient || r.originalRecipient,
		originalRecipient: r.originalRecipient,
		action: r.action,
		status: r.status,
		diagnostic: r.diagnostic,
		diagnosticType: r.diagnosticType,
		remoteMta: r.remoteMta,
		statusComment: r.statusComment,
	};
}

/**
 * Parses DSN fields from a text (the body of a delivery-status part). Recipient blocks are started by their
 * Final-Recipient (or Original-Recipient) field rather than by blank lines, as several MTAs omit or add blank lines.
 * Returns null when no recipient block is found.
 */
export function parseDsnFields(body: string): DsnReport | null {
	const text = body.indexOf('\r') >= 0 ? body.replace(/\r\n?/g, '\n') : body;
	const limits: string[] = [];
	const fields = readFieldLines(text, limits);
	const { reportingMta, recipients } = readRecipientBlocks(fields, limits);
	if (recipients.length === 0 || recipients.every((r) => !r.hasFinal && !r.hasOriginal)) return null;
	return { reportingMta, limits, recipients: recipients.map(finishRecipient) };
}
