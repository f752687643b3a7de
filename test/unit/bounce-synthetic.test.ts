/**
 * Generality of the bounce classifier on synthetic delivery reports built from the standards, not from corpus files:
 * every combination of a failure category (with its RFC 3463 subject/detail and RFC 5321 reply code), a way the code
 * is given (a specific DSN Status, a generic 5.0.0 Status, an enhanced code in the server's answer only, first, last
 * or on every line of a multi-line reply, a reply code only), an MTA's notice format (Postfix, Sendmail, Exim, qmail, Exchange, a bare RFC 3464 report) and a wording in
 * one of several languages. The expected answer follows from the rules, stated once in `expectedOf`:
 *
 * - status: a valid, specific DSN Status (or the server's own enhanced code, which is more precise than a generic
 *   x.0.0 one); else a generic DSN Status as given; else the reply code's class with the reason's detail in the
 *   corpus's convention (C.0.9xx, e.g. 5.0.911 for an unknown user), so only the class is asserted there.
 * - hard: the address itself is dead (unknown user, unknown host, moved); a full mailbox, a too-large message, a
 *   block, spam, an expired queue or a temporary refusal without such words are soft; a temporary "user unknown"
 *   is hard. "User unknown" wording proves a missing mailbox only as the answer to RCPT TO or with a x.1.x code:
 *   without either, the convention reads it as a content filter.
 *
 * Three wording sets: `wordings` (the rules were written from them), `validation` (written before the rules were
 * extended; the rules were then corrected on its misses) and `holdout` (written last, measured once, never used to
 * change a rule: the honest estimate of how the rules do on unseen wordings). Figures are printed (agreement per
 * field, per style, per language, per code mode) and guarded by floors; a fast-check property samples the space
 * with random recipients and server names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMessage, HARD_REASONS } from '../../core/classify';
import { deliveryReportHeaders, multipartBody, QMAIL_COPY_LINE, qmailRefusal } from '../helpers/bounceFixtures';

type Lang = 'en' | 'de' | 'fr' | 'es' | 'it' | 'pt' | 'nl' | 'pl' | 'ru' | 'ja' | 'zh';

interface Category {
	name: string;
	/** The specific enhanced status code (RFC 3463) for a permanent failure. */
	status: string;
	reply: string;
	/** The address itself is dead. */
	hard: boolean;
	/** A temporary failure: Action delayed, 4xx codes. */
	temporary?: boolean;
	/** The words are about the recipient's mailbox, read as a content filter's when no RCPT or x.1.x code backs them. */
	userWords?: boolean;
	wordings: Partial<Record<Lang, string[]>>;
	/** Further wordings written before the rules were extended; the rules were then corrected on their misses. */
	validation: Partial<Record<Lang, string[]>>;
	/** Wordings written after the rules and measured once, never used to change a rule: the honest estimate. */
	holdout: Partial<Record<Lang, string[]>>;
}

