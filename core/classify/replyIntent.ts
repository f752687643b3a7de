/**
 * Reply intent: what a human answer to our outreach says — interested, not interested, wrong person, or neutral —
 * in English, Chinese, French, Spanish, German, Portuguese, Italian, Russian, Japanese, Arabic and Turkish.
 *
 * Only the new text counts: quoted history (reply headers of the common clients in each language, `>` lines,
 * Outlook header blocks), signatures and our own footer (unsubscribe line, tracking URL) are cut first. Rules and
 * phrase tables, no model and no network; linear in the bytes examined, bounded by named limits; never throws.
 */
import {
	AFFIRMATIVE_ONLY,
	CONTRAST,
	LATIN_HINTS,
	NEGATED_AFTER,
	NEGATORS,
	OUT_OF_OFFICE_PHRASES,
	PHRASES,
	POLITE_REQUEST,
	REFER_VERBS,
	REFUSAL_TURN,
	STOP_PHRASES,
	THANKS,
	type ReplyLanguage,
} from './replyIntentPhrases';

export type ReplyIntent = 'interested' | 'not_interested' | 'wrong_person' | 'neutral';
export type { ReplyLanguage } from './replyIntentPhrases';

export interface ReplyIntentResult {
	intent: ReplyIntent;
	/** The address the writer refers us to (wrong person only); never ours nor the writer's own. */
	referral?: string;
	/** The language of the new text, when it is one of the eleven. */
	language?: ReplyLanguage;
	/** Which rules decided, e.g. `not_interested:zh`, `negated-interest:de`, `contrast`, `referral-address`. */
	signals: string[];
}

export interface ReplyIntentOptions {
	/** Our own addresses or domains (`sales@us.com`, `us.com`): never returned as a referral. */
	ownAddresses?: string[];
	/** The writer's address: never returned as a referral. */
	sender?: string;
}

/** Characters of the body scanned for the start of quoted history. */
export const REPLY_INTENT_MAX_SCAN = 65536;
/** Characters of new text examined for intent (replies that matter say it early). */
export const REPLY_INTENT_MAX_TEXT = 4096;
/** Characters of one line examined by the quote, signature and footer rules. */
export const REPLY_INTENT_MAX_LINE = 400;
/** Characters before a match searched for a negation (same clause only). */
const NEGATION_WINDOW = 24;
/** "Don't hesitate to…" in the languages' usual wording: a negation that asks for the thing. */
const HESITATE_RE = /hesit|\bdud[ea]|zöger|zoger|esita|esiti|стесня|çekinme|cekinme/u;
/** "If interested": a condition, not interest (the interest word right after it is ignored). */
const CONDITIONAL_RE = /(?:^|[^\p{L}])(?:if|falls|wenn|se|caso|если|eger|eğer|اذا)\s(?:\p{L}+\s){0,3}$|如果|如有|若有|もし/u;
/** Matches of one class examined (enough to skip the negated ones). */
const MAX_MATCHES = 32;

const LANGS = Object.keys(PHRASES) as ReplyLanguage[];
const L = '[\\p{L}\\p{N}]';
const BOUNDARY = `(?:(?<=${L})(?!${L})|(?<!${L})(?=${L}))`;
/** Scripts whose words are not separated by spaces, or take attached prefixes: no word boundary before a phrase. */
const NO_PREFIX_BOUNDARY = new Set<ReplyLanguage>(['zh', 'ja', 'ar']);

/** Lower case, Arabic without diacritics and tatweel, one alef, ta marbuta as ha, alef maqsura as ya; Turkish İ as i. */
function normalize(s: string): string {
	return foldLetters(s.replace(/İ/g, 'i').toLowerCase());
}

