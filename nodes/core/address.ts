/** Email address handling shared by every module: normalising, splitting and validating. */

export interface ParsedAddress {
	/** Trimmed and lower-cased: the identity of a contact. */
	email: string;
	local: string;
	domain: string;
}

// A practical subset of RFC 5321: dot-atom local part and an LDH domain with at least one dot. Quoted local parts
// and address literals are legal but never appear in B2B contact lists, and accepting them only lets junk through.
const LOCAL_RE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL_RE = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function normalizeEmail(raw: unknown): string {
	return typeof raw === 'string' ? raw.trim().toLowerCase() : '';
}

/** Parses an address; returns null when it is not one we would send to. Never throws. */
export function parseAddress(raw: unknown): ParsedAddress | null {
	const email = normalizeEmail(raw);
	if (email.length === 0 || email.length > 254) return null;
	const at = email.lastIndexOf('@');
	if (at <= 0 || at === email.length - 1) return null;
	const local = email.slice(0, at);
	const domain = email.slice(at + 1);
	if (local.length > 64 || !LOCAL_RE.test(local)) return null;
	const labels = domain.split('.');
	if (labels.length < 2 || !labels.every((l) => LABEL_RE.test(l))) return null;
	if (/^[0-9]+$/.test(labels[labels.length - 1])) return null;
	return { email, local, domain };
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
	return at < 0 ? '' : email.slice(at + 1).trim().toLowerCase();
}
