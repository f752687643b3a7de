/**
 * Reply intent over the labelled set (test/fixtures/replies/replies.json: replies to an exporter's cold email in
 * eleven languages, most with our outreach quoted below, signatures and HTML-to-text leftovers), with per-language
 * and per-class accuracy printed and held to floors; referral extraction; negation pairs in every language;
 * quoted history, signatures and our footer ignored; unknown languages neutral; hostile input bounded.
 *
 * Batches: 1 was written before the rules; 2, 3 and 4 were each written after the rules of the time as an unseen
 * check, and scored 41 %, 55 % and 70.5 % before the general forms they exposed (commerce questions, negated business
 * verbs, hand-over cues…) were added. Batches 5 and 6 were written the same way: 5 scored 92.4 % before the forms it
 * exposed (timing refusals, polite "thanks, but…" refusals, no longer at the company) were added, and 6, measured once
 * on those rules and not tuned on, scored 98.5 %. Expect unseen text to score below this set.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyReplyIntent, detectReplyLanguage, replyNewText, REPLY_INTENT_MAX_TEXT, type ReplyIntent } from '../../core/classify/replyIntent';

interface Labelled {
	id: string;
	batch: number;
	lang: string;
	label: ReplyIntent;
	from: string;
	subject: string;
	body: string;
	referral?: string;
}

const SET: Labelled[] = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'replies', 'replies.json'), 'utf8'));
const OWN = ['hengda-machinery.com'];
const CLASSES: ReplyIntent[] = ['interested', 'not_interested', 'wrong_person', 'neutral'];

/** Floors: what the rules reach on this set, less a margin for the next phrasing change. */
const FLOOR_OVERALL = 0.97;
const FLOOR_CLASS = 0.93;
const FLOOR_LANGUAGE = 0.93;
const FLOOR_LANGUAGE_DETECTION = 0.95;

