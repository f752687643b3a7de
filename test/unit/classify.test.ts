import { describe, expect, it } from 'vitest';
import { classifyMessage, newReplyText } from '../../core/classify';
import { crlfMessage } from '../helpers/bounceFixtures';

const TOKEN = 'AQB' + 'x7Kp2Qz9Lm4Vt8Rw3Ys6Un1Ho5Jg0Fe'.repeat(2) + '_-aZ';
const data = { email: 'ann@client.example', campaign: 'spring', batchTag: 'b1', variant: 'A', sentAt: 1_700_000_000_000 };
const verifyToken = (t: string) => (t === TOKEN ? data : null);

const dsn = (action: string, status: string, diag: string, extra = '') =>
	crlfMessage(
		{
			From: 'Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>',
			To: 'sales@ours.example',
			Subject: 'Returned mail: see transcript for details',
			'Content-Type': 'multipart/report; report-type=delivery-status; boundary="BB"',
		},
		[
			'--BB',
			'Content-Type: text/plain',
			'',
			'The message could not be delivered.',
			'--BB',
			'Content-Type: message/delivery-status',
			'',
			'Reporting-MTA: dns; mx.example.net',
			'',
			'Final-Recipient: rfc822; ann@client.example',
			`Action: ${action}`,
			`Status: ${status}`,
			`Diagnostic-Code: smtp; ${diag}`,
			extra,
			'--BB',
			'Content-Type: message/rfc822',
			'',
			`Message-ID: <${TOKEN}@ours.example>`,
			`X-Cadence-Token: ${TOKEN}`,
			'From: sales@ours.example',
			'To: ann@client.example',
			'Subject: hello',
			'',
			'hi',
			'--BB--',
			'',
		].join('\r\n'),
	);

describe('classifyMessage: delivery reports', () => {
	it('reads each recipient block of an RFC 3464 report and attributes the returned original', () => {
		const raw = dsn(
			'failed',
			'5.1.1',
			'550 5.1.1 <ann@client.example>: Recipient address rejected: User unknown',
			'\r\nFinal-Recipient: rfc822; bob@client.example\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n',
		);
		const c = classifyMessage(raw, { verifyToken });
		expect(c.kind).toBe('bounce');
		expect(c.bounces.map((b) => [b.recipient, b.status, b.reason, b.hard, b.replyCode])).toEqual([
			['ann@client.example', '5.1.1', 'userunknown', true, '550'],
			['bob@client.example', '5.2.2', 'mailboxfull', false, '552'],
		]);
		expect(c.token).toBe(TOKEN);
		expect(c.tokenData).toEqual(data);
		expect(c.contact).toBe('ann@client.example');
	});

	it('treats a policy block as soft and a delayed report as a delay', () => {
		const blocked = classifyMessage(dsn('failed', '5.7.1', '550 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org'));
		expect(blocked.bounces[0]).toMatchObject({ reason: 'blocked', hard: false });
		const delayed = classifyMessage(dsn('delayed', '4.4.7', '421 4.4.7 try again later'));
		expect(delayed.kind).toBe('delay');
		expect(delayed.bounces[0]).toMatchObject({ action: 'delayed', hard: false });
		const delivered = classifyMessage(dsn('delivered', '2.0.0', '250 OK'));
		expect(delivered.kind).toBe('delivered');
	});

	it('keeps only verified tokens when a verifier is given', () => {
		const c = classifyMessage(dsn('failed', '5.1.1', '550 user unknown'), { verifyToken: () => null });
		expect(c.token).toBeUndefined();
		expect(c.contact).toBe('ann@client.example');
	});

	it('reads a plain-text (qmail style) notice with X-Failed-Recipients', () => {
		const raw = crlfMessage(
			{ From: 'MAILER-DAEMON@mx.example.net', To: 'sales@ours.example', Subject: 'failure notice', 'X-Failed-Recipients': 'carl@client.example' },
			"Hi. This is the qmail-send program at mx.example.net.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n\n<carl@client.example>:\n192.0.2.9 does not like recipient.\nRemote host said: 550 5.1.1 <carl@client.example>... No such user\nGiving up on 192.0.2.9.\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <bounce+abcdefghijklmnopqrst@ours.example>\nFrom: sales@ours.example\nTo: carl@client.example\n\nhello\n",
		);
		const c = classifyMessage(raw, { ownAddresses: ['ours.example'] });
		expect(c.kind).toBe('bounce');
		expect(c.bounces).toHaveLength(1);
		expect(c.bounces[0]).toMatchObject({ recipient: 'carl@client.example', status: '5.1.1', reason: 'userunknown', hard: true });
		expect(c.addressKey).toBe('abcdefghijklmnopqrst');
	});
});

