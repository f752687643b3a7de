/**
 * Read receipts (RFC 8098 message disposition notifications) as classifyMessage reads them: `displayed` is kind
 * `read_receipt`, attributed to the message it is about; any other disposition is `other`; broken and hostile
 * notifications are `other` in bounded time, never a reply or a bounce. The messages are written by hand after
 * RFC 8098 and the shapes the named clients write.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMessage, MDN_MAX_FIELDS, MDN_MAX_TEXT, mdnIsRead, parseMdnFields, type ClassifyTokenData } from '../../core/classify';
import * as inboxEvents from '../../core/inbox/events';
import { normalizeMetricsEvent, METRICS_EVENT_TYPES } from '../../core/metrics/normalize';

const TOKEN = 'AQB' + 'x7Kp2Qz9Lm4Vt8Rw3Ys6Un1Ho5Jg0Fe'.repeat(2) + '_-aZ';
const KEY = 'k3fzq2mzx7ab';
const data: ClassifyTokenData = {
	email: 'li.wei@dealer.example',
	campaign: 'spring',
	batchTag: 'English-Dealers-Marketing05',
	variant: 'A',
	sentAt: 1_700_000_000_000,
};
const verifyToken = (t: string) => (t === TOKEN ? data : null);
const OWN = { ownAddresses: ['sales@sender.example'] };

const crlf = (lines: string[]) => lines.join('\r\n');

/** The headers of our original message, as a client returns them in the third part. */
const ORIGINAL_HEADERS = [
	'From: Anna from Acme <sales@sender.example>',
	'To: li.wei@dealer.example',
	'Subject: Spare parts for your excavators',
	`Message-ID: <${TOKEN}@sender.example>`,
	`Reply-To: reply+${KEY}@sender.example`,
	'Disposition-Notification-To: sales@sender.example',
	'Date: Mon, 2 Nov 2026 09:00:00 +0000',
];

/** Thunderbird (nsMsgMdnGenerator): "Return Receipt (displayed)", a manual MDN, the original's headers as text/rfc822-headers. */
function thunderbird(disposition = 'manual-action/MDN-sent-manually; displayed'): string {
	return crlf([
		'Return-Path: <>',
		'From: Li Wei <li.wei@dealer.example>',
		'Subject: Return Receipt (displayed) - Spare parts for your excavators',
		'To: Anna from Acme <sales@sender.example>',
		'Message-ID: <0f3a9c2e-5b1d-4e77-a1c2-77f0@dealer.example>',
		'Date: Mon, 2 Nov 2026 10:14:03 +0100',
		'User-Agent: Mozilla Thunderbird',
		'MIME-Version: 1.0',
		'Content-Type: multipart/report; report-type=disposition-notification;',
		' boundary="------------5F0C1D3E8B7A"',
		'',
		'This is a multi-part message in MIME format.',
		'--------------5F0C1D3E8B7A',
		'Content-Type: text/plain; charset=UTF-8',
		'Content-Transfer-Encoding: 7bit',
		'',
		'This is a Return Receipt for the mail that you sent to li.wei@dealer.example.',
		'',
		"Note: This Return Receipt only acknowledges that the message was displayed on the recipient's computer. There is no guarantee that the recipient has read or understood the message contents.",
		'',
		'--------------5F0C1D3E8B7A',
		'Content-Type: message/disposition-notification; name="MDNPart2.txt"',
		'Content-Disposition: inline',
		'Content-Transfer-Encoding: 7bit',
		'',
		'Reporting-UA: dealer.example; Mozilla Thunderbird',
		'Final-Recipient: rfc822;li.wei@dealer.example',
		`Original-Message-ID: <${TOKEN}@sender.example>`,
		`Disposition: ${disposition}`,
		'',
		'--------------5F0C1D3E8B7A',
		'Content-Type: text/rfc822-headers; name="MDNPart3.txt"',
		'Content-Transfer-Encoding: 7bit',
		'Content-Disposition: inline',
		'',
		...ORIGINAL_HEADERS,
		'',
		'--------------5F0C1D3E8B7A--',
		'',
	]);
}

