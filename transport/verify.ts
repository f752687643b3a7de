/**
 * Address verification with lookups: each domain is looked up once per verifier (MX; A, then AAAA, only when it has
 * no MX), at most `concurrency` lookups at once, and its answer is reused for every address of the domain until the
 * cache lifetime ends. A verifier lives for one run: nothing is kept at module level.
 *
 * The optional SMTP probe (off by default) asks the domain's mail exchanger whether it takes the recipient:
 * connect to port 25, EHLO, MAIL FROM, RCPT TO, QUIT, never DATA, so nothing is delivered. Its risks: greylisting
 * servers answer 4xx on first contact (`rcpt-deferred`, unknown), catch-all servers accept every address (checked
 * once per domain with a random local part: `catch-all`, risky), many providers accept at RCPT and bounce later, and
 * probing many addresses from one IP harms that IP's reputation and can get it blocklisted. Most home and cloud
 * networks block outgoing port 25 altogether.
 */
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import {
	combineResult,
	createDisposableChecker,
	createRoleMatcher,
	DEFAULT_ROLE_ACCOUNT_POLICY,
	DEFAULT_VERIFY_CACHE_MINUTES,
	DEFAULT_VERIFY_CONCURRENCY,
	dnsErrorVerdict,
	domainVerdict,
	MAX_VERIFY_CONCURRENCY,
	precheckAddress,
	ROLE_ACCOUNT_LOCAL_PARTS,
	timeoutVerdict,
	type DomainVerdict,
	type PendingResult,
	type ProbeOutcome,
	type RoleAccountPolicy,
	type VerificationResult,
} from '../core/verify';
import { createDnsResolver, DnsTimeoutError, type DnsResolver, type DnsResolverOptions } from './dns';

/** The SMTP port mail exchangers listen on. */
export const DEFAULT_SMTP_PROBE_PORT = 25;
/** Bound on one probe conversation (connect to QUIT). */
export const DEFAULT_SMTP_PROBE_TIMEOUT_MS = 15_000;
/** Probe conversations at once; mail servers throttle or block hosts that open many. */
export const DEFAULT_SMTP_PROBE_CONCURRENCY = 5;
/** Domains kept in a verifier's cache; the oldest are dropped beyond (a run over more domains looks some up twice). */
export const VERIFY_DOMAIN_CACHE_LIMIT = 100_000;
/** Longest SMTP reply the probe reads before giving up on the server. */
const MAX_SMTP_REPLY_BYTES = 64 * 1024;

export interface SmtpProbeOptions {
	/** Name sent with EHLO: a name of the probing host whose DNS points back to it, or servers distrust the probe. */
	heloName: string;
	/** Envelope sender; '' = the null sender `<>`. */
	mailFrom: string;
	/** Default DEFAULT_SMTP_PROBE_PORT. */
	port?: number;
	timeoutMs?: number;
	concurrency?: number;
	/** Probe a random local part once per domain to detect catch-all servers (default true). */
	detectCatchAll?: boolean;
}

export interface AddressVerifierOptions {
	/** A resolver to use; otherwise one is created from `dns`. */
	resolver?: DnsResolver;
	dns?: DnsResolverOptions;
	/** Domain lookups at once (default DEFAULT_VERIFY_CONCURRENCY). */
	concurrency?: number;
	/** How long a domain's answer is reused (default DEFAULT_VERIFY_CACHE_MINUTES). */
	cacheLifetimeMs?: number;
	rolePolicy?: RoleAccountPolicy;
	roleLocalParts?: readonly string[];
	/** Domains added to or removed from the disposable list. */
	disposable?: { extra?: readonly string[]; allow?: readonly string[] };
	/** The SMTP RCPT probe; absent or false = off. */
	probe?: SmtpProbeOptions | false;
	/** Clock (tests). */
	now?: () => number;
}

export interface VerifierStats {
	/** Domains looked up (one MX query each; A/AAAA only when the MX answer was empty). */
	domainLookups: number;
	/** Addresses whose domain answer came from the cache. */
	cacheHits: number;
	probes: number;
}

export interface AddressVerifier {
	/** The result for one address; never rejects. */
	verify(address: unknown): Promise<VerificationResult>;
	/** Results in input order; never rejects. */
	verifyMany(addresses: readonly unknown[]): Promise<VerificationResult[]>;
	readonly stats: Readonly<VerifierStats>;
}

