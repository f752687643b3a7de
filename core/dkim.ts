/**
 * DKIM signing (RFC 6376) of a built message: relaxed/relaxed canonicalisation, rsa-sha256 (RSA keys of
 * DKIM_RSA_MIN_BITS–DKIM_RSA_MAX_BITS bits) and ed25519-sha256 (RFC 8463). Pure: node:crypto only, no I/O.
 *
 * Written here rather than taken from nodemailer's signer because that one cannot oversign (it lists each field
 * once), has no ed25519, and hands the message on unsigned when the key fails to sign; its relaxed body and header
 * canonicalisation is the reference the unit tests compare this one with.
 */
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { companyOf } from './company';

/** Header fields signed when present, in this order (each present one is also oversigned: see `dkimHeaderList`). */
export const DKIM_SIGNED_HEADERS: readonly string[] = Object.freeze([
	'From',
	'To',
	'Subject',
	'Date',
	'Message-ID',
	'Reply-To',
	'List-Unsubscribe',
	'List-Unsubscribe-Post',
	'MIME-Version',
	'Content-Type',
	'Content-Transfer-Encoding',
]);
/** Smallest RSA key accepted: receivers ignore shorter ones (RFC 8301). */
export const DKIM_RSA_MIN_BITS = 1024;
/** Largest RSA key accepted: a longer public key does not fit a DNS TXT record most providers publish. */
export const DKIM_RSA_MAX_BITS = 4096;
/** Longest DNS label (RFC 1035). */
const DNS_LABEL_MAX = 63;
/** Longest DNS name (RFC 1035). */
const DNS_NAME_MAX = 253;
/** Line length the DKIM-Signature header is folded to. */
const FOLD_WIDTH = 76;

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

/** The DKIM settings of a sender: signing domain (d=), selector (s=) and the PEM private key. */
export interface DkimConfig {
	domainName: string;
	keySelector: string;
	privateKey: string;
}

/** What a sent event says about the message's signature. */
export interface DkimStamp {
	domain: string;
	selector: string;
	/** Whether the signing domain aligns with the From domain (DMARC relaxed alignment); false passes DKIM but not DMARC. */
	aligned: boolean;
}

/** A checked key, ready to sign messages. */
export interface DkimSigner {
	/** The signing domain (d=), lower case, IDN in ASCII. */
	readonly domain: string;
	/** The selector (s=), lower case. */
	readonly selector: string;
	readonly algorithm: DkimAlgorithm;
	/** RSA modulus length; 256 for ed25519. */
	readonly keyBits: number;
	/** The message with a DKIM-Signature field in front (line ends made CRLF first). Throws DkimSignError. */
	sign(message: Buffer | string, at?: Date): Buffer;
}

/** DKIM settings that cannot be used (missing field, bad name, unusable key); the message says which and why. */
export class DkimConfigError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'DkimConfigError';
	}
}

/** A message that could not be signed (no From field, no header). */
export class DkimSignError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'DkimSignError';
	}
}

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v).trim());

/**
 * The DKIM settings among a credential's (or a mailbox's) fields `dkimDomain`, `dkimSelector`, `dkimPrivateKey`:
 * undefined when all three are empty (no signing), the three when all are set; one or two alone is a
 * DkimConfigError naming the missing ones. Names and key are checked by `createDkimSigner`.
 */
export function readDkimFields(fields: Record<string, unknown>): DkimConfig | undefined {
	const domainName = text(fields.dkimDomain);
	const keySelector = text(fields.dkimSelector);
	const privateKey = text(fields.dkimPrivateKey);
	if (!domainName && !keySelector && !privateKey) return undefined;
	const missing = [!domainName && 'DKIM Domain', !keySelector && 'DKIM Selector', !privateKey && 'DKIM Private Key'].filter(Boolean);
	if (missing.length > 0) throw new DkimConfigError(`DKIM signing needs a domain, a selector and a private key; ${missing.join(' and ')} is empty`);
	return { domainName, keySelector, privateKey };
}

