/**
 * Sender protection in Cadence Send, inside n8n-core's real ExecuteContext with a real SMTP server on loopback:
 * the day's caps counted from the store (the Sender Status operation's output), the mailbox pool with its daily
 * caps and warm-up, paused mailboxes and domains, and the Sender Status and Resume Sending operations.
 */
import { describe, expect, it } from 'vitest';
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { localDay } from '../../core/sendLedger';
import { DEFAULT_WARMUP_FIRST_DAY } from '../../core/senderProtection';
import { runNode } from '../helpers/n8n';
import { useSmtpSink } from '../helpers/smtpSinkHooks';
import { sinkSmtpCredential, trackingCredential } from '../helpers/sendNode';

const node = new CadenceSend();
const SECRET = 'protection-test-secret-0123456789abcdef';
const BASE_URL = 'https://track.example.com/webhook/abc123/t';
const TZ = 'Europe/Berlin';
const today = () => localDay(new Date(), TZ);

const sink = useSmtpSink();

const tracking = trackingCredential(BASE_URL, SECRET);
const account = (extra: IDataObject = {}) => ({ cadenceSmtpApi: sinkSmtpCredential(sink(), extra), cadenceTrackingApi: tracking });
const pool = (mailboxes: unknown, extra: IDataObject = {}) => ({
	cadenceSenderPoolApi: {
		mailboxes: typeof mailboxes === 'string' ? mailboxes : JSON.stringify(mailboxes),
		host: sink().host,
		port: sink().port,
		tls: 'none',
		user: 'mailer',
		password: 'secret-pass',
		poolSize: 2,
		maxPerSecond: 0,
		...extra,
	},
	cadenceTrackingApi: tracking,
});

const params = (extra: IDataObject = {}) => ({
	subject: 'Hello',
	html: '<p>Hi</p><a href="[[unsubscribeUrl]]">unsubscribe</a>',
	campaign: 'spring',
	...extra,
});
/** One contact per company unless told otherwise, so only the cap under test holds anyone back. */
const people = (n: number, host = (i: number) => `c${i}.example`) => Array.from({ length: n }, (_, i) => ({ email: `p${i}@${host(i)}` }));

const status = (extra: IDataObject = {}) => ({
	day: today(),
	timeZone: TZ,
	generatedAt: new Date().toISOString(),
	companies: {},
	contacts: {},
	mailboxes: {},
	domains: {},
	...extra,
});
const figures = { since: '2026-11-01T00:00:00.000Z', sends: 200, hardBounces: 6, complaints: 0, hardBounceRate: 0.03, complaintRate: 0 };

async function send(items: IDataObject[], parameters: IDataObject, credentials: Record<string, ICredentialDataDecryptedObject>) {
	return runNode(node, { parameters: params(parameters), items, credentials, timezone: TZ });
}
const byType = (json: IDataObject[]) =>
	json.reduce<Record<string, number>>((acc, e) => ((acc[String(e.type)] = (acc[String(e.type)] ?? 0) + 1), acc), {});

describe('day caps counted from the store', () => {
	it('a company that already got 18 messages today gets 2 more, counted over its subdomains', async () => {
		const items = [1, 2, 3, 4, 5].map((i) => ({ email: `p${i}@${i % 2 ? 'a' : 'b'}.acme.co.uk` }));
		const { json } = await send(items, { senderStatus: status({ companies: { 'acme.co.uk': 18 } }) }, account());
		expect(json.map((e) => e.type)).toEqual(['sent', 'sent', 'skipped', 'skipped', 'skipped']);
		expect(json[2]).toMatchObject({ reason: 'company-cap', error: expect.stringContaining('acme.co.uk already got 20') });
		expect(sink().messages).toHaveLength(2);
	});

	it('two hosts under a private public suffix are two companies', async () => {
		const items = Array.from({ length: 4 }, (_, i) => ({ email: `p${i}@${i % 2 ? 'x' : 'y'}.github.io` }));
		const { json } = await send(items, { senderStatus: status({ companies: { 'x.github.io': 19, 'y.github.io': 19 } }) }, account());
		expect(byType(json)).toEqual({ sent: 2, skipped: 2 });
	});

	it('a contact mailed today by another cadence is not mailed again', async () => {
		const { json } = await send(people(3), { senderStatus: status({ contacts: { 'p1@c1.example': 1 } }) }, account());
		expect(json.map((e) => e.reason ?? e.type)).toEqual(['sent', 'contact-cap', 'sent']);
	});

	it('caps of 0 turn the day caps off', async () => {
		const items = Array.from({ length: 25 }, (_, i) => ({ email: `p${i}@one.example` }));
		const { json } = await send(items, { options: { companyDailyCap: 0 } }, account());
		expect(byType(json)).toEqual({ sent: 25 });
	});

	it('without a status the run still caps itself: 20 per company', async () => {
		const items = Array.from({ length: 23 }, (_, i) => ({ email: `p${i}@one.example` }));
		const { json } = await send(items, {}, account());
		expect(byType(json)).toEqual({ sent: 20, skipped: 3 });
	});

	it('a status of another day, or one that is not a status, fails the node and sends nothing', async () => {
		await expect(send(people(2), { senderStatus: status({ day: '2020-01-01' }) }, account())).rejects.toThrow(/counts 2020-01-01, but today is/);
		await expect(send(people(2), { senderStatus: '{"day": 3' }, account())).rejects.toThrow(/Sender Status: not valid JSON/);
		await expect(send(people(2), { senderStatus: { hello: 1 } }, account())).rejects.toThrow(/not a sender status/);
		expect(sink().messages).toHaveLength(0);
	});
});