/** Outlook / Exchange: "Read:" (or "Not read:"), an automatic MDN, no returned headers, sent to the reply address. */
function outlook(disposition = 'automatic-action/MDN-sent-automatically; displayed', subject = 'Read: Spare parts for your excavators'): string {
	return crlf([
		'From: "Müller, Jens" <jens.mueller@haendler.example>',
		`To: <reply+${KEY}@sender.example>`,
		`Subject: ${subject}`,
		'Thread-Topic: Spare parts for your excavators',
		'Thread-Index: AQHZx2bW5Y3qkL0sR0Kq1C3H2r4wXg==',
		'Date: Mon, 2 Nov 2026 11:02:41 +0000',
		'Message-ID: <b7c0e1f2a3d4@EX01.haendler.example>',
		'Accept-Language: de-DE, en-US',
		'Content-Language: de-DE',
		'X-MS-Has-Attach:',
		'X-MS-Exchange-Organization-SCL: -1',
		'MIME-Version: 1.0',
		'Content-Type: multipart/report; report-type=disposition-notification; boundary="_000_b7c0e1f2a3d4EX01_"',
		'',
		'--_000_b7c0e1f2a3d4EX01_',
		'Content-Type: text/plain; charset="utf-8"',
		'Content-Transfer-Encoding: quoted-printable',
		'',
		'Ihre Nachricht',
		'',
		'  An: M=C3=BCller, Jens',
		'  Betreff: Spare parts for your excavators',
		'  Gesendet: Montag, 2. November 2026 10:00:00 (UTC+01:00)',
		'',
		'wurde am Montag, 2. November 2026 12:02:41 (UTC+01:00) gelesen.',
		'',
		'--_000_b7c0e1f2a3d4EX01_',
		'Content-Type: message/disposition-notification',
		'',
		'Reporting-UA: EX01.haendler.example; Microsoft Exchange Server 2019',
		'Final-Recipient: rfc822;jens.mueller@haendler.example',
		`Original-Message-ID: <${TOKEN}@sender.example>`,
		`Disposition: ${disposition}`,
		'',
		'--_000_b7c0e1f2a3d4EX01_--',
		'',
	]);
}

/**
 * An Apple-Mail-shaped notification (Apple Mail sends receipts only through add-ons or managed settings): Apple's
 * boundary, Auto-Submitted (an automatic reply by RFC 3834), the notification part in base64, an In-Reply-To.
 */
function appleMail(): string {
	const fields = Buffer.from(
		crlf([
			'Reporting-UA: Mac-Studio.local; Apple Mail (16.0)',
			'Original-Recipient: rfc822;sofia@distribuidora.example',
			'Final-Recipient: rfc822;sofia@distribuidora.example',
			`Original-Message-ID: <${TOKEN}@sender.example>`,
			'Disposition: automatic-action/MDN-sent-automatically; displayed',
			'',
		]),
	).toString('base64');
	return crlf([
		'From: Sofia Ruiz <sofia@distribuidora.example>',
		'To: sales@sender.example',
		'Subject: Leído: Spare parts for your excavators',
		`In-Reply-To: <${TOKEN}@sender.example>`,
		'Auto-Submitted: auto-replied',
		'X-Mailer: Apple Mail (2.3774.600.62)',
		'Mime-Version: 1.0 (Mac OS X Mail 16.0)',
		'Date: Mon, 2 Nov 2026 12:30:00 +0100',
		'Message-Id: <6D1E8F2A-3B4C-4D5E-9F00-AB12CD34EF56@distribuidora.example>',
		'Content-Type: multipart/report; report-type="disposition-notification"; boundary="Apple-Mail=_2F6A1B3C-4D5E-6F70-8192-A3B4C5D6E7F8"',
		'',
		'--Apple-Mail=_2F6A1B3C-4D5E-6F70-8192-A3B4C5D6E7F8',
		'Content-Type: text/plain; charset=utf-8',
		'Content-Transfer-Encoding: 7bit',
		'',
		'The message you sent was displayed.',
		'',
		'--Apple-Mail=_2F6A1B3C-4D5E-6F70-8192-A3B4C5D6E7F8',
		'Content-Type: message/disposition-notification',
		'Content-Transfer-Encoding: base64',
		'',
		...(fields.match(/.{1,76}/g) ?? []),
		'',
		'--Apple-Mail=_2F6A1B3C-4D5E-6F70-8192-A3B4C5D6E7F8--',
		'',
	]);
}