describe('reply intent: labelled set', () => {
	const results = SET.map((r) => ({
		r,
		res: classifyReplyIntent(r.subject, r.body, {
			sender: r.from,
			ownAddresses: OWN,
		}),
	}));

	it('has at least 330 replies, about 30 per language, every language with all four classes', () => {
		expect(SET.length).toBeGreaterThanOrEqual(330);
		const langs = [...new Set(SET.map((r) => r.lang))].sort();
		expect(langs).toEqual(['ar', 'de', 'en', 'es', 'fr', 'it', 'ja', 'pt', 'ru', 'tr', 'zh']);
		for (const lang of langs) {
			const rows = SET.filter((r) => r.lang === lang);
			expect(rows.length).toBeGreaterThanOrEqual(30);
			for (const c of CLASSES)
				expect(
					rows.some((r) => r.label === c),
					`${lang} has ${c}`,
				).toBe(true);
		}
		// Most replies carry quoted history of our outreach (with its footer) below the new text.
		expect(SET.filter((r) => /https:\/\/t\.hengda-machinery\.com\/t\?t=/.test(r.body)).length / SET.length).toBeGreaterThan(0.7);
	});

	it('meets the accuracy floors per language and per class (table printed)', () => {
		const tally = (key: (x: (typeof results)[number]) => string) => {
			const m = new Map<string, { ok: number; n: number }>();
			for (const x of results) {
				const k = key(x);
				const t = m.get(k) ?? { ok: 0, n: 0 };
				t.n++;
				if (x.res.intent === x.r.label) t.ok++;
				m.set(k, t);
			}
			return m;
		};
		const pct = (t: { ok: number; n: number }) => `${((100 * t.ok) / t.n).toFixed(1)}% (${t.ok}/${t.n})`;
		const byLang = tally((x) => x.r.lang);
		const byClass = tally((x) => x.r.label);
		const byBatch = tally((x) => `batch ${x.r.batch}`);
		const overall = {
			ok: results.filter((x) => x.res.intent === x.r.label).length,
			n: results.length,
		};
		// Per language × class, for the table.
		const table: Record<string, Record<string, string>> = {};
		for (const [lang, t] of [...byLang].sort()) {
			const row: Record<string, string> = { all: pct(t) };
			for (const c of CLASSES) {
				const xs = results.filter((x) => x.r.lang === lang && x.r.label === c);
				row[c] = `${xs.filter((x) => x.res.intent === c).length}/${xs.length}`;
			}
			table[lang] = row;
		}
		const classRow: Record<string, string> = { all: pct(overall) };
		for (const c of CLASSES) classRow[c] = pct(byClass.get(c)!);
		table.ALL = classRow;
		console.log('reply intent accuracy (language × class):');
		console.table(table);
		console.log('by batch:', Object.fromEntries([...byBatch].sort().map(([k, t]) => [k, pct(t)])));
		const misses = results
			.filter((x) => x.res.intent !== x.r.label)
			.map((x) => `${x.r.id}: want ${x.r.label}, got ${x.res.intent} [${x.res.signals.join(', ')}]`);
		if (misses.length > 0) console.log('misses:\n' + misses.join('\n'));

		expect(overall.ok / overall.n).toBeGreaterThanOrEqual(FLOOR_OVERALL);
		for (const [c, t] of byClass) expect(t.ok / t.n, `class ${c}`).toBeGreaterThanOrEqual(FLOOR_CLASS);
		for (const [lang, t] of byLang) expect(t.ok / t.n, `language ${lang}`).toBeGreaterThanOrEqual(FLOOR_LANGUAGE);
	});

	it('extracts the referred address where one is labelled, and never ours or the writer’s', () => {
		const labelled = results.filter((x) => x.r.referral);
		expect(labelled.length).toBeGreaterThanOrEqual(40);
		const found = labelled.filter((x) => x.res.referral === x.r.referral);
		expect(found.length / labelled.length).toBeGreaterThanOrEqual(0.95);
		for (const x of results) {
			if (!x.res.referral) continue;
			expect(x.res.referral).not.toBe(x.r.from);
			expect(x.res.referral.endsWith('@hengda-machinery.com')).toBe(false);
			expect(x.res.intent).toBe('wrong_person');
		}
	});

	it('detects the language of the new text', () => {
		const ok = results.filter((x) => x.res.language === x.r.lang).length;
		expect(ok / results.length).toBeGreaterThanOrEqual(FLOOR_LANGUAGE_DETECTION);
	});
});

describe('reply intent: negation', () => {
	const pairs: Array<[string, ReplyIntent]> = [
		['We are not interested, thank you.', 'not_interested'],
		['We are interested, please send the price list.', 'interested'],
		['我们不感兴趣。', 'not_interested'],
		['我们很感兴趣，请报价。', 'interested'],
		['没有兴趣', 'not_interested'],
		['No estamos interesados.', 'not_interested'],
		['Estamos interesados, envíenos precios.', 'interested'],
		['Kein Interesse.', 'not_interested'],
		['Wir haben großes Interesse an Ihren Produkten.', 'interested'],
		['Pas intéressé.', 'not_interested'],
		['Très intéressé, envoyez le catalogue.', 'interested'],
		['Нам не интересно.', 'not_interested'],
		['Интересно, пришлите прайс.', 'interested'],
		['興味がありません。', 'not_interested'],
		['興味があります。', 'interested'],
		['غير مهتمين', 'not_interested'],
		['نحن مهتمون بمنتجاتكم', 'interested'],
		['İlgilenmiyoruz.', 'not_interested'],
		['İlgileniyoruz.', 'interested'],
		['Não temos interesse.', 'not_interested'],
		['Temos interesse.', 'interested'],
		['Non siamo interessati.', 'not_interested'],
		['Siamo interessati.', 'interested'],
		["We don't need a catalogue, we have a supplier.", 'not_interested'],
		['No need to call me.', 'not_interested'],
	];
	for (const [text, want] of pairs) {
		it(`${JSON.stringify(text)} → ${want}`, () => {
			expect(classifyReplyIntent('Re: offer', text).intent).toBe(want);
		});
	}

	it('a request after a refusal and a contrast is interest; without the contrast the refusal stands', () => {
		expect(classifyReplyIntent('Re: offer', 'We already have a supplier, but send your price list anyway.').intent).toBe('interested');
		expect(classifyReplyIntent('Re: offer', '虽然已经有供应商了，但是可以报个价。').intent).toBe('interested');
		expect(classifyReplyIntent('Re: offer', 'We already have a supplier. Your prices would need to be lower.').intent).toBe('not_interested');
	});
});

