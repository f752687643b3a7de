/**
 * The general bounce rules one by one, on hand-written notices: statements read by subject and predicate in several
 * languages, boilerplate that proves nothing, an MTA's RCPT framing against the answer's own words, permanent answers
 * in a notice of a retrying MTA, and bounded work on hostile diagnostics.
 */
import { describe, expect, it } from 'vitest';
import { classifyMessage, reasonFromText } from '../../core/classify';
import { CLAUSE_MAX_WORDS, CLAUSE_SCAN_MAX, commandOf, reasonFromClauses } from '../../core/classify/reasons';
import {
	deliveryReportHeaders,
	EXIM_COPY_LINE,
	EXIM_PERMANENT_FAILURE_INTRO,
	multipartBody,
	QMAIL_COPY_LINE,
	qmailRefusal,
} from '../helpers/bounceFixtures';

const ORIGINAL = ['From: sales@ours.example', 'To: bob@client.example', 'Subject: hello', 'Message-ID: <abc@ours.example>', '', 'hi'];

function qmailNotice(answer: string): string {
	return [
		'From: MAILER-DAEMON@mx.ours.example',
		'To: sales@ours.example',
		'Subject: failure notice',
		'',
		'Hi. This is the qmail-send program at mx.ours.example.',
		"I'm afraid I wasn't able to deliver your message to the following addresses.",
		"This is a permanent error; I've given up. Sorry it didn't work out.",
		'',
		...qmailRefusal('bob@client.example', answer),
		'',
		QMAIL_COPY_LINE,
		'',
		...ORIGINAL,
	].join('\n');
}

function eximNotice(answer: string): string {
	return [
		'From: Mail Delivery System <Mailer-Daemon@mx.ours.example>',
		'To: sales@ours.example',
		'Subject: Mail delivery failed: returning message to sender',
		'X-Failed-Recipients: bob@client.example',
		'',
		...EXIM_PERMANENT_FAILURE_INTRO,
		'  bob@client.example',
		...answer.split('\n').map((l) => `    ${l}`),
		'',
		EXIM_COPY_LINE,
		'',
		...ORIGINAL,
	].join('\n');
}

/** A Postfix report whose DSN gives a generic 5.0.0 and the answer's words only. */
function postfixReport(answer: string): string {
	const b = 'BOUNDARY.rules';
	return [
		'From: MAILER-DAEMON@mx.ours.example (Mail Delivery System)',
		'To: sales@ours.example',
		'Subject: Undelivered Mail Returned to Sender',
		...deliveryReportHeaders(b),
		'',
		...multipartBody(b, [
			[
				'Content-Type: text/plain; charset=utf-8',
				'',
				'This is the mail system at host mx.ours.example.',
				'',
				`<bob@client.example>: host mx.client.example[192.0.2.1] said: ${answer} (in reply to RCPT TO command)`,
			],
			[
				'Content-Type: message/delivery-status',
				'',
				'Reporting-MTA: dns; mx.ours.example',
				'',
				'Final-Recipient: rfc822; bob@client.example',
				'Action: failed',
				'Status: 5.0.0',
				`Diagnostic-Code: smtp; ${answer}`,
			],
		]),
	].join('\n');
}

describe('statements read by subject and predicate (reasonFromClauses)', () => {
	it.each([
		['der empfänger existiert nicht', 'userunknown'],
		["le destinataire n'existe pas", 'userunknown'],
		['no existe el usuario', 'userunknown'],
		["l'utente non esiste", 'userunknown'],
		['usuário não encontrado', 'userunknown'],
		['ontvanger bestaat niet', 'userunknown'],
		['такого пользователя нет', 'userunknown'],
		['zieldomain existiert nicht', 'hostunknown'],
		['dominio de destino inexistente', 'hostunknown'],
		['postfach des empfängers ist voll', 'mailboxfull'],
		['quota de la boîte dépassé', 'mailboxfull'],
		['nachricht überschreitet die maximale größe', 'mesgtoobig'],
		['votre message a été bloqué', 'blocked'],
	])('%s → %s', (text, reason) => {
		expect(reasonFromClauses(text)).toBe(reason);
	});

	it('says nothing on delivery boilerplate, on the sender, or on a subject and predicate in different clauses', () => {
		for (const text of [
			'your message could not be delivered to one or more recipients. it is attached below.',
			'die nachricht konnte nicht an den empfänger zugestellt werden',
			"le message n'a pas pu être remis au destinataire",
			'the sender address does not exist',
			'absender unbekannt',
			'please provide the full address of the recipient',
			'the recipient. was not found',
		])
			expect(reasonFromClauses(text), text).toBe('');
	});

	it('reads a subject and predicate only within CLAUSE_MAX_WORDS words, and only the first CLAUSE_SCAN_MAX characters', () => {
		const far = `recipient ${'x '.repeat(CLAUSE_MAX_WORDS)} unknown`;
		expect(reasonFromClauses(far)).toBe('');
		const late = `${'a. '.repeat(CLAUSE_SCAN_MAX)}recipient unknown`;
		expect(reasonFromClauses(late)).toBe('');
		expect(reasonFromClauses('a. recipient unknown')).toBe('userunknown');
	});

	it('is the last resort: a phrase rule that knows the wording decides first', () => {
		// "domain" and "does not exist" would read as an unknown host; the user phrase says it is the mailbox.
		expect(reasonFromText('User does not exist in this domain')).toBe('userunknown');
		expect(reasonFromText('Recipient domain does not exist')).toBe('hostunknown');
	});
});