export const CATEGORIES: Category[] = [
	{
		name: 'userunknown',
		status: '5.1.1',
		reply: '550',
		hard: true,
		userWords: true,
		wordings: {
			en: [
				'User unknown',
				'No such user here',
				'Unknown user',
				'Recipient unknown',
				'Unknown recipient',
				'Invalid recipient',
				'Recipient address rejected: User unknown in virtual mailbox table',
				'The email account that you tried to reach does not exist',
				'Mailbox does not exist',
				'No mailbox here by that name',
				'Addressee unknown',
				'User does not exist',
				'No such mailbox',
				'Invalid mailbox',
				'Recipient not found',
				'This user does not have an account here',
				'Bad destination mailbox address',
				'Requested action not taken: mailbox unavailable',
				'Mailbox unavailable',
				'Unknown or illegal alias',
				'Account does not exist',
				'Recipient does not exist here',
				'No such recipient',
				'Invalid address',
				'Address does not exist',
				'User not found',
			],
			de: ['Benutzer unbekannt', 'Empfänger unbekannt', 'Unbekannter Empfänger', 'Mailbox existiert nicht', 'Die E-Mail-Adresse existiert nicht'],
			fr: ['Utilisateur inconnu', 'Destinataire inconnu', 'Adresse inconnue', "Cette adresse n'existe pas", 'Boîte aux lettres inexistante'],
			es: ['Usuario desconocido', 'El usuario no existe', 'Destinatario desconocido', 'La cuenta no existe', 'Buzón inexistente'],
			it: ['Utente sconosciuto', 'Utente inesistente', 'Destinatario sconosciuto', 'Casella inesistente'],
			pt: ['Usuário desconhecido', 'Utilizador desconhecido', 'Destinatário desconhecido', 'Conta inexistente', 'Esta conta não existe'],
			nl: ['Gebruiker onbekend', 'Onbekende ontvanger', 'Mailbox bestaat niet'],
			pl: ['Nieznany użytkownik', 'Użytkownik nie istnieje'],
			ru: ['Пользователь не найден', 'Нет такого пользователя', 'Адрес не существует'],
			ja: ['宛先不明', 'ユーザーが存在しません'],
			zh: ['用户不存在', '收件人不存在'],
		},
		validation: {
			en: [
				'Sorry, no such user here',
				'Requested mailbox does not exist',
				"User doesn't exist",
				'No such local user',
				'Recipient address unknown',
				'Invalid recipient address',
				'Mailbox not found',
				'Unknown local part',
				'Address unknown',
			],
			de: ['Unbekannte Empfängeradresse', 'Der Empfänger existiert nicht', 'Benutzer nicht gefunden'],
			fr: ['Utilisateur introuvable', 'Adresse de destination invalide', "Le destinataire n'existe pas"],
			es: ['No existe el usuario', 'Dirección de correo inexistente', 'Usuario no encontrado'],
			it: ['Indirizzo inesistente', "L'utente non esiste"],
			pt: ['Endereço inexistente', 'Usuário não encontrado'],
			ru: ['Такого пользователя нет', 'Почтовый ящик не существует'],
			nl: ['Ontvanger bestaat niet'],
		},
		holdout: {
			en: [
				"The email address you entered couldn't be found",
				'Recipient not found by SMTP address lookup',
				'No such person at this address',
				'Unknown address error',
				'User does not exist in this domain',
				'Recipient address is invalid',
				'Sorry, that user does not exist',
			],
			de: ['Adresse unbekannt', 'Dieses Postfach existiert nicht', 'Empfängeradresse ungültig'],
			fr: ['Adresse e-mail invalide', 'Compte inexistant', 'Aucun utilisateur de ce nom'],
			es: ['Cuenta de correo inexistente', 'La dirección no existe'],
			it: ['Utente non trovato', 'Indirizzo email non valido'],
			pt: ['Usuário inválido', 'O endereço não existe'],
			nl: ['Adres onbekend', 'Gebruiker niet gevonden'],
			pl: ['Adres nie istnieje'],
			ru: ['Пользователь не существует', 'Неизвестный адрес'],
			ja: ['ユーザが見つかりません'],
			zh: ['该邮箱地址不存在'],
		},
	},
	{
		// A temporary refusal that still says the mailbox does not exist: the address is dead, retries or not.
		name: 'userunknown-temporary',
		status: '4.1.1',
		reply: '450',
		hard: true,
		temporary: true,
		userWords: true,
		wordings: {
			en: ['User unknown', 'No such user', 'Recipient address rejected: User unknown in local recipient table'],
			de: ['Benutzer unbekannt'],
		},
		validation: { en: ['Unknown recipient'], fr: ['Destinataire inconnu'] },
		holdout: { en: ['Recipient not found'], es: ['El usuario no existe'] },
	},
	{
		name: 'hostunknown',
		status: '5.1.2',
		reply: '550',
		hard: true,
		wordings: {
			en: [
				'Host or domain name not found',
				'Domain not found',
				'No such domain',
				'Unrouteable mail domain',
				'Domain does not exist',
				'Unknown domain',
				'Name or service not known',
				'DNS error: domain name not found',
				'Recipient domain does not exist',
			],
			de: ['Domain nicht gefunden', 'Unbekannte Domain', 'Die Domain existiert nicht'],
			fr: ['Domaine inconnu', 'Domaine introuvable', "Le domaine n'existe pas"],
			es: ['Dominio desconocido', 'El dominio no existe'],
			it: ['Dominio inesistente', 'Dominio sconosciuto'],
			pt: ['Domínio inexistente', 'Domínio não encontrado'],
		},
		validation: {
			en: ['Domain name lookup failed: NXDOMAIN', 'Host not found', 'No such host', 'Unknown host'],
			de: ['Zieldomain existiert nicht'],
			fr: ['Nom de domaine inconnu'],
			es: ['Dominio de destino inexistente'],
		},
		holdout: {
			en: ['Domain name not found', 'Unknown DNS name', 'Host unknown', 'The domain does not exist'],
			de: ['Domain unbekannt'],
			fr: ['Domaine inexistant'],
			es: ['Dominio no encontrado'],
			pt: ['Domínio desconhecido'],
		},
	},
	{
		name: 'mailboxfull',
		status: '5.2.2',
		reply: '552',
		hard: false,
		wordings: {
			en: [
				'Mailbox full',
				'Mailbox is full',
				'Quota exceeded',
				'Over quota',
				'User over quota',
				'Mailbox size limit exceeded',
				'The email account that you tried to reach is over quota',
				'Insufficient storage space in mailbox',
				'Recipient mailbox is full',
			],
			de: ['Postfach voll', 'Das Postfach ist voll', 'Quota überschritten', 'Speicherplatz erschöpft'],
			fr: ['Boîte aux lettres pleine', 'Quota dépassé', 'La boîte du destinataire est pleine'],
			es: ['Buzón lleno', 'Cuota excedida', 'El buzón está lleno'],
			it: ['Casella piena', 'Quota superata', 'La casella è piena'],
			pt: ['Caixa postal cheia', 'Cota excedida', 'Caixa de correio cheia'],
			nl: ['Mailbox vol', 'Quotum overschreden'],
			ru: ['Ящик переполнен', 'Превышена квота'],
			ja: ['メールボックスがいっぱいです', '容量超過'],
			zh: ['邮箱已满', '邮箱空间不足'],
		},
		validation: {
			en: ['Mailbox quota exceeded', "The user's mailbox is full", "Recipient's mailbox is over its storage limit"],
			de: ['Postfach des Empfängers ist voll'],
			fr: ['Boîte pleine'],
			es: ['Buzón de correo lleno'],
			it: ['Casella di posta piena'],
			pt: ['Caixa de entrada cheia'],
		},
		holdout: {
			en: ['Mailbox has exceeded its quota', "User's disk quota exceeded", "The recipient's inbox is full", 'Account storage full'],
			de: ['Speicherplatz des Postfachs erschöpft', 'Postfach ist voll'],
			fr: ['Quota de la boîte dépassé'],
			es: ['Espacio de buzón agotado'],
			it: ['Spazio casella esaurito'],
			pt: ['Cota da caixa postal excedida'],
			nl: ['Postvak is vol'],
			ru: ['Почтовый ящик переполнен'],
		},
	},
	{
		name: 'mailboxfull-temporary',
		status: '4.2.2',
		reply: '452',
		hard: false,
		temporary: true,
		wordings: {
			en: ['Mailbox full, try again later', 'Over quota', 'Quota exceeded (mailbox for user is full)'],
			de: ['Postfach voll'],
			fr: ['Boîte aux lettres pleine'],
		},
		validation: { en: ['Mailbox over quota, please retry later'] },
		holdout: { en: ['Mailbox is full, will retry'] },
	},
	{
		name: 'mesgtoobig',
		status: '5.3.4',
		reply: '552',
		hard: false,
		wordings: {
			en: [
				'Message size exceeds fixed maximum message size',
				'Message too large',
				'Message exceeds maximum size',
				'Message size exceeds the size limit',
				'Message is too big',
			],
			de: ['Nachricht zu groß', 'Die Nachricht ist zu groß'],
			fr: ['Message trop volumineux', 'Taille du message trop grande'],
			es: ['Mensaje demasiado grande'],
			it: ['Messaggio troppo grande'],
			pt: ['Mensagem muito grande'],
		},
		validation: {
			en: ['Message size too large', 'Message exceeds local size limit'],
			de: ['Nachricht überschreitet die maximale Größe'],
			fr: ['Message trop gros'],
		},
		holdout: {
			en: ['Message length exceeds administrative limit', 'Email too large'],
			de: ['E-Mail zu groß'],
			fr: ['Taille de message dépassée'],
			es: ['El tamaño del mensaje excede el límite'],
		},
	},
	{
		name: 'blocked',
		status: '5.7.1',
		reply: '554',
		hard: false,
		wordings: {
			en: [
				'Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org',
				'Your IP address is listed in a blocklist',
				'Message rejected as spam',
				'Rejected due to spam content',
				'Access denied, banned sender',
				'Message refused by policy',
				'Relay access denied',
			],
			de: ['Nachricht als Spam abgelehnt', 'Ihre IP-Adresse ist gesperrt'],
			fr: ['Message rejeté comme spam', 'Votre adresse IP est bloquée'],
			es: ['Mensaje rechazado por spam', 'Su dirección IP está bloqueada'],
		},
		validation: {
			en: ['Your IP has been blacklisted', 'Rejected by policy', 'Connection refused due to spam'],
			de: ['Ihre Nachricht wurde als Spam eingestuft'],
			fr: ['Votre message a été bloqué'],
			es: ['Mensaje bloqueado por política'],
		},
		holdout: {
			en: ['Sending IP listed on a DNSBL', 'Your mail server is on our blacklist', 'Transaction failed: spam message rejected'],
			fr: ['Message refusé : spam détecté'],
			es: ['Correo rechazado por contenido no deseado'],
		},
	},
	{
		name: 'greylisted',
		status: '4.7.1',
		reply: '450',
		hard: false,
		temporary: true,
		wordings: {
			en: ['Greylisted, please try again later', 'Try again later', 'Too many connections, slow down', 'Service temporarily unavailable'],
			de: ['Bitte versuchen Sie es später noch einmal'],
		},
		validation: {
			en: ['Greylisting in action, please come back later', 'Temporary local problem - please try later'],
			de: ['Greylisting aktiv, bitte später erneut versuchen'],
		},
		holdout: { en: ['Please retry later, greylisting', 'Mailbox temporarily unavailable'] },
	},
	{
		name: 'expired',
		status: '4.4.7',
		reply: '',
		hard: false,
		temporary: true,
		wordings: { en: ['Message expired after 5 days in the queue', 'Retry timeout exceeded', 'Delivery time expired'] },
		validation: { en: ['Could not deliver for 4 days, giving up'] },
		holdout: { en: ['The message could not be delivered in the allowed time'] },
	},
];

