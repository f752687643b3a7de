/** Email address handling shared by every module: normalising, splitting and validating. */

export interface ParsedAddress {
	/** Trimmed and lower-cased: the identity of a contact. */
	email: string;
	local: string;
	domain: string;
}

// A practical subset of RFC 5321: dot-atom local part and an LDH domain with at least one dot and a non-numeric
// top-level label. Quoted local parts and address literals are legal but never appear in B2B contact lists, and
// accepting them only lets junk through. One pass over the characters: this runs for every contact of a base.
const ATEXT = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-") ATEXT[ch.charCodeAt(0)] = 1;

export function normalizeEmail(raw: unknown): string {
	return typeof raw === 'string' ? raw.trim().toLowerCase() : '';
}

function validLocal(s: string, end: number): boolean {
	if (end === 0 || end > 64) return false;
	let prevDot = true; // no leading dot
	for (let i = 0; i < end; i++) {
		const c = s.charCodeAt(i);
		if (c === 46) {
			if (prevDot) return false;
			prevDot = true;
		} else if (c < 128 && ATEXT[c] === 1) prevDot = false;
		else return false;
	}
	return !prevDot; // no trailing dot
}

function validDomain(s: string, start: number): boolean {
	const len = s.length;
	if (len - start > 253) return false;
	let labelStart = start;
	let labels = 0;
	let allDigits = true;
	for (let i = start; i <= len; i++) {
		const c = i === len ? 46 : s.charCodeAt(i);
		if (c === 46) {
			const labelLen = i - labelStart;
			if (labelLen === 0 || labelLen > 63) return false;
			if (s.charCodeAt(labelStart) === 45 || s.charCodeAt(i - 1) === 45) return false; // no leading/trailing hyphen
			labels++;
			if (i === len && allDigits) return false; // numeric top-level label: an IP address, not a domain
			labelStart = i + 1;
			allDigits = true;
		} else if ((c >= 97 && c <= 122) || c === 45) allDigits = false;
		else if (c >= 48 && c <= 57) {
			// digits keep allDigits as it is
		} else return false;
	}
	return labels >= 2;
}

/** Parses an address; returns null when it is not one we would send to. Never throws. */
export function parseAddress(raw: unknown): ParsedAddress | null {
	const email = normalizeEmail(raw);
	if (email.length === 0 || email.length > 254) return null;
	const at = email.lastIndexOf('@');
	if (at <= 0 || at === email.length - 1) return null;
	if (!validLocal(email, at) || !validDomain(email, at + 1)) return null;
	return { email, local: email.slice(0, at), domain: email.slice(at + 1) };
}

/** Why `parseAddress` refused an address, for error messages. */
export function explainInvalidAddress(raw: unknown): string {
	if (typeof raw !== 'string') return `expected a string, got ${raw === null ? 'null' : typeof raw}`;
	const email = raw.trim();
	if (email.length === 0) return 'the address is empty';
	if (/\s/.test(email)) return 'the address contains spaces';
	if (!email.includes('@')) return 'the address has no "@"';
	if (email.length > 254) return 'the address is longer than 254 characters';
	const at = email.lastIndexOf('@');
	if (at === 0) return 'the local part (before "@") is empty';
	if (at === email.length - 1) return 'the domain (after "@") is empty';
	if (at > 64) return 'the local part is longer than 64 characters';
	const domain = email.slice(at + 1);
	if (!domain.includes('.')) return `the domain "${domain}" has no dot`;
	return `"${email}" is not a valid address`;
}

export function domainOf(email: string): string {
	const at = email.lastIndexOf('@');
	return at < 0
		? ''
		: email
				.slice(at + 1)
				.trim()
				.toLowerCase();
}