/** Foxmail: a GB2312 subject "已读: …" and notice text, the original's headers returned as message/rfc822-headers. */
function foxmail(): Buffer {
	const gbk = (hex: string) => Buffer.from(hex.replace(/\s/g, ''), 'hex');
	// 已读 (GBK D2D1 B6C1), 邮件已读 (D3CA BCFE D2D1 B6C1)
	const subject = '=?gb2312?B?' + Buffer.concat([gbk('D2D1B6C1'), Buffer.from(': Spare parts')]).toString('base64') + '?=';
	const head = crlf([
		'From: "=?gb2312?B?wO7Ov7Cy?=" <liwei@foxmail.com>',
		'To: "sales" <sales@sender.example>',
		`Subject: ${subject}`,
		'Mime-Version: 1.0',
		'Date: Tue, 3 Nov 2026 08:05:11 +0800',
		'Message-ID: <tencent_9A1B2C3D4E5F@qq.com>',
		'X-Mailer: Foxmail 7.2.25.375[cn]',
		'Content-Type: multipart/report; report-type=disposition-notification;',
		'\tboundary="----=_NextPart_6371A2B4_0C1D2E3F_4A5B6C7D"',
		'',
		'------=_NextPart_6371A2B4_0C1D2E3F_4A5B6C7D',
		'Content-Type: text/plain; charset="gb2312"',
		'Content-Transfer-Encoding: 8bit',
		'',
		'',
	]);
	const rest = crlf([
		'',
		'',
		'------=_NextPart_6371A2B4_0C1D2E3F_4A5B6C7D',
		'Content-Type: message/disposition-notification',
		'',
		'Reporting-UA: foxmail.com; Foxmail 7.2',
		'Final-Recipient: rfc822; liwei@foxmail.com',
		`Original-Message-ID: <${TOKEN}@sender.example>`,
		'Disposition: manual-action/MDN-sent-manually; displayed',
		'',
		'------=_NextPart_6371A2B4_0C1D2E3F_4A5B6C7D',
		'Content-Type: message/rfc822-headers',
		'',
		...ORIGINAL_HEADERS,
		'',
		'------=_NextPart_6371A2B4_0C1D2E3F_4A5B6C7D--',
		'',
	]);
	return Buffer.concat([Buffer.from(head, 'latin1'), gbk('D3CA BCFE D2D1 B6C1'), Buffer.from(rest, 'latin1')]);
}

/** A notification with the given report part (or none) and headers. */
function report(part: string | null, extraHeaders: string[] = [], reportType = 'disposition-notification'): string {
	return crlf([
		'From: someone@dealer.example',
		'To: sales@sender.example',
		'Subject: Re: Spare parts for your excavators',
		...extraHeaders,
		`Content-Type: multipart/report; report-type=${reportType}; boundary="R"`,
		'',
		'--R',
		'Content-Type: text/plain',
		'',
		'Your message was read.',
		...(part === null ? [] : ['--R', 'Content-Type: message/disposition-notification', '', part]),
		'--R--',
		'',
	]);
}

describe('read receipts from real clients', () => {
	it.each([
		['Thunderbird', () => thunderbird(), 'li.wei@dealer.example'],
		['Outlook / Exchange', () => outlook(), 'li.wei@dealer.example'],
		['Apple Mail', () => appleMail(), 'li.wei@dealer.example'],
		['Foxmail', () => foxmail(), 'li.wei@dealer.example'],
	] as const)('%s: a displayed notification is a read_receipt attributed by its Original-Message-ID', (_client, raw, contact) => {
		const c = classifyMessage(raw(), { verifyToken, ...OWN });
		expect(c.kind).toBe('read_receipt');
		expect(c.disposition).toBe('displayed');
		expect(c.originalMessageId).toBe(`<${TOKEN}@sender.example>`);
		expect(c.token).toBe(TOKEN);
		expect(c.tokenData).toEqual(data);
		expect(c.contact).toBe(contact);
		expect(c.bounces).toEqual([]);
		expect(c.replyIntent).toBeUndefined();
		expect(c.problem).toBeUndefined();
	});

	it('Foxmail: the GB2312 subject is decoded', () => {
		expect(classifyMessage(foxmail()).subject).toBe('已读: Spare parts');
	});

	it('without a token verifier the reader is the Final-Recipient; the reply key is read from To', () => {
		const c = classifyMessage(outlook(), OWN);
		expect(c.kind).toBe('read_receipt');
		expect(c.addressKey).toBe(KEY);
		// the unverified token still has the shape of ours
		expect(c.token).toBe(TOKEN);
		expect(c.contact).toBe('jens.mueller@haendler.example');
	});

	it('a notification without Original-Message-ID is attributed by the returned headers, or by In-Reply-To', () => {
		const noId = thunderbird().replace(/^Original-Message-ID:.*\r\n/m, '');
		expect(noId).not.toMatch(/Original-Message-ID/);
		const c = classifyMessage(noId, { verifyToken });
		expect(c).toMatchObject({ kind: 'read_receipt', token: TOKEN, contact: data.email });
		expect(c.originalMessageId).toBeUndefined();
		const bare = report('Final-Recipient: rfc822;x@dealer.example\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n', [
			`In-Reply-To: <${TOKEN}@sender.example>`,
		]);
		expect(classifyMessage(bare, { verifyToken })).toMatchObject({ kind: 'read_receipt', token: TOKEN, contact: data.email });
	});

	it('a notification of someone else’s message is still a read receipt, with no token', () => {
		const c = classifyMessage(thunderbird().split(TOKEN).join('unrelated-id-1234'), { verifyToken });
		expect(c.kind).toBe('read_receipt');
		expect(c.token).toBeUndefined();
		expect(c.contact).toBe('li.wei@dealer.example');
	});
});

