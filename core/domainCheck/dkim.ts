/**
 * DKIM key records (RFC 6376 3.6.1, RFC 8463) and the public key a private key implies, to tell whether the key
 * published at `<selector>._domainkey.<domain>` verifies what the private key signs. Pure (node:crypto only);
 * nothing here throws.
 */
import { createPublicKey } from 'node:crypto';
import { parseRecordTags } from './dmarc';

import type { DkimKeyType, DkimPublicKey } from '../dkim';

export { dkimPublicKeyOf, dkimRecordFor, type DkimKeyType, type DkimPublicKey } from '../dkim';

/** The RSA size to generate; keys from DKIM_RSA_MIN_BITS (core/dkim) up to this are accepted but weak. */
export const DKIM_RECOMMENDED_RSA_BITS = 2048;

export interface DkimKeyRecord {
	k: DkimKeyType;
	/** Public key data, base64 without blanks; '' = revoked. */
	p: string;
	/** t=y: the domain is testing DKIM. */
	testing: boolean;
	/** h=: hash algorithms allowed; absent = all. */
	hashes?: string[];
}

export type DkimParseResult = { record: DkimKeyRecord; error?: undefined } | { record?: undefined; error: string };

/** Parses a DKIM key record; a malformed one gives an error naming what is wrong. Never throws. */
export function parseDkimKey(text: string): DkimParseResult {
	if (typeof text !== 'string') return { error: 'the record is not text' };
	const list = parseRecordTags(text);
	if (!list.tags) return { error: list.error };
	const t = list.tags;
	const first = text.split(';')[0].trim();
	if (t.has('v') && (t.get('v') !== 'DKIM1' || !/^v\s*=/.test(first))) return { error: 'v= must come first and be DKIM1' };
	const k = (t.get('k') ?? 'rsa').toLowerCase();
	if (k !== 'rsa' && k !== 'ed25519') return { error: `k=${t.get('k')}: unknown key type (rsa or ed25519)` };
	const p = t.get('p');
	if (p === undefined) return { error: 'the required tag p= (the public key) is missing' };
	const data = p.replace(/\s+/g, '');
	if (data !== '' && !/^[A-Za-z0-9+/]+={0,2}$/.test(data)) return { error: 'p= is not base64' };
	const hashes = t.has('h')
		? t
				.get('h')!
				.split(':')
				.map((h) => h.trim().toLowerCase())
		: undefined;
	const flags = (t.get('t') ?? '').split(':').map((f) => f.trim().toLowerCase());
	return { record: { k, p: data, testing: flags.includes('y'), ...(hashes ? { hashes } : {}) } };
}

/**
 * Whether a published key record holds the public key: '' when it does, otherwise why not. RSA keys compare as
 * SubjectPublicKeyInfo (a record may also carry the bare RSAPublicKey); Ed25519 keys as their raw bytes.
 */
export function dkimKeyMismatch(record: DkimKeyRecord, key: DkimPublicKey): string {
	if (record.p === '') return 'the key is revoked (empty p=)';
	if (record.k !== key.k) return `the record is k=${record.k}, the private key is ${key.k}`;
	const published = Buffer.from(record.p, 'base64');
	if (key.k === 'ed25519') return published.equals(Buffer.from(key.p, 'base64')) ? '' : 'the published key is another key';
	let der: Buffer | undefined;
	for (const type of ['spki', 'pkcs1'] as const) {
		try {
			der = createPublicKey({ key: published, format: 'der', type }).export({ type: 'spki', format: 'der' });
			break;
		} catch {
			// try the other encoding
		}
	}
	if (!der) return 'p= is not an RSA public key';
	return der.equals(Buffer.from(key.p, 'base64')) ? '' : 'the published key is another key';
}
