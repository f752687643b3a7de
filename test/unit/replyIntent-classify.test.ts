/** Reply intent as classifyMessage reports it on whole messages: kind reply only, the writer's new text only. */
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../core/classify';

function reply(subject: string, body: string, from = 'Li Wei <li.wei@dealer.example>'): string {
	return [
		`From: ${from}`,
		'To: Anna <sales@sender.example>',
		`Subject: ${subject}`,
		'Message-ID: <r1@dealer.example>',
		'In-Reply-To: <offer-1@sender.example>',
		'Content-Type: text/plain; charset=utf-8',
		'',
		body,
	].join('\r\n');
}

const QUOTE =
	'\r\n\r\nOn Mon, 2 Nov 2026 Anna <sales@sender.example> wrote:\r\n> We are interested in your market. Please send us your price list.\r\n> Unsubscribe: https://t.sender.example/t?t=abc';

describe('classifyMessage: reply intent', () => {
	it.each([
		['Re: spare parts', 'Please send me your catalogue and prices for the excavator parts.', 'interested'],
		['Re: spare parts', 'Thanks, but we are not interested.', 'not_interested'],
		['回复: 配件', '我们不感兴趣，谢谢。', 'not_interested'],
		['AW: Ersatzteile', 'Kein Interesse, wir haben bereits einen Lieferanten.', 'not_interested'],
		['Re: spare parts', 'Thank you for your email.', 'neutral'],
	])('%s / %s → %s (the quoted offer does not count)', (subject, body, intent) => {
		const c = classifyMessage(reply(subject, body + QUOTE));
		expect(c.kind).toBe('reply');
		expect(c.replyIntent).toBe(intent);
	});

	it('a referral carries the referred address, never the writer’s own', () => {
		const c = classifyMessage(
			reply(
				'Re: offer',
				'I am not the right person. Please contact my colleague Zhang at zhang.san@dealer.example.\r\n\r\nLi Wei\r\nli.wei@dealer.example' + QUOTE,
			),
		);
		expect(c.replyIntent).toBe('wrong_person');
		expect(c.referral).toBe('zhang.san@dealer.example');
	});

	it('only replies get an intent; a subject prefix in another language marks a reply', () => {
		expect(classifyMessage(reply('Re: x', 'Not interested')).replyIntent).toBe('not_interested');
		const notReply = classifyMessage(reply('Hello', 'Please send prices').replace('In-Reply-To: <offer-1@sender.example>\r\n', ''));
		expect(notReply.kind).not.toBe('reply');
		expect(notReply.replyIntent).toBeUndefined();
		for (const prefix of ['YNT:', 'RES:', 'RV:', 'رد:', '回覆：']) {
			const c = classifyMessage(reply(`${prefix} offer`, 'Please send prices').replace('In-Reply-To: <offer-1@sender.example>\r\n', ''));
			expect(c.kind, prefix).toBe('reply');
		}
	});
});
