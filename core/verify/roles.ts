/**
 * Role accounts: local parts that name a function, not a person (RFC 2142 and common practice). Mail to them is
 * read by many or by none and draws complaints, so verification flags them. `info` and `sales` are deliberately
 * absent: in small companies the owner reads them (SPEC, no-send view).
 */

/** Role local parts in key form (see roleKey): lower case, without `.`, `-`, `_` and any `+tag`. */
export const ROLE_ACCOUNT_LOCAL_PARTS: readonly string[] = Object.freeze([
	'abuse',
	'admin',
	'administrator',
	'billing',
	'careers',
	'compliance',
	'donotreply',
	'ftp',
	'hostmaster',
	'hr',
	'jobs',
	'legal',
	'mailerdaemon',
	'marketing',
	'news',
	'noc',
	'noreply',
	'postmaster',
	'privacy',
	'recruiting',
	'root',
	'security',
	'spam',
	'support',
	'sysadmin',
	'unsubscribe',
	'usenet',
	'uucp',
	'webmaster',
	'www',
]);

/** How the verification treats a role account: `flag` = risky (kept, marked), `undeliverable` = excluded. */
export type RoleAccountPolicy = 'flag' | 'undeliverable';
export const DEFAULT_ROLE_ACCOUNT_POLICY: RoleAccountPolicy = 'flag';

/** The comparable form of a local part: `No-Reply+x` → `noreply`. */
export function roleKey(local: string): string {
	const plus = local.indexOf('+');
	return (plus > 0 ? local.slice(0, plus) : local).toLowerCase().replace(/^"|"$/g, '').replace(/[._-]/g, '');
}

/** A matcher over the given role local parts (written in any form: `no-reply` and `noreply` are one). */
export function createRoleMatcher(localParts: readonly string[] = ROLE_ACCOUNT_LOCAL_PARTS): (local: string) => string | null {
	const keys = new Set(localParts.map((p) => roleKey(p.trim().replace(/@$/, ''))).filter(Boolean));
	return (local) => {
		const key = roleKey(local);
		return keys.has(key) ? key : null;
	};
}