describe('reply intent: general forms', () => {
	const cases: Array<[string, string, ReplyIntent]> = [
		['polite refusal', 'Thank you for your offer, but we are well served.', 'not_interested'],
		['polite refusal', '谢谢，不过我们刚买过。', 'not_interested'],
		['polite refusal', 'Teşekkürler ama zaten aldık.', 'not_interested'],
		['a question after the turn is no refusal', 'Thanks, but who are you?', 'neutral'],
		['a request after the turn is interest', 'Thanks, but could you send the price in EUR?', 'interested'],
		['another language\'s word is not read into English (tr "distribütör" folds to "distributor")', 'We are distributors of pumps.', 'neutral'],
		['Turkish: to become the distributor is interest', 'Türkiye distribütörünüz olmak istiyoruz.', 'interested'],
		['timing refusal', 'Not right now, maybe next year.', 'not_interested'],
		['timing refusal', 'Por ahora no, gracias.', 'not_interested'],
		['timing refusal', 'Derzeit leider nicht.', 'not_interested'],
		['timing refusal', 'Per ora no.', 'not_interested'],
		['timing refusal', 'Не сейчас.', 'not_interested'],
		['timing refusal', '暂时不需要。', 'not_interested'],
		['timing refusal', 'Şimdilik ihtiyacımız yok.', 'not_interested'],
		['timing refusal', '現時点では見送ります。', 'not_interested'],
		['negated refusal verb is willingness', 'Спасибо, не откажемся от каталога.', 'interested'],
		['negated refusal verb is willingness', 'لا نمانع في استلام الأسعار', 'interested'],
		['affirmative answer', 'Yes please.', 'interested'],
		['affirmative answer', 'Oui svp', 'interested'],
		['affirmative answer', 'はい、お願いします。', 'interested'],
		['acknowledgement', 'OK thanks', 'neutral'],
		['polite request with a commerce word', 'Bitte um Preisangabe für 2 Stück.', 'interested'],
		['polite request with a commerce word', '価格表をお願いします。', 'interested'],
		['no longer at the company', 'Я уже не работаю в этой компании.', 'wrong_person'],
		['no longer at the company', 'لم أعد أعمل في هذه الشركة', 'wrong_person'],
		['no longer at the company', 'Artık bu şirkette çalışmıyorum.', 'wrong_person'],
		['no longer at the company', 'Ya no trabajo aquí.', 'wrong_person'],
		['company closed', 'Die Firma existiert nicht mehr.', 'not_interested'],
		['company closed', '公司已经倒闭了。', 'not_interested'],
	];
	it.each(cases)('%s: %j → %s', (_rule, text, want) => {
		expect(classifyReplyIntent('Re: offer', text).intent).toBe(want);
	});

	it.each([
		['Thunderbird (French)', '-------- Message original --------\nDe : Lisa\nSi vous êtes intéressé, répondez.'],
		['Apple Mail (Japanese)', '2025/03/03 9:14、Lisa Chen のメッセージ:\n\n興味があればご返信ください。'],
		['Outlook mobile', 'Enviado desde Outlook para Android\n\nPlease send the price list.'],
	])('a reply above a %s quote or signature keeps only the new text', (_name, tail) => {
		expect(replyNewText(`Thanks, received.\n\n${tail}`)).toBe('Thanks, received.');
	});
});

