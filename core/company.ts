/**
 * The company of an address: its registrable domain by the public suffix list (private section included), so
 * a.example.co.uk and b.example.co.uk are one company while x.github.io and y.github.io are two. Every per-company
 * limit (batches on import, the day's cap, a run's cap) keys on this.
 */
import { domainToASCII } from 'node:url';
import { getDomain } from 'tldts';

/** Longest host name DNS allows (RFC 1035); anything longer is no host. */
export const MAX_HOST_LENGTH = 253;

// The input is already a host: tldts skips URL parsing and hostname validation; IP addresses are their own company.
const TLD_OPTIONS = Object.freeze({ allowPrivateDomains: true, extractHostname: false, validateHostname: false, detectIp: true, mixedInputs: false });

/**
 * Registrable domain (public suffix list incl. private section), lower case, IDN in ASCII; the host itself when
 * it has none (IP literal, single label, a public suffix); '' when there is no host. Never throws.
 *
 * The host of an address is what follows its last `@`; a string without `@` is taken as a host. A host with
 * characters no host name has (spaces, punctuation), empty labels, an invalid IDN or more than 253 characters
 * is no host.
 */
export function companyOf(emailOrHost: unknown): string {
	const host = hostOf(emailOrHost);
	if (!host) return '';
	try {
		return getDomain(host, TLD_OPTIONS) ?? host;
	} catch {
		return host;
	}
}

/** The host of an address or host, normalised: lower case, ASCII, no brackets or dots at either end; '' when none. */
function hostOf(input: unknown): string {
	if (typeof input !== 'string') return '';
	let end = input.length;
	// `Name <a@b.com>`: the closing bracket and blanks around it are not part of the host
	while (end > 0 && isBlank(input.charCodeAt(end - 1))) end--;
	if (end > 0 && input.charCodeAt(end - 1) === 62 /* > */) end--;
	while (end > 0 && input.charCodeAt(end - 1) === 46 /* . */) end--;
	let start = input.lastIndexOf('@', end - 1) + 1;
	while (start < end && (isBlank(input.charCodeAt(start)) || input.charCodeAt(start) === 46)) start++;
	// An address literal, [10.0.0.1] or [IPv6:2001:db8::1], is its IP address.
	if (input.charCodeAt(start) === 91 /* [ */ && input.charCodeAt(end - 1) === 93 /* ] */) {
		start++;
		end--;
		if (input.slice(start, start + 5).toLowerCase() === 'ipv6:') start += 5;
	}
	// Punycode is never shorter than its Unicode form: a longer input cannot become a valid host.
	if (end <= start || end - start > MAX_HOST_LENGTH) return '';
	let host = input.slice(start, end).toLowerCase();
	if (isHostName(host)) return host;
	if (isAscii(host)) return '';
	// '' when the name is no valid IDN; mapping may leave dots at either end (a soft hyphen label vanishes)
	host = trimDots(domainToASCII(host));
	return host.length <= MAX_HOST_LENGTH && isHostName(host) ? host : '';
}

/**
 * Letters, digits, `-`, `_` (seen in real host names), `:` (IPv6) and dots between non-empty labels: anything else
 * (spaces, punctuation, non-ASCII) is no host name.
 */
function isHostName(s: string): boolean {
	let prevDot = true;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c === 46) {
			if (prevDot) return false;
			prevDot = true;
		} else if ((c >= 97 && c <= 122) || (c >= 48 && c <= 58) || c === 45 || c === 95) prevDot = false;
		else return false;
	}
	return !prevDot;
}

function trimDots(s: string): string {
	let start = 0;
	let end = s.length;
	while (start < end && s.charCodeAt(start) === 46) start++;
	while (end > start && s.charCodeAt(end - 1) === 46) end--;
	return s.slice(start, end);
}

function isBlank(c: number): boolean {
	return c === 32 || (c >= 9 && c <= 13) || c === 160;
}

function isAscii(s: string): boolean {
	for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
	return true;
}