/** Runs at most `limit` tasks at once. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
	let active = 0;
	const waiting: Array<() => void> = [];
	return async (task) => {
		if (active >= limit) await new Promise<void>((r) => waiting.push(r));
		active++;
		try {
			return await task();
		} finally {
			active--;
			waiting.shift()?.();
		}
	};
}

function checkInt(name: string, value: number, min: number, max: number): number {
	if (!Number.isInteger(value) || value < min || value > max)
		throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
	return value;
}

export function createAddressVerifier(options: AddressVerifierOptions = {}): AddressVerifier {
	const resolver = options.resolver ?? createDnsResolver(options.dns);
	const concurrency = checkInt('concurrency', options.concurrency ?? DEFAULT_VERIFY_CONCURRENCY, 1, MAX_VERIFY_CONCURRENCY);
	const lifetimeMs = options.cacheLifetimeMs ?? DEFAULT_VERIFY_CACHE_MINUTES * 60_000;
	if (!Number.isFinite(lifetimeMs) || lifetimeMs < 0) throw new RangeError(`cache lifetime must be ≥ 0 ms, got ${lifetimeMs}`);
	const now = options.now ?? Date.now;
	const rolePolicy = options.rolePolicy ?? DEFAULT_ROLE_ACCOUNT_POLICY;
	if (rolePolicy !== 'flag' && rolePolicy !== 'undeliverable')
		throw new RangeError(`role account policy must be "flag" or "undeliverable", got ${String(rolePolicy)}`);
	const roleOf = createRoleMatcher(options.roleLocalParts ?? ROLE_ACCOUNT_LOCAL_PARTS);
	const disposableOf = createDisposableChecker(options.disposable);
	const probe = options.probe ? checkedProbe(options.probe) : undefined;
	const lookupSlot = limiter(concurrency);
	const probeSlot = limiter(probe?.concurrency ?? DEFAULT_SMTP_PROBE_CONCURRENCY);
	const domains = new Map<string, { at: number; verdict: Promise<DomainVerdict> }>();
	const catchAll = new Map<string, Promise<ProbeOutcome | null>>();
	const stats: VerifierStats = { domainLookups: 0, cacheHits: 0, probes: 0 };

	async function lookUp(domain: string): Promise<DomainVerdict> {
		stats.domainLookups++;
		try {
			const mx = await resolver.query(domain, 'MX');
			if (mx.status !== 'nodata') return domainVerdict(domain, mx);
			const a = await resolver.query(domain, 'A');
			if (a.records.length > 0 || a.status === 'nxdomain') return domainVerdict(domain, mx, { a });
			const aaaa = await resolver.query(domain, 'AAAA');
			return domainVerdict(domain, mx, { a, aaaa });
		} catch (error) {
			if (error instanceof DnsTimeoutError) return timeoutVerdict(domain, error.message);
			return dnsErrorVerdict(domain, (error as Error).message);
		}
	}

	function verdictOf(domain: string): Promise<DomainVerdict> {
		const t = now();
		const hit = domains.get(domain);
		if (hit && t - hit.at <= lifetimeMs) {
			stats.cacheHits++;
			return hit.verdict;
		}
		if (hit) domains.delete(domain);
		else if (domains.size >= VERIFY_DOMAIN_CACHE_LIMIT) domains.delete(domains.keys().next().value as string);
		const verdict = lookupSlot(() => lookUp(domain));
		domains.set(domain, { at: t, verdict });
		return verdict;
	}

	async function probeAddress(local: string, domain: string, utf8Local: boolean, mx: string[]): Promise<ProbeOutcome> {
		if (!probe) throw new Error('probe is off');
		if (probe.detectCatchAll) {
			let known = catchAll.get(domain);
			if (!known) {
				const random = `cadence-probe-${randomBytes(6).toString('hex')}`;
				known = probeSlot(() => rcptProbe(resolver, probe, mx, `${random}@${domain}`, false)).then((o) =>
					o.reason === 'rcpt-accepted'
						? { reason: 'catch-all' as const, detail: `${mx[0]} accepts any address at ${domain}: acceptance proves nothing` }
						: null,
				);
				catchAll.set(domain, known);
			}
			const isCatchAll = await known;
			if (isCatchAll) return isCatchAll;
		}
		stats.probes++;
		return await probeSlot(() => rcptProbe(resolver, probe, mx, `${local}@${domain}`, utf8Local));
	}

	async function verify(address: unknown): Promise<VerificationResult> {
		let pending: PendingResult;
		try {
			const pre = precheckAddress(address, { disposableOf, roleOf, rolePolicy });
			if (pre.final) pending = pre.result;
			else {
				const verdict = await verdictOf(pre.domain);
				const outcome =
					probe && verdict.status === 'deliverable' && verdict.mx ? await probeAddress(pre.local, pre.domain, pre.utf8Local, verdict.mx) : undefined;
				pending = combineResult(pre, verdict, outcome);
			}
		} catch (error) {
			// Documented as never rejecting: an unexpected failure is an unknown result, not a lost address.
			pending = { status: 'unknown', reason: 'dns-error', detail: `verification failed: ${(error as Error).message}` };
		}
		return { ...pending, checkedAt: new Date(now()).toISOString() };
	}

	return {
		verify,
		verifyMany: async (addresses) => await Promise.all(addresses.map((a) => verify(a))),
		get stats() {
			return { ...stats };
		},
	};
}

function checkedProbe(p: SmtpProbeOptions): Required<SmtpProbeOptions> {
	const heloName = String(p.heloName ?? '').trim();
	if (!/^[A-Za-z0-9.-]+$/.test(heloName) && !/^\[[0-9a-fA-F:.]+\]$/.test(heloName)) {
		throw new RangeError(`SMTP probe: HELO name must be a host name (or [address literal]), got ${JSON.stringify(p.heloName)}`);
	}
	const mailFrom = String(p.mailFrom ?? '').trim();
	if (mailFrom !== '' && !/^[^\s<>@]+@[^\s<>@]+$/.test(mailFrom))
		throw new RangeError(`SMTP probe: MAIL FROM must be an address or empty, got ${JSON.stringify(p.mailFrom)}`);
	return {
		heloName,
		mailFrom,
		port: checkInt('SMTP probe port', p.port ?? DEFAULT_SMTP_PROBE_PORT, 1, 65535),
		timeoutMs: checkInt('SMTP probe timeout', p.timeoutMs ?? DEFAULT_SMTP_PROBE_TIMEOUT_MS, 100, 120_000),
		concurrency: checkInt('SMTP probe concurrency', p.concurrency ?? DEFAULT_SMTP_PROBE_CONCURRENCY, 1, 50),
		detectCatchAll: p.detectCatchAll !== false,
	};
}

/** A reply: its code and text lines joined. */
interface SmtpReply {
	code: number;
	text: string;
}