describe('reply intent: only the new text counts', () => {
	const outreach = [
		'Dear Purchasing Manager,',
		'If you are interested in our products, please reply and I will send our price list and catalogue.',
		'If you are not the right person, please forward this email to your purchasing colleague.',
		'Best regards,',
		'Lisa Chen',
		'Unsubscribe here: https://t.example.com/t?t=abc123',
	];

	it.each([
		['Gmail', 'On Mon, 3 Mar 2025 at 09:14, Lisa Chen <lisa@hengda-machinery.com> wrote:\n' + outreach.map((l) => `> ${l}`).join('\n')],
		[
			'Outlook',
			'________________________________\nFrom: Lisa Chen <lisa@hengda-machinery.com>\nSent: Monday, March 3, 2025 9:14 AM\nTo: buyer\nSubject: Offer\n\n' +
				outreach.join('\n'),
		],
		['Original Message', '-----Original Message-----\nFrom: Lisa Chen\nSent: Monday\nSubject: Offer\n\n' + outreach.join('\n')],
		[
			'QQ',
			'------------------ 原始邮件 ------------------\n发件人: "Lisa"<lisa@hengda-machinery.com>;\n发送时间: 2025年3月3日\n\n' + outreach.join('\n'),
		],
		[
			'German Outlook',
			'Von: Lisa Chen <lisa@hengda-machinery.com>\nGesendet: Montag, 3. März 2025 09:14\nAn: Einkauf\nBetreff: Angebot\n\n' + outreach.join('\n'),
		],
		['Japanese', '差出人: Lisa Chen\n送信日時: 2025年3月3日 9:14\n件名: ご案内\n\n' + outreach.join('\n')],
		['Russian Gmail', 'пн, 3 мар. 2025 г. в 09:14, Lisa Chen <lisa@hengda-machinery.com>:\n' + outreach.map((l) => `> ${l}`).join('\n')],
	])('an acknowledgement above a quoted outreach (%s) is neutral', (_name, quote) => {
		const res = classifyReplyIntent('Re: Offer', `Thanks, received.\n\n${quote}`);
		expect(res.intent).toBe('neutral');
		expect(replyNewText(`Thanks, received.\n\n${quote}`)).toBe('Thanks, received.');
	});

	it('a bottom-posted answer below the quote is read', () => {
		const body = outreach.map((l) => `> ${l}`).join('\n') + '\n\nNot interested, thanks.';
		expect(classifyReplyIntent('Re: Offer', body).intent).toBe('not_interested');
	});

	it('signatures, phone and address blocks and our footer are ignored', () => {
		const body = [
			'Noted with thanks.',
			'',
			'Best regards,',
			'Peter Hall',
			'Purchasing Manager | Interested Parties Ltd',
			'Please send all invoices to accounts@hall-parts.co.uk',
			'Tel +44 20 7946 0958',
			'',
			'Unsubscribe here: https://t.example.com/t?t=abc123',
		].join('\n');
		const res = classifyReplyIntent('Re: Offer', body, {
			sender: 'peter@hall-parts.co.uk',
		});
		expect(res.intent).toBe('neutral');
		expect(res.referral).toBeUndefined();
	});

	it('a signature contact line without a closing word is the writer’s, not a referral', () => {
		const res = classifyReplyIntent('Re: Offer', 'Thanks, received.\nJohn Smith\nSmith Trading\nEmail: john@smith-trading.com', {
			sender: 'john.smith@gmail.com',
		});
		expect(res).toMatchObject({ intent: 'neutral' });
		expect(res.referral).toBeUndefined();
		const sameLocal = classifyReplyIntent('Re: Offer', 'Received.\njohn.smith@smith-trading.com', { sender: 'john.smith@gmail.com' });
		expect(sameLocal.intent).toBe('neutral');
	});

	it('HTML-to-text leftovers do not hide the words', () => {
		const body = 'Not&nbsp;interested,<br>\nthank&nbsp;you.<br>\n<div>John</div>\n[cid:image001.png@01D9]';
		expect(classifyReplyIntent('Re: Offer', body).intent).toBe('not_interested');
	});

	it('an HTML-only reply is read as text: styles dropped, the quoted blockquote cut', () => {
		const html = [
			'<html><head><style>p { color: red } /* interested */</style></head><body>',
			'<div dir="ltr">Not&#160;interested, thanks.<br></div>',
			'<div class="gmail_quote"><div>On Mon, 3 Mar 2025 at 09:14, Lisa wrote:</div>',
			'<blockquote class="gmail_quote"><p>If you are interested, reply for our price list.</p></blockquote></div>',
			'</body></html>',
		].join('\n');
		expect(classifyReplyIntent('Re: Offer', html).intent).toBe('not_interested');
		expect(classifyReplyIntent('Re: Offer', html.replace('Not&#160;interested, thanks.', 'Thanks&#x2C; received.')).intent).toBe('neutral');
		expect(classifyReplyIntent('Re: Offer', '<style>'.repeat(50000) + 'Please send the price list.').intent).toBe('neutral');
	});

	it('a referral never returns our own address or the writer’s', () => {
		const res = classifyReplyIntent(
			'Re: Offer',
			"I'm not the right person. Please contact our buyer at buyer@client.com (not lisa@hengda-machinery.com).\n\n--\nJo\njo@client.com",
			{ sender: 'jo@client.com', ownAddresses: OWN },
		);
		expect(res).toMatchObject({
			intent: 'wrong_person',
			referral: 'buyer@client.com',
		});
		const own = classifyReplyIntent('Re: Offer', 'Wrong person. Write to lisa@hengda-machinery.com or me, jo@client.com.', {
			sender: 'jo@client.com',
			ownAddresses: OWN,
		});
		expect(own.intent).toBe('wrong_person');
		expect(own.referral).toBeUndefined();
	});

	it('stop-mailing text that reaches it is not_interested; out-of-office text is neutral, never a referral', () => {
		expect(classifyReplyIntent('Re: Offer', 'Please unsubscribe me, I am interested in nothing from you.').intent).toBe('not_interested');
		expect(classifyReplyIntent('Re: Offer', '请不要再发邮件给我们').intent).toBe('not_interested');
		const ooo = classifyReplyIntent('Re: Offer', 'I am out of the office until 12 May. For urgent matters contact anna@client.com.');
		expect(ooo).toMatchObject({ intent: 'neutral' });
		expect(ooo.referral).toBeUndefined();
	});

	it('a refusal written only in the subject line counts', () => {
		expect(classifyReplyIntent('Re: Not interested', '').intent).toBe('not_interested');
		expect(classifyReplyIntent('Re: Excavators and loaders - prices for 2025', '').intent).toBe('neutral');
	});
});

