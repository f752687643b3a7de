/**
 * core/dkim: settings that cannot sign are refused with a message that says what to fix; relaxed canonicalisation
 * agrees with nodemailer's DKIM signer (a maintained implementation) on random headers and bodies; the signature
 * field's shape (oversigned h= list, folding, tags). That signatures verify is shown by an independent verifier in
 * test/integration/dkim.test.ts.
 */
import { createHash, createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import fc from 'fast-check';
import DKIM from 'nodemailer/lib/dkim';
import { describe, expect, it } from 'vitest';
import {
	createDkimSigner,
	DKIM_RSA_MAX_BITS,
	DKIM_RSA_MIN_BITS,
	DkimConfigError,
	DkimSignError,
	dkimAligned,
	dkimHeaderList,
	dkimTxtRecord,
	readDkimFields,
	relaxedBody,
	relaxedHeader,
} from '../../core/dkim';

const pem = (k: { privateKey: { export(o: object): string | Buffer } }, type = 'pkcs8') => String(k.privateKey.export({ type, format: 'pem' }));
const RSA = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }));
const ED = pem(generateKeyPairSync('ed25519'));
const config = (over: Partial<{ domainName: string; keySelector: string; privateKey: string }> = {}) => ({
	domainName: 'example.com',
	keySelector: 's1',
	privateKey: RSA,
	...over,
});
const MESSAGE =
	'From: Anna <anna@example.com>\r\nTo: bob@customer.test\r\nSubject: Hello\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi Bob\r\n';