describe('the single account as a mailbox', () => {
	it('a daily cap on the SMTP credential counts the From address across runs', async () => {
		const box = 'sales@sender.example.com';
		const { json } = await send(
			people(5),
			{
				senderStatus: status({ mailboxes: { [box]: { mailbox: box, domain: 'sender.example.com', sentToday: 2, paused: false, window: figures } } }),
			},
			account({ dailyCap: 4 }),
		);
		expect(json.map((e) => e.reason ?? e.type)).toEqual(['sent', 'sent', 'mailbox-cap', 'mailbox-cap', 'mailbox-cap']);
		expect(json[0].mailbox).toBe(box);
	});

	it('a new mailbox on its first warm-up day sends the ramp’s first-day figure', async () => {
		const { json } = await send(people(DEFAULT_WARMUP_FIRST_DAY + 3), {}, account({ dailyCap: 50, warmupStart: today() }));
		expect(byType(json)).toEqual({ sent: DEFAULT_WARMUP_FIRST_DAY, skipped: 3 });
	});

	it('a paused mailbox sends nothing and says why; a paused sending domain too', async () => {
		const box = 'sales@sender.example.com';
		const paused = {
			mailbox: box,
			domain: 'sender.example.com',
			sentToday: 0,
			paused: true,
			pausedAt: '2026-11-30T08:00:00Z',
			reason: 'hard-bounce rate 3 %',
			window: figures,
		};
		let { json } = await send(people(2), { senderStatus: status({ mailboxes: { [box]: paused } }) }, account());
		expect(json.map((e) => e.reason)).toEqual(['paused', 'paused']);
		expect(json[0].error).toMatch(/hard-bounce rate 3 %.*Resume/);
		({ json } = await send(
			people(1),
			{ senderStatus: status({ domains: { 'sender.example.com': { ...paused, mailbox: 'sender.example.com' } } }) },
			account(),
		));
		expect(json[0].reason).toBe('paused');
		expect(sink().messages).toHaveLength(0);
	});

	it('a malformed warm-up date in the credential fails the node before any mail', async () => {
		await expect(send(people(1), {}, account({ warmupStart: '1st of May' }))).rejects.toThrow(/Cadence SMTP credential/);
		expect(sink().messages).toHaveLength(0);
	});
});

describe('the mailbox pool', () => {
	const boxes = [
		{ from: 'Anna <anna@s1.example>', dailyCap: 2 },
		{ from: 'Ben <ben@s1.example>', dailyCap: 2, replyTo: 'replies@s1.example' },
		{ from: 'Chen <chen@s2.example>', dailyCap: 2 },
	];

	it('rotates over the mailboxes, each up to its cap, each message from its own mailbox', async () => {
		const { json } = await send(people(7), { senders: 'pool' }, pool(boxes));
		expect(json.map((e) => e.mailbox ?? e.reason)).toEqual([
			'anna@s1.example',
			'ben@s1.example',
			'chen@s2.example',
			'anna@s1.example',
			'ben@s1.example',
			'chen@s2.example',
			'mailbox-cap',
		]);
		expect(sink().messages).toHaveLength(6);
		for (const m of sink().messages) {
			const text = m.raw.toString('utf8');
			const from = /^From: (.*)$/m.exec(text)![1];
			const event = json.find((e) => e.email === m.rcptTo[0])!;
			expect(from).toContain(String(event.mailbox));
			if (event.mailbox === 'ben@s1.example') expect(text).toMatch(/^Reply-To: replies@s1\.example/m);
		}
	});

	it('a pool mailbox with a daily cap of 0 is out of the rotation, never unlimited', async () => {
		const { json } = await send(people(3), { senders: 'pool' }, pool([{ from: 'Zed <zed@s9.example>', dailyCap: 0 }, boxes[0]]));
		expect(json.map((e) => e.mailbox ?? e.reason)).toEqual(['anna@s1.example', 'anna@s1.example', 'mailbox-cap']);
	});

	it('skips paused mailboxes and a paused sending domain; all paused sends nothing', async () => {
		const p = (mailbox: string) => ({
			mailbox,
			domain: mailbox.split('@').pop(),
			sentToday: 0,
			paused: true,
			reason: 'complaint rate 0.5 %',
			window: figures,
		});
		let { json } = await send(people(4), { senders: 'pool', senderStatus: status({ domains: { 's1.example': p('s1.example') } }) }, pool(boxes));
		expect(json.map((e) => e.mailbox ?? e.reason)).toEqual(['chen@s2.example', 'chen@s2.example', 'mailbox-cap', 'mailbox-cap']);
		sink().messages.length = 0;
		({ json } = await send(
			people(2),
			{
				senders: 'pool',
				senderStatus: status({ mailboxes: Object.fromEntries(boxes.map((b) => [b.from.match(/<(.*)>/)![1], p(b.from.match(/<(.*)>/)![1])])) }),
			},
			pool(boxes),
		));
		expect(json.map((e) => e.reason)).toEqual(['paused', 'paused']);
		expect(sink().messages).toHaveLength(0);
	});

	it('a mailbox whose server refuses: its messages fail (a later run sends them), the others go out', async () => {
		const broken = [{ from: 'Dora <dora@s3.example>', port: 1 }, ...boxes];
		const { json } = await send(people(4), { senders: 'pool', options: { maxRetries: 0 } }, pool(broken));
		const dora = json.filter((e) => e.mailbox === 'dora@s3.example');
		expect(dora.length).toBeGreaterThan(0);
		for (const e of dora) expect(e).toMatchObject({ type: 'failed', reason: 'connection' });
		expect(json.filter((e) => e.type === 'sent')).toHaveLength(4 - dora.length);
	});

	it.each([
		['not JSON', '[{', /not valid JSON/],
		['an empty list', [], /at least one mailbox/],
		['a mailbox without From', [{ dailyCap: 3 }], /Mailbox 1: .*From/],
		['the same mailbox twice', [{ from: 'a@s.example' }, { from: 'A@s.example' }], /Mailbox 2: a@s\.example is in the pool twice/],
		['a bad warm-up date', [{ from: 'a@s.example', warmupStart: '2026-13-45' }], /Mailbox 1 \(a@s\.example\)/],
		['a negative cap', [{ from: 'a@s.example', dailyCap: -1 }], /Mailbox 1 \(a@s\.example\)/],
	])('a pool with %s fails the node before any mail', async (_name, mailboxes, message) => {
		await expect(send(people(1), { senders: 'pool' }, pool(mailboxes))).rejects.toThrow(message);
		expect(sink().messages).toHaveLength(0);
	});
});