describe('classifyMessage: complaints, auto-replies, unsubscribes, replies, inbound', () => {
	it('reads an ARF report and its feedback type', () => {
		const raw = crlfMessage(
			{
				From: 'fbl@isp.example',
				To: 'fbl@ours.example',
				Subject: 'FW: abuse report',
				'Content-Type': 'multipart/report; report-type=feedback-report; boundary=X',
			},
			'--X\nContent-Type: text/plain\n\nA complaint\n--X\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: FBL/1.0\nVersion: 1\nOriginal-Rcpt-To: <dan@client.example>\n--X\nContent-Type: text/rfc822-headers\n\nFrom: sales@ours.example\nTo: dan@client.example\n\n--X--\n',
		);
		const c = classifyMessage(raw);
		expect(c).toMatchObject({ kind: 'complaint', feedbackType: 'abuse', contact: 'dan@client.example' });
	});

	it.each([
		[{ 'Auto-Submitted': 'auto-replied' }, 'Re: hello'],
		[{ 'X-Autoreply': 'yes' }, 'Re: hello'],
		[{}, 'Automatic reply: hello'],
		[{}, 'Abwesenheitsnotiz: hello'],
		[{}, '自动回复: hello'],
		[{}, 'Автоответ: hello'],
		[{}, 'Out of Office: back Monday'],
	])('recognises the auto-reply %o %s', (headers, subject) => {
		const c = classifyMessage(crlfMessage({ From: 'ann@client.example', To: 'sales@ours.example', Subject: subject, ...headers }, 'I am away.'));
		expect(c.kind).toBe('auto_reply');
		expect(c.contact).toBe('ann@client.example');
	});

	it.each([
		['Please unsubscribe me.'],
		['Remove me from your list'],
		['退订'],
		['请取消订阅'],
		['Прошу отписать меня от рассылки'],
		['Quiero darme de baja, gracias'],
		['Bitte abmelden.'],
		['Merci de me désinscrire.'],
	])('recognises the removal request %s', (body) => {
		const c = classifyMessage(
			crlfMessage(
				{ From: 'Ann <ann@client.example>', To: 'sales@ours.example', Subject: 'Re: hello', 'In-Reply-To': `<${TOKEN}@ours.example>` },
				body,
			),
			{ verifyToken },
		);
		expect(c.kind).toBe('unsubscribe');
		expect(c.token).toBe(TOKEN);
		expect(c.contact).toBe(data.email);
	});

	it('ignores "unsubscribe" in the quoted part of a reply', () => {
		const body =
			'Sounds good, call me on Tuesday.\n\nOn Mon, 2 Nov 2026, Sales <sales@ours.example> wrote:\n> Our offer...\n> To unsubscribe click here';
		expect(newReplyText(body)).toBe('Sounds good, call me on Tuesday.');
		const c = classifyMessage(
			crlfMessage({ From: 'ann@client.example', To: 'reply+abcdefghijklmnopqrst@ours.example', Subject: 'Re: offer' }, body),
			{
				ownAddresses: ['sales@ours.example'],
			},
		);
		expect(c.kind).toBe('reply');
		expect(c.addressKey).toBe('abcdefghijklmnopqrst');
		expect(c.contact).toBe('ann@client.example');
	});

	it('attributes mail to a substitute address to its channel (static) or visit (dynamic)', () => {
		const options = {
			ownAddresses: ['info@ours.example'],
			substituteChannels: { ads: { channel: 'ads', utm: { source: 'google', medium: 'cpc' } } },
			dynamicTags: { k3f9: { utm: { source: 'newsletter', campaign: 'fall' } } },
		};
		const st = classifyMessage(crlfMessage({ From: 'lead@prospect.example', To: 'info+ads@ours.example', Subject: 'Quote please' }, 'Hi'), options);
		expect(st).toMatchObject({
			kind: 'inbound',
			plusTag: 'ads',
			channel: 'ads',
			utm: { source: 'google', medium: 'cpc' },
			contact: 'lead@prospect.example',
		});
		const dy = classifyMessage(crlfMessage({ From: 'lead@prospect.example', To: 'Info <info+K3F9@ours.example>', Subject: 'Hello' }, 'Hi'), options);
		expect(dy).toMatchObject({ kind: 'inbound', plusTag: 'k3f9', utm: { source: 'newsletter', campaign: 'fall' } });
		const plain = classifyMessage(crlfMessage({ From: 'lead@prospect.example', To: 'info@ours.example', Subject: 'Hello' }, 'Hi'), options);
		expect(plain.kind).toBe('other');
	});
});

