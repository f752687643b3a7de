/**
 * SPF (RFC 7208): parsing a record and evaluating it for an IP address, with the limits receivers apply: at most
 * 10 terms that query DNS (include, a, mx, ptr, exists, redirect), at most 2 of them finding nothing, at most 10
 * MX hosts per mx. `exists` and `ptr` are not evaluated (their answer depends on the receiver's view); they are
 * reported as unknown. Pure: DNS comes in through `SpfDns`. Nothing here throws.
 */
import { formatIp, inNetwork, parseIp } from './ip';

/** Terms that query DNS, per evaluation (RFC 7208 4.6.4); a receiver returns permerror past this. */
export const SPF_LOOKUP_LIMIT = 10;
/** Lookups that find nothing, per evaluation (RFC 7208 4.6.4). */
export const SPF_VOID_LOOKUP_LIMIT = 2;
/** MX hosts one `mx` may have (RFC 7208 4.6.4). */
export const SPF_MX_HOST_LIMIT = 10;
/** Longest domain name (RFC 1035). */
const MAX_NAME_LENGTH = 253;

export interface SpfDns {
	txt(name: string): Promise<string[]>;
	a(name: string): Promise<string[]>;
	aaaa(name: string): Promise<string[]>;
	mx(name: string): Promise<Array<{ exchange: string; priority: number }>>;
}

export type SpfQualifier = '+' | '-' | '~' | '?';
export type SpfMechanismKind = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export interface SpfMechanism {
	kind: SpfMechanismKind;
	qualifier: SpfQualifier;
	/** Domain spec (macros unexpanded) of include/a/mx/ptr/exists; absent = the current domain. */
	domain?: string;
	/** ip4/ip6 network. */
	network?: Uint8Array;
	cidr4: number;
	cidr6: number;
	/** The term as written. */
	text: string;
}

export interface SpfRecord {
	mechanisms: SpfMechanism[];
	redirect?: string;
	exp?: string;
}

export type SpfParseResult = { record: SpfRecord; error?: undefined } | { record?: undefined; error: string };

export type SpfResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'permerror' | 'temperror';

const RESULT_OF: Record<SpfQualifier, SpfResult> = { '+': 'pass', '-': 'fail', '~': 'softfail', '?': 'neutral' };

/** Whether a TXT string is an SPF record (RFC 7208 4.5: `v=spf1` then a space or the end). */
export function isSpfRecord(txt: string): boolean {
	return /^v=spf1(?: |$)/i.test(txt);
}