/** An SMTP conversation on one socket: send a line, read one (multi-line) reply. */
class SmtpDialog {
	private buffer = '';
	private lines: string[] = [];
	private readonly replies: SmtpReply[] = [];
	private waiter: (() => void) | undefined;
	private failure: Error | undefined;

	constructor(private readonly socket: Socket) {
		socket.setEncoding('utf8');
		socket.on('data', (chunk: string) => {
			this.buffer += chunk;
			if (this.buffer.length > MAX_SMTP_REPLY_BYTES) this.fail(new Error('the server sent an over-long reply'));
			else this.parse();
		});
		socket.on('error', (e) => this.fail(e));
		socket.on('close', () => this.fail(new Error('the server closed the connection')));
	}

	private wake() {
		const w = this.waiter;
		this.waiter = undefined;
		w?.();
	}

	private fail(e: Error) {
		this.failure ??= e;
		this.wake();
	}

	private parse() {
		let nl = this.buffer.indexOf('\n');
		while (nl >= 0 && !this.failure) {
			const line = this.buffer.slice(0, nl).replace(/\r$/, '');
			this.buffer = this.buffer.slice(nl + 1);
			this.lines.push(line);
			const m = /^(\d{3})(?: |$)/.exec(line);
			if (m) {
				this.replies.push({
					code: Number(m[1]),
					text: this.lines
						.map((l) => l.slice(4))
						.join(' ')
						.trim(),
				});
				this.lines = [];
			} else if (!/^\d{3}-/.test(line)) this.fail(new Error(`not an SMTP reply: ${JSON.stringify(line.slice(0, 80))}`));
			nl = this.buffer.indexOf('\n');
		}
		this.wake();
	}