describe('reply intent: unknown languages and bad input', () => {
	it.each([
		['Polish', 'Dziękuję, nie jesteśmy zainteresowani.'],
		['Korean', '관심 없습니다. 감사합니다.'],
		['Greek', 'Ευχαριστούμε, δεν ενδιαφερόμαστε.'],
		['Hindi', 'धन्यवाद, हमें रुचि नहीं है।'],
		['Thai', 'ขอบคุณครับ ได้รับแล้ว'],
		['Hebrew', 'תודה, קיבלנו.'],
	])('%s is neutral with no language', (_name, text) => {
		const res = classifyReplyIntent('Re: Offer', text);
		expect(res.intent).toBe('neutral');
		expect(res.language).toBeUndefined();
	});

	it('non-string and empty input is neutral, never an error', () => {
		for (const v of [undefined, null, 42, {}, [], '']) {
			const res = classifyReplyIntent(v as unknown as string, v as unknown as string, v as unknown as object);
			expect(res.intent).toBe('neutral');
			expect(res.signals.some((x) => x.startsWith('problem'))).toBe(false);
		}
		expect(detectReplyLanguage(undefined as unknown as string)).toBeUndefined();
		expect(replyNewText(null as unknown as string)).toBe('');
		const odd = classifyReplyIntent('Re: x', 'Wrong person, write to a@b.com', { sender: 42, ownAddresses: 'b.com' } as unknown as object);
		expect(odd).toMatchObject({ intent: 'wrong_person', referral: 'a@b.com' });
	});

	const MB = 1024 * 1024;
	const hostile: Array<[string, () => string]> = [
		['1 MB of one letter', () => 'a'.repeat(MB)],
		['1 MB of refusals and requests', () => 'not interested but send price list? '.repeat(MB / 36)],
		['1 MB of binary junk', () => Buffer.from(Array.from({ length: MB }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1')],
		['1 MB of quote lines', () => '> quoted\n'.repeat(MB / 9)],
		['1 MB of signature-like lines', () => 'Best regards\n'.repeat(MB / 13)],
		['1 MB line of Turkish letters', () => 'ş'.repeat(MB)],
		['address-like runs', () => 'a.'.repeat(MB / 4) + '@' + 'b-'.repeat(MB / 4)],
		['unclosed tags', () => '<div '.repeat(MB / 5)],
		['unclosed style blocks', () => '<style>x</style'.repeat(MB / 16)],
		['question marks', () => '?'.repeat(MB)],
		['CJK without punctuation', () => '我们不感兴趣价格'.repeat(MB / 8)],
		['attribution-like lines', () => 'On Mon 3 Mar 2025 <a@b.com>\n'.repeat(MB / 28)],
	];
	it.each(hostile)('%s finishes in bounded time', (_name, make) => {
		const body = make();
		const t0 = performance.now();
		const res = classifyReplyIntent('Re: ' + body.slice(0, 5000), body);
		const ms = performance.now() - t0;
		expect(CLASSES).toContain(res.intent);
		expect(ms).toBeLessThan(3000);
	});

	it('examines at most REPLY_INTENT_MAX_TEXT characters of new text', () => {
		const long = 'Thanks for the note. '.repeat(1000) + 'Not interested.';
		expect(replyNewText(long).length).toBeLessThanOrEqual(REPLY_INTENT_MAX_TEXT);
		expect(classifyReplyIntent('Re: x', long).intent).toBe('neutral');
	});

	it('never throws and always answers one of the four intents (property)', () => {
		fc.assert(
			fc.property(fc.string({ maxLength: 2000, unit: 'binary' }), fc.string({ maxLength: 200 }), (body, subject) => {
				const res = classifyReplyIntent(subject, body, {
					sender: 'x@y.com',
					ownAddresses: OWN,
				});
				return CLASSES.includes(res.intent) && Array.isArray(res.signals);
			}),
			{ numRuns: 200 },
		);
	});

	it('whatever is quoted below, the answer above decides (property)', () => {
		const answers: Array<[string, ReplyIntent]> = [
			['Not interested, thanks.', 'not_interested'],
			['Please send your price list.', 'interested'],
			["I'm not the right person, I work in HR.", 'wrong_person'],
			['Received, thank you.', 'neutral'],
		];
		fc.assert(
			fc.property(fc.constantFrom(...answers), fc.array(fc.string({ maxLength: 120 }), { maxLength: 30 }), ([answer, want], quoted) => {
				const body = `${answer}\n\nOn Mon, 3 Mar 2025 at 09:14, Lisa <lisa@hengda-machinery.com> wrote:\n${quoted.map((l) => `> ${l.replace(/\n/g, ' ')}`).join('\n')}`;
				return classifyReplyIntent('Re: Offer', body).intent === want;
			}),
			{ numRuns: 150 },
		);
	});
});
