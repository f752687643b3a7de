/**
 * DKIM signing in Cadence Send, inside n8n-core's real ExecuteContext with a real SMTP server on loopback: the
 * messages the server received verify with an independent verifier (Debian's python3-dkim, keys handed to it as
 * TXT records), a pool's mailboxes sign with their own keys or the pool's, and settings that cannot sign fail the
 * node before anything is sent. A signer that fails on one message fails that item only, never sends it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dkimTxtRecord, type DkimConfig } from '../../core/dkim';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { dkimpyAvailable, verifyDkim } from '../helpers/dkimVerify';
import { runNode } from '../helpers/n8n';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

// The real signer, except that it fails for messages to boom@ addresses: a fault at one message's turn.
vi.mock('../../core/dkim', async (importOriginal) => {
	const real = await importOriginal<typeof import('../../core/dkim')>();
	return {
		...real,
		createDkimSigner: (config: DkimConfig) => {
			const signer = real.createDkimSigner(config);
			return {
				...signer,
				sign: (message: Buffer | string, at?: Date) => {
					if (Buffer.from(message).includes('To: boom@')) throw new Error('simulated signing fault');
					return signer.sign(message, at);
				},
			};
		},
	};
});

const skip = !dkimpyAvailable() && !process.env.CI;
if (skip) console.warn('CadenceSend-dkim.test.ts skipped: python3-dkim is not installed (scripts/install-system-deps.sh installs it)');

const node = new CadenceSend();
const pem = (k: { privateKey: { export(o: object): string | Buffer } }) => String(k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
const KEY_SENDER = pem(generateKeyPairSync('rsa', { modulusLength: 2048 }));
const KEY_A = pem(generateKeyPairSync('ed25519'));
const KEY_B = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }));
const KEY_ESP = pem(generateKeyPairSync('rsa', { modulusLength: 1024 }));
const KEYS: DkimConfig[] = [
	{ domainName: 'sender.example.com', keySelector: 'node1', privateKey: KEY_SENDER },
	{ domainName: 'a.example', keySelector: 'sa', privateKey: KEY_A },
	{ domainName: 'b.example', keySelector: 'sb', privateKey: KEY_B },
	{ domainName: 'esp-mailer.net', keySelector: 'esp', privateKey: KEY_ESP },
];
const TXT = Object.fromEntries(KEYS.map((k) => Object.values(dkimTxtRecord(k))));
const verify = (raws: Buffer[]) => verifyDkim(raws, { txt: TXT });

let sink: SmtpSink;
beforeAll(async () => {
	sink = await startSmtpSink();
});
afterAll(async () => sink.close());
beforeEach(() => {
	sink.messages.length = 0;
});

const tracking = {
	cadenceTrackingApi: { baseUrl: 'https://track.example.com/webhook/abc/t', secrets: 'dkim-node-test-secret-0123456789', maxAgeDays: 0 },
};
const server = { host: '127.0.0.1', tls: 'none', poolSize: 2, maxPerSecond: 0 };
const dkimFields = (k: DkimConfig) => ({ dkimDomain: k.domainName, dkimSelector: k.keySelector, dkimPrivateKey: k.privateKey });
const account = (extra: IDataObject = {}) => ({
	cadenceSmtpApi: { ...server, port: sink.port, defaultFrom: 'Sales <sales@sender.example.com>', ...dkimFields(KEYS[0]), ...extra },
	...tracking,
});
const pool = (mailboxes: unknown[], extra: IDataObject = {}) => ({
	cadenceSenderPoolApi: { ...server, port: sink.port, mailboxes: JSON.stringify(mailboxes), ...dkimFields(KEYS[2]), ...extra },
	...tracking,
});
const people = (n: number) => Array.from({ length: n }, (_, i) => ({ email: `p${i}@c${i}.example` }));
const params = (extra: IDataObject = {}) => ({
	subject: 'Grüße – a question',
	html: '<p>Hallo {{ $json.email }}</p><a href="https://shop.example.com/x">Shop</a> <a href="[[unsubscribeUrl]]">unsubscribe</a>',
	campaign: 'dkim',
	...extra,
});
const send = (items: IDataObject[], credentials: Record<string, ICredentialDataDecryptedObject>, parameters: IDataObject = {}) =>
	runNode(node, { parameters: params(parameters), items, credentials, timezone: 'Europe/Berlin' });
/** The rejection of a run, for its message and description. */
const failure = async (run: Promise<unknown>) => {
	try {
		await run;
	} catch (error) {
		return error as Error & { description?: string };
	}
	throw new Error('the run did not fail');
};