describe('settings', () => {
	it('no DKIM fields: no signing; some but not all: an error naming the empty ones', () => {
		expect(readDkimFields({})).toBeUndefined();
		expect(readDkimFields({ dkimDomain: ' ', dkimSelector: '', dkimPrivateKey: undefined })).toBeUndefined();
		expect(() => readDkimFields({ dkimPrivateKey: RSA })).toThrow(/DKIM Domain and DKIM Selector is empty/);
		expect(() => readDkimFields({ dkimDomain: 'example.com', dkimSelector: 's1' })).toThrow(/DKIM Private Key is empty/);
		expect(readDkimFields({ dkimDomain: 'example.com', dkimSelector: 's1', dkimPrivateKey: RSA })).toEqual(config({ privateKey: RSA.trim() }));
	});

	it.each([
		['a key that is no PEM', { privateKey: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC' }, /not a PEM private key/],
		['a truncated PEM', { privateKey: RSA.slice(0, 200) + '\n-----END PRIVATE KEY-----' }, /cannot be read/],
		['a public key', { privateKey: String(createPublicKey(RSA).export({ type: 'spki', format: 'pem' })) }, /not a PEM private key/],
		['an encrypted key', { privateKey: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----' }, /encrypted/],
		['an RSA key of 512 bits', { privateKey: pem(generateKeyPairSync('rsa', { modulusLength: 512 })) }, /512 bits; it needs 1024–4096/],
		['an EC key', { privateKey: pem(generateKeyPairSync('ec', { namedCurve: 'P-256' })) }, /ec key; DKIM signs with RSA or Ed25519/],
		['a selector with an underscore', { keySelector: 'my_sel' }, /DKIM selector "my_sel" is not a valid DNS name/],
		['a selector with a space', { keySelector: 'my sel' }, /DKIM selector/],
		['a selector starting with a hyphen', { keySelector: '-s' }, /DKIM selector/],
		['an empty label in the selector', { keySelector: 'a..b' }, /DKIM selector/],
		['a label of 64 characters', { keySelector: 'x'.repeat(64) }, /at most 63/],
		['a domain without a dot', { domainName: 'localhost' }, /needs a dot/],
		['a domain that is an address', { domainName: 'anna@example.com' }, /DKIM domain/],
	])('%s is refused', (_, over, message) => {
		let error: unknown;
		try {
			createDkimSigner(config(over));
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(DkimConfigError);
		expect((error as Error).message).toMatch(message);
	});

	it(`RSA keys of ${DKIM_RSA_MIN_BITS} bits (PKCS#1 or PKCS#8) and Ed25519 keys are taken; names are lower case, IDN in ASCII`, () => {
		const pkcs1 = pem(generateKeyPairSync('rsa', { modulusLength: DKIM_RSA_MIN_BITS }), 'pkcs1');
		expect(pkcs1).toMatch(/BEGIN RSA PRIVATE KEY/);
		expect(createDkimSigner(config({ privateKey: pkcs1 }))).toMatchObject({ algorithm: 'rsa-sha256', keyBits: DKIM_RSA_MIN_BITS });
		expect(createDkimSigner(config({ privateKey: ED, domainName: 'Müller.Example.', keySelector: 'Sel.2026' }))).toMatchObject({
			algorithm: 'ed25519-sha256',
			domain: 'xn--mller-kva.example',
			selector: 'sel.2026',
		});
		expect(DKIM_RSA_MAX_BITS).toBe(4096);
	});

	it('a PEM pasted with literal \\n or with its line breaks turned into spaces still reads', () => {
		const escaped = RSA.trim().replace(/\n/g, '\\n');
		const spaced = RSA.trim().replace(/\n/g, ' ');
		const out = (k: string) =>
			createDkimSigner(config({ privateKey: k }))
				.sign(MESSAGE, new Date(0))
				.toString();
		expect(out(escaped)).toBe(out(RSA));
		expect(out(spaced)).toBe(out(RSA));
	});

	it('the TXT record: name at the selector, the public key for RSA (SPKI) and Ed25519 (32 bytes)', () => {
		const r = dkimTxtRecord(config());
		expect(r.name).toBe('s1._domainkey.example.com');
		const spki = createPublicKey(RSA).export({ type: 'spki', format: 'der' }).toString('base64');
		expect(r.value).toBe(`v=DKIM1; k=rsa; p=${spki}`);
		const e = dkimTxtRecord(config({ privateKey: ED }));
		expect(e.value).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
		expect(Buffer.from(e.value.split('p=')[1], 'base64')).toHaveLength(32);
	});
});

describe('alignment (DMARC relaxed: same organisational domain)', () => {
	it.each([
		['example.com', 'anna@example.com', true],
		['example.com', 'anna@mail.example.com', true],
		['mail.example.com', 'anna@example.com', true],
		['a.example.co.uk', 'anna@b.example.co.uk', true],
		['esp-mailer.net', 'anna@example.com', false],
		['example.co.uk', 'anna@other.co.uk', false],
		['x.github.io', 'anna@y.github.io', false],
		['', 'anna@example.com', false],
	])('d=%s with From %s: %s', (d, from, aligned) => expect(dkimAligned(d, from)).toBe(aligned));
});

describe('the signature field', () => {
	it('signs every present header of the list once per instance and once more; absent ones not at all', () => {
		expect(dkimHeaderList(['received', 'from', 'to', 'subject', 'x-mailer', 'content-type'])).toEqual([
			'from',
			'from',
			'to',
			'to',
			'subject',
			'subject',
			'content-type',
			'content-type',
		]);
		expect(dkimHeaderList(['From', 'to', 'to'])).toEqual(['from', 'from', 'to', 'to', 'to']);
	});

	it('is put in front, folded to short lines, with the tags of a relaxed/relaxed signature', () => {
		const at = new Date('2026-12-04T10:00:00Z');
		for (const key of [RSA, ED]) {
			const out = createDkimSigner(config({ privateKey: key }))
				.sign(MESSAGE.replace(/\r\n/g, '\n'), at)
				.toString('latin1');
			const field = /^DKIM-Signature:[^\r]*(?:\r\n[ \t][^\r]*)*\r\n/.exec(out)![0];
			expect(out.slice(field.length)).toBe(MESSAGE);
			for (const line of field.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
			const tags = Object.fromEntries(
				field
					.slice('DKIM-Signature:'.length)
					.replace(/\s+/g, '')
					.split(';')
					.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]),
			);
			expect(tags).toMatchObject({
				v: '1',
				a: key === ED ? 'ed25519-sha256' : 'rsa-sha256',
				c: 'relaxed/relaxed',
				d: 'example.com',
				s: 's1',
				t: String(at.getTime() / 1000),
				h: 'from:from:to:to:subject:subject:date:date:message-id:message-id:mime-version:mime-version:content-type:content-type',
				bh: createHash('sha256').update('Hi Bob\r\n').digest('base64'),
			});
		}
	});

	it('a message without a From field is not signed', () => {
		const signer = createDkimSigner(config());
		expect(() => signer.sign(MESSAGE.replace(/^From: .*\r\n/, ''))).toThrow(DkimSignError);
		expect(() => signer.sign('no header at all\r\n\r\nbody')).toThrow(/without a field name/);
	});
});

/** The message nodemailer's DKIM signer makes of `raw`. */
function nodemailerSign(raw: string, privateKey: string, headerFieldNames: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const out: Buffer[] = [];
		const stream = new DKIM({ domainName: 'example.com', keySelector: 's1', privateKey, headerFieldNames }).sign(Buffer.from(raw, 'latin1'));
		stream.on('data', (d: Buffer) => out.push(d));
		stream.on('end', () => resolve(Buffer.concat(out).toString('latin1')));
		stream.on('error', reject);
	});
}

const wsp = fc.constantFrom(' ', '\t', '  ', ' \t ');
const word = fc.string({ unit: fc.constantFrom(...'abcXYZ019:;=<>@.,-"'.split('')), minLength: 1, maxLength: 8 });
/** A header value with runs of spaces and tabs, folded lines, and whitespace at either end. */
const headerValue = fc
	.array(fc.tuple(word, fc.oneof(wsp, fc.constant('\r\n '), fc.constant('\r\n\t'), fc.constant(''))), { minLength: 1, maxLength: 8 })
	.map((parts) => parts.map(([w, s]) => w + s).join(''));
/** A body with whitespace runs, trailing whitespace, empty lines (also at the end) and 8-bit bytes. */
const bodyText = fc
	.array(fc.oneof(word, wsp, fc.constant('\r\n'), fc.constant('\r\n\r\n'), fc.constant('\xe9\xff')), { maxLength: 30 })
	.map((parts) => parts.join(''));

describe('relaxed canonicalisation agrees with nodemailer', () => {
	it('property: the body hash (bh=) is the same', async () => {
		await fc.assert(
			fc.asyncProperty(bodyText, async (body) => {
				const raw = `From: a@example.com\r\nSubject: x\r\n\r\n${body}`;
				const theirs = /bh=([^;]+);/.exec((await nodemailerSign(raw, RSA, 'From')).replace(/\r\n /g, ''))![1];
				expect(
					createHash('sha256')
						.update(Buffer.from(relaxedBody(body), 'latin1'))
						.digest('base64'),
				).toBe(theirs);
			}),
			{ numRuns: 150 },
		);
	});

	it('property: our canonical form of the signed headers is the data nodemailer signed', async () => {
		const pub = createPublicKey(RSA);
		await fc.assert(
			fc.asyncProperty(headerValue, headerValue, async (subject, to) => {
				const raw = `From: a@example.com\r\nTo:${to}\r\nSubject \t:${subject}\r\n\r\nbody\r\n`;
				const signed = await nodemailerSign(raw, RSA, 'From:To:Subject');
				const field = /^DKIM-Signature:[^\r]*(?:\r\n[ \t][^\r]*)*/.exec(signed)![0];
				const b = /b=([A-Za-z0-9+/=\s]+)$/.exec(field)![1].replace(/\s+/g, '');
				const fields = signed
					.slice(field.length + 2)
					.split('\r\n\r\n')[0]
					.split(/\r\n(?![ \t])/);
				const pick = (name: string) => fields.find((f) => f.slice(0, f.indexOf(':')).trim().toLowerCase() === name)!;
				const data =
					['from', 'to', 'subject'].map((n) => `${relaxedHeader(pick(n))}\r\n`).join('') + relaxedHeader(field.replace(/b=[A-Za-z0-9+/=\s]+$/, 'b='));
				expect(cryptoVerify('sha256', Buffer.from(data, 'latin1'), pub, Buffer.from(b, 'base64'))).toBe(true);
			}),
			{ numRuns: 100 },
		);
	});
});