/** A DNS label of letters, digits and hyphens, not starting or ending with a hyphen. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function checkName(name: string, what: string, minLabels: number): string {
	const lower = name.toLowerCase().replace(/\.$/, '');
	// Only an IDN goes through the URL host parser, which reads a name ending in digits as an IPv4 address.
	const ascii = /[^ -~]/.test(lower) ? domainToASCII(lower) : lower;
	if (!ascii) throw new DkimConfigError(`${what} "${name.slice(0, 80)}" is not a valid DNS name`);
	const labels = ascii.split('.');
	const bad = labels.find((l) => l.length > DNS_LABEL_MAX || !LABEL.test(l));
	if (bad !== undefined || ascii.length > DNS_NAME_MAX) {
		throw new DkimConfigError(
			`${what} "${name.slice(0, 80)}" is not a valid DNS name (labels of letters, digits and hyphens, at most ${DNS_LABEL_MAX} each)`,
		);
	}
	if (labels.length < minLabels) throw new DkimConfigError(`${what} "${name}" needs a dot (a domain such as example.com)`);
	return ascii;
}

/** PEM pasted into a one-line field often arrives with literal `\n` or with its line breaks turned into spaces. */
function normalizePem(pem: string): string {
	const s = pem.replace(/\\r\\n|\\n/g, '\n').trim();
	const m = /^(-----BEGIN [A-Z0-9 ]+-----)\s*([\s\S]*?)\s*(-----END [A-Z0-9 ]+-----)$/.exec(s);
	if (!m) return s;
	return `${m[1]}\n${m[2].replace(/\s+/g, '\n')}\n${m[3]}\n`;
}

function readKey(pem: string): KeyObject {
	if (/ENCRYPTED/.test(pem)) throw new DkimConfigError('DKIM private key is encrypted: export it without a passphrase');
	if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
		throw new DkimConfigError(
			'DKIM private key is not a PEM private key: paste the whole block from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----',
		);
	}
	let problem: string;
	try {
		return createPrivateKey({ key: normalizePem(pem), format: 'pem' });
	} catch (error) {
		problem = (error as Error).message;
	}
	throw new DkimConfigError(`DKIM private key cannot be read: ${problem}`);
}

/** A signer for the settings; a bad domain, selector or key is a DkimConfigError that says what to fix. */
export function createDkimSigner(config: DkimConfig): DkimSigner {
	const domain = checkName(text(config.domainName), 'DKIM domain', 2);
	const selector = checkName(text(config.keySelector), 'DKIM selector', 1);
	const key = readKey(text(config.privateKey));
	let algorithm: DkimAlgorithm;
	let keyBits: number;
	if (key.asymmetricKeyType === 'rsa') {
		keyBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
		if (keyBits < DKIM_RSA_MIN_BITS || keyBits > DKIM_RSA_MAX_BITS) {
			throw new DkimConfigError(`DKIM RSA key has ${keyBits} bits; it needs ${DKIM_RSA_MIN_BITS}–${DKIM_RSA_MAX_BITS} (2048 is usual)`);
		}
		algorithm = 'rsa-sha256';
	} else if (key.asymmetricKeyType === 'ed25519') {
		keyBits = 256;
		algorithm = 'ed25519-sha256';
	} else {
		throw new DkimConfigError(`DKIM private key is a ${key.asymmetricKeyType} key; DKIM signs with RSA or Ed25519 keys`);
	}
	return {
		domain,
		selector,
		algorithm,
		keyBits,
		sign: (message, at = new Date()) => signMessage(message, { domain, selector, algorithm, key }, at),
	};
}

/** The key types DKIM publishes. */
export type DkimKeyType = 'rsa' | 'ed25519';

export interface DkimPublicKey {
	k: DkimKeyType;
	/** The p= value to publish. */
	p: string;
	/** RSA modulus length. */
	bits?: number;
}