describe.skipIf(skip)('Cadence Send signs with DKIM', () => {
	it('every message of the single account verifies, signed for its domain with From, To, Subject and List-Unsubscribe', async () => {
		const { json } = await send(people(3), account());
		expect(json.map((e) => e.type)).toEqual(['sent', 'sent', 'sent']);
		expect(sink.messages).toHaveLength(3);
		const verdicts = await verify(sink.messages.map((m) => m.raw));
		expect(verdicts.map((v) => v.ok)).toEqual([true, true, true]);
		expect(verdicts[0].tags).toMatchObject({ d: 'sender.example.com', s: 'node1', a: 'rsa-sha256' });
		expect(verdicts[0].tags.h.split(':')).toEqual(expect.arrayContaining(['from', 'to', 'subject', 'list-unsubscribe', 'list-unsubscribe-post']));
	});

	it('a signing domain that does not align with From still signs (and verifies), with one warning in the log', async () => {
		const logged: string[] = [];
		// ctx.logger in the real ExecuteContext: the Logger of n8n-core's own copy of @n8n/backend-common.
		const fromCore = createRequire(createRequire(import.meta.url).resolve('n8n-core'));
		const { Logger } = fromCore('@n8n/backend-common') as { Logger: { prototype: { warn(message: string): void } } };
		const spies = [vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: string) => void logged.push(message))];
		let json: IDataObject[];
		try {
			({ json } = await send(people(2), account(dkimFields(KEYS[3]))));
		} finally {
			spies.forEach((s) => s.mockRestore());
		}
		expect(json.map((e) => e.type)).toEqual(['sent', 'sent']);
		expect(logged.filter((l) => /DKIM domain esp-mailer\.net does not align with the From domain sender\.example\.com/.test(l))).toHaveLength(1);
		const verdicts = await verify(sink.messages.map((m) => m.raw));
		expect(verdicts.map((v) => [v.ok, v.tags.d])).toEqual([
			[true, 'esp-mailer.net'],
			[true, 'esp-mailer.net'],
		]);
	});

	// Enabled once events.ts puts the plan's DKIM stamp on sent events (sendMessages.ts sets it on the plan).
	it('sent events carry dkim { domain, selector, aligned }', async () => {
		let { json } = await send(people(1), account());
		expect(json[0]).toMatchObject({ type: 'sent', dkim: { domain: 'sender.example.com', selector: 'node1', aligned: true } });
		({ json } = await send([{ email: 'q@c9.example' }], account(dkimFields(KEYS[3]))));
		expect(json[0]).toMatchObject({ type: 'sent', dkim: { domain: 'esp-mailer.net', selector: 'esp', aligned: false } });
		({ json } = await send([{ email: 'r@c8.example' }], account({ dkimDomain: '', dkimSelector: '', dkimPrivateKey: '' })));
		expect(json[0].dkim).toBeUndefined();
	});

	it('without DKIM fields the account sends unsigned, as before', async () => {
		const { json } = await send(people(1), account({ dkimDomain: '', dkimSelector: '', dkimPrivateKey: '' }));
		expect(json[0].type).toBe('sent');
		expect(sink.messages[0].raw.toString('latin1')).not.toMatch(/^DKIM-Signature:/im);
	});

	it("a pool's mailboxes sign with their own key, or the pool credential's when they have none", async () => {
		const boxes = [{ from: 'Anna <anna@a.example>', ...dkimFields(KEYS[1]) }, { from: 'Ben <ben@b.example>' }];
		const { json } = await send(people(4), pool(boxes), { senders: 'pool' });
		expect(json.map((e) => e.type)).toEqual(['sent', 'sent', 'sent', 'sent']);
		const verdicts = await verify(sink.messages.map((m) => m.raw));
		const seen = sink.messages.map((m, i) => {
			const from = /^From: .*<([^>]+)>/m.exec(m.raw.toString('latin1'))![1];
			return `${from} ${verdicts[i].ok} ${verdicts[i].tags.d}/${verdicts[i].tags.s}/${verdicts[i].tags.a}`;
		});
		expect(new Set(seen)).toEqual(new Set(['anna@a.example true a.example/sa/ed25519-sha256', 'ben@b.example true b.example/sb/rsa-sha256']));
	});

	it('a signing fault at one message fails that item only; it is never sent unsigned', async () => {
		const items = [{ email: 'p0@c0.example' }, { email: 'boom@c1.example' }, { email: 'p2@c2.example' }];
		const { json } = await send(items, account());
		expect(json.map((e) => e.reason ?? e.type)).toEqual(['sent', 'dkim-error', 'sent']);
		expect(json[1].error).toMatch(/DKIM signing failed, so the message was not sent: simulated signing fault/);
		expect(sink.messages.map((m) => m.rcptTo[0]).sort()).toEqual(['p0@c0.example', 'p2@c2.example']);
		expect((await verify(sink.messages.map((m) => m.raw))).every((v) => v.ok)).toBe(true);
	});
});

