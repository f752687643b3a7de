/**
 * Per-MTA (vendors/lhost.ts) and per-provider (vendors/rhost.ts) rules, on hand-written notices in each format
 * (not corpus files), so each rule is tested for the format it describes.
 */
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../core/classify';
import { EXIM_COPY_LINE, EXIM_PERMANENT_FAILURE_INTRO } from '../helpers/bounceFixtures';

function msg(headers: Record<string, string>, body: string[]): string {
	return (
		Object.entries(headers)
			.map(([k, v]) => `${k}: ${v}`)
			.join('\n') +
		'\n\n' +
		body.join('\n') +
		'\n'
	);
}

const original = ['From: sales@ours.example', 'To: bob@client.example', 'Subject: hello', 'Message-ID: <abc@ours.example>', '', 'hi'];

/** A plain notice with one recipient line and the server's answer (no SMTP command named). */
function plainNotice(from: string, subject: string, answer: string, extra: Record<string, string> = {}): string {
	return msg({ From: from, To: 'sales@ours.example', Subject: subject, ...extra }, [
		'This message was created automatically by mail delivery software.',
		'',
		'  <bob@client.example>: ' + answer,
		'',
		EXIM_COPY_LINE,
		...original,
	]);
}

describe('generic rule: who refused "user unknown"', () => {
	it('reads "user unknown" without a refused command as a filter, and after RCPT as a missing mailbox', () => {
		const filtered = classifyMessage(plainNotice('MAILER-DAEMON@relay.example', 'Mail delivery failed', '550 unknown user'));
		expect(filtered.kind).toBe('bounce');
		expect(filtered.bounces[0]).toMatchObject({ recipient: 'bob@client.example', reason: 'filtered', hard: false, status: '5.0.910' });

		const rcpt = classifyMessage(
			plainNotice(
				'MAILER-DAEMON@relay.example',
				'Mail delivery failed',
				'host mx.client.example[192.0.2.1] said: 550 unknown user (in reply to RCPT TO command)',
			),
		);
		expect(rcpt.bounces[0]).toMatchObject({ reason: 'userunknown', hard: true, status: '5.0.911' });
	});

	it('takes a capitalised command word in a transcript line ("SMTP:RCPT host ...") as the refused command', () => {
		const raw = plainNotice(
			'MAILER-DAEMON@relay.example',
			'Mail delivery failed',
			'Technical details: SMTP:RCPT host 192.0.2.8: 553 5.3.0 No such user here',
		);
		expect(classifyMessage(raw).bounces[0]).toMatchObject({ reason: 'userunknown', status: '5.3.0', hard: true });
	});
});