/** How the failure's code reaches the report. */
export type CodeMode = 'dsn-specific' | 'dsn-generic' | 'answer-only' | 'answer-hash' | 'answer-multiline' | 'reply-only';
export const CODE_MODES: CodeMode[] = ['dsn-specific', 'dsn-generic', 'answer-only', 'answer-hash', 'answer-multiline', 'reply-only'];
/** Modes whose enhanced code is in the server's answer (and so is the row's status). */
const ANSWER_CODE: ReadonlySet<CodeMode> = new Set(['dsn-specific', 'answer-only', 'answer-hash', 'answer-multiline']);

/** The notice formats: which carry a DSN part and whether they name the refused command. */
export type Style = 'postfix' | 'sendmail' | 'exim' | 'qmail' | 'exchange' | 'rfc3464';
export const STYLES: Style[] = ['postfix', 'sendmail', 'exim', 'qmail', 'exchange', 'rfc3464'];
const STYLE_HAS_DSN: Record<Style, boolean> = { postfix: true, sendmail: true, exim: false, qmail: false, exchange: true, rfc3464: true };
/** The styles whose notice says the answer was to RCPT TO. */
const STYLE_NAMES_RCPT: Record<Style, boolean> = { postfix: true, sendmail: true, exim: true, qmail: true, exchange: false, rfc3464: false };

