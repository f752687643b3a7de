/**
 * Cadence Inbox Trigger inside n8n-core's real PollContext, polling a real Dovecot on loopback. Static data goes
 * through JSON between polls, as n8n stores it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker } from '../../core/tracker';
import { CadenceInboxTrigger } from '../../nodes/CadenceInboxTrigger/CadenceInboxTrigger.node';
import { cadenceImapConnectionTest } from '../../nodes/shared/inbox/credentials';
import { dovecotVersion, startDovecot, type DovecotServer, connectAppender } from '../helpers/dovecot';
import { runPoll, type RunPollOptions } from '../helpers/n8nPoll';

const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'bounces');
const trigger = new CadenceInboxTrigger();
const tracking = { baseUrl: 'https://track.sender.example/webhook/t', secrets: 'old-secret\nnode-test-secret', maxAgeDays: 0 };
// Tokens are signed with the first secret; the credential lists it among others (rotation).
const tracker = createTracker({ secrets: ['old-secret'], baseUrl: tracking.baseUrl });

let server: DovecotServer;
let appender: ImapFlow;
let imapCredential: ICredentialDataDecryptedObject;

function reply(email: string, n: number, token?: string, to = 'Sales <sales@sender.example>'): string {
	return [
		`From: <${email}>`,
		`To: ${to}`,
		`Subject: Re: offer ${n}`,
		`Message-ID: <node-${n}-${Date.now()}@contact.example>`,
		...(token ? [`In-Reply-To: <${token}@sender.example>`] : []),
		'Date: Sat, 21 Nov 2026 09:00:00 +0000',
		'Content-Type: text/plain; charset=utf-8',
		'',
		`Hello (${n})`,
		'',
	].join('\r\n');
}

async function append(raw: string | Buffer, mailbox = 'INBOX'): Promise<number> {
	const r = await appender.append(mailbox, raw);
	if (!r || !r.uid) throw new Error('append failed');
	return r.uid;
}

function poll(parameters: IDataObject, extra: Partial<RunPollOptions> = {}) {
	return runPoll(trigger, {
		parameters: { mailboxes: 'INBOX', ...parameters },
		credentials: { cadenceImapApi: imapCredential, cadenceTrackingApi: tracking },
		...extra,
	});
}

describe.skipIf(dovecotVersion() === null)('Cadence Inbox Trigger (n8n PollContext + Dovecot)', () => {
	beforeAll(async () => {
		server = await startDovecot({ users: { sales: 'sales-pw' } });
		imapCredential = { host: server.host, port: server.port, secure: 'none', user: 'sales', password: 'sales-pw', allowSelfSigned: false };
		appender = await connectAppender(server, 'sales', 'sales-pw');
	});
	afterAll(async () => {
		await appender?.logout().catch(() => undefined);
		await server?.stop();
	});

	it('activation starts from now; later polls emit only new mail; state survives as JSON', async () => {
		await append(reply('history@contact.example', 1));
		const first = await poll({});
		expect(first.response).toBeNull();
		expect(first.staticDataChanged).toBe(true);
		const state = first.staticData['node:Node Under Test'] as IDataObject;
		expect(state.inbox).toMatchObject({ mailboxes: { INBOX: { lastUid: 1 } } });

		const token = tracker.token({
			email: 'buyer@contact.example',
			campaign: 'winter',
			batchTag: 'English-Dealers-Marketing07',
			variant: 'A',
			sentAt: Date.now() - 3_600_000,
		});
		const replyUid = await append(reply('buyer@contact.example', 2, token));
		const bounceUid = await append(readFileSync(join(CORPUS, 'lhost-postfix-31.eml')));
		const second = await poll({ verifyTokens: true }, { staticData: first.staticData });
		expect(second.items.map((e) => [e.type, e.uid])).toEqual([
			['replied', replyUid],
			['bounced', bounceUid],
		]);
		expect(second.items[0]).toMatchObject({ email: 'buyer@contact.example', campaign: 'winter', variant: 'A', token });
		expect(second.items[1].bounce).toMatchObject({ hard: true, reason: 'userunknown', status: '5.1.1' });
		// One item per event, each a plain JSON object n8n can store.
		expect(JSON.parse(JSON.stringify(second.items))).toEqual(second.items);

		const third = await poll({ verifyTokens: true }, { staticData: second.staticData });
		expect(third.response).toBeNull();
	});

	it('manual mode shows the latest messages and leaves the watch position alone', async () => {
		const active = await poll({});
		const uid = await append(reply('manual@contact.example', 3));
		const manual = await poll({}, { staticData: active.staticData, mode: 'manual' });
		expect(manual.items.map((e) => e.uid)).toContain(uid);
		expect(manual.items.length).toBeLessThanOrEqual(5);
		expect(manual.staticData).toEqual(active.staticData);
		// The active workflow still sees that message as new.
		const next = await poll({}, { staticData: active.staticData });
		expect(next.items.map((e) => e.uid)).toEqual([uid]);
	});

	it('bounded batches: at most Max Messages per Poll, the rest next time', async () => {
		let staticData = (await poll({})).staticData;
		const uids = [];
		for (let i = 0; i < 3; i++) uids.push(await append(reply(`batch${i}@contact.example`, 10 + i)));
		const got: unknown[] = [];
		for (let i = 0; i < 3; i++) {
			const r = await poll({ maxMessages: 2 }, { staticData });
			got.push(...r.items.map((e) => e.uid));
			staticData = r.staticData;
		}
		expect(got).toEqual(uids);
	});

	it('emits only the chosen kinds and moves messages per kind', async () => {
		await appender.mailboxCreate('Watch');
		let staticData = (await poll({ mailboxes: 'Watch' })).staticData;
		await append(reply('kind@contact.example', 20), 'Watch');
		await append(readFileSync(join(CORPUS, 'lhost-postfix-31.eml')), 'Watch');
		const r = await poll(
			{
				mailboxes: 'Watch',
				kinds: ['bounce'],
				actions: { action: [{ kinds: ['bounce'], addFlags: '$Bounce, \\Seen', moveTo: 'Watch-Bounces' }] },
			},
			{ staticData },
		);
		expect(r.items.map((e) => e.type)).toEqual(['bounced']);
		staticData = r.staticData;
		expect(((await appender.status('Watch', { messages: true })) || undefined)?.messages).toBe(1);
		expect(((await appender.status('Watch-Bounces', { messages: true, unseen: true })) || undefined)?.unseen).toBe(0);
	});

	it('reply+KEY@ addresses resolve through the Address Keys option (sent tokens)', async () => {
		const token = tracker.token({
			email: 'keyed@contact.example',
			campaign: 'spring',
			batchTag: 'English-Dealers-Marketing01',
			variant: 'A',
			sentAt: Date.now(),
		});
		const key = tracker.addressKey(token);
		const staticData = (await poll({})).staticData;
		// The contact's client dropped the In-Reply-To header; only the reply address carries the key.
		await append(reply('keyed@contact.example', 30, undefined, `<reply+${key}@sender.example>`));
		const r = await poll(
			{ verifyTokens: true, options: { ownAddresses: 'sender.example', addressKeys: JSON.stringify([{ token }]) } },
			{ staticData },
		);
		expect(r.items[0]).toMatchObject({ type: 'replied', addressKey: key, token, campaign: 'spring', email: 'keyed@contact.example' });
	});

	it('inbound leads to substitute addresses carry channel and UTM, unique per sender across polls', async () => {
		let staticData = (await poll({})).staticData;
		const options = {
			ownAddresses: 'sales@sender.example',
			substituteChannels: { channel: [{ plusTag: 'ads', channel: 'Google Ads', source: 'google', medium: 'cpc' }] },
		};
		await append(reply('lead@buyer.example', 40, undefined, '<sales+ads@sender.example>'));
		const r1 = await poll({ options }, { staticData });
		staticData = r1.staticData;
		await append(reply('lead@buyer.example', 41, undefined, '<sales+ads@sender.example>'));
		await append(reply('other-lead@buyer.example', 42, undefined, '<sales+ads@sender.example>'));
		const r2 = await poll({ options }, { staticData });
		const leads = [...r1.items, ...r2.items];
		expect(leads.map((e) => [e.type, e.email, e.unique])).toEqual([
			['inbound', 'lead@buyer.example', true],
			['inbound', 'lead@buyer.example', false],
			['inbound', 'other-lead@buyer.example', true],
		]);
		expect(leads[0]).toMatchObject({ channel: 'Google Ads', utm: { source: 'google', medium: 'cpc' } });
	});

	it('bad settings fail with a clear error', async () => {
		await expect(poll({ mailboxes: ' , ' })).rejects.toThrow(/No mailbox/);
		await expect(poll({ kinds: [] })).rejects.toThrow(/No kinds/);
		await expect(poll({ options: { dynamicTags: '{not json' } })).rejects.toThrow(/Dynamic Plus-Tags is not valid JSON/);
		await expect(poll({ startFrom: 'date', startDate: 'soon' })).rejects.toThrow(/not a date/);
		await expect(
			runPoll(trigger, { parameters: { mailboxes: 'INBOX' }, credentials: { cadenceImapApi: { ...imapCredential, password: 'nope' } } }),
		).rejects.toThrow(/authentication failed/i);
		const started = await poll({ mailboxes: 'INBOX' });
		await expect(poll({ mailboxes: 'Missing-Folder' }, { staticData: started.staticData })).rejects.toThrow(/Missing-Folder/);
	});

	it('the credential test logs in for real', async () => {
		const ok = await cadenceImapConnectionTest.call({} as never, { id: '1', name: 'imap', type: 'cadenceImapApi', data: imapCredential });
		expect(ok.status).toBe('OK');
		const bad = await cadenceImapConnectionTest.call({} as never, {
			id: '1',
			name: 'imap',
			type: 'cadenceImapApi',
			data: { ...imapCredential, password: 'x' },
		});
		expect(bad).toMatchObject({ status: 'Error', message: expect.stringMatching(/authentication failed/i) });
	});
});