describe('dispositions that are not a read', () => {
	it.each([
		['automatic-action/MDN-sent-automatically; deleted', 'deleted'],
		['manual-action/MDN-sent-manually; denied', 'denied'],
		['automatic-action/MDN-sent-automatically; failed', 'failed'],
		['automatic-action/MDN-sent-automatically; displayed/error', 'displayed/error'],
		['automatic-action/MDN-sent-automatically; displayed/denied', 'displayed/denied'],
		['automatic-action/MDN-sent-automatically; dispatched', 'dispatched'],
		['automatic-action/MDN-sent-automatically; processed', 'processed'],
		['manual-action/MDN-sent-manually; DELETED (moved to trash)', 'deleted'],
	])('%s → other (%s), still attributed', (disposition, read) => {
		const c = classifyMessage(outlook(disposition, 'Not read: Spare parts for your excavators'), { verifyToken, ...OWN });
		expect(c.kind).toBe('other');
		expect(c.disposition).toBe(read);
		expect(c.token).toBe(TOKEN);
		expect(c.contact).toBe(data.email);
	});

	it('a displayed type in any case and spacing is a read', () => {
		expect(classifyMessage(thunderbird('Manual-Action/MDN-Sent-Manually ;  DISPLAYED'), { verifyToken }).kind).toBe('read_receipt');
		expect(classifyMessage(thunderbird('displayed'), { verifyToken }).kind).toBe('read_receipt');
	});
});

describe('parseMdnFields', () => {
	it('reads folded fields, the first value of a field, and the recipient from Original-Recipient when Final-Recipient has none', () => {
		const mdn = parseMdnFields(
			[
				'Reporting-UA: a.example;',
				'  Some Client 1.0',
				'Original-Recipient: rfc822;First@Dealer.example',
				'Final-Recipient: rfc822;',
				'Original-Message-ID: junk <id@x> trailing',
				'Disposition: manual-action/MDN-sent-manually;',
				' displayed',
				'Disposition: automatic-action/MDN-sent-automatically; deleted',
			].join('\n'),
		);
		expect(mdn).toMatchObject({
			reportingUa: 'a.example; Some Client 1.0',
			recipient: 'first@dealer.example',
			originalMessageId: '<id@x>',
			disposition: 'displayed',
			actionMode: 'manual-action',
			modifiers: [],
		});
		expect(mdnIsRead(mdn!)).toBe(true);
	});

	it('is null without a Disposition field, and for empty or non-string input', () => {
		expect(parseMdnFields('Final-Recipient: rfc822;a@b.example\nOriginal-Message-ID: <x@y>')).toBeNull();
		expect(parseMdnFields('')).toBeNull();
		expect(parseMdnFields(undefined as unknown as string)).toBeNull();
	});

	it('never throws, and only `displayed` without a negative modifier is a read (property)', () => {
		fc.assert(
			fc.property(fc.string({ maxLength: 300 }), fc.constantFrom('displayed', 'deleted', 'Displayed', 'processed', ''), (junk, type) => {
				const mdn = parseMdnFields(`${junk}\nDisposition: ${junk.replace(/[\r\n]/g, ' ')}; ${type}\n`);
				if (mdn && mdnIsRead(mdn)) expect(mdn.disposition).toBe('displayed');
			}),
			{ numRuns: 150 },
		);
	});
});

