/**
 * Address syntax for verification: RFC 5321 (dot-atom or quoted-string local part, LDH domain) extended by RFC 6531
 * (UTF-8 in the local part, an internationalised domain). The domain is checked in its ASCII form (IDNA via
 * `domainToASCII`, the same mapping companyOf uses), which is also the form DNS is asked about.
 */
import { domainToASCII } from 'node:url';

/** RFC 5321 4.5.3.1.1: at most 64 octets in the local part. */
export const MAX_LOCAL_PART_OCTETS = 64;
/** RFC 5321 4.5.3.1.2 and RFC 1035: at most 253 characters in a domain name (ASCII form). */
export const MAX_DOMAIN_LENGTH = 253;
/** RFC 1035: at most 63 characters in a label. */
export const MAX_LABEL_LENGTH = 63;
/** RFC 5321 4.5.3.1.3 path limit (256 with the angle brackets), as the address itself. */
export const MAX_ADDRESS_OCTETS = 254;

export type SyntaxCheck =
	| {
			ok: true;
			/** The local part as written (case kept: only the receiving server may fold it). */
			local: string;
			/** The domain in ASCII (A-labels), lower case. */
			domain: string;
			/** The domain as written, lower case (Unicode when it was an IDN). */
			unicodeDomain: string;
			/** The local part needs SMTPUTF8 (it has non-ASCII characters). */
			utf8Local: boolean;
	  }
	| { ok: false; detail: string };

const ATEXT = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-") ATEXT[ch.charCodeAt(0)] = 1;

/** RFC 6532 UTF8-non-ascii, minus controls, separators and unassigned/private code points a person never types. */
const NON_ASCII_ALLOWED = /^[^\p{C}\p{Z}]$/u;

function dotAtomProblem(local: string): string | null {
	let prevDot = true;
	for (const ch of local) {
		const c = ch.codePointAt(0)!;
		if (c === 46) {
			if (prevDot) return local.startsWith('.') ? 'the local part starts with a dot' : 'the local part has two dots in a row';
			prevDot = true;
		} else if (c < 128) {
			if (c < 32 || c === 127) return 'the local part contains a control character';
			if (ATEXT[c] !== 1) return `the local part contains ${JSON.stringify(ch)}, which needs quoting`;
			prevDot = false;
		} else {
			if (!NON_ASCII_ALLOWED.test(ch)) return `the local part contains the character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
			prevDot = false;
		}
	}
	return prevDot ? 'the local part ends with a dot' : null;
}

/** RFC 5321 quoted-string: qtextSMTP (32-33, 35-91, 93-126), quoted pairs of 32-126, and UTF-8 per RFC 6531. */
function quotedProblem(local: string): string | null {
	const inner = local.slice(1, -1);
	for (let i = 0; i < inner.length; i++) {
		const c = inner.charCodeAt(i);
		if (c === 92) {
			const n = inner.charCodeAt(i + 1);
			if (!(n >= 32 && n <= 126)) return 'the quoted local part has a dangling backslash';
			i++;
		} else if (c === 34) return 'the quoted local part has an unescaped quote';
		else if (c < 32 || c === 127) return 'the quoted local part contains a control character';
		else if (c >= 128 && !NON_ASCII_ALLOWED.test(String.fromCodePoint(inner.codePointAt(i)!)))
			return 'the quoted local part contains a control character';
	}
	return null;
}

function domainProblem(ascii: string): string | null {
	if (ascii.length > MAX_DOMAIN_LENGTH) return `the domain is longer than ${MAX_DOMAIN_LENGTH} characters`;
	const labels = ascii.split('.');
	if (labels.length < 2) return `the domain "${ascii}" has no dot`;
	for (const label of labels) {
		if (label.length === 0) return 'the domain has an empty label';
		if (label.length > MAX_LABEL_LENGTH) return `a domain label is longer than ${MAX_LABEL_LENGTH} characters`;
		if (!/^[a-z0-9-]+$/.test(label)) return `the domain label "${label}" has characters a host name cannot have`;
		if (label.startsWith('-') || label.endsWith('-')) return `the domain label "${label}" starts or ends with a hyphen`;
	}
	if (/^[0-9]+$/.test(labels[labels.length - 1])) return 'the top-level label is numeric (an IP address, not a domain)';
	return null;
}

/** Checks one address; never throws. Surrounding blanks are ignored; `Name <a@b>` forms are not addresses here. */
export function checkAddressSyntax(raw: unknown): SyntaxCheck {
	if (typeof raw !== 'string') return { ok: false, detail: `expected text, got ${raw === null ? 'null' : typeof raw}` };
	const address = raw.trim();
	if (address.length === 0) return { ok: false, detail: 'the address is empty' };
	if (Buffer.byteLength(address) > MAX_ADDRESS_OCTETS * 4) return { ok: false, detail: `the address is longer than ${MAX_ADDRESS_OCTETS} octets` };
	const at = address.lastIndexOf('@');
	if (at < 0) return { ok: false, detail: 'the address has no "@"' };
	const local = address.slice(0, at);
	const rawDomain = address.slice(at + 1);
	if (local.length === 0) return { ok: false, detail: 'the local part (before "@") is empty' };
	if (rawDomain.length === 0) return { ok: false, detail: 'the domain (after "@") is empty' };
	if (Buffer.byteLength(local) > MAX_LOCAL_PART_OCTETS) return { ok: false, detail: `the local part is longer than ${MAX_LOCAL_PART_OCTETS} octets` };
	const quoted = local.length >= 2 && local.startsWith('"') && local.endsWith('"');
	const localProblem = quoted ? quotedProblem(local) : dotAtomProblem(local);
	if (localProblem) return { ok: false, detail: localProblem };
	if (rawDomain.startsWith('[')) return { ok: false, detail: 'address literals ([1.2.3.4]) are not mailed to' };
	// domainToASCII maps (UTS 46) and converts an IDN; '' means it is no valid domain name
	// eslint-disable-next-line no-control-regex
	if (/[\s\u0000-\u001f]/.test(rawDomain)) return { ok: false, detail: 'the domain contains blanks or control characters' };
	const domain = domainToASCII(rawDomain).toLowerCase();
	if (!domain) return { ok: false, detail: `the domain "${rawDomain}" is no valid (internationalised) domain name` };
	const problem = domainProblem(domain.replace(/\.$/, ''));
	if (problem) return { ok: false, detail: problem };
	if (Buffer.byteLength(local) + 1 + domain.length > MAX_ADDRESS_OCTETS)
		return { ok: false, detail: `the address is longer than ${MAX_ADDRESS_OCTETS} octets` };
	return {
		ok: true,
		local,
		domain: domain.replace(/\.$/, ''),
		unicodeDomain: rawDomain.toLowerCase().replace(/\.$/, ''),
		// eslint-disable-next-line no-control-regex
		utf8Local: /[^\u0000-\u007f]/.test(local),
	};
}