describe('DKIM settings that cannot sign fail the node before any message', () => {
	it.each([
		['a malformed key', { dkimPrivateKey: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----' }, /DKIM private key cannot be read/],
		['a selector that is no DNS label', { dkimSelector: 'my selector' }, /DKIM selector "my selector" is not a valid DNS name/],
		['a domain that is no DNS name', { dkimDomain: 'sender_example.com' }, /DKIM domain "sender_example.com" is not a valid DNS name/],
		['a key without a domain', { dkimDomain: '' }, /DKIM Domain is empty/],
	])('single account: %s', async (_, extra, message) => {
		const error = await failure(send(people(2), account(extra)));
		expect(error.message).toMatch(/^Cadence SMTP credential: /);
		expect(error.message).toMatch(message);
		expect(error.description).toMatch(/Nothing was sent/);
		expect(sink.messages).toHaveLength(0);
	});

	it('a pool with one mailbox whose key is bad: nothing is sent, the error names the mailbox', async () => {
		const boxes = [
			{ from: 'anna@a.example', ...dkimFields(KEYS[1]) },
			{ from: 'ben@b.example', ...dkimFields(KEYS[2]), dkimPrivateKey: 'secret' },
		];
		const error = await failure(send(people(4), pool(boxes), { senders: 'pool' }));
		expect(error.message).toMatch(/Cadence Sender Pool credential: Mailbox 2 \(ben@b\.example\): DKIM private key is not a PEM private key/);
		expect(error.description).toMatch(/Nothing was sent/);
		expect(sink.messages).toHaveLength(0);
	});

	it("a pool mailbox with only some DKIM fields of its own is refused, never mixed with the pool's", async () => {
		const error = await failure(send(people(2), pool([{ from: 'anna@a.example', dkimSelector: 'sa' }]), { senders: 'pool' }));
		expect(error.message).toMatch(/Mailbox 1 \(anna@a\.example\): DKIM signing needs .*DKIM Domain and DKIM Private Key is empty/);
		expect(sink.messages).toHaveLength(0);
	});

	it("a bad key in the pool credential's own fields fails the node too", async () => {
		const error = await failure(send(people(2), pool([{ from: 'anna@a.example' }], { dkimSelector: '-bad' }), { senders: 'pool' }));
		expect(error.message).toMatch(/Cadence Sender Pool credential: DKIM selector "-bad"/);
		expect(sink.messages).toHaveLength(0);
	});
});