export interface Case {
	category: Category;
	lang: Lang;
	wording: string;
	mode: CodeMode;
	style: Style;
	recipient: string;
	host: string;
}

const ORIGINAL = [
	'From: Sales <sales@ours.example>',
	'To: {rcpt}',
	'Subject: Our offer',
	'Message-ID: <m1.abc@ours.example>',
	'Date: Thu, 03 Dec 2026 10:00:00 +0000',
];

/** The server's answer as it appears in the report. */
function answerOf(c: Case): string {
	const cls = c.category.temporary ? '4' : '5';
	const reply = c.category.reply || (c.category.temporary ? '451' : '550');
	const specific = c.category.status;
	switch (c.mode) {
		case 'dsn-specific':
		case 'answer-only':
			return `${reply} ${specific} ${c.wording}`;
		// qmail, Yahoo and others put the code last: "550 No such user (#5.1.1)".
		case 'answer-hash':
			return `${reply} ${c.wording} (#${specific})`;
		// A multi-line reply joined into one (Gmail, Microsoft): the code on every line.
		case 'answer-multiline':
			return `${reply}-${specific} ${c.wording}. ${reply}-${specific} Please check the spelling and try again. ${reply} ${specific} https://support.example/help`;
		case 'dsn-generic':
		case 'reply-only':
			return `${reply} ${c.wording}`.replace(/^5/, cls);
	}
}