describe('per-MTA formats (vendors/lhost.ts)', () => {
	it('Exchange 2000/2003: the MSEXCH error code decides (000C05A6 = unknown recipient)', () => {
		const raw = msg(
			{
				From: 'System Administrator <postmaster@corp.example>',
				To: 'sales@ours.example',
				Subject: 'Undeliverable: hello',
				'X-Mailer': 'Internet Mail Service (5.5.2653.19)',
			},
			[
				'Your message',
				'',
				'  To:      bob@client.example',
				'  Subject: hello',
				'  Sent:    Thu, 29 Apr 2010 23:34:45 +0900',
				'',
				'did not reach the following recipient(s):',
				'',
				'bob@client.example on Thu, 29 Apr 2010 23:34:45 +0900',
				'    The recipient name is not recognized',
				'    The MTS-ID of the original message is: c=JP;a= ;p=CORP;l=NEKO0000',
				'    MSEXCH:IMS:CORP:NEKO:MAIL 0 (000C05A6) Unknown Recipient',
			],
		);
		const c = classifyMessage(raw);
		expect(c.kind).toBe('bounce');
		expect(c.bounces[0]).toMatchObject({ recipient: 'bob@client.example', reason: 'userunknown', hard: true });
		const ambiguous = classifyMessage(raw.replace('000C05A6) Unknown Recipient', '000C0595) Ambiguous Recipient'));
		expect(ambiguous.bounces[0]).toMatchObject({ reason: 'filtered', hard: false });
	});

	it('Domino: "not listed in Domino Directory" is a missing user, "Cannot route mail to user" a filter', () => {
		const domino = (why: string) =>
			msg({ From: 'Postmaster@corp.example', To: 'sales@ours.example', Subject: 'DELIVERY FAILURE: User bob not listed' }, [
				'Your message',
				'',
				'  Subject: hello',
				'',
				'was not delivered to:',
				'',
				'  bob@client.example',
				'',
				'because:',
				'',
				`  ${why}`,
			]);
		expect(classifyMessage(domino('User bob (bob@client.example) not listed in Domino Directory')).bounces[0]).toMatchObject({
			reason: 'userunknown',
			hard: true,
		});
		expect(classifyMessage(domino('Cannot route mail to user (bob@client.example)')).bounces[0]).toMatchObject({ reason: 'filtered', hard: false });
	});

	it('Sendmail v5 transcripts: each recipient gets the command and answer of its own session', () => {
		const raw = msg({ From: 'MAILER-DAEMON@mx.ours.example', To: 'sales@ours.example', Subject: 'Returned mail: User unknown' }, [
			'   ----- Transcript of session follows -----',
			'While talking to mx.one.example:',
			'>>> MAIL From:<sales@ours.example>',
			'<<< 501 <sales@ours.example>... no access from mail server [192.0.2.55] which is an open relay.',
			'554 <ann@one.example>... Remote protocol error',
			'While talking to mx.two.example:',
			'>>> RCPT To:<bob@two.example>',
			'<<< 550 <bob@two.example>... User unknown',
			'550 <bob@two.example>... User unknown',
			'',
			'   ----- Unsent message follows -----',
			...original,
		]);
		const c = classifyMessage(raw);
		expect(c.bounces.map((b) => [b.recipient, b.reason, b.hard])).toEqual([
			['ann@one.example', 'blocked', false],
			['bob@two.example', 'userunknown', true],
		]);
	});

	it('Exim: a retried failure ("retry timeout exceeded") gets a temporary pseudo status', () => {
		const raw = msg(
			{
				From: 'Mail Delivery System <Mailer-Daemon@mx.relay.example>',
				To: 'sales@ours.example',
				Subject: 'Mail delivery failed: returning message to sender',
			},
			[...EXIM_PERMANENT_FAILURE_INTRO, '  bob@client.example', '    mailbox is full: retry timeout exceeded', '', EXIM_COPY_LINE, ...original],
		);
		expect(classifyMessage(raw).bounces[0]).toMatchObject({ reason: 'mailboxfull', status: '4.0.922', hard: false });
	});

	it('PowerMTA: its own bounce category decides', () => {
		const raw = msg(
			{
				From: 'postmaster@mta.ours.example',
				To: 'sales@ours.example',
				Subject: 'Delivery report',
				'Content-Type': 'multipart/report; report-type=delivery-status; boundary="PP"',
			},
			[
				'--PP',
				'Content-Type: text/plain',
				'',
				'Hello, this is the mail server on mta.ours.example.',
				'',
				'  <bob@client.example>  delivery failed; will not continue trying',
				'',
				'--PP',
				'Content-Type: message/delivery-status',
				'',
				'Reporting-MTA: dns; mta.ours.example',
				'',
				'Final-Recipient: rfc822;bob@client.example',
				'Action: failed',
				'Status: 5.2.1',
				'Diagnostic-Code: smtp; 550 5.2.1 <bob@client.example>... User Unknown',
				'X-PowerMTA-BounceCategory: bad-mailbox',
				'',
				'--PP--',
			],
		);
		expect(classifyMessage(raw).bounces[0]).toMatchObject({ reason: 'userunknown', status: '5.2.1', hard: true });
	});

	it('fml: a loop alert from the list manager is a system error for the address it names', () => {
		const raw = msg(
			{
				From: 'list-admin@lists.example',
				To: 'sales@ours.example',
				Subject: 'Loop Alert: Duplicated Message-ID (list ML)',
				'Message-Id': '<20170429.FML00002.list@lists.example>',
				'X-MLServer': 'fml [fml 4.0.3]',
			},
			['Duplicated Message-ID in <list@lists.example>.', '', '', 'Original mail as follows:', '', ...original.map((l) => '   ' + l)],
		);
		const c = classifyMessage(raw);
		expect(c.kind).toBe('bounce');
		expect(c.bounces[0]).toMatchObject({ recipient: 'list@lists.example', reason: 'systemerror', hard: false });
	});

	it('Oracle Messaging Server: Action/Status written before the recipient fields still make one row each', () => {
		const raw = msg(
			{
				From: 'Internet Mail Delivery <postmaster@ms.example>',
				To: 'sales@ours.example',
				Subject: 'Delivery Notification: Delivery has failed',
				'Content-type': 'text/plain',
			},
			[
				'Original-envelope-id: 0000@ms.example',
				'Reporting-MTA: dns; ms.example',
				'',
				'Action: failed',
				'Status: 5.0.0 (Remote SMTP server has rejected address)',
				'Original-recipient: rfc822;ann@client.example',
				'Final-recipient: rfc822;ann@client.example',
				'Diagnostic-code: smtp; 550 5.7.1 550 User Unknown: ann@client.example',
				'',
				'Action: failed',
				'Status: 5.0.0 (Remote SMTP server has rejected address)',
				'Original-recipient: rfc822;bob@client.example',
				'Final-recipient: rfc822;bob@client.example',
				'Diagnostic-code: smtp; 550 5.7.1 550 User Unknown: bob@client.example',
			],
		);
		const c = classifyMessage(raw);
		expect(c.bounces.map((b) => [b.recipient, b.status, b.reason])).toEqual([
			['ann@client.example', '5.7.1', 'filtered'],
			['bob@client.example', '5.7.1', 'filtered'],
		]);
	});
});

