/**
 * Disposable-mail domains, from the maintained blocklist of the `disposable-email-domains-js` package (the
 * disposable-email-domains project's list); no hand-written list. A subdomain of a listed domain is disposable too.
 */
import { disposableEmailBlocklist } from 'disposable-email-domains-js';

/**
 * A checker over the blocklist, built per call (one Set of ~9,000 names, about a millisecond) so no state outlives
 * a run. `extra` adds domains, `allow` removes some.
 */
export function createDisposableChecker(options: { extra?: readonly string[]; allow?: readonly string[] } = {}): (domain: string) => string | null {
	const listed = new Set(disposableEmailBlocklist());
	for (const d of options.extra ?? []) listed.add(d.trim().toLowerCase());
	for (const d of options.allow ?? []) listed.delete(d.trim().toLowerCase());
	return (domain) => {
		let d = domain.toLowerCase();
		for (;;) {
			if (listed.has(d)) return d;
			const dot = d.indexOf('.');
			if (dot < 0) return null;
			d = d.slice(dot + 1);
			if (!d.includes('.')) return null;
		}
	};
}