/** The DSN Status field's value, or '' for none. */
function dsnStatusOf(c: Case): string {
	if (c.mode === 'dsn-specific') return c.category.status;
	if (c.mode === 'dsn-generic') return c.category.temporary ? '4.0.0' : '5.0.0';
	return '';
}

/** Whether a case can be written at all: codes only in the DSN need a style with a DSN part. */
export function buildable(c: Case): boolean {
	if ((c.mode === 'dsn-specific' || c.mode === 'dsn-generic') && !STYLE_HAS_DSN[c.style]) return false;
	// Queue expiry is the reporting MTA's own verdict: a DSN Status, not a remote answer.
	if (c.category.name === 'expired' && c.mode !== 'dsn-specific') return false;
	return true;
}

export function buildMessage(c: Case): string {
	const answer = answerOf(c);
	const temporary = Boolean(c.category.temporary);
	const expired = c.category.name === 'expired';
	const rcpt = c.recipient;
	const original = ORIGINAL.map((l) => l.replace('{rcpt}', `<${rcpt}>`));
	const headersOf = (from: string, subject: string, extra: string[] = []) => [
		`From: ${from}`,
		'To: sales@ours.example',
		`Subject: ${subject}`,
		'Date: Thu, 03 Dec 2026 10:05:00 +0000',
		'Message-ID: <dsn.1@ours.example>',
		...extra,
	];
	const rcptLine = (() => {
		if (expired) return `${answer}`;
		switch (c.style) {
			case 'postfix':
				return `<${rcpt}>: host ${c.host}[192.0.2.1] said: ${answer} (in reply to RCPT TO command)`;
			case 'sendmail':
				return `<${rcpt}>\n    (reason: ${answer})`;
			case 'exchange':
				return `${rcpt}\nRemote Server returned '${answer}'`;
			default:
				return `<${rcpt}>: ${answer}`;
		}
	})();
	if (c.style === 'exim') {
		const lines = [
			...headersOf('Mail Delivery System <Mailer-Daemon@mx.ours.example>', 'Mail delivery failed: returning message to sender', [
				`X-Failed-Recipients: ${rcpt}`,
				'Auto-Submitted: auto-replied',
			]),
			'',
			'This message was created automatically by mail delivery software.',
			'',
			temporary
				? 'A message that you sent has not yet been delivered to one or more of its recipients after more than 24 hours on the queue.'
				: 'A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:',
			'',
			`  ${rcpt}`,
			`    host ${c.host} [192.0.2.1]`,
			`    SMTP error from remote mail server after RCPT TO:<${rcpt}>:`,
			`    ${answer}`,
			'',
			'------ This is a copy of the message, including all the headers. ------',
			'',
			...original,
			'',
			'Hello.',
		];
		return lines.join('\n') + '\n';
	}
	if (c.style === 'qmail') {
		const lines = [
			...headersOf('MAILER-DAEMON@mx.ours.example', 'failure notice'),
			'',
			'Hi. This is the qmail-send program at mx.ours.example.',
			"I'm afraid I wasn't able to deliver your message to the following addresses.",
			temporary ? 'This is a temporary error; I will keep trying.' : "This is a permanent error; I've given up. Sorry it didn't work out.",
			'',
			...qmailRefusal(rcpt, answer),
			'',
			QMAIL_COPY_LINE,
			'',
			...original,
			'',
			'Hello.',
		];
		return lines.join('\n') + '\n';
	}
	const boundary = 'B0UND4RY.synthetic';
	const status = dsnStatusOf(c);
	const action = expired ? 'failed' : temporary ? 'delayed' : 'failed';
	const notice = (() => {
		switch (c.style) {
			case 'postfix':
				return [
					'This is the mail system at host mx.ours.example.',
					'',
					temporary
						? '####################################################################\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n####################################################################'
						: "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients. It's attached below.",
					'',
					'                   The mail system',
					'',
					rcptLine,
				];
			case 'sendmail':
				return [
					'The original message was received at Thu, 3 Dec 2026 10:00:00 GMT',
					'from localhost [127.0.0.1]',
					'',
					temporary
						? '   ----- The following addresses had transient non-fatal errors -----'
						: '   ----- The following addresses had permanent fatal errors -----',
					rcptLine,
					'',
					'   ----- Transcript of session follows -----',
					`... while talking to ${c.host}.:`,
					`>>> RCPT To:<${rcpt}>`,
					`<<< ${answer}`,
				];
			case 'exchange':
				return [
					temporary ? 'Delivery is delayed to these recipients or groups:' : 'Delivery has failed to these recipients or groups:',
					'',
					rcpt,
					"The recipient's e-mail system could not deliver the message.",
					'',
					'Diagnostic information for administrators:',
					'',
					'Generating server: mx.ours.example',
					'',
					rcptLine,
				];
			default:
				return ['Your message could not be delivered to one or more recipients.', 'Details are in the attached report.'];
		}
	})();
	const subject =
		c.style === 'exchange'
			? temporary
				? 'Delivery delayed: Our offer'
				: 'Undeliverable: Our offer'
			: temporary
				? 'Delayed Mail (still being retried)'
				: 'Undelivered Mail Returned to Sender';
	const diagnostic = expired ? '' : `Diagnostic-Code: smtp; ${answer}`;
	const lines = [
		...headersOf('MAILER-DAEMON@mx.ours.example (Mail Delivery System)', subject, deliveryReportHeaders(boundary)),
		'',
		...multipartBody(boundary, [
			['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', ...notice],
			[
				'Content-Type: message/delivery-status',
				'',
				'Reporting-MTA: dns; mx.ours.example',
				'Arrival-Date: Thu, 3 Dec 2026 10:00:00 +0000',
				'',
				`Final-Recipient: rfc822; ${rcpt}`,
				`Original-Recipient: rfc822;${rcpt}`,
				`Action: ${action}`,
				...(status ? [`Status: ${status}`] : []),
				...(expired ? [] : [`Remote-MTA: dns; ${c.host}`]),
				...(diagnostic ? [diagnostic] : []),
			],
			['Content-Type: text/rfc822-headers', '', ...original],
		]),
	];
	return lines.join('\n') + '\n';
}

