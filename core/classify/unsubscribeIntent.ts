/**
 * Replies asking to be removed from the list, in English, Chinese, Russian, Spanish, German, French (and a few
 * neighbours). Only the new text of a reply counts: quoted history (our own footer says "unsubscribe") is cut off
 * first, and long messages are not removal requests, they are conversations that mention the word.
 */

const QUOTE_START_RE =
	/^(?:>|-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original|исходное сообщение|原始邮件)|_{5,}|on .{0,200} wrote:|am .{0,200} schrieb|le .{0,200} a écrit|el .{0,200} escribió|.{0,200} пишет:|.{0,80}写道[:：]|from:\s|von:\s|de:\s|от:\s|发件人[:：]|寄件者[:：])/im;

const REMOVAL_RE = new RegExp(
	[
		// English
		'\\bunsubscribe\\b',
		'\\bremove (?:me|us|my (?:e-?mail|address|name))\\b',
		'\\btake (?:me|us|my (?:e-?mail|address)) off\\b',
		'\\b(?:stop|no more) (?:e-?mail(?:s|ing)?|sending|messages|contacting)\\b',
		'\\bdo not (?:e-?mail|contact|write)\\b',
		"\\bdon'?t (?:e-?mail|contact|write to) (?:me|us)\\b",
		'\\bopt(?:[- ])?out\\b',
		'\\bnot interested,? (?:please )?remove\\b',
		// Chinese
		'退订',
		'取消订阅',
		'退订邮件',
		'不要再发',
		'别再发',
		'请勿再发',
		'移除我',
		// Russian
		'отпис(?:аться|ать|ке|ка|атьс|ывай|ываюсь)',
		'удалит(?:е|ь) (?:меня|мой|мою|наш)',
		'не (?:присылайте|пишите|отправляйте)',
		'исключите (?:меня|нас)',
		// Spanish
		'dar(?:me|se|nos)? de baja',
		'darse de baja',
		'baja de (?:la|su|esta) lista',
		'elimin(?:ar|en|ame|adme)(?:me)? de',
		'no (?:me )?(?:envíe|envien|envíen|mande|manden) más',
		'cancelar (?:la )?suscripción',
		// German
		'\\babmelden\\b',
		'\\babbestellen\\b',
		'austragen',
		'entfernen sie (?:mich|uns|meine)',
		'keine (?:weiteren )?(?:e-?mails|mails|nachrichten|werbung)',
		'nicht mehr (?:kontaktieren|anschreiben|schreiben)',
		// French
		'd[ée]sinscri(?:re|vez|ption|s)',
		'd[ée]sabonn(?:er|ez|ement)',
		'retirez[- ]moi',
		'supprimez[- ](?:moi|mon adresse)',
		'ne plus recevoir',
		"ne m'envoyez plus",
	].join('|'),
	'i',
);

/** The new part of a reply: the text before the first quoted line or quote header. */
export function newReplyText(body: string): string {
	const m = QUOTE_START_RE.exec(body);
	return (m ? body.slice(0, m.index) : body).trim();
}

/** True when the new text of a reply (plus its subject) asks to be removed. */
export function asksToUnsubscribe(subject: string, body: string): boolean {
	const fresh = newReplyText(body);
	const subj = subject.replace(/^(?:\s*(?:re|aw|sv|antw|rép|回复|答复|ответ)\s*:\s*)+/i, '');
	// A long message that mentions the word is a conversation; removal requests are short.
	if (fresh.length <= 600 && REMOVAL_RE.test(fresh)) return true;
	return subj.length <= 80 && REMOVAL_RE.test(subj) && fresh.length <= 600;
}