/** The public key (as DKIM publishes it) of a PEM private key, or what is wrong with the key. Never throws. */
export function dkimPublicKeyOf(privateKeyPem: string): DkimPublicKey | { error: string } {
	if (typeof privateKeyPem !== 'string' || privateKeyPem.trim() === '') return { error: 'the private key is empty' };
	let key: KeyObject;
	try {
		key = readKey(privateKeyPem);
	} catch (error) {
		return { error: (error as Error).message };
	}
	try {
		const pub = createPublicKey(key);
		if (key.asymmetricKeyType === 'rsa') {
			return { k: 'rsa', p: pub.export({ type: 'spki', format: 'der' }).toString('base64'), bits: key.asymmetricKeyDetails?.modulusLength };
		}
		if (key.asymmetricKeyType === 'ed25519') {
			// RFC 8463: p= holds the 32 raw key bytes, not a SubjectPublicKeyInfo.
			const x = pub.export({ format: 'jwk' }).x ?? '';
			return { k: 'ed25519', p: Buffer.from(x, 'base64url').toString('base64') };
		}
		return { error: `DKIM keys are RSA or Ed25519; this one is ${key.asymmetricKeyType ?? 'of an unknown type'}` };
	} catch (error) {
		return { error: `the private key cannot be used (${(error as Error).message})` };
	}
}

/** The TXT record to publish for a public key. */
export function dkimRecordFor(key: DkimPublicKey): string {
	return `v=DKIM1; k=${key.k}; p=${key.p}`;
}

/** The DNS TXT record that publishes the key's public half: its name and value (`v=DKIM1; k=...; p=...`). */
export function dkimTxtRecord(config: DkimConfig): { name: string; value: string } {
	const signer = createDkimSigner(config);
	const pub = dkimPublicKeyOf(text(config.privateKey));
	if ('error' in pub) throw new DkimConfigError(pub.error);
	return { name: `${signer.selector}._domainkey.${signer.domain}`, value: dkimRecordFor(pub) };
}

/**
 * Whether the signing domain aligns with the From domain under DMARC's relaxed alignment: both have the same
 * organisational domain (the registrable domain by the public suffix list). Never throws.
 */
export function dkimAligned(signingDomain: string, fromAddressOrDomain: string): boolean {
	const a = companyOf(signingDomain);
	return a !== '' && a === companyOf(fromAddressOrDomain);
}

interface SignKey {
	domain: string;
	selector: string;
	algorithm: DkimAlgorithm;
	key: KeyObject;
}

/** A header field as it stands in the message (continuation lines and their CRLFs included, no final CRLF). */
interface HeaderField {
	name: string;
	raw: string;
}

/** Relaxed body canonicalisation (RFC 6376 3.4.4) of a CRLF body. */
export function relaxedBody(body: string): string {
	const lines = body.split('\r\n').map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
	let end = lines.length;
	while (end > 0 && lines[end - 1] === '') end--;
	return end === 0 ? '' : `${lines.slice(0, end).join('\r\n')}\r\n`;
}

/** Relaxed header canonicalisation (RFC 6376 3.4.2) of one field, without the final CRLF. */
export function relaxedHeader(raw: string): string {
	const colon = raw.indexOf(':');
	const name = raw
		.slice(0, colon)
		.replace(/[ \t]+$/, '')
		.toLowerCase();
	const value = raw
		.slice(colon + 1)
		.replace(/\r\n/g, '')
		.replace(/[ \t]+/g, ' ')
		.replace(/^ | $/g, '');
	return `${name}:${value}`;
}

function splitMessage(message: Buffer | string): { fields: HeaderField[]; headerBlock: string; body: string } {
	const s = (typeof message === 'string' ? Buffer.from(message, 'utf8') : message).toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
	const cut = s.indexOf('\r\n\r\n');
	const headerBlock = cut < 0 ? (s.endsWith('\r\n') ? s : `${s}\r\n`) : s.slice(0, cut + 2);
	const body = cut < 0 ? '' : s.slice(cut + 4);
	const fields: HeaderField[] = [];
	for (const raw of headerBlock.slice(0, -2).split(/\r\n(?![ \t])/)) {
		const colon = raw.indexOf(':');
		if (colon <= 0) throw new DkimSignError(`The message has a header line without a field name: "${raw.slice(0, 40)}"`);
		fields.push({ name: raw.slice(0, colon).trim().toLowerCase(), raw });
	}
	return { fields, headerBlock, body };
}