export interface Expected {
	hard: boolean;
	/** The exact status, or a pattern for statuses in the corpus's C.0.9xx convention. */
	status: string | RegExp;
}

/** The answer the rules give for a case (see the file comment). */
export function expectedOf(c: Case): Expected {
	const cls = c.category.temporary ? '4' : '5';
	let status: string | RegExp;
	if (ANSWER_CODE.has(c.mode)) status = c.category.status;
	else if (c.mode === 'dsn-generic') status = `${cls}.0.0`;
	else status = new RegExp(`^${cls}\\.0\\.9\\d\\d$`);
	const codeSaysMailbox = ANSWER_CODE.has(c.mode) && /^\d\.1\./.test(c.category.status);
	const hard = c.category.userWords ? c.category.hard && (codeSaysMailbox || STYLE_NAMES_RCPT[c.style]) : c.category.hard;
	return { hard, status };
}

export type WordingSet = 'wordings' | 'validation' | 'holdout';

/** Every buildable case of one wording set, one recipient and host each. */
export function allCases(set: WordingSet = 'wordings'): Case[] {
	const out: Case[] = [];
	let n = 0;
	for (const category of CATEGORIES)
		for (const [lang, wordings] of Object.entries(category[set]) as Array<[Lang, string[]]>)
			for (const wording of wordings)
				for (const mode of CODE_MODES)
					for (const style of STYLES) {
						const c: Case = {
							category,
							lang,
							wording,
							mode,
							style,
							recipient: `person${n}@client${n % 7}.example`,
							host: `mx${n % 5}.client.example`,
						};
						n++;
						if (buildable(c)) out.push(c);
					}
	return out;
}

interface Outcome {
	hardOk: boolean;
	statusOk: boolean;
	got: string;
}

export function check(c: Case): Outcome {
	const result = classifyMessage(buildMessage(c));
	const row = result.bounces[0];
	const want = expectedOf(c);
	if (!row) return { hardOk: false, statusOk: false, got: `${result.kind} (no row)` };
	const statusOk = typeof want.status === 'string' ? row.status === want.status : want.status.test(row.status);
	return { hardOk: row.hard === want.hard, statusOk, got: `${row.status} ${row.reason} ${row.hard ? 'hard' : 'soft'}` };
}

interface Tally {
	n: number;
	hard: number;
	status: number;
}

