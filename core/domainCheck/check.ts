/**
 * The sending-domain check: for each sender mailbox, whether receivers will authenticate its mail (SPF for the
 * sending addresses, the DKIM key, the DMARC policy and alignment) and whether replies and bounces can come back
 * (MX of the reply and bounce domains). Each finding says what is wrong and the DNS record that fixes it.
 *
 * Pure: DNS comes in through `SpfDns`. Lookups are shared within one run (a pool's mailboxes mostly share domains),
 * and once the server has not answered, every later lookup fails at once with the same error, so a dead resolver
 * costs one timeout per chain of lookups, never one per record.
 */
import { companyOf } from '../company';
import { aligned, isDmarcRecord, parseDmarc, type DmarcRecord } from './dmarc';
import { DKIM_RSA_MIN_BITS } from '../dkim';
import { DKIM_RECOMMENDED_RSA_BITS, dkimKeyMismatch, dkimPublicKeyOf, dkimRecordFor, parseDkimKey } from './dkim';
import { formatIp, isNonPublicIp, parseIp } from './ip';
import { evaluateSpf, isSpfRecord, SPF_LOOKUP_LIMIT, type SpfDns, type SpfEvaluation } from './spf';

export type DomainCheckKind = 'spf' | 'dkim' | 'dmarc' | 'alignment' | 'mx-reply' | 'mx-bounce';
export const DOMAIN_CHECK_KINDS: readonly DomainCheckKind[] = ['spf', 'dkim', 'dmarc', 'alignment', 'mx-reply', 'mx-bounce'];
export type FindingStatus = 'ok' | 'warn' | 'fail';

export interface DomainFinding {
	/** The mailbox's From address. */
	mailbox: string;
	/** The domain the finding is about. */
	domain: string;
	check: DomainCheckKind;
	status: FindingStatus;
	detail: string;
	/** What to put in DNS (or the credential); '' when nothing is to do. */
	fix: string;
}

export interface DomainCheckTarget {
	/** The From address. */
	mailbox: string;
	fromDomain: string;
	/** The envelope sender's domain (the VERP bounce domain, else the From domain): SPF's domain, where bounces go. */
	envelopeDomain: string;
	/** Where replies go: the Reply-To (plus-address) domain, else the From domain. */
	replyDomain: string;
	/** The SMTP server the mail is handed to; its addresses are the sending addresses unless `sendingIps` is set. */
	sendingHost: string;
	/** Addresses the mail leaves from (a relay that sends from other addresses than the SMTP host's). */
	sendingIps: string[];
	dkim?: { domainName: string; keySelector: string; privateKey: string };
}

/** Mailboxes checked at the same time. */
export const DOMAIN_CHECK_CONCURRENCY = 4;
/** Timeouts in one run after which the server counts as not answering at all. */
export const DOMAIN_CHECK_TIMEOUTS_TO_GIVE_UP = 3;
/** Longest summary message (a credential test shows one line). */
export const DOMAIN_CHECK_SUMMARY_MAX_LENGTH = 600;

/** The DNS layer raises this when the server did not answer; the message names the server and the lookup. */
export class DomainDnsTimeout extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'DomainDnsTimeout';
	}
}

/**
 * Shares lookups within a run and stops asking a server that does not answer: once it timed out before answering
 * anything, or DOMAIN_CHECK_TIMEOUTS_TO_GIVE_UP times, every later lookup fails at once with that error. A server
 * that answers but times out on one name (a slow third-party domain behind a recursive resolver) costs that lookup only.
 */