describe('hostile and broken notifications', () => {
	it('a disposition-notification report without its notification part is other with the problem, never a reply', () => {
		const c = classifyMessage(report(null, [`In-Reply-To: <${TOKEN}@sender.example>`]), { verifyToken });
		expect(c.kind).toBe('other');
		expect(c.problem).toMatch(/disposition notification without a readable Disposition field/);
		expect(c.token).toBe(TOKEN);
		expect(c.replyIntent).toBeUndefined();
	});

	it('a notification part without a Disposition field is other with the problem', () => {
		const c = classifyMessage(report('Final-Recipient: rfc822;x@dealer.example\r\nOriginal-Message-ID: <a@b>\r\n'));
		expect(c.kind).toBe('other');
		expect(c.problem).toMatch(/Disposition field/);
	});

	it('fields labelled text/plain inside a disposition-notification report are still read', () => {
		const raw = report(null).replace(
			'Your message was read.',
			'Final-Recipient: rfc822;x@dealer.example\r\nDisposition: automatic-action/MDN-sent-automatically; displayed',
		);
		expect(classifyMessage(raw).kind).toBe('read_receipt');
	});

	it('an empty envelope sender and returned headers do not make a read receipt a bounce', () => {
		const c = classifyMessage(
			thunderbird().replace('From: Li Wei <li.wei@dealer.example>', 'From: Mail Delivery System <MAILER-DAEMON@dealer.example>'),
		);
		expect(c.kind).toBe('read_receipt');
		expect(c.bounces).toEqual([]);
	});

	it('a huge Disposition field is cut, read in bounded time and reported', () => {
		// unknown extension modifiers do not take the read away; a negative one after the cut is never seen
		const huge = 'automatic-action/MDN-sent-automatically; displayed/' + 'x-ext,'.repeat(200_000) + 'error';
		const started = Date.now();
		const c = classifyMessage(report(`Final-Recipient: rfc822;x@dealer.example\r\nDisposition: ${huge}\r\n`));
		expect(Date.now() - started).toBeLessThan(5_000);
		expect(c.kind).toBe('read_receipt');
		expect(c.disposition!.length).toBeLessThan(1_000);
		expect(c.problem).toMatch(/longer than/);
		const hugeId = classifyMessage(
			report(`Disposition: manual-action/MDN-sent-manually; displayed\r\nOriginal-Message-ID: <${'a'.repeat(30_000)}@x>\r\n`),
		);
		expect(hugeId.kind).toBe('read_receipt');
		expect((hugeId.originalMessageId ?? '').length).toBeLessThanOrEqual(998);
	});

	it('a notification with a flood of fields stops at the limits and says so', () => {
		const many = Array.from({ length: MDN_MAX_FIELDS + 50 }, (_, i) => `X-Field-${i}: ${i}`).join('\r\n');
		const c = classifyMessage(report(`${many}\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n`));
		// the Disposition after the limit is never read
		expect(c.kind).toBe('other');
		const long = 'X-Pad: ' + 'y'.repeat(MDN_MAX_TEXT) + '\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n';
		const d = classifyMessage(report(long));
		expect(d.kind).toBe('other');
		expect(c.problem).toMatch(`more than ${MDN_MAX_FIELDS} disposition notification fields`);
		expect(d.problem).toMatch(/longer than/);
	});

	it('random bytes in the notification part never throw and give read_receipt or other (property)', () => {
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, withDisposition) => {
				const part = Buffer.from(bytes).toString('latin1') + (withDisposition ? '\r\nDisposition: x; displayed\r\n' : '');
				const c = classifyMessage(Buffer.from(report(part), 'latin1'));
				expect(['read_receipt', 'other']).toContain(c.kind);
			}),
			{ numRuns: 100 },
		);
	});
});

describe('read receipts as events', () => {
	it('Cadence Metrics accepts read_receipt events', () => {
		expect(METRICS_EVENT_TYPES).toContain('read_receipt');
		expect(normalizeMetricsEvent({ id: 'r1', type: 'Read_Receipt', at: '2026-11-02T10:00:00Z', email: 'a@b.example' }).type).toBe('read_receipt');
	});

	const eventType = (inboxEvents.INBOX_EVENT_TYPE as Record<string, string>).read_receipt;
	it.skipIf(eventType === undefined)('a read receipt becomes one read_receipt event with the campaign of its token', () => {
		const [event] = inboxEvents.classificationToEvents(classifyMessage(thunderbird(), { verifyToken }));
		expect(event).toMatchObject({
			type: 'read_receipt',
			kind: 'read_receipt',
			email: data.email,
			campaign: 'spring',
			batchTag: data.batchTag,
			token: TOKEN,
		});
		expect(inboxEvents.INBOX_MESSAGE_KINDS).toContain('read_receipt');
	});
});