/** Agreement over a set of cases, in total and per style, language, code mode and category, with the disagreements. */
export function measure(cases: Case[]): { tally: Map<string, Tally>; misses: string[] } {
	const tally = new Map<string, Tally>();
	const add = (key: string, o: Outcome) => {
		const t = tally.get(key) ?? { n: 0, hard: 0, status: 0 };
		t.n++;
		if (o.hardOk) t.hard++;
		if (o.statusOk) t.status++;
		tally.set(key, t);
	};
	const misses: string[] = [];
	for (const c of cases) {
		const o = check(c);
		for (const key of ['all', `style ${c.style}`, `lang ${c.lang}`, `mode ${c.mode}`, `category ${c.category.name}`]) add(key, o);
		if (!o.hardOk || !o.statusOk) {
			const w = expectedOf(c);
			misses.push(
				`${c.category.name}/${c.lang}/${c.mode}/${c.style} "${c.wording}": want ${String(w.status)} ${w.hard ? 'hard' : 'soft'} got ${o.got}`,
			);
		}
	}
	return { tally, misses };
}

const pct = (a: number, b: number) => (b === 0 ? 100 : (100 * a) / b);

function report(title: string, { tally, misses }: ReturnType<typeof measure>): string {
	const lines = [...tally.entries()].map(
		([k, t]) => `  ${k.padEnd(32)} ${String(t.n).padStart(5)}  hard/soft ${pct(t.hard, t.n).toFixed(1)}%  status ${pct(t.status, t.n).toFixed(1)}%`,
	);
	return [title, ...lines, `  disagreements (${misses.length}):`, ...misses.slice(0, 200).map((m) => `    ${m}`)].join('\n');
}

/** Agreement floors on the synthetic space (percent): the wordings the rules were written from, and the held-back ones. */
const FLOORS = { wordings: { hard: 99, status: 99 }, validation: { hard: 99, status: 99 }, holdout: { hard: 97, status: 99 } };

describe('bounce classification on synthetic reports built from the standards', () => {
	for (const set of ['wordings', 'validation', 'holdout'] as const) {
		it(`agrees on hard/soft and status over every category, code mode, MTA format and language (${set})`, () => {
			const cases = allCases(set);
			const result = measure(cases);
			console.log(report(`synthetic reports, ${set}:`, result));
			const all = result.tally.get('all') as Tally;
			expect(all.n).toBeGreaterThan(set === 'wordings' ? 2000 : 500);
			expect(pct(all.hard, all.n)).toBeGreaterThanOrEqual(FLOORS[set].hard);
			expect(pct(all.status, all.n)).toBeGreaterThanOrEqual(FLOORS[set].status);
		});
	}

	it("property: any recipient, server and case of the space gets the rules' answer; hard means a dead-address reason", () => {
		const local = fc.stringMatching(/^[a-z][a-z0-9._+-]{0,20}[a-z0-9]$/).filter((l) => !l.includes('..'));
		const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}[a-z0-9]$/);
		const cases = fc
			.record({
				category: fc.constantFrom(...CATEGORIES),
				set: fc.constantFrom<WordingSet>('wordings', 'validation'),
				mode: fc.constantFrom(...CODE_MODES),
				style: fc.constantFrom(...STYLES),
				pick: fc.nat(),
				local,
				domain: label,
				host: label,
			})
			.map(({ category, set, mode, style, pick, local, domain, host }) => {
				const entries = Object.entries(category[set]) as Array<[Lang, string[]]>;
				const [lang, wordings] = entries[pick % entries.length];
				const c: Case = {
					category,
					lang,
					wording: wordings[pick % wordings.length],
					mode,
					style,
					recipient: `${local}@${domain}.example`,
					host: `${host}.example.net`,
				};
				return c;
			})
			.filter(buildable);
		fc.assert(
			fc.property(cases, (c) => {
				const result = classifyMessage(buildMessage(c));
				expect(result.kind).toBe(c.category.temporary && c.category.name !== 'expired' ? 'delay' : 'bounce');
				const row = result.bounces[0];
				expect(row.recipient).toBe(c.recipient);
				expect(row.hard).toBe(HARD_REASONS.has(row.reason));
				expect(row.status[0]).toBe(c.category.temporary ? '4' : '5');
				const want = expectedOf(c);
				expect(row.hard).toBe(want.hard);
				if (typeof want.status === 'string') expect(row.status).toBe(want.status);
				else expect(row.status).toMatch(want.status);
			}),
			{ numRuns: 200, seed: 20261205 },
		);
	});
});