describe('per-provider rules (vendors/rhost.ts)', () => {
	const viaDsn = (recipient: string, remoteMta: string, status: string, diag: string) =>
		msg(
			{
				From: 'MAILER-DAEMON@mx.ours.example',
				To: 'sales@ours.example',
				Subject: 'Undelivered Mail Returned to Sender',
				'Content-Type': 'multipart/report; report-type=delivery-status; boundary="RR"',
			},
			[
				'--RR',
				'Content-Type: message/delivery-status',
				'',
				'Reporting-MTA: dns; mx.ours.example',
				'',
				`Final-Recipient: rfc822; ${recipient}`,
				'Action: failed',
				`Status: ${status}`,
				`Remote-MTA: dns; ${remoteMta}`,
				`Diagnostic-Code: smtp; ${diag}`,
				'',
				'--RR--',
			],
		);

	it('au (KDDI): "550 : User unknown" is the address filter, "550 <x>: User unknown" a missing mailbox', () => {
		expect(classifyMessage(viaDsn('bob@ezweb.ne.jp', 'lsean.ezweb.ne.jp', '5.0.0', '550 : User unknown')).bounces[0]).toMatchObject({
			reason: 'filtered',
			hard: false,
		});
		expect(classifyMessage(viaDsn('bob@ezweb.ne.jp', 'lsean.ezweb.ne.jp', '5.0.0', '550 <bob@ezweb.ne.jp>: User unknown')).bounces[0]).toMatchObject({
			reason: 'userunknown',
			hard: true,
		});
	});

	it("Orange: the LPN/OFR code's number decides", () => {
		expect(
			classifyMessage(viaDsn('bob@orange.fr', 'smtp-in.orange.fr', '5.0.0', '550 5.0.0 Service refused, please try later. OFR_999 [999]')).bounces[0],
		).toMatchObject({
			reason: 'blocked',
		});
		expect(
			classifyMessage(viaDsn('bob@wanadoo.fr', 'smtp-in.orange.fr', '5.1.1', '550 5.1.1 Adresse d au moins un destinataire invalide. LPN007_416'))
				.bounces[0],
		).toMatchObject({
			reason: 'userunknown',
			hard: true,
		});
	});

	it('Microsoft: status ranges with their phrase; Google: reply code, status and phrase together', () => {
		const ms = viaDsn(
			'bob@client.example',
			'client-example.mail.protection.outlook.com',
			'5.7.606',
			'550 5.7.606 Access denied, banned sending IP [192.0.2.1].',
		);
		expect(classifyMessage(ms).bounces[0]).toMatchObject({ reason: 'blocked', hard: false });
		// Google calls "an unusual rate of unsolicited mail" from the sending IP a block; elsewhere the words read as spam.
		const answer = '550-5.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.';
		expect(classifyMessage(viaDsn('bob@gmail.com', 'gmail-smtp-in.l.google.com', '5.7.28', answer)).bounces[0]).toMatchObject({ reason: 'blocked' });
		expect(classifyMessage(viaDsn('bob@client.example', 'mx.client.example', '5.7.28', answer)).bounces[0]).toMatchObject({ reason: 'spamdetected' });
		// Google's table needs its status too: the same words under a status it never uses are left to the generic rules.
		expect(classifyMessage(viaDsn('bob@gmail.com', 'gmail-smtp-in.l.google.com', '5.7.9', answer.replace('5.7.28', '5.7.9'))).bounces[0].reason).toBe(
			'spamdetected',
		);
	});

	it('Spectrum: AUP# codes by range; Yahoo: its own wording', () => {
		expect(
			classifyMessage(viaDsn('bob@charter.net', 'mx.charter.net', '5.1.0', '554 5.1.0 Too many connections AUP#CXCNCT-1320')).bounces[0],
		).toMatchObject({ reason: 'toomanyconn' });
		expect(
			classifyMessage(
				viaDsn(
					'bob@yahoo.com',
					'mta6.am0.yahoodns.net',
					'5.0.0',
					"554 delivery error: dd This user doesn't have a yahoo.com account (bob@yahoo.com) [0]",
				),
			).bounces[0],
		).toMatchObject({ reason: 'userunknown', hard: true });
	});
});