	async read(): Promise<SmtpReply> {
		for (;;) {
			const next = this.replies.shift();
			if (next) return next;
			if (this.failure) throw this.failure;
			await new Promise<void>((resolve) => (this.waiter = resolve));
		}
	}

	async command(line: string): Promise<SmtpReply> {
		if (/[\r\n]/.test(line)) throw new Error('an SMTP command cannot contain line breaks');
		this.socket.write(`${line}\r\n`);
		return await this.read();
	}
}

async function addressesOf(resolver: DnsResolver, host: string): Promise<string[]> {
	const v4 = await resolver.a(host);
	return v4.length > 0 ? v4 : await resolver.aaaa(host);
}

/** One conversation with the first mail exchanger that answers: the RCPT TO reply as an outcome; never rejects. */
async function rcptProbe(
	resolver: DnsResolver,
	probe: Required<SmtpProbeOptions>,
	mx: string[],
	recipient: string,
	utf8: boolean,
): Promise<ProbeOutcome> {
	let lastProblem = 'no mail exchanger could be reached';
	// Two exchangers at most: a probe is a courtesy to the remote side, not a scan.
	for (const host of mx.slice(0, 2)) {
		let ips: string[];
		try {
			ips = await addressesOf(resolver, host);
		} catch (error) {
			lastProblem = `${host}: ${(error as Error).message}`;
			continue;
		}
		if (ips.length === 0) {
			lastProblem = `${host} has no address record`;
			continue;
		}
		const outcome = await converse(ips[0], host, probe, recipient, utf8);
		if (outcome.reason !== 'smtp-error') return outcome;
		lastProblem = outcome.detail;
	}
	return { reason: 'smtp-error', detail: lastProblem };
}

async function converse(ip: string, host: string, probe: Required<SmtpProbeOptions>, recipient: string, utf8: boolean): Promise<ProbeOutcome> {
	const socket = new Socket();
	const dialog = new SmtpDialog(socket);
	let timer: NodeJS.Timeout | undefined;
	const timedOut = new Promise<ProbeOutcome>((resolve) => {
		timer = setTimeout(() => resolve({ reason: 'smtp-error', detail: `${host}: no answer within ${probe.timeoutMs} ms` }), probe.timeoutMs);
	});
	const talk = (async (): Promise<ProbeOutcome> => {
		try {
			await new Promise<void>((resolve, reject) => {
				socket.once('connect', resolve);
				socket.once('error', reject);
				socket.connect(probe.port, ip);
			});
			const greeting = await dialog.read();
			if (greeting.code !== 220) return { reason: 'smtp-error', detail: `${host} greeted with ${greeting.code} ${greeting.text}` };
			let hello = await dialog.command(`EHLO ${probe.heloName}`);
			const extensions = hello.code === 250 ? hello.text.toUpperCase() : '';
			if (hello.code !== 250) hello = await dialog.command(`HELO ${probe.heloName}`);
			if (hello.code !== 250) return { reason: 'smtp-error', detail: `${host} refused HELO: ${hello.code} ${hello.text}` };
			if (utf8 && !/\bSMTPUTF8\b/.test(extensions))
				return { reason: 'smtp-error', detail: `${host} does not take non-ASCII addresses (no SMTPUTF8)` };
			const from = await dialog.command(`MAIL FROM:<${probe.mailFrom}>${utf8 ? ' SMTPUTF8' : ''}`);
			if (from.code !== 250) return { reason: 'smtp-error', detail: `${host} refused the probe's sender: ${from.code} ${from.text}` };
			const rcpt = await dialog.command(`RCPT TO:<${recipient}>`);
			dialog.command('QUIT').catch(() => undefined);
			const said = `${host} answered ${rcpt.code} ${rcpt.text}`.trim();
			if (rcpt.code === 250 || rcpt.code === 251) return { reason: 'rcpt-accepted', detail: said };
			if (rcpt.code >= 500) return { reason: 'rcpt-rejected', detail: said };
			if (rcpt.code >= 400) return { reason: 'rcpt-deferred', detail: `${said} (greylisting or a temporary problem)` };
			return { reason: 'smtp-error', detail: said };
		} catch (error) {
			return { reason: 'smtp-error', detail: `${host}: ${(error as Error).message}` };
		}
	})();
	try {
		return await Promise.race([talk, timedOut]);
	} finally {
		clearTimeout(timer);
		socket.end();
		setTimeout(() => socket.destroy(), 1000).unref();
	}
}