describe('classifyMessage: bad input never throws or hangs', () => {
	it('reports empty and header-less messages', () => {
		expect(classifyMessage('')).toMatchObject({ kind: 'other', problem: 'empty message' });
		expect(classifyMessage(Buffer.alloc(0))).toMatchObject({ kind: 'other', problem: 'empty message' });
		expect(classifyMessage('\r\n\r\n   \r\n').kind).toBe('other');
		expect(classifyMessage('\n\njust a body').problem).toMatch(/no message headers/);
		expect(classifyMessage(null as unknown as string).problem).toMatch(/not a string/);
	});

	it('refuses messages over maxBytes but still reads their headers', () => {
		const big = crlfMessage({ From: 'x@client.example', Subject: 'big' }, 'A'.repeat(2_000_000));
		const c = classifyMessage(big, { maxBytes: 1_000_000 });
		expect(c.kind).toBe('other');
		expect(c.problem).toMatch(/over the limit/);
		expect(c.subject).toBe('big');
	});

	it('survives broken MIME: missing or unclosed boundaries, deep nesting, many parts', () => {
		const noBoundary = crlfMessage({ From: 'a@b.example', Subject: 's', 'Content-Type': 'multipart/mixed' }, 'text');
		expect(classifyMessage(noBoundary).problem).toMatch(/without boundary/);
		const unclosed = crlfMessage(
			{ From: 'a@b.example', Subject: 's', 'Content-Type': 'multipart/mixed; boundary=Q' },
			'--Q\nContent-Type: text/plain\n\nhi',
		);
		expect(classifyMessage(unclosed).problem).toMatch(/not closed/);
		let nested = 'From: a@b.example\nSubject: deep\nContent-Type: message/rfc822\n\n';
		for (let i = 0; i < 5000; i++) nested += 'Content-Type: message/rfc822\n\n';
		const started = Date.now();
		expect(classifyMessage(nested).problem).toMatch(/too deep/);
		let many = 'From: a@b.example\nSubject: many\nContent-Type: multipart/mixed; boundary=M\n\n';
		for (let i = 0; i < 20_000; i++) many += '--M\nContent-Type: text/plain\n\nx\n';
		expect(classifyMessage(many).problem).toMatch(/more than/);
		expect(Date.now() - started).toBeLessThan(5000);
	});

	it('decodes base64 and legacy charsets, and tolerates unknown ones', () => {
		const koi = Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]).toString('base64'); // "Привет" in koi8-r
		const raw = crlfMessage(
			{
				From: 'a@client.example',
				To: 'sales@ours.example',
				Subject: '=?koi8-r?B?' + koi + '?=',
				'Content-Type': 'text/plain; charset=koi8-r',
				'Content-Transfer-Encoding': 'base64',
			},
			Buffer.from('Прошу отписать меня', 'utf8').toString('base64'),
		);
		expect(classifyMessage(raw).subject).toBe('Привет');
		const bogus = crlfMessage(
			{ From: 'a@client.example', Subject: 'x', 'Content-Type': 'text/plain; charset=no-such-charset', 'Content-Transfer-Encoding': 'base64' },
			'%%%not base64%%%',
		);
		expect(() => classifyMessage(bogus)).not.toThrow();
		expect(classifyMessage(bogus).kind).toBe('other');
	});
});

describe('repaired structure', () => {
	it('a multipart whose boundary never appears is read as text, and still reports the problem', () => {
		const raw = [
			'From: Anna <anna@customer.test>',
			'To: outreach@sender.test',
			'Subject: Re: spare parts',
			'In-Reply-To: <abc@sender.test>',
			'Content-Type: multipart/alternative; boundary="lost"',
			'',
			'Yes, please send me your price list.',
			'',
		].join('\r\n');
		const c = classifyMessage(raw);
		expect(c.kind).toBe('reply');
		expect(c.problem).toMatch(/boundary/i);
	});
});
