/**
 * The verification result written on each contact, and the rules deciding it from the checks: syntax, disposable
 * list, role accounts, the domain's DNS (MX, else A/AAAA), and an optional SMTP RCPT probe. A lookup that failed
 * (timeout, server error) makes the result `unknown`, never `undeliverable`: a dead resolver must not bury a list.
 */

export type VerificationStatus = 'deliverable' | 'undeliverable' | 'risky' | 'unknown';
export const VERIFICATION_STATUSES: readonly VerificationStatus[] = Object.freeze(['deliverable', 'undeliverable', 'risky', 'unknown']);

/**
 * Why: `mx` (the domain has MX records), `a-fallback` (no MX, an A/AAAA record: RFC 5321 5.1 implicit MX),
 * `invalid-syntax`, `nxdomain` (the domain does not exist), `no-mx` (neither MX nor A/AAAA), `null-mx` (RFC 7505:
 * the domain states it takes no mail), `disposable`, `role-account`, `dns-timeout`, `dns-error`, `rcpt-accepted`,
 * `rcpt-rejected` (5xx to RCPT TO), `rcpt-deferred` (4xx, e.g. greylisting), `catch-all` (the server accepts any
 * local part, so acceptance proves nothing), `smtp-error` (the probe could not ask).
 */
export type VerificationReason =
	| 'mx'
	| 'a-fallback'
	| 'invalid-syntax'
	| 'nxdomain'
	| 'no-mx'
	| 'null-mx'
	| 'disposable'
	| 'role-account'
	| 'dns-timeout'
	| 'dns-error'
	| 'rcpt-accepted'
	| 'rcpt-rejected'
	| 'rcpt-deferred'
	| 'catch-all'
	| 'smtp-error';

export interface VerificationResult {
	status: VerificationStatus;
	reason: VerificationReason;
	/** A sentence for people. */
	detail: string;
	/** Mail exchangers by preference (the domain itself on `a-fallback`). */
	mx?: string[];
	/** The domain looked up (ASCII form of an IDN). */
	domain?: string;
	/** The role this local part names, when it is a role account (also on otherwise deliverable addresses). */
	role?: string;
	/** When the checks ran (ISO 8601): a store keeps results and reuses them within the cache lifetime. */
	checkedAt: string;
}

/** What DNS says about a domain, looked up once per domain and shared by its addresses. */
export interface DomainVerdict {
	status: 'deliverable' | 'undeliverable' | 'unknown';
	reason: Extract<VerificationReason, 'mx' | 'a-fallback' | 'nxdomain' | 'no-mx' | 'null-mx' | 'dns-timeout' | 'dns-error'>;
	detail: string;
	mx?: string[];
}

/** Field the node writes the result to, by default. */
export const DEFAULT_VERIFICATION_FIELD = 'verification';
/** How long a domain's DNS answer (in a run) and a stored result (on the contact) stay valid: one day. */
export const DEFAULT_VERIFY_CACHE_MINUTES = 1440;
/** Longest cache lifetime a user may set: 90 days. */
export const MAX_VERIFY_CACHE_MINUTES = 129_600;
/** Domain lookups running at once. */
export const DEFAULT_VERIFY_CONCURRENCY = 20;
export const MAX_VERIFY_CONCURRENCY = 200;

/** The verdict of a domain from its MX answer and, when it has no MX, its A and AAAA answers. */
export function domainVerdict(
	domain: string,
	mx: { status: 'ok' | 'nxdomain' | 'nodata'; records: Array<{ exchange: string; priority: number }> },
	fallback?: { a: { status: string; records: string[] }; aaaa?: { status: string; records: string[] } },
): DomainVerdict {
	if (mx.status === 'nxdomain') return { status: 'undeliverable', reason: 'nxdomain', detail: `the domain ${domain} does not exist (NXDOMAIN)` };
	if (mx.records.length > 0) {
		const hosts = mx.records.map((r) => r.exchange.replace(/\.$/, ''));
		// RFC 7505: a single MX of "." says the domain accepts no mail at all
		if (hosts.every((h) => h === ''))
			return { status: 'undeliverable', reason: 'null-mx', detail: `${domain} publishes a null MX: it accepts no mail` };
		const list = hosts.filter((h) => h !== '');
		return { status: 'deliverable', reason: 'mx', detail: `${domain} has ${list.length} mail exchanger${list.length === 1 ? '' : 's'}`, mx: list };
	}
	if (fallback && (fallback.a.records.length > 0 || (fallback.aaaa?.records.length ?? 0) > 0)) {
		return {
			status: 'deliverable',
			reason: 'a-fallback',
			detail: `${domain} has no MX; mail goes to its address record (implicit MX)`,
			mx: [domain],
		};
	}
	if (fallback?.a.status === 'nxdomain')
		return { status: 'undeliverable', reason: 'nxdomain', detail: `the domain ${domain} does not exist (NXDOMAIN)` };
	return { status: 'undeliverable', reason: 'no-mx', detail: `${domain} has neither MX nor A/AAAA records: nothing receives its mail` };
}

export function timeoutVerdict(domain: string, detail?: string): DomainVerdict {
	return { status: 'unknown', reason: 'dns-timeout', detail: detail ?? `the DNS server did not answer for ${domain} in time` };
}

export function dnsErrorVerdict(domain: string, detail: string): DomainVerdict {
	return { status: 'unknown', reason: 'dns-error', detail: `DNS lookup of ${domain} failed: ${detail}` };
}

/** A stored result as an object: the object itself, or its JSON text (a store column, at most 4 KB); else null. */
function storedObject(value: unknown): object | null {
	let v = value;
	if (typeof v === 'string' && v.length <= 4096 && v.trimStart().startsWith('{')) {
		try {
			v = JSON.parse(v);
		} catch {
			return null;
		}
	}
	return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
}

/**
 * Whether a result read back from a contact may stand instead of new checks: a definite result (not `unknown`)
 * whose `checkedAt` is at most `lifetimeMs` old and not in the future. Never throws.
 */
export function reusableResult(value: unknown, nowMs: number, lifetimeMs: number): VerificationResult | null {
	const r = storedObject(value) as Partial<VerificationResult> | null;
	if (!r) return null;
	if (typeof r.status !== 'string' || !VERIFICATION_STATUSES.includes(r.status) || r.status === 'unknown') return null;
	if (typeof r.reason !== 'string' || typeof r.checkedAt !== 'string') return null;
	const at = Date.parse(r.checkedAt);
	if (!Number.isFinite(at) || at > nowMs || nowMs - at > lifetimeMs) return null;
	return r as VerificationResult;
}

/**
 * The verification field of a contact as a view reads it: its status and reason, or null when there is none.
 * Accepts the object or its JSON text (a store column). Never throws.
 */
export function readVerification(value: unknown): { status: VerificationStatus; reason: string; detail?: string } | null {
	const r = storedObject(value) as { status?: unknown; reason?: unknown; detail?: unknown } | null;
	if (!r) return null;
	if (typeof r.status !== 'string' || !VERIFICATION_STATUSES.includes(r.status as VerificationStatus)) return null;
	return {
		status: r.status as VerificationStatus,
		reason: typeof r.reason === 'string' && r.reason ? r.reason : r.status,
		...(typeof r.detail === 'string' ? { detail: r.detail } : {}),
	};
}