/** The letter folding of `normalize` without lower-casing (phrase sources keep `\p{L}` and the like). */
function foldLetters(s: string): string {
	return s
		.replace(/[\u064B-\u065F\u0670\u0640]/g, '')
		.replace(/[أإآٱ]/g, 'ا')
		.replace(/ة/g, 'ه')
		.replace(/ى/g, 'ي')
		.replace(/[\u00a0\u2000-\u200b\u3000]/g, ' ')
		.replace(/[’`´]/g, "'");
}

/** Without accents (Latin and Cyrillic combining marks): "mandame" matches "mándame", "tecnica" "técnica". */
function stripMarks(s: string): string {
	return s
		.normalize('NFD')
		.replace(/[\u0300-\u036f]/g, '')
		.normalize('NFC');
}

/** One alternation; a source starting with `*` gets no word boundary before it even when the others do. */
function compile(sources: string[], prefixBoundary: boolean, flags = 'gu'): RegExp {
	const fold = (s: string) => stripMarks(foldLetters(s)).replace(/\\b/g, BOUNDARY);
	const bounded = sources.filter((s) => !prefixBoundary || !s.startsWith('*')).map((s) => fold(s.replace(/^\*/, '')));
	const free = prefixBoundary ? sources.filter((s) => s.startsWith('*')).map((s) => fold(s.slice(1))) : [];
	const parts: string[] = [];
	if (bounded.length > 0) parts.push(prefixBoundary ? `(?<!${L})(?:${bounded.join('|')})` : `(?:${bounded.join('|')})`);
	if (free.length > 0) parts.push(`(?:${free.join('|')})`);
	return new RegExp(parts.join('|') || '(?!)', flags);
}

interface CompiledTable {
	lang: ReplyLanguage;
	interest: RegExp;
	request: RegExp;
	not: RegExp;
	wrong: RegExp;
	commerce: RegExp;
	question?: RegExp;
	polite: RegExp;
	thanks: RegExp;
	negator: RegExp;
	negatedAfter?: RegExp;
}

// Compiled once at load: read-only after that.
const TABLES: readonly CompiledTable[] = LANGS.map((lang) => {
	const p = PHRASES[lang];
	const pre = !NO_PREFIX_BOUNDARY.has(lang);
	const after = NEGATED_AFTER[lang];
	return {
		lang,
		interest: compile(p.interest, pre),
		request: compile(p.request, pre),
		not: compile(p.not, pre),
		wrong: compile(p.wrong, pre),
		commerce: compile(p.commerce, pre, 'u'),
		question: p.question ? compile([p.question], false, 'u') : undefined,
		polite: compile([POLITE_REQUEST[lang]], false, 'u'),
		thanks: compile([THANKS[lang]], false, 'u'),
		negator: compile([NEGATORS[lang]], false, 'u'),
		negatedAfter: after ? new RegExp(stripMarks(foldLetters(after)), 'u') : undefined,
	};
});
const STOP_RE = compile(STOP_PHRASES, false, 'u');
const OOO_RE = compile(OUT_OF_OFFICE_PHRASES, false, 'u');
const CONTRAST_RE = compile([CONTRAST], false, 'gu');
const REFER_RE = compile([REFER_VERBS], false, 'u');
const AFFIRMATIVE_RE = compile([AFFIRMATIVE_ONLY], false, 'u');
const REFUSAL_TURN_RE = compile([REFUSAL_TURN], false, 'gu');
/** Characters after a thank-you searched for the turn of a polite refusal. */
const POLITE_REFUSAL_WINDOW = 160;

// ---------------------------------------------------------------------------------------------------------------
// New text: quoted history, signatures and our footer removed.

/** A line that starts quoted history by itself: separators and "original message" banners of the common clients. */
const QUOTE_BANNER_RE =
	/^(?:-{2,}\s*(?:original message|forwarded message|ursprüngliche nachricht|weitergeleitete nachricht|message d'origine|message transféré|mensaje original|mensaje reenviado|mensagem original|mensagem encaminhada|messaggio originale|messaggio inoltrato|исходное сообщение|пересылаемое сообщение|оригинальное сообщение|原始邮件|原始郵件|转发邮件|元のメッセージ|転送メッセージ|الرسالة الأصلية|الرساله الاصليه|الرسالة الاصلية|orijinal ileti|orijinal mesaj|iletilen ileti|message original|originalnachricht|özgün ileti|yönlendirilmiş ileti|已转发邮件|转发的邮件|轉寄郵件|転送されたメッセージ|الرسالة المعاد توجيهها|الرساله المعاد توجيهها)|_{8,}\s*$|-{5,}\s*$|={8,}\s*$|━{5,}\s*$|from:\s.{0,200}\bsent:\s)/i;

/** The first field of a header block a client puts above the quoted message ("From:", "De :", "发件人："…). */
const HEADER_FROM_RE = /^\*{0,2}(?:from|von|de|da|от|发件人|發件人|寄件者|差出人|送信者|من|kimden|van|od|från)\s*\*{0,2}\s*[:：]/i;
/** Other fields of such a block. */
const HEADER_FIELD_RE =
	/^\*{0,2}(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|date|à|objet|enviado(?: el)?|enviada em|fecha|para|asunto|assunto|inviato|data|a|oggetto|отправлено|дата|кому|тема|发送时间|發送時間|时间|日期|收件人|主题|主旨|送信日時|日時|宛先|件名|تاريخ الإرسال|التاريخ|إلى|الى|الموضوع|gönderildi|tarih|kime|konu)\s*\*{0,2}\s*[:：]/i;

/** A "someone wrote:" line, in the languages of the common clients. */
const WROTE_RE =
	/(?:wrote|writes|schrieb|a écrit|escribió|escreveu|ha scritto|scrisse|написал|написала|пишет|写道|寫道|來信|كتب|yazdı|のメッセージ|napisał|schreef|skrev|kirjoitti)\s*[:：]?\s*$/i;
/** A client's attribution line without a verb: a date or time and an address, ending with a colon (Russian, Japanese Gmail). */
const ATTRIBUTION_RE = /\d.{0,200}<[^<>\s]{1,200}@[^<>\s]{1,200}>\s*[:：]\s*$/;
/** Where wrapped attribution lines start ("On Wed, 2 Apr 2025, 10:31, Name" / "<addr> wrote:"). */
const ATTRIBUTION_START_RE = /^(?:on|am|le|el|em|il giorno|il|op|den|في|\d)/i;
/** An attribution that starts on its own line. */
const ATTRIBUTION_WORD_RE = /^(?:on|am|le|el|em|il giorno|op|den|في)\s/i;

/** Signature delimiters and mobile-client lines: the rest is not the writer's message. */
const SIGNATURE_LINE_RE =
	/^(?:--\s*|__\s*|sent from my|sent from (?:outlook|mail|yahoo|samsung)|get outlook for|envoyé de mon|envoyé depuis|von meinem|gesendet von|发自我的|发自|來自我的|enviado desde mi|enviado do meu|enviado de meu|inviato da|отправлено с|iphoneから送信|androidから送信|أرسلت من|ارسلت من|iphone'umdan|android'imden|enviado desde|تم الإرسال من|تم الارسال من|(?:get|obtener|télécharger|scarica|baixar o|baixe o|holen sie sich) outlook (?:for|für|pour|para|per) (?:ios|android))/i;

/** Closing words on a line of their own (optionally followed by a name): the signature starts there. */
const CLOSING_RE =
	/^(?:best(?: regards| wishes)?|kind(?:est)? regards|warm(?:est)? regards|regards|best rgds|rgds|br|cheers|sincerely|yours (?:sincerely|faithfully|truly)|thanks (?:and|&) (?:best )?regards|with (?:best|kind) regards|此致|敬礼|祝好|祝商祺|顺祝商祺|顺颂商祺|谢谢！?$|mit freundlichen grü(?:ß|ss)en|mit freundlichem gru(?:ß|ss)|mit besten grü(?:ß|ss)en|(?:freundliche|viele|beste|liebe|schöne|herzliche) grü(?:ß|ss)e|gru(?:ß|ss)|grü(?:ß|ss)e|mfg|cordialement|bien cordialement|bien à vous|salutations(?: distinguées)?|sincères salutations|saludos(?: cordiales)?|un saludo|atentamente|cordialmente|atenciosamente|abraços?|cumprimentos|att\.?|atte\.?|un cordial saludo|cordiali saluti|distinti saluti|saluti|un saluto|с уважением|с наилучшими пожеланиями|всего доброго|всего хорошего|よろしくお願い(?:いた)?します|よろしくお願い申し上げます|宜しくお願い(?:いた)?します|以上、?よろしく|以上|مع تحياتي|مع أطيب التحيات|مع خالص التحيات|تحياتي|وتفضلوا بقبول|saygılarımla|saygılar|iyi çalışmalar|selamlar)\s*[,.!！。،]?\s*(?:[\p{L} .'،,-]{0,40})?$/iu;

/** Our own footer in the quoted or pasted text: unsubscribe lines and bare tracking links. */
const FOOTER_RE =
	/unsubscribe|désinscri|desinscri|se désabonner|darse de baja|dar de baja|abmelden|cancelar inscrição|cancella iscrizione|отписаться|退订|取消订阅|配信停止|إلغاء الاشتراك|الغاء الاشتراك|abonelikten çık/i;

/** Removes `<style>`, `<script>` and `<head>` blocks (an unclosed one runs to the end). Linear: one pass of indexOf. */
function dropHiddenBlocks(s: string): string {
	if (!/<(?:style|script|head)\b/i.test(s)) return s;
	const open = /<(style|script|head)\b/gi;
	let out = '';
	let at = 0;
	for (let n = 0; n < 1000; n++) {
		open.lastIndex = at;
		const m = open.exec(s);
		if (!m) break;
		out += s.slice(at, m.index);
		const close = new RegExp(`</${m[1]}[^>]{0,100}>`, 'gi');
		close.lastIndex = m.index + m[0].length;
		const c = close.exec(s);
		if (!c) return out;
		at = c.index + c[0].length;
	}
	return out + s.slice(at);
}

/** Decodes what HTML-to-text conversion leaves (or an HTML body itself): tags, entities, inline images, mailto links. */
function stripHtmlArtifacts(s: string): string {
	return dropHiddenBlocks(s)
		.replace(/<blockquote(?:\s[^<>]{0,300})?>/gi, '\n>\n')
		.replace(/<br\s{0,4}\/?>/gi, '\n')
		.replace(/<\/?(?:p|div|tr|li|table|blockquote|h[1-6]|hr)(?:\s[^<>]{0,300})?\/?>/gi, '\n')
		.replace(/<\/?[a-z][a-z0-9]{0,15}(?:\s[^<>]{0,300})?\/?>/gi, '')
		.replace(/<mailto:[^<>\s]{1,300}>|\[mailto:[^\]\s]{1,300}\]|\(mailto:[^)\s]{1,300}\)/gi, '')
		.replace(/\[(?:cid|image|img|inline image)[^\]\n]{0,300}\]/gi, '')
		.replace(/&nbsp;/gi, ' ')
		.replace(/&amp;/gi, '&')
		.replace(/&lt;/gi, '<')
		.replace(/&gt;/gi, '>')
		.replace(/&quot;/gi, '"')
		.replace(/&#0*39;|&apos;/gi, "'")
		.replace(/&#(?:x([0-9a-f]{1,6})|(\d{1,7}));/gi, (_m, hex: string | undefined, dec: string | undefined) => {
			const n = hex ? parseInt(hex, 16) : Number(dec);
			return n > 0 && n < 0x110000 && (n < 0xd800 || n > 0xdfff) ? String.fromCodePoint(n) : ' ';
		});
}

function isQuoteStart(lines: string[], i: number): number {
	const line = lines[i].trim().slice(0, REPLY_INTENT_MAX_LINE);
	if (line.startsWith('>')) return i;
	if (QUOTE_BANNER_RE.test(line)) return i;
	if (HEADER_FROM_RE.test(line)) {
		if (line.includes('@')) return i;
		for (let k = i + 1; k < Math.min(lines.length, i + 4); k++) if (HEADER_FIELD_RE.test(lines[k].trim().slice(0, REPLY_INTENT_MAX_LINE))) return i;
	}
	// An attribution wrapped over two lines ("…كتب Lisa Chen" / "<lisa@…>:").
	const prev = i > 0 ? lines[i - 1].trim() : '';
	if (line.length > 0 && line.length <= 160 && prev && prev.length <= REPLY_INTENT_MAX_LINE && /\d/.test(prev)) {
		const joined = `${prev} ${line}`;
		if (!WROTE_RE.test(prev) && !WROTE_RE.test(line) && ATTRIBUTION_RE.test(joined)) return i - 1;
	}
	if (line.length > 0 && (WROTE_RE.test(line) || ATTRIBUTION_RE.test(line))) {
		// A wrapped attribution starts on the line before ("On Wed, 2 Apr 2025, Name" / "<addr> wrote:").
		const wrapped =
			prev.length > 0 &&
			prev.length <= REPLY_INTENT_MAX_LINE &&
			!ATTRIBUTION_WORD_RE.test(line) &&
			!/[.!?。！？]$/.test(prev) &&
			((ATTRIBUTION_START_RE.test(prev) && /\d/.test(prev)) || /<[^<>\s]{1,200}@[^<>\s]{1,200}>/.test(prev));
		return wrapped ? i - 1 : i;
	}
	return -1;
}

/**
 * The writer's own words: the text above the quoted history (or, for a bottom-posted reply, the unquoted lines
 * after it), without signature, footer lines and links. At most `REPLY_INTENT_MAX_TEXT` characters.
 */
export function replyNewText(body: string): string {
	if (typeof body !== 'string' || body.length === 0) return '';
	const text = stripHtmlArtifacts(body.slice(0, REPLY_INTENT_MAX_SCAN).replace(/\r\n?/g, '\n'));
	const lines = text.split('\n');
	const kept: string[] = [];
	let size = 0;
	let inQuote = false;
	let seenQuote = false;
	for (let i = 0; i < lines.length && size < REPLY_INTENT_MAX_TEXT; i++) {
		const raw = lines[i];
		const line = raw.trim().slice(0, REPLY_INTENT_MAX_LINE);
		if (inQuote) {
			// Bottom posting: unquoted lines after a `>` block are new text.
			if (line.startsWith('>') || line === '') continue;
			inQuote = false;
		}
		const q = isQuoteStart(lines, i);
		if (q >= 0) {
			if (q < i && kept.length > 0) kept.pop();
			if (kept.some((k) => k.trim() !== '')) break;
			// Nothing written above the quote: a `>` block may be followed by an answer below it.
			if (!line.startsWith('>') || seenQuote) break;
			inQuote = true;
			seenQuote = true;
			continue;
		}
		if (SIGNATURE_LINE_RE.test(line) || (CLOSING_RE.test(line) && kept.some((k) => k.trim() !== ''))) {
			if (kept.some((k) => k.trim() !== '')) break;
			continue;
		}
		if (FOOTER_RE.test(line) && /https?:\/\/|www\./i.test(line)) continue;
		const cleaned = raw.replace(/(?:https?:\/\/|www\.)[^\s<>"]{1,2000}/gi, ' ');
		kept.push(cleaned);
		size += cleaned.length + 1;
	}
	return kept.join('\n').trim().slice(0, REPLY_INTENT_MAX_TEXT);
}

// ---------------------------------------------------------------------------------------------------------------
// Language.

const LATIN_RES: ReadonlyArray<[ReplyLanguage, RegExp, RegExp]> = LATIN_HINTS.map(([lang, words, letters]) => [
	lang,
	new RegExp(`(?<!${L})(?:${words.join('|')})(?!${L})`, 'gu'),
	new RegExp(letters.replace(/\\b/g, BOUNDARY), 'gu'),
]);

/** The language of a text among the eleven, by script, then by common words and letters. */
export function detectReplyLanguage(text: string): ReplyLanguage | undefined {
	const s = typeof text === 'string' ? text.slice(0, REPLY_INTENT_MAX_TEXT) : '';
	let han = 0,
		kana = 0,
		cyr = 0,
		arab = 0,
		latin = 0,
		hangul = 0,
		other = 0;
	for (const ch of s) {
		const c = ch.codePointAt(0) ?? 0;
		if (c >= 0x3040 && c <= 0x30ff) kana++;
		else if ((c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf)) han++;
		else if (c >= 0x0400 && c <= 0x04ff) cyr++;
		else if (c >= 0x0600 && c <= 0x06ff) arab++;
		else if (c >= 0xac00 && c <= 0xd7af) hangul++;
		else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0xc0 && c <= 0x24f)) latin++;
		else if (c > 0x24f && /\p{L}/u.test(ch)) other++;
	}
	const scripts = han + kana + cyr + arab + hangul + other;
	if (kana > 0 && kana + han >= Math.max(2, latin / 4)) return 'ja';
	if (han > 0 && han >= Math.max(2, latin / 6)) return 'zh';
	if (cyr > latin && cyr >= 2) return /[іїєґўі]/i.test(s) ? undefined : 'ru';
	if (arab > latin && arab >= 2) return /[پچژگ]/.test(s) ? undefined : 'ar';
	if (hangul + other > latin) return undefined;
	if (latin < 2 || scripts > latin) return undefined;
	const low = normalize(s);
	let best: ReplyLanguage | undefined;
	let bestScore = 0;
	for (const [lang, words, letters] of LATIN_RES) {
		const score = (low.match(words)?.length ?? 0) + 2 * (low.match(letters)?.length ?? 0);
		if (score > bestScore) {
			best = lang;
			bestScore = score;
		}
	}
	return bestScore > 0 ? best : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Intent.

interface Hit {
	index: number;
	lang: ReplyLanguage;
}

/** The clause before `index` (back to the last sentence or clause mark), at most NEGATION_WINDOW characters. */
function clauseBefore(text: string, index: number): string {
	const from = Math.max(0, index - NEGATION_WINDOW);
	const before = text.slice(from, index);
	const cut = Math.max(
		before.lastIndexOf('.'),
		before.lastIndexOf(','),
		before.lastIndexOf('!'),
		before.lastIndexOf('?'),
		before.lastIndexOf(';'),
		before.lastIndexOf('\n'),
		before.lastIndexOf('。'),
		before.lastIndexOf('，'),
		before.lastIndexOf('、'),
		before.lastIndexOf('！'),
		before.lastIndexOf('？'),
		before.lastIndexOf('،'),
	);
	return cut >= 0 ? before.slice(cut + 1) : before;
}

function isNegated(t: CompiledTable, text: string, m: RegExpExecArray): boolean {
	// CJK negation sits right before the word (不感兴趣, 没有兴趣): a short window ending at the match.
	const window = t.lang === 'zh' || t.lang === 'ja' ? text.slice(Math.max(0, m.index - 4), m.index) : clauseBefore(text, m.index);
	// "Don't hesitate to send…" is no refusal.
	if (t.negator.test(window) && !HESITATE_RE.test(window)) return true;
	if (t.negatedAfter) return t.negatedAfter.test(text.slice(m.index + m[0].length, m.index + m[0].length + 16));
	return false;
}

/** First match of `re` in `text` that is not negated; negated matches are reported through `negated`. */
function firstHit(t: CompiledTable, re: RegExp, text: string, negated?: Hit[], skipConditional = false): Hit | undefined {
	re.lastIndex = 0;
	for (let n = 0; n < MAX_MATCHES; n++) {
		const m = re.exec(text);
		if (!m) return undefined;
		if (m[0].length === 0) {
			re.lastIndex++;
			continue;
		}
		if (skipConditional && CONDITIONAL_RE.test(clauseBefore(text, m.index))) continue;
		// "Thank you for your offer / catalogue": what is thanked for is not asked for.
		if (t.thanks.test(clauseBefore(text, m.index))) continue;
		if (!isNegated(t, text, m)) return { index: m.index, lang: t.lang };
		if (negated) negated.push({ index: m.index, lang: t.lang });
	}
	return undefined;
}

function plainHit(t: CompiledTable, re: RegExp, text: string): Hit | undefined {
	re.lastIndex = 0;
	const m = re.exec(text);
	return m ? { index: m.index, lang: t.lang } : undefined;
}

function earliest(hits: Array<Hit | undefined>): Hit | undefined {
	let best: Hit | undefined;
	for (const h of hits) if (h && (!best || h.index < best.index)) best = h;
	return best;
}

const EMAIL_RE = /[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,62}\.){1,8}[a-z]{2,24}/gi;

/** A signature's contact line ("E-mail: …", "邮箱：…"): the writer's own address, not a referral. */
const CONTACT_LABEL_RE =
	/^\s*(?:e-?mail(?: address)?|mail|e|email|邮箱|郵箱|电邮|電郵|correo(?: electronico)?|e-?posta|почта|эл\. ?почта|メール|e-?mail ?アドレス|البريد(?: الالكتروني)?)\s*[:：]?\s*$/i;

function isExcluded(address: string, options: ReplyIntentOptions): boolean {
	const a = address.toLowerCase();
	const domain = a.slice(a.indexOf('@') + 1);
	const sender = typeof options.sender === 'string' ? options.sender.trim().toLowerCase() : '';
	// The writer's own address, also at another domain (john.smith@gmail.com writing with a john.smith@company.com signature).
	if (sender && (a === sender || (sender.includes('@') && a.slice(0, a.indexOf('@')) === sender.slice(0, sender.indexOf('@'))))) return true;
	for (const own of Array.isArray(options.ownAddresses) ? options.ownAddresses : []) {
		if (typeof own !== 'string') continue;
		const o = own.trim().toLowerCase();
		if (!o) continue;
		if (o.includes('@') ? a === o || a.replace(/\+[^@]*@/, '@') === o.replace(/\+[^@]*@/, '@') : domain === o || domain.endsWith('.' + o))
			return true;
	}
	return /^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster)@/.test(a);
}

/** Addresses in the new text that may be a referral, in order of appearance. */
function candidateAddresses(text: string, options: ReplyIntentOptions): Array<{ address: string; index: number }> {
	const out: Array<{ address: string; index: number }> = [];
	const deobfuscated = text.replace(/\s?[[(]at[\])]\s?/gi, '@').replace(/\s?[[(]dot[\])]\s?/gi, '.');
	EMAIL_RE.lastIndex = 0;
	for (let n = 0; n < MAX_MATCHES; n++) {
		const m = EMAIL_RE.exec(deobfuscated);
		if (!m) break;
		const address = m[0].replace(/\.+$/, '').toLowerCase();
		const lineStart = deobfuscated.lastIndexOf('\n', m.index) + 1;
		if (CONTACT_LABEL_RE.test(deobfuscated.slice(lineStart, m.index))) continue;
		if (!isExcluded(address, options) && !out.some((o) => o.address === address)) out.push({ address, index: m.index });
	}
	return out;
}

function classify(subject: string, body: string, options: ReplyIntentOptions): ReplyIntentResult {
	const fresh = replyNewText(body);
	const text = stripMarks(normalize(fresh));
	const signals: string[] = [];
	const language = detectReplyLanguage(fresh) ?? detectReplyLanguage(stripReplyPrefix(subject));
	const result = (intent: ReplyIntent, referral?: string): ReplyIntentResult => {
		const r: ReplyIntentResult = { intent, signals };
		if (language) r.language = language;
		if (referral) r.referral = referral;
		return r;
	};
	if (text.trim() === '') return decideFromSubject(subject, signals, result);

	if (OOO_RE.test(text)) {
		signals.push('out-of-office');
		return result('neutral');
	}

	const negatedInterest: Hit[] = [];
	const wrong = earliest(TABLES.map((t) => plainHit(t, t.wrong, text)));
	const not = earliest(TABLES.map((t) => plainHit(t, t.not, text)));
	const interest = earliest(TABLES.map((t) => firstHit(t, t.interest, text, negatedInterest, true)));
	const request = earliest(TABLES.map((t) => firstHit(t, t.request, text)));
	const question = commerceQuestion(text);
	const stop = STOP_RE.test(text);
	const addresses = candidateAddresses(text, options);

	if (wrong) {
		signals.push(`wrong_person:${wrong.lang}`);
		const referral = pickReferral(addresses, wrong.index);
		if (referral) signals.push('referral-address');
		return result('wrong_person', referral);
	}
	const refusal = earliest([not, negatedInterest[0]]);
	const positive = earliest([interest, request, question]);
	if (stop) {
		signals.push('stop-request');
		return result('not_interested');
	}
	if (refusal) {
		signals.push(not && refusal === not ? `not_interested:${refusal.lang}` : `negated-interest:${refusal.lang}`);
		// "We already have a supplier, but send us your price list anyway": a request after a contrast wins.
		const later = positive ? lastPositiveAfter(text, refusal.index) : undefined;
		if (later !== undefined && hasContrastBetween(text, refusal.index, later)) {
			signals.push('contrast');
			return result('interested');
		}
		return result('not_interested');
	}
	if (!positive && AFFIRMATIVE_RE.test(text.trim())) {
		signals.push('affirmative');
		return result('interested');
	}
	if (positive) {
		signals.push(
			positive === question && positive !== interest && positive !== request ? `question:${positive.lang}` : `interested:${positive.lang}`,
		);
		return result('interested');
	}
	// "Thank you for your offer, but…" with nothing asked: a polite refusal.
	const polite = politeRefusal(text);
	if (polite) {
		signals.push(`polite-refusal:${polite.lang}`);
		return result('not_interested');
	}
	// Someone else's address with no other sign ("Son remplaçant : x@their.com"): a referral.
	if (addresses.length > 0) {
		const referral = addresses.find((a) => REFER_RE.test(text.slice(Math.max(0, a.index - 80), a.index + a.address.length + 40))) ?? addresses[0];
		signals.push('referral-address');
		return result('wrong_person', referral.address);
	}
	return decideFromSubject(subject, signals, result);
}

const SENTENCE_RE = /[^.!?。！？؟\n]{1,600}[.!?。！？؟]*/gu;
const QUESTION_MARK_RE = /[?？؟]|¿/;
/** Sentences examined by the question rule. */
const MAX_SENTENCES = 80;

/** The first question about commerce (price, freight, warranty, stock, a fair…): a buyer's question is interest. */
function commerceQuestion(text: string): Hit | undefined {
	SENTENCE_RE.lastIndex = 0;
	for (let n = 0; n < MAX_SENTENCES; n++) {
		const m = SENTENCE_RE.exec(text);
		if (!m) return undefined;
		const sentence = m[0];
		const marked = QUESTION_MARK_RE.test(sentence);
		for (const t of TABLES) {
			// A question, or a polite request ("please", "请", "お願い"), about a commerce word.
			if (!marked && !(t.question && t.question.test(sentence)) && !t.polite.test(sentence)) continue;
			if (t.commerce.test(sentence)) return { index: m.index, lang: t.lang };
		}
	}
	return undefined;
}

/**
 * A thank-you followed, in the same paragraph, by a refusal turn ("but", "unfortunately", "不过", "ですが") and a
 * statement (a question after the turn is no refusal: "thanks, but who are you?").
 */
function politeRefusal(text: string): Hit | undefined {
	for (const t of TABLES) {
		const m = t.thanks.exec(text);
		if (!m) continue;
		const after = text.slice(m.index + m[0].length, m.index + m[0].length + POLITE_REFUSAL_WINDOW);
		const paragraph = after.split('\n\n')[0];
		REFUSAL_TURN_RE.lastIndex = 0;
		const turn = REFUSAL_TURN_RE.exec(paragraph);
		if (!turn) continue;
		const rest = paragraph.slice(turn.index + turn[0].length);
		if (/\p{L}{2}/u.test(rest) && !QUESTION_MARK_RE.test(rest)) return { index: m.index, lang: t.lang };
	}
	return undefined;
}

/** The start of the last interest or request match after `from` (for the contrast rule). */
function lastPositiveAfter(text: string, from: number): number | undefined {
	let last: number | undefined;
	const rest = text.slice(from);
	for (const t of TABLES) {
		for (const re of [t.interest, t.request]) {
			if (re.lastIndex) re.lastIndex = 0;
			const h = firstHit(t, re, rest);
			if (h && h.index > 0 && (last === undefined || from + h.index > last)) last = from + h.index;
		}
	}
	return last;
}

function hasContrastBetween(text: string, from: number, to: number): boolean {
	CONTRAST_RE.lastIndex = 0;
	const between = text.slice(from, to);
	return CONTRAST_RE.test(between);
}

/** The address nearest after the wrong-person cue, else the first one. */
function pickReferral(addresses: Array<{ address: string; index: number }>, cueIndex: number): string | undefined {
	if (addresses.length === 0) return undefined;
	return (addresses.find((a) => a.index >= cueIndex) ?? addresses[0]).address;
}

function stripReplyPrefix(subject: string): string {
	if (typeof subject !== 'string') return '';
	return subject
		.slice(0, 1000)
		.replace(/^(?:\s*(?:re|aw|sv|vs|antw|rép|réf|rv|res|r|ynt|fw|fwd|tr|wg|回复|回覆|答复|转发|ответ|رد)\s*[:：]\s*)+/i, '');
}

/** A writer who answers in the subject line only ("Re: not interested"); our own subject carries no such words. */
function decideFromSubject(subject: string, signals: string[], result: (i: ReplyIntent) => ReplyIntentResult): ReplyIntentResult {
	const s = stripMarks(normalize(stripReplyPrefix(subject)));
	if (s && s.length <= 200) {
		if (STOP_RE.test(s)) {
			signals.push('subject:stop-request');
			return result('not_interested');
		}
		for (const t of TABLES) {
			t.not.lastIndex = 0;
			if (t.not.test(s)) {
				signals.push(`subject:not_interested:${t.lang}`);
				return result('not_interested');
			}
		}
	}
	if (signals.length === 0) signals.push('no-rule');
	return result('neutral');
}

/**
 * Classifies the intent of a human reply from its subject and decoded text body. Never throws: anything
 * unexpected (bad types, junk) is `neutral` with a `problem:` signal.
 */
export function classifyReplyIntent(subject: string, body: string, options: ReplyIntentOptions = {}): ReplyIntentResult {
	try {
		return classify(
			typeof subject === 'string' ? subject : '',
			typeof body === 'string' ? body : '',
			options && typeof options === 'object' ? options : {},
		);
	} catch (error) {
		return {
			intent: 'neutral',
			signals: [`problem: ${(error as Error)?.message ?? String(error)}`],
		};
	}
}