describe('MIME repairs that keep a notice readable', () => {
	it('reads a multipart whose boundary parameter was lost to a badly folded header', () => {
		const raw =
			msg({ From: 'MAILER-DAEMON@relay.example', To: 'sales@ours.example', Subject: 'Undeliverable', 'Content-Type': 'multipart/mixed;' }, [
				'boundary="XX"',
				'',
			]).replace('boundary="XX"\n\n', '') +
			['--XX', 'Content-Type: text/plain', '', '  <bob@client.example>: 550 5.1.1 user unknown (in reply to RCPT TO command)', '--XX--', ''].join(
				'\n',
			);
		const c = classifyMessage(raw);
		expect(c.kind).toBe('bounce');
		expect(c.bounces[0]).toMatchObject({ recipient: 'bob@client.example', reason: 'userunknown' });
	});

	it('reads the body of a multipart that has no boundary lines at all as text', () => {
		const raw = msg(
			{
				From: 'MAILER-DAEMON@relay.example',
				To: 'sales@ours.example',
				Subject: 'Mail delivery failed',
				'Content-Type': 'multipart/report; boundary="never-used"',
			},
			['  <bob@client.example>: 550 5.1.1 mailbox unavailable (in reply to RCPT TO command)'],
		);
		const c = classifyMessage(raw);
		expect(c.kind).toBe('bounce');
		expect(c.bounces[0]).toMatchObject({ recipient: 'bob@client.example', reason: 'userunknown', status: '5.1.1' });
	});
});
