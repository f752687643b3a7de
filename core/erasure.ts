import { createHash, createHmac } from 'node:crypto';

/**
 * Retention and erasure: how long events are kept, and the stable pseudonyms an erased person's rows keep so that
 * counts and rates stay the same after the address is gone. Templates 9 (purge) and 10 (erase) apply these rules in
 * the store; the functions here are the reference the templates' expressions and SQL are tested against.
 */

/**
 * Events older than this many days are purged (template 9). The breaker reads 28 days, the report 30, and a
 * comparison with the same month a year earlier needs 13 months (≈ 396 days): 400 keeps all three whole.
 */
export const RETENTION_DEFAULT_DAYS = 400;

/** The shortest retention the purge applies (a shorter setting is raised to it): the report’s 30 days and one more. */
export const RETENTION_MIN_DAYS = 31;

/**
 * Event types the purge never deletes whatever their age: a pause holds until a `resumed` event lifts it, and an
 * erasure's audit line is the record that the erasure happened.
 */
export const RETENTION_KEPT_TYPES = ['paused', 'resumed', 'erased'] as const;

/** What every pseudonym starts with, so a pseudonymised value is recognisable in any column. */
export const ERASED_PREFIX = 'erased-';

/** Hex digits of the hash a pseudonym keeps (96 bits: no collision in any realistic base). */
export const ERASURE_HASH_HEX_CHARS = 24;

/** The address as the stores hold it: trimmed and lower case. */
export function erasureAddress(email: string): string {
	return String(email).trim().toLowerCase();
}

/**
 * The stable pseudonym of an erased address: `erased-` and the first 24 hex digits of HMAC-SHA256(secret, address).
 * The same address and secret always give the same pseudonym (its events stay one person in the figures, and a
 * suppression list can be checked), and without the secret it cannot be reversed by hashing guessed addresses.
 * n8n's Crypto node (HMAC, SHA256, hex, credential "Cadence erasure secret") computes the same digest.
 */
export function erasurePseudonym(email: string, secret: string): string {
	const address = erasureAddress(email);
	if (!address.includes('@')) throw new RangeError(`erasure needs an email address, got "${address.slice(0, 80)}"`);
	if (typeof secret !== 'string' || secret.length < 16) throw new RangeError('the erasure secret must be a string of at least 16 characters');
	return ERASED_PREFIX + createHmac('sha256', secret).update(address).digest('hex').slice(0, ERASURE_HASH_HEX_CHARS);
}

/**
 * What an erased person's tracking token or Message-ID becomes: `erased-` and the first 24 hex digits of its
 * SHA-256 (empty stays empty). Tokens and Message-IDs carry encrypted data about the recipient, so they cannot stay;
 * hashing instead of clearing keeps every event of one message together, so per-message counts do not change.
 * The values are random enough that no secret is needed.
 */
export function erasedMessageRef(value: string): string {
	if (value === '') return '';
	return ERASED_PREFIX + createHash('sha256').update(value, 'utf8').digest('hex').slice(0, ERASURE_HASH_HEX_CHARS);
}