describe("the refused command from qmail-remote's sentences, whichever qmail derivative wrote them", () => {
	it.each([
		['192.0.2.1 does not like recipient. Remote host said: 550 no such user', 'RCPT'],
		['Connected to 192.0.2.1 but sender was rejected. Remote host said: 553 sorry', 'MAIL'],
		['192.0.2.1 failed on DATA command. Remote host said: 554 spam', 'DATA'],
		['192.0.2.1 failed after I sent the message. Remote host said: 554 rejected', 'DATA'],
		['Connected to 192.0.2.1 but my name was rejected. Remote host said: 550 go away', 'HELO'],
		['Connected to 192.0.2.1 but greeting failed. Remote host said: 554 no', 'CONN'],
	])('%s → %s', (text, command) => {
		expect(commandOf(text)).toBe(command);
	});
});

describe('rows decided by the answer, not by boilerplate or an MTA framing', () => {
	it('a generic answer under "Returned to Sender" is on hold, not a sender refusal', () => {
		const row = classifyMessage(postfixReport('550 Zugriff verweigert XYZ-17')).bounces[0];
		expect(row).toMatchObject({ status: '5.0.0', reason: 'onhold', hard: false });
	});

	it('foreign wordings of an unknown mailbox answered to RCPT TO are hard; of a full mailbox, soft', () => {
		expect(classifyMessage(postfixReport('550 Benutzer unbekannt')).bounces[0]).toMatchObject({ reason: 'userunknown', hard: true });
		expect(classifyMessage(postfixReport('550 Utente inesistente')).bounces[0]).toMatchObject({ reason: 'userunknown', hard: true });
		expect(classifyMessage(postfixReport('552 Caixa postal cheia')).bounces[0]).toMatchObject({ reason: 'mailboxfull', hard: false });
		expect(classifyMessage(postfixReport('550 Dominio inesistente')).bounces[0]).toMatchObject({ reason: 'hostunknown', hard: true });
	});

	it('qmail frames every RCPT refusal as "does not like recipient": policy words and X.7.X codes are still soft', () => {
		expect(classifyMessage(qmailNotice('553 sorry, no mailbox here by that name. (#5.1.1)')).bounces[0]).toMatchObject({
			reason: 'userunknown',
			hard: true,
			status: '5.1.1',
		});
		expect(classifyMessage(qmailNotice('554 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org')).bounces[0]).toMatchObject({
			hard: false,
		});
		expect(classifyMessage(qmailNotice('554 5.7.1 Message refused')).bounces[0]).toMatchObject({ status: '5.7.1', hard: false });
		expect(classifyMessage(qmailNotice('452 4.2.2 Mailbox full, try again later')).bounces[0]).toMatchObject({ status: '4.2.2', hard: false });
		// qmail-remote writes the same sentence for a 4xx answer: a temporary refusal is not a missing mailbox.
		expect(classifyMessage(qmailNotice('451 Greylisted, please try again later')).bounces[0]).toMatchObject({ hard: false });
		expect(classifyMessage(qmailNotice('451 Greylisted, please try again later')).bounces[0].status[0]).toBe('4');
	});

	it('"Giving up on <host>" ends every qmail failure: it is not a queue expiry', () => {
		const row = classifyMessage(qmailNotice('552 5.3.4 Message too large')).bounces[0];
		expect(row).toMatchObject({ status: '5.3.4', reason: 'mesgtoobig' });
	});

	it('Exim: a remote 5xx "mailbox full" is permanent; Exim\'s own full mailbox after retries is temporary', () => {
		const remote = classifyMessage(
			eximNotice('host mx.client.example [192.0.2.1]\nSMTP error from remote mail server after RCPT TO:<bob@client.example>:\n550 Mailbox full'),
		).bounces[0];
		expect(remote).toMatchObject({ reason: 'mailboxfull', hard: false });
		expect(remote.status[0]).toBe('5');
		const local = classifyMessage(eximNotice('mailbox is full: retry timeout exceeded')).bounces[0];
		expect(local.status[0]).toBe('4');
		expect(local.hard).toBe(false);
	});
});

describe('bounded work on hostile diagnostics', () => {
	/** Generous ceiling: the attacks guarded against take seconds to minutes; 1 MB is read in milliseconds. */
	const CEILING_MS = 2000;

	it.each([
		['one long word', 'a'.repeat(1_000_000)],
		['digits then a letter', `${'1'.repeat(1_000_000)}x`],
		['a subject repeated without a period', 'adresse '.repeat(125_000)],
		['negations repeated', 'nicht '.repeat(160_000)],
		['the IP prefix of the blocked rule repeated', 'ip-adresse '.repeat(90_000)],
		['a French subject with no predicate', "utilisateur n'".repeat(70_000)],
	])('%s: reasonFromText answers within the ceiling', (_name, text) => {
		const t = performance.now();
		reasonFromText(text);
		expect(performance.now() - t).toBeLessThan(CEILING_MS);
	});
});
