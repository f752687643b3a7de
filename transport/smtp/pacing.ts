/** How fast and how much one run sends: pauses, the rate limit, the per-company cap and the stop-loss rule. */
import { companyOf } from '../../core/company';
import type { SmtpStopLoss } from './types';

/** Most messages to one recipient company (registrable domain) in one run when none is set (0 turns the cap off). */
export const DEFAULT_DOMAIN_CAP = 20;

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	if (ms <= 0) return Promise.resolve();
	return new Promise((resolve) => {
		const done = () => {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal?.addEventListener('abort', done, { once: true });
	});
}

export type RateLimiter = (signal?: AbortSignal) => Promise<void>;

/** Spaces message starts evenly: at most `perSecond` per second across all workers (0 or undefined: no limit). */
export function createRateLimiter(perSecond: number | undefined): RateLimiter {
	const interval = perSecond && perSecond > 0 ? 1000 / perSecond : 0;
	let next = 0;
	return async (signal?: AbortSignal) => {
		if (interval === 0) return;
		const now = Date.now();
		const at = Math.max(now, next);
		next = at + interval;
		await sleep(at - now, signal);
	};
}

/**
 * Per-recipient-company cap for one run: true for items past the first `cap` of their company (registrable domain,
 * so a.example.co.uk and b.example.co.uk count together; see companyOf). 0: no cap.
 */
export function overDomainCap(emails: readonly string[], cap: number): boolean[] {
	const counts = new Map<string, number>();
	return emails.map((email) => {
		if (!cap || cap <= 0) return false;
		const company = companyOf(email);
		const n = (counts.get(company) ?? 0) + 1;
		counts.set(company, n);
		return n > cap;
	});
}

/**
 * The stop-loss trips once `minimum` recipients have a final answer and more than `threshold` of them failed;
 * returns the reason to report, or null while the run may go on.
 */
export function stopLossReason(stopLoss: SmtpStopLoss, sent: number, failed: number): string | null {
	const answered = sent + failed;
	// Written as a negated `>` so that 0 / 0 (nothing answered yet) never trips it.
	if (answered < stopLoss.minimum || !(failed / answered > stopLoss.threshold)) return null;
	const pct = ((100 * failed) / answered).toFixed(1);
	return `Stopped: ${failed} of ${answered} recipients failed (${pct}%, limit ${(stopLoss.threshold * 100).toFixed(1)}%)`;
}