/** Parses an SPF record; a malformed one gives an error naming the term and what is wrong. Never throws. */
export function parseSpf(text: string): SpfParseResult {
	if (typeof text !== 'string') return { error: 'the record is not text' };
	if (!isSpfRecord(text)) return { error: 'it does not start with "v=spf1"' };
	const record: SpfRecord = { mechanisms: [] };
	const terms = text
		.slice(6)
		.split(' ')
		.filter((t) => t !== '');
	for (const term of terms) {
		const modifier = /^([a-z][a-z0-9_.-]*)=(.*)$/i.exec(term);
		if (modifier) {
			const name = modifier[1].toLowerCase();
			const value = modifier[2];
			if (name === 'redirect' || name === 'exp') {
				if (record[name] !== undefined) return { error: `"${name}=" appears twice` };
				const problem = domainSpecProblem(value);
				if (problem) return { error: `"${term}": ${problem}` };
				record[name] = value;
			}
			// Unknown modifiers are ignored (RFC 7208 6).
			continue;
		}
		const m = /^([+\-~?]?)([a-z][a-z0-9_.-]*)(.*)$/i.exec(term);
		if (!m) return { error: `"${term}" is neither a mechanism nor a modifier` };
		const qualifier = (m[1] || '+') as SpfQualifier;
		const kind = m[2].toLowerCase();
		const rest = m[3];
		const mech: SpfMechanism = { kind: kind as SpfMechanismKind, qualifier, cidr4: 32, cidr6: 128, text: term };
		switch (kind) {
			case 'all':
				if (rest !== '') return { error: `"${term}": "all" takes no argument` };
				break;
			case 'include':
			case 'exists': {
				if (!rest.startsWith(':') || rest.length === 1) return { error: `"${term}": ${kind} needs ":domain"` };
				const problem = domainSpecProblem(rest.slice(1));
				if (problem) return { error: `"${term}": ${problem}` };
				mech.domain = rest.slice(1);
				break;
			}
			case 'a':
			case 'mx':
			case 'ptr': {
				const dm = /^(?::([^/]+))?((?:\/\d+)?(?:\/\/\d+)?)$/.exec(rest);
				if (!dm) return { error: `"${term}": expected ${kind}[:domain][/prefix4][//prefix6]` };
				if (dm[1] !== undefined) {
					const problem = domainSpecProblem(dm[1]);
					if (problem) return { error: `"${term}": ${problem}` };
					mech.domain = dm[1];
				}
				if (dm[2]) {
					if (kind === 'ptr') return { error: `"${term}": ptr takes no prefix length` };
					const cm = /^(?:\/(\d+))?(?:\/\/(\d+))?$/.exec(dm[2])!;
					if (cm[1] !== undefined) mech.cidr4 = Number(cm[1]);
					if (cm[2] !== undefined) mech.cidr6 = Number(cm[2]);
					if (mech.cidr4 > 32 || mech.cidr6 > 128) return { error: `"${term}": prefix length out of range (IPv4 0–32, IPv6 0–128)` };
				}
				break;
			}
			case 'ip4':
			case 'ip6': {
				const im = /^:([^/]+)(?:\/(\d+))?$/.exec(rest);
				const network = im ? parseIp(im[1]) : null;
				const v4 = kind === 'ip4';
				if (!im || !network || network.length !== (v4 ? 4 : 16)) return { error: `"${term}": ${kind} needs an IPv${v4 ? 4 : 6} address` };
				const bits = im[2] === undefined ? (v4 ? 32 : 128) : Number(im[2]);
				if (bits > (v4 ? 32 : 128)) return { error: `"${term}": prefix length out of range` };
				mech.network = network;
				if (v4) mech.cidr4 = bits;
				else mech.cidr6 = bits;
				break;
			}
			default:
				return { error: `"${term}": unknown mechanism "${kind}"` };
		}
		record.mechanisms.push(mech);
	}
	return { record };
}

