/**
 * Cadence Send inside n8n-core's real ExecuteContext (expressions, defaults, continueOnFail, pairedItem), sending
 * to a real SMTP server on loopback.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import type { ICredentialDataDecryptedObject, ICredentialsDecrypted, ICredentialTestFunctions, IDataObject } from 'n8n-workflow';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { chooseVariant, createTracker } from '../../core/tracker';
import { runNode } from '../helpers/n8n';
import { sinkSmtpCredential, trackingCredential } from '../helpers/sendNode';
import { useSmtpSink } from '../helpers/smtpSinkHooks';

const node = new CadenceSend();
const SECRET = 'node-test-secret-0123456789abcdef';
const BASE_URL = 'https://track.example.com/webhook/abc123/t';
const tracker = createTracker({ secrets: [SECRET], baseUrl: BASE_URL });

let rejectAddresses = new Set<string>();
const sink = useSmtpSink({ onRcptTo: (a) => (rejectAddresses.has(a) ? { code: 550, message: '5.1.1 User unknown' } : undefined) });
beforeEach(() => {
	rejectAddresses = new Set();
});

function credentials(smtp: IDataObject = {}, tracking: IDataObject = {}) {
	return {
		cadenceSmtpApi: sinkSmtpCredential(sink(), { poolSize: 3, ...smtp }),
		cadenceTrackingApi: trackingCredential(BASE_URL, SECRET, tracking),
	};
}

const baseParams = {
	subject: '={{ "Hello " + $json.name }}',
	html: '=<html><body><p>Dear {{ $json.name }},</p><a href="https://shop.example.com/?ref={{ $json.name }}">Shop</a> <a href="[[unsubscribeUrl]]">unsubscribe</a></body></html>',
	campaign: 'spring',
};

const contacts = (n: number, domain = 'example.com') =>
	Array.from({ length: n }, (_, i) => ({ email: `person${i}@${domain}`, name: `Person ${i}`, batchTag: 'English-Dealers-Marketing05' }));

describe('Cadence Send node', () => {
	it('sends one personalised, tracked message per item and outputs a sent event with pairedItem', async () => {
		const { outputs, json } = await runNode(node, { parameters: baseParams, items: contacts(3), credentials: credentials() });
		expect(json).toHaveLength(3);
		expect(outputs[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		for (const [i, e] of json.entries()) {
			expect(e).toMatchObject({
				type: 'sent',
				email: `person${i}@example.com`,
				campaign: 'spring',
				batchTag: 'English-Dealers-Marketing05',
				variant: '',
				smtpResponse: expect.stringMatching(/^250/),
				contact: contacts(3)[i],
			});
			expect(tracker.verifyToken(e.token as string)?.email).toBe(`person${i}@example.com`);
			expect(e.messageId).toBe(`<${e.token}@sender.example.com>`);
			expect(e.addressKey).toBe(tracker.addressKey(e.token as string));
			expect(typeof e.id).toBe('string');
			expect(Date.parse(e.at as string)).not.toBeNaN();
		}
		expect(sink().messages).toHaveLength(3);
		const parsed = await simpleParser(sink().messages.find((m) => m.rcptTo[0] === 'person1@example.com')!.raw);
		expect(parsed.subject).toBe('Hello Person 1');
		expect(parsed.from?.value[0]).toMatchObject({ name: 'Sales', address: 'sales@sender.example.com' });
		const click = [...String(parsed.html).matchAll(/href="([^"]+)"/g)]
			.map((m) => tracker.parse(m[1].replace(/&amp;/g, '&')))
			.find((p) => p?.kind === 'click');
		expect(click?.target).toBe('https://shop.example.com/?ref=Person 1&utm_source=cadence&utm_medium=email&utm_campaign=spring');
		expect(parsed.text).toContain('Dear Person 1,');
	});

	it('an invalid address fails the node before anything is sent (no Continue On Fail)', async () => {
		const items = contacts(3);
		items[1].email = 'broken-address';
		await expect(runNode(node, { parameters: baseParams, items, credentials: credentials() })).rejects.toMatchObject({
			message: expect.stringMatching(/Invalid recipient address "broken-address": the address has no "@"/),
			context: { itemIndex: 1 },
		});
		expect(sink().messages).toHaveLength(0);
	});

	it('with Continue On Fail the invalid item becomes a failed event and the rest is sent', async () => {
		const items = contacts(3);
		items[2].email = 'nobody@nowhere';
		const { json } = await runNode(node, { parameters: baseParams, items, credentials: credentials(), continueOnFail: true });
		expect(json.map((e) => e.type)).toEqual(['sent', 'sent', 'failed']);
		expect(json[2]).toMatchObject({ reason: 'invalid-address', email: 'nobody@nowhere', error: expect.stringMatching(/no dot/) });
		expect(sink().messages).toHaveLength(2);
	});

	it('a content problem shows when the message is rendered: that item fails, the others are sent', async () => {
		// n8n's expression engine turns a failing expression into undefined here, so the body ends up empty.
		const items: IDataObject[] = contacts(3);
		items[1] = { ...items[1], body: { missing: true } };
		const { json } = await runNode(node, {
			parameters: {
				...baseParams,
				html: '={{ $json.body ? JSON.parse("{broken") : "<p>Hi " + $json.name + "</p><a href=\'[[unsubscribeUrl]]\'>unsubscribe</a>" }}',
			},
			items,
			credentials: credentials(),
		});
		expect(json.map((e) => e.type)).toEqual(['sent', 'failed', 'sent']);
		expect(json[1]).toMatchObject({ reason: 'empty-body', email: 'person1@example.com', error: 'The message has neither an HTML nor a text body' });
		expect(json[1].token).toBeUndefined();
		expect(
			sink()
				.messages.map((m) => m.rcptTo[0])
				.sort(),
		).toEqual(['person0@example.com', 'person2@example.com']);
	});

	it('dry run without Continue On Fail stops at a content problem (nothing is sent anyway)', async () => {
		await expect(
			runNode(node, {
				parameters: {
					...baseParams,
					html: '={{ $json.name === "Person 1" ? "" : "<p>x</p><a href=\'[[unsubscribeUrl]]\'>unsubscribe</a>" }}',
					options: { dryRun: true },
				},
				items: contacts(2),
				credentials: credentials(),
			}),
		).rejects.toMatchObject({ message: expect.stringMatching(/neither an HTML nor a text body/), context: { itemIndex: 1 } });
	});

	it('an empty body fails its item with reason empty-body', async () => {
		const { json } = await runNode(node, {
			parameters: { ...baseParams, html: '={{ $json.name === "Person 0" ? "" : "<p>x</p><a href=\'[[unsubscribeUrl]]\'>unsubscribe</a>" }}' },
			items: contacts(2),
			credentials: credentials(),
		});
		expect(json.map((e) => `${e.type}:${e.reason ?? ''}`)).toEqual(['failed:empty-body', 'sent:']);
	});

	it('a 5xx answer fails that item with the server reply; the others are sent', async () => {
		rejectAddresses.add('person1@example.com');
		const { json } = await runNode(node, { parameters: baseParams, items: contacts(3), credentials: credentials() });
		expect(json.map((e) => e.type)).toEqual(['sent', 'failed', 'sent']);
		expect(json[1]).toMatchObject({ reason: 'rejected', smtpCode: 550, smtpResponse: expect.stringMatching(/550 5\.1\.1 User unknown/) });
	});

	it('dry run renders each message without any SMTP traffic', async () => {
		const { json } = await runNode(node, {
			parameters: { ...baseParams, options: { dryRun: true, replyPlusAddress: 'replies.example.com' } },
			items: contacts(2),
			credentials: credentials({ host: '127.0.0.1', port: 1 }),
		});
		expect(json.map((e) => [e.type, e.reason])).toEqual([
			['skipped', 'dry-run'],
			['skipped', 'dry-run'],
		]);
		const message = json[0].message as IDataObject;
		expect(message.subject).toBe('Hello Person 0');
		expect(message.html).toMatch(/<img src="https:\/\/track\.example\.com\/webhook\/abc123\/t\?t=[\w-]+" width="1" height="1"/);
		expect(message.text).toContain('Dear Person 0,');
		expect((message.headers as IDataObject)['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
		expect(message.replyTo).toBe(`reply+${json[0].addressKey}@replies.example.com`);
		expect(sink().messages).toHaveLength(0);
	});

	it('per-company daily cap and duplicates: the overflow is skipped with its reason', async () => {
		const items = [
			...contacts(2, 'big.example.com'),
			...contacts(2, 'mail.example.com').map((c) => ({ ...c, email: c.email.replace('person', 'other') })),
			...contacts(1, 'small.example.org'),
			contacts(1, 'small.example.org')[0],
		];
		const { json } = await runNode(node, { parameters: { ...baseParams, options: { companyDailyCap: 2 } }, items, credentials: credentials() });
		expect(json.map((e) => `${e.type}:${e.reason ?? ''}`)).toEqual([
			'sent:',
			'sent:',
			'skipped:company-cap',
			'skipped:company-cap',
			'sent:',
			'skipped:duplicate',
		]);
		expect(sink().messages).toHaveLength(3);
	});

	it('A/B variants: each contact gets its deterministic variant, carried in token and output', async () => {
		const params = {
			...baseParams,
			variants: {
				variant: [
					{ name: 'A', subject: 'Subject A' },
					{ name: 'B', subject: '={{ "Subject B for " + $json.name }}' },
				],
			},
		};
		const { json } = await runNode(node, { parameters: params, items: contacts(12), credentials: credentials() });
		expect(new Set(json.map((e) => e.variant))).toEqual(new Set(['A', 'B']));
		for (const e of json) {
			expect(e.variant).toBe(chooseVariant(e.email as string, 'spring', ['A', 'B']));
			expect(tracker.verifyToken(e.token as string)?.variant).toBe(e.variant);
			const received = await simpleParser(sink().messages.find((m) => m.rcptTo[0] === e.email)!.raw);
			expect(received.subject).toBe(e.variant === 'A' ? 'Subject A' : `Subject B for ${(e.contact as IDataObject).name}`);
		}
	});

	it('stop-loss from the node options', async () => {
		for (let i = 0; i < 30; i += 2) rejectAddresses.add(`person${i}@example.com`);
		const { json } = await runNode(node, {
			parameters: { ...baseParams, options: { stopLossPercent: 5, stopLossMinimum: 10, concurrency: 1, companyDailyCap: 0 } },
			items: contacts(30),
			credentials: credentials(),
		});
		const answered = json.filter((e) => e.type !== 'skipped');
		expect(answered).toHaveLength(10);
		expect(json.slice(10).every((e) => e.type === 'skipped' && e.reason === 'failure-rate')).toBe(true);
		expect(sink().messages).toHaveLength(5);
	});

	it('options may be expressions per item; fixed ones are read once and hold for every item', async () => {
		const items = contacts(3).map((c, i) => ({ ...c, owner: `owner${i}@sender.example.com` }));
		const { json } = await runNode(node, {
			parameters: { ...baseParams, from: 'Fixed Sender <fixed@sender.example.com>', options: { replyTo: '={{ $json.owner }}', openTracking: false } },
			items,
			credentials: credentials(),
		});
		expect(json.every((e) => e.type === 'sent')).toBe(true);
		for (const [i, m] of sink()
			.messages.map((x) => x)
			.sort((a, b) => a.rcptTo[0].localeCompare(b.rcptTo[0]))
			.entries()) {
			const parsed = await simpleParser(m.raw);
			expect(parsed.replyTo?.value[0].address).toBe(`owner${i}@sender.example.com`);
			expect(parsed.from?.value[0].address).toBe('fixed@sender.example.com');
			expect(String(parsed.html)).not.toContain('<img');
		}
	});

	it('input fields can be merged or dropped', async () => {
		const merged = await runNode(node, {
			parameters: { ...baseParams, options: { inputFields: 'merge' } },
			items: contacts(1),
			credentials: credentials(),
		});
		expect(merged.json[0]).toMatchObject({ name: 'Person 0', type: 'sent', email: 'person0@example.com' });
		const dropped = await runNode(node, {
			parameters: { ...baseParams, options: { inputFields: 'drop' } },
			items: contacts(1),
			credentials: credentials(),
		});
		expect(dropped.json[0].name).toBeUndefined();
		expect(dropped.json[0].contact).toBeUndefined();
	});

	it('wrong SMTP credentials fail the node when nothing was sent, or every item with Continue On Fail', async () => {
		const bad = credentials({ password: 'wrong' });
		await expect(runNode(node, { parameters: baseParams, items: contacts(2), credentials: bad })).rejects.toThrow(/authentication failed/i);
		const { json } = await runNode(node, { parameters: baseParams, items: contacts(2), credentials: bad, continueOnFail: true });
		expect(json.map((e) => `${e.type}:${e.reason}`)).toEqual(['failed:auth', 'failed:auth']);
		expect(sink().messages).toHaveLength(0);
	});

	it('a broken tracking credential stops the node with a clear message', async () => {
		await expect(runNode(node, { parameters: baseParams, items: contacts(1), credentials: credentials({}, { secrets: 'short' }) })).rejects.toThrow(
			/Cadence Tracking credential: Secret on line 1 is shorter than 16 characters/,
		);
	});
});

describe('credential tests', () => {
	const cred = (type: string, data: ICredentialDataDecryptedObject): ICredentialsDecrypted => ({ id: '1', name: type, type, data });
	const ctx = {} as ICredentialTestFunctions;
	const { cadenceSmtpConnectionTest, cadenceTrackingCredentialTest } = node.methods.credentialTest;

	it('SMTP: connects and authenticates for real', async () => {
		const ok = credentials().cadenceSmtpApi;
		expect(await cadenceSmtpConnectionTest.call(ctx, cred('cadenceSmtpApi', ok))).toEqual({ status: 'OK', message: 'Connected and authenticated' });
		const wrong = await cadenceSmtpConnectionTest.call(ctx, cred('cadenceSmtpApi', { ...ok, password: 'nope' }));
		expect(wrong.status).toBe('Error');
		expect(wrong.message).toMatch(/535|credentials/i);
		const closed = await cadenceSmtpConnectionTest.call(ctx, cred('cadenceSmtpApi', { ...ok, port: 1 }));
		expect(closed.status).toBe('Error');
	});

	it('Tracking: checks secrets and URL shape', async () => {
		const ok = credentials().cadenceTrackingApi;
		expect((await cadenceTrackingCredentialTest.call(ctx, cred('cadenceTrackingApi', ok))).status).toBe('OK');
		const rotated = await cadenceTrackingCredentialTest.call(
			ctx,
			cred('cadenceTrackingApi', { ...ok, secrets: `${SECRET}\nold-secret-0123456789abcdef` }),
		);
		expect(rotated).toEqual({
			status: 'OK',
			message: 'Signing with the first of 2 secrets; all 2 verify (keep old secrets while their links may be used)',
		});
		const cases: Array<[ICredentialDataDecryptedObject, RegExp]> = [
			[{ secrets: '' }, /at least one signing secret/],
			[{ secrets: 'short' }, /shorter than 16/],
			[{ secrets: `${SECRET}\n${SECRET}` }, /twice/],
			[{ baseUrl: 'not a url' }, /not a URL/],
			[{ baseUrl: 'ftp://x.example.com/t' }, /https/],
			[{ baseUrl: `${BASE_URL}?t=1` }, /"t" query parameter/],
		];
		for (const [over, re] of cases) {
			const r = await cadenceTrackingCredentialTest.call(ctx, cred('cadenceTrackingApi', { ...ok, ...over }));
			expect(r.status).toBe('Error');
			expect(r.message).toMatch(re);
		}
	});
});
