/**
 * Address verification, the pure part: the checks that need no network (syntax, disposable list, role accounts)
 * and the rules that turn the domain's DNS verdict and an optional SMTP probe into one result per address.
 * transport/verify.ts does the lookups.
 */
import type { RoleAccountPolicy } from './roles';
import { checkAddressSyntax } from './syntax';
import type { DomainVerdict, VerificationReason, VerificationResult, VerificationStatus } from './result';

export * from './syntax';
export * from './roles';
export * from './disposable';
export * from './result';

export type PendingResult = Omit<VerificationResult, 'checkedAt'>;

/** What is known before any lookup: a final result, or the domain to look up and what the address adds to it. */
export type PreCheck = { final: true; result: PendingResult } | { final: false; local: string; domain: string; utf8Local: boolean; role?: string };

export interface PreCheckOptions {
	/** The listed disposable domain covering `domain`, or null. */
	disposableOf: (domain: string) => string | null;
	/** The role a local part names, or null. */
	roleOf: (local: string) => string | null;
	rolePolicy: RoleAccountPolicy;
}

/** Syntax, then the disposable list, then role accounts (when they are undeliverable). Never throws. */
export function precheckAddress(raw: unknown, options: PreCheckOptions): PreCheck {
	const syntax = checkAddressSyntax(raw);
	if (!syntax.ok) return { final: true, result: { status: 'undeliverable', reason: 'invalid-syntax', detail: syntax.detail } };
	const { local, domain, utf8Local } = syntax;
	const listed = options.disposableOf(domain);
	if (listed !== null) {
		return { final: true, result: { status: 'undeliverable', reason: 'disposable', detail: `${listed} is a disposable-mail service`, domain } };
	}
	const role = options.roleOf(local) ?? undefined;
	if (role !== undefined && options.rolePolicy === 'undeliverable') {
		return {
			final: true,
			result: { status: 'undeliverable', reason: 'role-account', detail: `${role} is a role account, not a person`, domain, role },
		};
	}
	return { final: false, local, domain, utf8Local, ...(role !== undefined ? { role } : {}) };
}

/** The SMTP probe's answer for one address. */
export interface ProbeOutcome {
	reason: Extract<VerificationReason, 'rcpt-accepted' | 'rcpt-rejected' | 'rcpt-deferred' | 'catch-all' | 'smtp-error'>;
	detail: string;
}

const PROBE_STATUS: Readonly<Record<ProbeOutcome['reason'], VerificationStatus>> = Object.freeze({
	'rcpt-accepted': 'deliverable',
	'rcpt-rejected': 'undeliverable',
	'rcpt-deferred': 'unknown',
	'catch-all': 'risky',
	'smtp-error': 'unknown',
});

/**
 * One address's result from its pre-check, its domain's verdict and the probe (when one ran). A dead domain wins;
 * a rejected RCPT is undeliverable; a role account (flagged) is risky even when the server accepts it.
 */
export function combineResult(pre: Extract<PreCheck, { final: false }>, verdict: DomainVerdict, probe?: ProbeOutcome): PendingResult {
	const base = { domain: pre.domain, ...(pre.role !== undefined ? { role: pre.role } : {}), ...(verdict.mx ? { mx: verdict.mx } : {}) };
	if (verdict.status !== 'deliverable') return { status: verdict.status, reason: verdict.reason, detail: verdict.detail, ...base };
	if (probe && probe.reason !== 'rcpt-accepted') return { status: PROBE_STATUS[probe.reason], reason: probe.reason, detail: probe.detail, ...base };
	if (pre.role !== undefined) {
		return { status: 'risky', reason: 'role-account', detail: `${pre.role} is a role account, not a person (${verdict.detail})`, ...base };
	}
	if (probe) return { status: 'deliverable', reason: 'rcpt-accepted', detail: probe.detail, ...base };
	return { status: 'deliverable', reason: verdict.reason, detail: verdict.detail, ...base };
}
