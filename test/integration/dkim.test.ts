/**
 * DKIM signatures made by core/dkim, checked by an independent verifier: Debian's python3-dkim (dkimpy), which
 * fetches the public key from a real DNS server on loopback (dnsmasq via test/helpers/dnsServer). Also after a real
 * Postfix relayed the message into Dovecot. Skipped with the reason when dnsmasq or python3-dkim is missing, a
 * failure when CI is set.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDkimSigner, dkimTxtRecord, type DkimConfig, type DkimSigner } from '../../core/dkim';
import { buildMimeMessage, renderCadenceMessage, type CadenceMessageInput, type RenderedMessage } from '../../core/sendRender';
import { createTracker } from '../../core/tracker';
import { dkimpyAvailable, verifyDkim } from '../helpers/dkimVerify';
import { dnsmasqAvailable, startDnsServer, type DnsServer } from '../helpers/dnsServer';
import { mailStackMissingPackages, startMailStack, type MailStack } from '../helpers/mailStack';

const missing = [...(dnsmasqAvailable() ? [] : ['dnsmasq-base']), ...(dkimpyAvailable() ? [] : ['python3-dkim'])];
const skip = missing.length > 0 && !process.env.CI;
if (skip) console.warn(`dkim.test.ts skipped: missing Debian package(s) ${missing.join(', ')} (scripts/install-system-deps.sh installs them)`);
const stackMissing = mailStackMissingPackages();
const skipStack = skip || (stackMissing.length > 0 && !process.env.CI);

const pem = (k: { privateKey: { export(o: object): string | Buffer } }) => String(k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
const rsa = (bits: number) => pem(generateKeyPairSync('rsa', { modulusLength: bits }));
const KEYS = {
	rsa2048: { domainName: 'sender.test', keySelector: 'cad2048', privateKey: rsa(2048) },
	rsa1024: { domainName: 'sender.test', keySelector: 'cad1024', privateKey: rsa(1024) },
	rsa4096: { domainName: 'sender.test', keySelector: 'cad4096', privateKey: rsa(4096) },
	ed25519: { domainName: 'sender.test', keySelector: 'ed', privateKey: pem(generateKeyPairSync('ed25519')) },
	// A selector whose TXT record is not published.
	unpublished: { domainName: 'sender.test', keySelector: 'nokey', privateKey: rsa(1024) },
} satisfies Record<string, DkimConfig>;
const signers = Object.fromEntries(Object.entries(KEYS).map(([k, c]) => [k, createDkimSigner(c)])) as Record<keyof typeof KEYS, DkimSigner>;

const tracker = createTracker({ secrets: ['dkim integration secret'], baseUrl: 'https://track.sender.test/t' });
const input = (over: Partial<CadenceMessageInput> = {}): CadenceMessageInput => ({
	from: 'Outreach <outreach@sender.test>',
	to: 'anna@customer.test',
	subject: 'Quick question',
	text: 'Hello Anna,\n\nare you the right person? [[unsubscribeUrl]]\n',
	campaign: 'dkim',
	batchTag: 'b1',
	variant: '',
	sentAt: Date.now(),
	...over,
});
const render = (over: Partial<CadenceMessageInput> = {}, listUnsubscribe = true): RenderedMessage =>
	renderCadenceMessage(input(over), { tracker, listUnsubscribe, generateText: over.text === undefined });
const built = async (over: Partial<CadenceMessageInput> = {}, signer = signers.rsa2048, listUnsubscribe = true) =>
	signer.sign(await buildMimeMessage(render(over, listUnsubscribe)));

describe.skipIf(skip)('DKIM signatures verified by dkimpy against a local DNS zone', () => {
	let dns: DnsServer;
	const verify = (messages: Array<Buffer | string>) => verifyDkim(messages, { dns: dns.server });

	beforeAll(async () => {
		const published = (['rsa2048', 'rsa1024', 'rsa4096', 'ed25519'] as const).map((k) => dkimTxtRecord(KEYS[k]));
		dns = await startDnsServer({ records: published.map((r) => ({ name: r.name, type: 'TXT', value: r.value })), localDomains: ['sender.test'] });
	});
	afterAll(async () => dns?.stop());

	it('plain text, HTML + text, non-ASCII subject and From name, long lines and List-Unsubscribe all verify', async () => {
		const longWord = 'x'.repeat(3000);
		const cases = await Promise.all([
			built({}, signers.rsa2048, false),
			built({ html: '<p>Hello <b>Anna</b></p><a href="https://shop.example.com/a">shop</a>', text: 'Hello Anna' }),
			built({ subject: 'Grüße aus Köln – 東京 📨', from: 'Jürgen Müller-Åström <outreach@sender.test>', text: 'Schöne Grüße\nÄÖÜ ß €' }),
			built({ text: `${'word '.repeat(400)}\n${longWord}\nend`, subject: `A ${'long '.repeat(60)}subject` }),
			built({ html: `<p>${'y'.repeat(5000)}</p>`, text: undefined }),
		]);
		// The List-Unsubscribe headers are there and signed.
		const withUnsub = cases[1].toString('latin1');
		expect(withUnsub).toMatch(/^List-Unsubscribe: /m);
		expect(withUnsub).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
		// Every physical line stays within SMTP's 998 octets (the long body line was quoted-printable folded).
		for (const raw of cases)
			expect(
				Math.max(
					...raw
						.toString('latin1')
						.split('\r\n')
						.map((l) => l.length),
				),
			).toBeLessThanOrEqual(998);
		const verdicts = await verify(cases);
		expect(verdicts.map((v) => v.ok)).toEqual([true, true, true, true, true]);
		const h = verdicts[1].tags.h.split(':');
		for (const name of ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'mime-version', 'content-type']) {
			expect(h).toContain(name);
		}
		expect(h.filter((n) => n === 'from')).toHaveLength(2);
		expect(verdicts[1].tags).toMatchObject({ d: 'sender.test', s: 'cad2048', a: 'rsa-sha256', c: 'relaxed/relaxed' });
		// Every signature's key was fetched from the DNS server.
		expect(dns.queries().filter((q) => q.type === 'TXT' && q.name === 'cad2048._domainkey.sender.test').length).toBeGreaterThanOrEqual(5);
	});

	it('RSA 1024 and 4096 bits and Ed25519 keys verify', async () => {
		const verdicts = await verify(await Promise.all([built({}, signers.rsa1024), built({}, signers.rsa4096), built({}, signers.ed25519)]));
		expect(verdicts.map((v) => [v.ok, v.tags.a])).toEqual([
			[true, 'rsa-sha256'],
			[true, 'rsa-sha256'],
			[true, 'ed25519-sha256'],
		]);
	});

	it('a tampered body, a tampered Subject, or a second From added on top fails verification', async () => {
		const good = (await built({ text: 'Original body line\n' })).toString('latin1');
		const tampered = [
			good.replace('Original body', 'Tampered body'),
			good.replace(/^Subject: .*$/m, 'Subject: Something else'),
			// A second From placed below the signature: oversigning makes it count as an added field.
			good.replace(/\r\nFrom: /, '\r\nFrom: CEO <ceo@sender.test>\r\nFrom: '),
		];
		const verdicts = await verify([good, ...tampered]);
		expect(verdicts.map((v) => v.ok)).toEqual([true, false, false, false]);
	});

	it('a selector without a published key fails verification', async () => {
		const [verdict] = await verify([await built({}, signers.unpublished)]);
		expect(verdict.ok).toBe(false);
		expect(dns.queries().some((q) => q.type === 'TXT' && q.name === 'nokey._domainkey.sender.test')).toBe(true);
	});

	it('property: any rendered message, signed with RSA or Ed25519, verifies; with one body byte changed it does not', async () => {
		const cases: Array<{ raw: Buffer; tampered: Buffer }> = [];
		await fc.assert(
			fc.asyncProperty(
				fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
				fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
				fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
				fc.boolean(),
				async (subject, text, name, ed) => {
					const from = name.replace(/[<>"@\\\s,;:()[\]]/g, '').trim();
					let msg: RenderedMessage;
					try {
						msg = render({ subject, text, from: from ? `${from} <outreach@sender.test>` : 'outreach@sender.test' });
					} catch {
						return; // input the renderer refuses (e.g. an empty subject after cleaning) is not a signing case
					}
					const raw = (ed ? signers.ed25519 : signers.rsa2048).sign(await buildMimeMessage(msg));
					const s = raw.toString('latin1');
					const at = s.indexOf('\r\n\r\n') + 4;
					const body = s.slice(at);
					const k = body.search(/[A-Za-z0-9]/);
					if (k < 0) return;
					const flipped = body[k] === 'Q' ? 'R' : 'Q';
					cases.push({ raw, tampered: Buffer.from(s.slice(0, at + k) + flipped + s.slice(at + k + 1), 'latin1') });
				},
			),
			{ numRuns: 60 },
		);
		expect(cases.length).toBeGreaterThan(30);
		const verdicts = await verify(cases.flatMap((c) => [c.raw, c.tampered]));
		const bad = verdicts.flatMap((v, i) => (v.ok !== (i % 2 === 0) ? [{ i, log: v.log }] : []));
		expect(bad).toEqual([]);
	});
});

describe.skipIf(skipStack)('a signed message after Postfix relayed it into Dovecot', () => {
	let dns: DnsServer;
	let stack: MailStack;
	beforeAll(async () => {
		const r = dkimTxtRecord(KEYS.rsa2048);
		const e = dkimTxtRecord(KEYS.ed25519);
		dns = await startDnsServer({
			records: [
				{ name: r.name, type: 'TXT', value: r.value },
				{ name: e.name, type: 'TXT', value: e.value },
			],
			localDomains: ['sender.test'],
		});
		stack = await startMailStack();
	}, 60_000);
	afterAll(async () => {
		await stack?.stop();
		await dns?.stop();
	});

	it('the stored copy still verifies (RSA and Ed25519, HTML + text with List-Unsubscribe)', async () => {
		const transport = nodemailer.createTransport({ host: stack.smtp.host, port: stack.smtp.port, secure: false, ignoreTLS: true });
		const html = '<p>Grüße, Anna</p><p><a href="https://shop.example.com/x?a=1&b=2">Shop</a></p>';
		const raws = [
			await built({ subject: 'Relayed RSA – Grüße', html, text: 'Grüße, Anna\nhttps://shop.example.com/x' }),
			await built({ subject: 'Relayed Ed25519', html }, signers.ed25519),
		];
		for (const raw of raws) await transport.sendMail({ envelope: { from: 'outreach@sender.test', to: ['anna@customer.test'] }, raw });
		transport.close();
		const stored = await stack.waitForMessages('anna', 2, 30_000);
		const relayed = stored.filter((m) => /^Relayed /.test(m.subject));
		expect(relayed).toHaveLength(2);
		// Postfix and Dovecot added their trace fields in front; the signed part is unchanged.
		expect(relayed[0].raw.toString('latin1')).toMatch(/^Received: /m);
		const verdicts = await verifyDkim(
			relayed.map((m) => m.raw),
			{ dns: dns.server },
		);
		expect(verdicts.map((v) => [v.ok, v.tags.a])).toEqual([
			[true, 'rsa-sha256'],
			[true, 'ed25519-sha256'],
		]);
	}, 60_000);
});