/**
 * The h= list: every present signed field once per instance, plus once more (oversigning), so a field of the
 * same name added later (a second From, a second Subject) breaks the signature.
 */
export function dkimHeaderList(fieldNames: readonly string[]): string[] {
	const count = new Map<string, number>();
	for (const n of fieldNames) count.set(n.toLowerCase(), (count.get(n.toLowerCase()) ?? 0) + 1);
	const list: string[] = [];
	for (const name of DKIM_SIGNED_HEADERS.map((n) => n.toLowerCase())) {
		const n = count.get(name) ?? 0;
		for (let k = 0; k <= n && n > 0; k++) list.push(name);
	}
	return list;
}

/** `tag=value` pieces joined with `; `, folded at FOLD_WIDTH; the h= list may fold after a colon. */
function foldTags(tags: string[]): string {
	const lines: string[] = [];
	let line = 'DKIM-Signature:';
	const add = (piece: string, sep: string) => {
		if (line.length + sep.length + piece.length > FOLD_WIDTH && line.trim() !== '') {
			lines.push(line);
			line = ` ${piece}`;
		} else line += `${sep}${piece}`;
	};
	for (const tag of tags) {
		if (tag.startsWith('h=')) {
			const names = tag.slice(2).split(':');
			add(`h=${names[0]}`, ' ');
			for (const n of names.slice(1)) {
				if (line.length + n.length + 1 > FOLD_WIDTH) {
					line += ':';
					lines.push(line);
					line = ` ${n}`;
				} else line += `:${n}`;
			}
			line += ';';
		} else add(`${tag};`, ' ');
	}
	lines.push(line);
	return lines.join('\r\n');
}

function signMessage(message: Buffer | string, k: SignKey, at: Date): Buffer {
	const { fields, headerBlock, body } = splitMessage(message);
	if (!fields.some((f) => f.name === 'from')) throw new DkimSignError('The message has no From field, which DKIM must sign');
	const bodyHash = createHash('sha256')
		.update(Buffer.from(relaxedBody(body), 'latin1'))
		.digest('base64');
	const h = dkimHeaderList(fields.map((f) => f.name));
	// Each listed name takes the next instance of that field from the bottom; an oversigned name finds none.
	const used = new Map<string, number>();
	let signedData = '';
	for (const name of h) {
		const instances = fields.filter((f) => f.name === name);
		const taken = used.get(name) ?? 0;
		used.set(name, taken + 1);
		const field = instances[instances.length - 1 - taken];
		if (field) signedData += `${relaxedHeader(field.raw)}\r\n`;
	}
	const head = foldTags([
		'v=1',
		`a=${k.algorithm}`,
		'c=relaxed/relaxed',
		`d=${k.domain}`,
		`s=${k.selector}`,
		`t=${Math.floor(at.getTime() / 1000)}`,
		`h=${h.join(':')}`,
		`bh=${bodyHash}`,
	]);
	const unsigned = `${head}\r\n b=`;
	signedData += relaxedHeader(unsigned);
	const data = Buffer.from(signedData, 'latin1');
	// RFC 8463: Ed25519 signs the SHA-256 hash of the data (PureEdDSA over the hash); RSA signs the data with SHA-256.
	const signature =
		k.algorithm === 'ed25519-sha256' ? cryptoSign(null, createHash('sha256').update(data).digest(), k.key) : cryptoSign('sha256', data, k.key);
	const b64 = signature.toString('base64');
	const chunks = b64.match(/.{1,72}/g) ?? [];
	const field = `${unsigned}${chunks.join('\r\n ')}\r\n`;
	return Buffer.from(`${field}${headerBlock}\r\n${body}`, 'latin1');
}