/** What is wrong with a domain spec's macro syntax; '' when nothing. */
function domainSpecProblem(spec: string): string {
	if (!spec) return 'empty domain';
	if (spec.length > MAX_NAME_LENGTH * 2) return 'domain too long';
	const bad = /%(?!\{[slodiphvcrt]\d*r?[.\-+,/_=]*\}|[%_-])/i.exec(spec);
	if (bad) return `invalid macro at "${spec.slice(bad.index, bad.index + 6)}"`;
	if (/[\s"\\]/.test(spec.replace(/%\{[^}]*\}/g, ''))) return 'invalid character in the domain';
	return '';
}

/** The facts macros expand to (RFC 7208 7.2). */
export interface SpfContext {
	ip: Uint8Array | null;
	/** Envelope sender (MAIL FROM); `postmaster@domain` when unknown. */
	sender: string;
	helo: string;
}

/** Expands the macros of a domain spec for `domain` (RFC 7208 7). */
export function expandSpfMacros(spec: string, domain: string, ctx: SpfContext): string {
	const at = ctx.sender.lastIndexOf('@');
	const values: Record<string, string> = {
		s: ctx.sender,
		l: at > 0 ? ctx.sender.slice(0, at) : 'postmaster',
		o: at >= 0 ? ctx.sender.slice(at + 1) : ctx.sender,
		d: domain,
		i: ctx.ip
			? ctx.ip.length === 4
				? formatIp(ctx.ip)
				: Array.from(ctx.ip, (b) => `${(b >> 4).toString(16)}.${(b & 15).toString(16)}`).join('.')
			: '',
		p: 'unknown',
		v: ctx.ip && ctx.ip.length === 16 ? 'ip6' : 'in-addr',
		h: ctx.helo,
		c: ctx.ip ? formatIp(ctx.ip) : '',
		r: 'unknown',
		t: '0',
	};
	let out = spec.replace(
		/%\{([a-z])(\d*)(r?)([.\-+,/_=]*)\}|%%|%_|%-/gi,
		(whole, letter: string, digits: string, reverse: string, delims: string) => {
			if (whole === '%%') return '%';
			if (whole === '%_') return ' ';
			if (whole === '%-') return '%20';
			let parts = (values[letter.toLowerCase()] ?? '').split(new RegExp(`[${(delims || '.').replace(/[-\\\]^/]/g, '\\$&')}]`));
			if (reverse) parts = parts.reverse();
			if (digits) parts = parts.slice(Math.max(0, parts.length - Number(digits)));
			return parts.join('.');
		},
	);
	// A name longer than 253 loses labels on the left until it fits (RFC 7208 7.3).
	while (out.length > MAX_NAME_LENGTH && out.includes('.')) out = out.slice(out.indexOf('.') + 1);
	return out;
}

export interface SpfEvaluation {
	result: SpfResult;
	/** Terms that queried DNS. */
	lookups: number;
	voidLookups: number;
	/** The term that decided (`~all`, `include:_spf.example.net`, …) and the domain whose record holds it. */
	matched?: { term: string; domain: string };
	/** What went wrong for permerror / temperror. */
	error?: string;
	/** Terms met before the decision whose outcome was not evaluated (exists, ptr). */
	unknown: string[];
}

class Stop extends Error {
	constructor(
		readonly result: 'permerror' | 'temperror',
		message: string,
	) {
		super(message);
	}
}

interface State {
	lookups: number;
	voids: number;
	unknown: string[];
	ctx: SpfContext;
	dns: SpfDns;
}

/**
 * Evaluates the SPF of `domain` for `ip` as a receiver would (check_host, RFC 7208 4). With `ip` null nothing but
 * `all` matches, so the whole tree is walked: that counts the lookups any address may cost. Never throws.
 */
export async function evaluateSpf(
	dns: SpfDns,
	domain: string,
	ip: string | null,
	opts: { sender?: string; helo?: string } = {},
): Promise<SpfEvaluation> {
	const bytes = ip === null ? null : parseIp(ip);
	const state: State = {
		lookups: 0,
		voids: 0,
		unknown: [],
		dns,
		ctx: { ip: bytes, sender: opts.sender || `postmaster@${domain}`, helo: opts.helo || domain },
	};
	const base = { lookups: 0, voidLookups: 0, unknown: state.unknown };
	if (ip !== null && !bytes) return { ...base, result: 'permerror', error: `"${ip}" is not an IP address` };
	try {
		const r = await checkHost(state, domain);
		return { ...base, lookups: state.lookups, voidLookups: state.voids, ...r };
	} catch (error) {
		const stop = error instanceof Stop ? error : new Stop('temperror', (error as Error)?.message ?? String(error));
		return { ...base, lookups: state.lookups, voidLookups: state.voids, result: stop.result, error: stop.message };
	}
}

/** A lookup; its failure ends the evaluation with temperror. */
async function query<T>(what: () => Promise<T>): Promise<T> {
	return await what().catch((error: unknown) => {
		throw new Stop('temperror', error instanceof Error ? error.message : String(error));
	});
}

function countLookup(state: State, term: string, domain: string): void {
	state.lookups++;
	if (state.lookups > SPF_LOOKUP_LIMIT) {
		throw new Stop('permerror', `more than ${SPF_LOOKUP_LIMIT} DNS lookups (reached at "${term}" in the record of ${domain}); receivers stop there`);
	}
}

function countVoid(state: State, term: string, domain: string): void {
	state.voids++;
	if (state.voids > SPF_VOID_LOOKUP_LIMIT) {
		throw new Stop('permerror', `more than ${SPF_VOID_LOOKUP_LIMIT} lookups found nothing (the last at "${term}" in the record of ${domain})`);
	}
}

async function checkHost(state: State, domain: string): Promise<{ result: SpfResult; matched?: SpfEvaluation['matched']; error?: string }> {
	const records = (await query(() => state.dns.txt(domain))).filter(isSpfRecord);
	if (records.length === 0) return { result: 'none' };
	if (records.length > 1) throw new Stop('permerror', `${domain} has ${records.length} SPF records; there must be one`);
	const parsed = parseSpf(records[0]);
	if (!parsed.record) throw new Stop('permerror', `the SPF record of ${domain} is malformed: ${parsed.error}`);
	const { record } = parsed;
	const ip = state.ctx.ip;
	const target = (m: SpfMechanism) => (m.domain ? expandSpfMacros(m.domain, domain, state.ctx) : domain);
	for (const m of record.mechanisms) {
		let match = false;
		switch (m.kind) {
			case 'all':
				match = true;
				break;
			case 'ip4':
			case 'ip6':
				match = ip !== null && inNetwork(ip, m.network!, m.kind === 'ip4' ? m.cidr4 : m.cidr6);
				break;
			case 'a': {
				countLookup(state, m.text, domain);
				const name = target(m);
				const addrs = await addressesOf(state, name, ip);
				if (addrs.length === 0) countVoid(state, m.text, domain);
				match = ip !== null && addrs.some((a) => inPrefix(ip, a, m));
				break;
			}
			case 'mx': {
				countLookup(state, m.text, domain);
				const hosts = await query(() => state.dns.mx(target(m)));
				if (hosts.length === 0) countVoid(state, m.text, domain);
				if (hosts.length > SPF_MX_HOST_LIMIT)
					throw new Stop('permerror', `"${m.text}" in the record of ${domain} names ${hosts.length} MX hosts; at most ${SPF_MX_HOST_LIMIT}`);
				// Without an address nothing can match: the hosts' addresses are not looked up.
				if (ip !== null) {
					for (const h of hosts) {
						if ((await addressesOf(state, h.exchange, ip)).some((a) => inPrefix(ip, a, m))) {
							match = true;
							break;
						}
					}
				}
				break;
			}
			case 'ptr':
			case 'exists':
				countLookup(state, m.text, domain);
				state.unknown.push(`${m.text} (in the record of ${domain})`);
				break;
			case 'include': {
				countLookup(state, m.text, domain);
				const name = target(m);
				const r = await checkHost(state, name);
				if (r.result === 'none') throw new Stop('permerror', `"${m.text}" in the record of ${domain}: ${name} has no SPF record`);
				if (r.result === 'permerror' || r.result === 'temperror') return r;
				match = r.result === 'pass';
				break;
			}
		}
		if (match) return { result: RESULT_OF[m.qualifier], matched: { term: m.text, domain } };
	}
	if (record.redirect !== undefined) {
		const term = `redirect=${record.redirect}`;
		countLookup(state, term, domain);
		const name = expandSpfMacros(record.redirect, domain, state.ctx);
		const r = await checkHost(state, name);
		if (r.result === 'none') throw new Stop('permerror', `"${term}" in the record of ${domain}: ${name} has no SPF record`);
		return r;
	}
	return { result: 'neutral' };
}

/** The A (IPv4 client) or AAAA (IPv6 client) records of a name; A when walking without an address. */
async function addressesOf(state: State, name: string, ip: Uint8Array | null): Promise<Uint8Array[]> {
	const list = await query(() => (ip && ip.length === 16 ? state.dns.aaaa(name) : state.dns.a(name)));
	return list.map(parseIp).filter((a): a is Uint8Array => a !== null);
}

function inPrefix(ip: Uint8Array, addr: Uint8Array, m: SpfMechanism): boolean {
	return inNetwork(ip, addr, ip.length === 4 ? m.cidr4 : m.cidr6);
}