export function sharedLookups(dns: SpfDns): SpfDns {
	const seen = new Map<string, Promise<unknown>>();
	let answered = 0;
	let timeouts = 0;
	let dead: DomainDnsTimeout | undefined;
	const wrap =
		<T>(type: string, fn: (name: string) => Promise<T>) =>
		(name: string): Promise<T> => {
			if (dead) return Promise.reject(dead);
			const key = `${type} ${name.toLowerCase()}`;
			let p = seen.get(key) as Promise<T> | undefined;
			if (!p) {
				p = fn(name).then(
					(records) => {
						answered++;
						return records;
					},
					(error: unknown) => {
						if (error instanceof DomainDnsTimeout && (answered === 0 || ++timeouts >= DOMAIN_CHECK_TIMEOUTS_TO_GIVE_UP)) dead ??= error;
						throw error;
					},
				);
				seen.set(key, p);
			}
			return p;
		};
	return {
		txt: wrap('TXT', (n) => dns.txt(n)),
		a: wrap('A', (n) => dns.a(n)),
		aaaa: wrap('AAAA', (n) => dns.aaaa(n)),
		mx: wrap('MX', (n) => dns.mx(n)),
	};
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** A lookup that failed: the check could not be made (not a fault in the zone). */
const unchecked = (error: unknown): Outcome => ({
	status: 'warn',
	detail: `Not checked: ${message(error)}`,
	fix: 'Check the DNS Server parameter, or try again',
	unchecked: message(error),
});

/** One check's result; `unchecked`: DNS did not tell, so alignment cannot count on it. */
interface Outcome {
	status: FindingStatus;
	detail: string;
	fix: string;
	unchecked?: string;
	/** SPF: every sending address passes. */
	passes?: boolean;
}

/** Checks every target; findings in target order, each target's in DOMAIN_CHECK_KINDS order. Never throws. */
export async function checkSendingDomains(targets: DomainCheckTarget[], dns: SpfDns, opts: { concurrency?: number } = {}): Promise<DomainFinding[]> {
	const shared = sharedLookups(dns);
	const results: DomainFinding[][] = new Array<DomainFinding[]>(targets.length);
	let next = 0;
	const worker = async () => {
		while (next < targets.length) {
			const k = next++;
			results[k] = await checkTarget(targets[k], shared);
		}
	};
	const n = Math.max(1, Math.min(opts.concurrency ?? DOMAIN_CHECK_CONCURRENCY, targets.length));
	await Promise.all(Array.from({ length: n }, worker));
	return results.flat();
}

async function checkTarget(t: DomainCheckTarget, dns: SpfDns): Promise<DomainFinding[]> {
	const make = (check: DomainCheckKind, domain: string, r: Outcome): DomainFinding => ({
		mailbox: t.mailbox,
		domain,
		check,
		status: r.status,
		detail: r.detail,
		fix: r.fix,
	});
	const spfDomains = [...new Set([t.fromDomain, t.envelopeDomain])];
	const [spf, dkim, dmarc, mxReply, mxBounce] = await Promise.all([
		sendingAddresses(t, dns).then((ips) => Promise.all(spfDomains.map((d) => checkSpf(d, ips, t, dns).catch(unchecked)))),
		checkDkim(t, dns).catch(unchecked),
		checkDmarc(t.fromDomain, dns).catch((e: unknown) => ({ ...unchecked(e), record: undefined })),
		checkMx(t.replyDomain, 'replies', dns).catch(unchecked),
		checkMx(t.envelopeDomain, 'bounces', dns).catch(unchecked),
	]);
	const envelopeSpf = spf[spfDomains.indexOf(t.envelopeDomain)];
	const spfPasses = envelopeSpf.passes === true;
	const dkimVerifies = !!t.dkim && dkim.status !== 'fail' && !dkim.unchecked;
	const judged = checkAlignment(t, dmarc.record, spfPasses, dkimVerifies);
	// A lookup that failed says nothing about alignment: only a pass on what could be checked is a finding.
	const blocked = [envelopeSpf, dkim, dmarc].find((o) => o.unchecked)?.unchecked;
	const alignment = blocked && judged.status !== 'ok' ? unchecked(blocked) : judged;
	return [
		...spf.map((r, k) => make('spf', spfDomains[k], r)),
		make('dkim', t.dkim?.domainName || t.fromDomain, dkim),
		make('dmarc', t.fromDomain, dmarc),
		make('alignment', t.fromDomain, alignment),
		make('mx-reply', t.replyDomain, mxReply),
		make('mx-bounce', t.envelopeDomain, mxBounce),
	];
}

interface Addresses {
	ips: string[];
	/** Why the addresses are not (all) the ones receivers see, or why there are none. */
	problem?: string;
	lookupError?: unknown;
}

/** The addresses mail leaves from: the given Sending IPs, else the SMTP host's A and AAAA records. */
async function sendingAddresses(t: DomainCheckTarget, dns: SpfDns): Promise<Addresses> {
	if (t.sendingIps.length > 0) {
		const bad = t.sendingIps.filter((ip) => !parseIp(ip));
		if (bad.length) return { ips: [], problem: `Sending IPs: "${bad.join('", "')}" is not an IP address` };
		return { ips: t.sendingIps.map((ip) => formatIp(parseIp(ip)!)) };
	}
	const host = t.sendingHost.replace(/^\[|\]$/g, '');
	if (!host) return { ips: [], problem: 'The SMTP credential has no host, and no Sending IPs are given' };
	const literal = parseIp(host);
	let ips: string[];
	if (literal) ips = [formatIp(literal)];
	else {
		try {
			const [v4, v6] = await Promise.all([dns.a(host), dns.aaaa(host)]);
			ips = [...v4, ...v6].filter((ip) => parseIp(ip)).map((ip) => formatIp(parseIp(ip)!));
		} catch (error) {
			return { ips: [], lookupError: error };
		}
		if (ips.length === 0) return { ips, problem: `The SMTP host ${host} has no A or AAAA record; give the Sending IPs` };
	}
	const inner = ips.filter((ip) => isNonPublicIp(parseIp(ip)!));
	if (inner.length) {
		return {
			ips: ips.filter((ip) => !inner.includes(ip)),
			problem: `The SMTP host ${host} is at ${inner.join(', ')}, a private or loopback address: receivers see the address the relay sends from. Give it in Sending IPs`,
		};
	}
	return { ips };
}

const ipTerm = (ip: string) => (ip.includes(':') ? `ip6:${ip}` : `ip4:${ip}`);
const describe = (e: SpfEvaluation) =>
	`${e.result}${e.matched ? ` by "${e.matched.term}"${e.matched.domain ? ` in the record of ${e.matched.domain}` : ''}` : ''}`;

async function checkSpf(domain: string, addrs: Addresses, t: DomainCheckTarget, dns: SpfDns): Promise<Outcome> {
	if (addrs.lookupError) return unchecked(addrs.lookupError);
	const role = domain === t.envelopeDomain ? (domain === t.fromDomain ? 'From and envelope domain' : 'envelope (bounce) domain') : 'From domain';
	const opts = { sender: `postmaster@${domain}`, helo: t.sendingHost || domain };
	// The whole tree first: a record past the lookup limit fails for every address, whichever matches first.
	const walk = await evaluateSpf(dns, domain, null, opts);
	if (walk.result === 'temperror') return unchecked(walk.error);
	const spfRecords = (await dns.txt(domain)).filter(isSpfRecord);
	const fixWith = (ips: string[]) => {
		const terms = ips.map(ipTerm).join(' ') || 'ip4:<sending address>';
		if (spfRecords.length !== 1)
			return `TXT record at ${domain}: v=spf1 ${terms} ~all${spfRecords.length > 1 ? ' (one record only: merge or delete the others)' : ''}`;
		return `TXT record at ${domain}: ${spfRecords[0].replace(/^v=spf1/i, `v=spf1 ${terms}`)}`;
	};
	if (walk.result === 'none') {
		return {
			status: 'fail',
			detail: `${domain} (${role}) has no SPF record: receivers cannot tell that the sending host may send for it`,
			fix: fixWith(addrs.ips),
		};
	}
	if (walk.result === 'permerror') {
		const tooMany = walk.lookups > SPF_LOOKUP_LIMIT;
		return {
			status: 'fail',
			detail: `The SPF of ${domain} (${role}) is an error for receivers (permerror): ${walk.error}`,
			fix: tooMany
				? `Flatten the SPF of ${domain} to at most ${SPF_LOOKUP_LIMIT} lookups: replace include: of services you no longer use, or includes by the ip4:/ip6: networks they hold`
				: fixWith(addrs.ips),
		};
	}
	if (addrs.ips.length === 0)
		return {
			status: 'fail',
			detail: addrs.problem ?? 'No sending address to check',
			fix: 'Set Sending IPs to the public addresses the mail leaves from',
		};
	const failing: Array<{ ip: string; e: SpfEvaluation }> = [];
	const passing: Array<{ ip: string; e: SpfEvaluation }> = [];
	for (const ip of addrs.ips) {
		const e = await evaluateSpf(dns, domain, ip, opts);
		if (e.result === 'temperror') return unchecked(e.error);
		(e.result === 'pass' ? passing : failing).push({ ip, e });
	}
	const unknown = [...new Set([...failing, ...passing].flatMap((x) => x.e.unknown))];
	const caveat = unknown.length ? ` Not evaluated: ${unknown.join(', ')}.` : '';
	const note = addrs.problem ? ` ${addrs.problem}.` : '';
	if (failing.length) {
		const list = failing.map((f) => `${f.ip}: ${describe(f.e)}`).join('; ');
		return {
			status: unknown.length ? 'warn' : 'fail',
			detail: `The SPF of ${domain} (${role}) does not authorise the sending address: ${list}.${caveat}${note}`,
			fix: fixWith(failing.map((f) => f.ip)),
		};
	}
	const openAll = passing.find((p) => p.e.matched && /^\+?all$/i.test(p.e.matched.term));
	if (openAll) {
		return {
			status: 'warn',
			detail: `The SPF of ${domain} passes only through "${openAll.e.matched!.term}", which authorises every host on the internet`,
			fix: fixWith(addrs.ips).replace(/ \+?all\b/i, ' ~all'),
			passes: true,
		};
	}
	const status = unknown.length || addrs.problem ? 'warn' : 'ok';
	return {
		status,
		detail: `The SPF of ${domain} (${role}) passes for ${passing.map((p) => `${p.ip} (${describe(p.e)})`).join(', ')}; ${walk.lookups} of ${SPF_LOOKUP_LIMIT} lookups.${caveat}${note}`,
		fix: addrs.problem ? 'Set Sending IPs to the public addresses the mail leaves from' : '',
		passes: true,
	};
}

async function checkDkim(t: DomainCheckTarget, dns: SpfDns): Promise<Outcome> {
	const howTo = (domain: string) =>
		`Create a key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:${DKIM_RECOMMENDED_RSA_BITS} -out dkim.pem), put DKIM Domain ${domain}, a selector (e.g. cadence1) and the private key in the credential, and publish TXT record at cadence1._domainkey.${domain}: v=DKIM1; k=rsa; p=<public key, base64>`;
	if (!t.dkim)
		return {
			status: 'warn',
			detail: `Mail from ${t.mailbox} is not DKIM-signed (no DKIM key in the credential): Gmail and Yahoo require DKIM of bulk senders`,
			fix: howTo(t.fromDomain),
		};
	const { domainName, keySelector, privateKey } = t.dkim;
	const missing = [!domainName && 'DKIM Domain', !keySelector && 'DKIM Selector', !privateKey && 'DKIM Private Key'].filter(Boolean);
	if (missing.length)
		return { status: 'fail', detail: `DKIM is set up in part: ${missing.join(', ')} empty`, fix: howTo(domainName || t.fromDomain) };
	const key = dkimPublicKeyOf(privateKey);
	if ('error' in key)
		return {
			status: 'fail',
			detail: `The DKIM private key cannot be used: ${key.error}`,
			fix: 'Paste the whole PEM private key (-----BEGIN PRIVATE KEY----- …) into DKIM Private Key',
		};
	const name = `${keySelector}._domainkey.${domainName}`;
	const want = `TXT record at ${name}: ${dkimRecordFor(key)}`;
	const records = await dns.txt(name);
	if (records.length === 0) return { status: 'fail', detail: `No DKIM key at ${name}: receivers cannot verify the signature`, fix: want };
	if (records.length > 1)
		return { status: 'fail', detail: `${name} has ${records.length} TXT records; a selector holds one key`, fix: `${want} (delete the others)` };
	const parsed = parseDkimKey(records[0]);
	if (!parsed.record) return { status: 'fail', detail: `The DKIM record at ${name} is malformed: ${parsed.error}`, fix: want };
	const mismatch = dkimKeyMismatch(parsed.record, key);
	if (mismatch) return { status: 'fail', detail: `The DKIM key at ${name} does not match the private key: ${mismatch}; signatures fail`, fix: want };
	if (parsed.record.hashes && !parsed.record.hashes.includes('sha256')) {
		return { status: 'fail', detail: `The DKIM record at ${name} allows h=${parsed.record.hashes.join(':')}, not sha256`, fix: want };
	}
	const size = key.bits ? ` ${key.bits}-bit` : '';
	if (key.bits !== undefined && key.bits < DKIM_RSA_MIN_BITS) {
		return {
			status: 'fail',
			detail: `The DKIM key at ${name} is RSA${size}: verifiers refuse keys under ${DKIM_RSA_MIN_BITS} bits`,
			fix: howTo(domainName),
		};
	}
	if (key.bits !== undefined && key.bits < DKIM_RECOMMENDED_RSA_BITS) {
		return {
			status: 'warn',
			detail: `The DKIM key at ${name} matches, but is RSA${size}: weak, use ${DKIM_RECOMMENDED_RSA_BITS} bits`,
			fix: howTo(domainName),
		};
	}
	if (parsed.record.testing)
		return {
			status: 'warn',
			detail: `The DKIM key at ${name} matches, but t=y marks it as a test: receivers may ignore failures`,
			fix: `Remove t=y: ${want}`,
		};
	return { status: 'ok', detail: `The DKIM key at ${name} matches the private key (${key.k}${size})`, fix: '' };
}

async function checkDmarc(fromDomain: string, dns: SpfDns): Promise<Outcome & { record?: DmarcRecord }> {
	const org = companyOf(fromDomain);
	const suggest = `TXT record at _dmarc.${org || fromDomain}: v=DMARC1; p=none; rua=mailto:dmarc-reports@${org || fromDomain} (then p=quarantine once the reports show your mail aligned)`;
	// A subdomain without its own record takes the organizational domain's (sp= if set) (RFC 7489 6.6.3).
	let name = `_dmarc.${fromDomain}`;
	let txt = await dns.txt(name);
	let inherited = false;
	if (!txt.some(isDmarcRecord) && org && org !== fromDomain) {
		const orgTxt = await dns.txt(`_dmarc.${org}`);
		if (orgTxt.some(isDmarcRecord)) [name, txt, inherited] = [`_dmarc.${org}`, orgTxt, true];
	}
	const records = txt.filter(isDmarcRecord);
	if (records.length === 0) {
		const other = txt.length ? ` (${name} holds TXT that is no DMARC record: "${txt[0].slice(0, 80)}"; it must start with v=DMARC1)` : '';
		return { status: 'fail', detail: `No DMARC record at ${name}${other}: Gmail and Yahoo require one of bulk senders`, fix: suggest };
	}
	if (records.length > 1)
		return { status: 'fail', detail: `${name} has ${records.length} DMARC records; receivers then apply none`, fix: `Keep one: ${suggest}` };
	const parsed = parseDmarc(records[0]);
	if (!parsed.record) return { status: 'fail', detail: `The DMARC record at ${name} is malformed: ${parsed.error}`, fix: suggest };
	const r = parsed.record;
	const policy = inherited ? (r.sp ?? r.p) : r.p;
	const facts = `p=${policy}${inherited ? ` (inherited from ${org})` : ''}, adkim=${r.adkim}, aspf=${r.aspf}${r.pct < 100 ? `, pct=${r.pct}` : ''}${r.rua.length ? `, reports to ${r.rua.join(', ')}` : ', no rua= (no aggregate reports)'}`;
	if (policy === 'none') {
		return {
			status: 'warn',
			detail: `DMARC at ${name} only monitors (${facts}): receivers take no action on mail that fails`,
			fix: `Once reports show your mail aligned: TXT record at ${name}: ${records[0].replace(/\bp\s*=\s*none\b/i, 'p=quarantine')}`,
			record: r,
		};
	}
	return { status: 'ok', detail: `DMARC at ${name}: ${facts}`, fix: '', record: r };
}

function checkAlignment(t: DomainCheckTarget, dmarc: DmarcRecord | undefined, spfPasses: boolean, dkimVerifies: boolean): Outcome {
	const aspf = dmarc?.aspf ?? 'r';
	const adkim = dmarc?.adkim ?? 'r';
	const mode = (m: string) => (m === 's' ? 'strict' : 'relaxed');
	const spfAligned = aligned(t.envelopeDomain, t.fromDomain, aspf);
	const dkimAligned = !!t.dkim && aligned(t.dkim.domainName, t.fromDomain, adkim);
	const spfText = `SPF: envelope domain ${t.envelopeDomain} ${spfAligned ? 'aligns' : 'does not align'} with ${t.fromDomain} (${mode(aspf)})${spfAligned && !spfPasses ? ' but SPF does not pass' : ''}`;
	const dkimText = t.dkim
		? `DKIM: d=${t.dkim.domainName} ${dkimAligned ? 'aligns' : 'does not align'} with ${t.fromDomain} (${mode(adkim)})${dkimAligned && !dkimVerifies ? ' but the key does not verify' : ''}`
		: 'DKIM: not signed';
	const spfOk = spfAligned && spfPasses;
	const dkimOk = dkimAligned && dkimVerifies;
	const detail = `${spfText}; ${dkimText}`;
	const fixDkim =
		t.dkim && !dkimAligned
			? `Sign with d=${adkim === 's' ? t.fromDomain : companyOf(t.fromDomain) || t.fromDomain}: set DKIM Domain to it and publish the key under that domain`
			: !dkimOk
				? 'Fix the DKIM finding'
				: '';
	const fixSpf = !spfAligned
		? `Use a VERP bounce address under ${aspf === 's' ? t.fromDomain : companyOf(t.fromDomain) || t.fromDomain} (e.g. bounces.${t.fromDomain}), with SPF for the sending host`
		: !spfPasses
			? 'Fix the SPF finding of the envelope domain'
			: '';
	if (spfOk && dkimOk) return { status: 'ok', detail: `DMARC passes on both: ${detail}`, fix: '' };
	if (spfOk || dkimOk) {
		const on = spfOk ? 'SPF alone, which forwarding breaks' : 'DKIM alone';
		return { status: 'warn', detail: `DMARC passes on ${on}. ${detail}`, fix: spfOk ? fixDkim : fixSpf };
	}
	return {
		status: 'fail',
		detail: `DMARC fails: neither SPF nor DKIM is aligned and passing. ${detail}`,
		fix: [fixDkim, fixSpf].filter(Boolean).join('; '),
	};
}

async function checkMx(domain: string, what: 'replies' | 'bounces', dns: SpfDns): Promise<Outcome> {
	const fix = `MX record at ${domain}: 10 <your inbound mail server> (the inbox the Inbox node reads)`;
	if (!domain) return { status: 'fail', detail: `No domain for ${what}`, fix };
	const mx = await dns.mx(domain);
	if (mx.length === 1 && (mx[0].exchange === '' || mx[0].exchange === '.')) {
		return { status: 'fail', detail: `${domain} publishes a null MX (RFC 7505): it accepts no mail, so ${what} are lost`, fix };
	}
	if (mx.length === 0) {
		const a = await dns.a(domain);
		if (a.length)
			return { status: 'warn', detail: `${domain} has no MX record; ${what} go to its A record (${a.join(', ')}) only if that host takes mail`, fix };
		return { status: 'fail', detail: `${domain} has no MX (nor A) record: ${what} cannot be delivered`, fix };
	}
	const hosts = mx.map((m) => m.exchange);
	const resolved = await Promise.all(hosts.map(async (h) => (await dns.a(h)).length + (await dns.aaaa(h)).length > 0));
	if (!resolved.some(Boolean)) {
		return {
			status: 'fail',
			detail: `The MX of ${domain} (${hosts.join(', ')}) has no A or AAAA record: ${what} cannot be delivered`,
			fix: `A record at ${hosts[0]}: <address of the mail server>`,
		};
	}
	return {
		status: 'ok',
		detail: `${what[0].toUpperCase()}${what.slice(1)} reach ${domain} through MX ${mx.map((m) => `${m.priority} ${m.exchange}`).join(', ')}`,
		fix: '',
	};
}

export interface DomainCheckSummary {
	status: FindingStatus;
	/** One line: every finding that is not ok, or that all are. */
	message: string;
	counts: Record<FindingStatus, number>;
}

/** The worst status and one line for a credential test or a log. Never throws. */
export function domainCheckSummary(findings: readonly DomainFinding[]): DomainCheckSummary {
	const counts: Record<FindingStatus, number> = { ok: 0, warn: 0, fail: 0 };
	for (const f of findings) counts[f.status] = (counts[f.status] ?? 0) + 1;
	const status: FindingStatus = counts.fail ? 'fail' : counts.warn ? 'warn' : 'ok';
	const mailboxes = new Set(findings.map((f) => f.mailbox)).size;
	if (status === 'ok') return { status, counts, message: `Sending domain: SPF, DKIM, DMARC, alignment and MX all ok (${mailboxes} mailbox(es))` };
	const bad = findings.filter((f) => f.status !== 'ok').map((f) => `${f.mailbox} ${f.check} ${f.status}: ${f.detail}`);
	let text = `Sending domain: ${counts.fail} fail, ${counts.warn} warn, ${counts.ok} ok. ${bad.join(' | ')}`;
	if (text.length > DOMAIN_CHECK_SUMMARY_MAX_LENGTH) text = `${text.slice(0, DOMAIN_CHECK_SUMMARY_MAX_LENGTH - 1)}…`;
	return { status, counts, message: text };
}