describe('Sender Status and Resume Sending operations', () => {
	const at = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();

	it('counts today from events, pauses a mailbox at 2 % hard bounces, and the Send node obeys it', async () => {
		const box = 'sales@sender.example.com';
		const events: IDataObject[] = [];
		for (let i = 0; i < 100; i++)
			events.push({ id: `s${i}`, type: 'sent', at: at(3), email: `old${i}@c${i}.example`, mailbox: box, messageId: `<m${i}@x>` });
		events.push({ id: 'b1', type: 'bounced', at: at(2), email: 'old1@c1.example', messageId: '<m1@x>', bounceHard: true });
		events.push({ id: 'b2', type: 'bounced', at: at(2), email: 'old2@c2.example', messageId: '<m2@x>', bounce: { hard: true } });
		events.push({ id: 't1', type: 'sent', at: new Date().toISOString(), email: 'p0@c0.example', mailbox: 'other@sender.example.com' });
		const run = await runNode(node, { parameters: { operation: 'senderStatus' }, items: events, timezone: TZ });
		expect(run.outputs).toHaveLength(2);
		const s = run.outputs[0][0].json as IDataObject & { mailboxes: Record<string, IDataObject>; companies: Record<string, number> };
		expect(s.day).toBe(today());
		expect(s.companies['c0.example']).toBe(1);
		expect(s.mailboxes[box]).toMatchObject({ paused: true });
		expect(run.outputs[1].map((i) => i.json)).toEqual([expect.objectContaining({ type: 'paused', mailbox: box })]);
		const { json } = await send(people(2), { senderStatus: s }, account());
		expect(json.map((e) => e.reason)).toEqual(['contact-cap', 'paused']);
	});

	it('Resume Sending makes the resumed event; an empty or malformed mailbox fails that item', async () => {
		const { json } = await runNode(node, {
			parameters: { operation: 'resumeSending', mailbox: 'Sales <Sales@Sender.Example.com>', resumedBy: 'Lena: list cleaned' },
			items: [{}],
		});
		expect(json[0]).toMatchObject({ type: 'resumed', mailbox: 'sales@sender.example.com', scope: 'mailbox', by: 'Lena: list cleaned' });
		const domain = await runNode(node, { parameters: { operation: 'resumeSending', scope: 'domain', mailbox: 'Sender.Example.com' }, items: [{}] });
		expect(domain.json[0]).toMatchObject({ mailbox: 'sender.example.com', scope: 'domain' });
		await expect(runNode(node, { parameters: { operation: 'resumeSending', mailbox: '' }, items: [{}] })).rejects.toThrow(/empty/);
		const soft = await runNode(node, {
			parameters: { operation: 'resumeSending', scope: 'domain', mailbox: 'not a domain' },
			items: [{ a: 1 }],
			continueOnFail: true,
		});
		expect(soft.json[0]).toMatchObject({ a: 1, error: expect.stringContaining('not a domain') });
		expect(soft.outputs[0][0].pairedItem).toEqual({ item: 0 });
	});
});
