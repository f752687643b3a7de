/**
 * Tag grammar: `{language}-{segment}-{marker}{NN}`, e.g. `English-Equipment Dealers-Marketing05`
 * or, in the guide's own words, `法语-工程设备经销商-营销05`. Tags are never stripped: state is added as new tags,
 * and sending excludes by tag groups.
 *
 * Both marker sets are accepted by default (TAG_WORDS): `Marketing`/`Read` and `营销`/`阅读`, group prefixes
 * `Intent-`/`Risk-` and `意向-`/`风险-`; a space before NN and full-width digits are accepted. A marker or prefix
 * written with Chinese characters makes a Chinese tag, any other an English one; a contact's new tags are written
 * in the language of its own tags (contactTagLanguage).
 *
 * Tags are compared by their key (tagKey): surrounding spaces dropped, full-width forms folded to ASCII (NFKC) and
 * lower-cased, so `risk-unsubscribed`, ` RISK-Hard-Bounce ` and `Ｒｉｓｋ－x` are all risk tags.
 */

/** Longest tag (characters, after trimming) a contact may carry; a longer one is a problem on that contact. */
export const MAX_TAG_LENGTH = 500;
/** Most distinct tags a contact may carry; past this the contact's tags are not examined and it is a problem. */
export const MAX_TAGS_PER_CONTACT = 1_000;
/** Delimiters of a tag string when none is given. */
export const DEFAULT_TAG_DELIMITERS: readonly string[] = Object.freeze([',', ';', '\n']);
/** Characters of a tag quoted in a problem message. */
const QUOTE_LENGTH = 40;
/** Distinct tags a classifier remembers: contact bases reuse a few hundred tags across a million contacts. */
const CLASSIFIER_CACHE_LIMIT = 100_000;

/** The form tags, prefixes and list entries are compared in: trimmed, NFKC-folded, lower-cased. */
export function tagKey(value: string): string {
	return value.normalize('NFKC').toLowerCase().trim();
}

export type TagGroup = 'marketing' | 'read' | 'intent' | 'risk';
export type BatchGroup = 'marketing' | 'read';
export type StateGroup = 'intent' | 'risk';

/** The languages tags are written in. */
export type TagLanguage = 'en' | 'zh';

export interface TagWords {
	marketing: string;
	read: string;
	intent: string;
	risk: string;
}

/** Each language's batch markers and group prefixes; the Chinese ones are the guide's own (seeds/004). */
export const TAG_WORDS: Readonly<Record<TagLanguage, Readonly<TagWords>>> = Object.freeze({
	en: Object.freeze({ marketing: 'Marketing', read: 'Read', intent: 'Intent-', risk: 'Risk-' }),
	zh: Object.freeze({ marketing: '营销', read: '阅读', intent: '意向-', risk: '风险-' }),
});

const HAN = /\p{Script=Han}/u;

/** The language a marker, prefix or name is written in: Chinese when it has a Chinese character, else English. */
export function wordLanguage(word: string): TagLanguage {
	return typeof word === 'string' && HAN.test(word) ? 'zh' : 'en';
}

/** Which tags belong to a group that has no batch number: by prefix(es), by explicit list, or both. */
export interface GroupMembership {
	prefix?: string;
	/** More prefixes; each one's language (wordLanguage) is the language of the tags it starts. */
	prefixes?: string[];
	tags?: string[];
}

export interface TagGrammar {
	separator: string;
	/** The first marketing marker: written when no marker of the wanted language is configured. */
	marketingMarker: string;
	/** The first read marker. */
	readMarker: string;
	/** Every marketing marker accepted; when absent, `[marketingMarker]` (or the defaults when that is absent too). */
	marketingMarkers?: string[];
	/** Every read marker accepted; when absent, `[readMarker]` (or the defaults). */
	readMarkers?: string[];
	intent: GroupMembership;
	risk: GroupMembership;
}

/** A grammar whose marker lists are filled in (resolveGrammar). */
export interface ResolvedTagGrammar extends TagGrammar {
	marketingMarkers: string[];
	readMarkers: string[];
}

const frozen = (list: string[]): string[] => Object.freeze(list) as string[];

/** The default grammar: both languages' markers and prefixes (TAG_WORDS), English first. Frozen throughout. */
export const DEFAULT_TAG_GRAMMAR: Readonly<ResolvedTagGrammar> = Object.freeze({
	separator: '-',
	marketingMarker: TAG_WORDS.en.marketing,
	readMarker: TAG_WORDS.en.read,
	marketingMarkers: frozen([TAG_WORDS.en.marketing, TAG_WORDS.zh.marketing]),
	readMarkers: frozen([TAG_WORDS.en.read, TAG_WORDS.zh.read]),
	intent: Object.freeze({ prefixes: frozen([TAG_WORDS.en.intent, TAG_WORDS.zh.intent]) }),
	risk: Object.freeze({ prefixes: frozen([TAG_WORDS.en.risk, TAG_WORDS.zh.risk]) }),
});

/** Highest batch number per group: one marketing batch per day of a 30-day round, one read batch per 10 days. */
export const BATCH_COUNT: Record<BatchGroup, number> = { marketing: 30, read: 10 };

export interface BatchTag {
	language: string;
	segment: string;
	group: BatchGroup;
	batch: number;
}

/** How a batch tag is written: the language of its marker, and whether a space stands before NN. */
export interface BatchTagForm {
	language?: TagLanguage;
	spaced?: boolean;
	/** One of the group's markers to write (overrides `language`). */
	marker?: string;
}

/** Markers trimmed, empties and repeats (by key) dropped; a list replaces the single marker, which replaces the default. */
function markerList(list: unknown, single: unknown, fallback: readonly string[]): string[] {
	const source = Array.isArray(list) ? list : typeof single === 'string' ? [single] : fallback;
	const out: string[] = [];
	const seen = new Set<string>();
	for (const m of source) {
		if (typeof m !== 'string') continue;
		const key = tagKey(m);
		if (seen.has(key)) continue;
		seen.add(key);
		out.push(m.trim());
	}
	return out;
}

/**
 * The grammar with defaults filled in. A marker (or list) the caller sets replaces both default languages' markers
 * of that group; an `intent` or `risk` membership the caller sets replaces both default prefixes of that group.
 */
export function resolveGrammar(grammar?: Partial<TagGrammar>): ResolvedTagGrammar {
	const input = grammar ?? {};
	const separator = input.separator ?? DEFAULT_TAG_GRAMMAR.separator;
	if (!separator) throw new RangeError('the tag separator must not be empty');
	const marketingMarkers = markerList(input.marketingMarkers, input.marketingMarker, DEFAULT_TAG_GRAMMAR.marketingMarkers);
	const readMarkers = markerList(input.readMarkers, input.readMarker, DEFAULT_TAG_GRAMMAR.readMarkers);
	if (marketingMarkers.length === 0 || readMarkers.length === 0 || [...marketingMarkers, ...readMarkers].some((m) => !tagKey(m)))
		throw new RangeError('the marketing and read markers must not be empty');
	const readKeys = new Set(readMarkers.map(tagKey));
	if (marketingMarkers.some((m) => readKeys.has(tagKey(m)))) throw new RangeError('the marketing and read markers must differ');
	return {
		separator,
		marketingMarker: marketingMarkers[0],
		readMarker: readMarkers[0],
		marketingMarkers,
		readMarkers,
		intent: input.intent ?? DEFAULT_TAG_GRAMMAR.intent,
		risk: input.risk ?? DEFAULT_TAG_GRAMMAR.risk,
	};
}

export function padBatch(batch: number): string {
	return batch < 10 ? `0${batch}` : String(batch);
}

interface MarkerEntry {
	group: BatchGroup;
	language: TagLanguage;
}

/** A batch tag as read: its parts, the language of its marker and whether a space stood before NN. */
export interface BatchMatch {
	batch: BatchTag;
	language: TagLanguage;
	spaced: boolean;
}

function markerTable(g: ResolvedTagGrammar): Map<string, MarkerEntry> {
	const table = new Map<string, MarkerEntry>();
	for (const m of g.marketingMarkers) table.set(tagKey(m), { group: 'marketing', language: wordLanguage(m) });
	for (const m of g.readMarkers) table.set(tagKey(m), { group: 'read', language: wordLanguage(m) });
	return table;
}

const DEFAULT_MARKERS: ReadonlyMap<string, MarkerEntry> = markerTable(resolveGrammar());

function isDigit(code: number): boolean {
	return code >= 48 && code <= 57;
}

/**
 * The marker key, the two-digit number and whether a space came before it, from the last part of a batch tag
 * (`Marketing05`, `营销 02`, `营销０５`, `MARKETING 5` is refused: NN is always two digits). Full-width digits and
 * the ideographic space fold to ASCII (NFKC). Linear: one normalisation and a look at the last three characters.
 */
export function readBatchTail(tail: string): { marker: string; number: number; spaced: boolean } | null {
	const t = tagKey(tail);
	const n = t.length;
	if (n < 3 || !isDigit(t.charCodeAt(n - 1)) || !isDigit(t.charCodeAt(n - 2))) return null;
	const before = t.slice(0, -2);
	const marker = before.trimEnd();
	if (!marker) return null;
	return { marker, number: Number(t.slice(-2)), spaced: marker.length !== before.length };
}

function matchBatch(tag: string, separator: string, markers: ReadonlyMap<string, MarkerEntry>): BatchMatch | null {
	if (typeof tag !== 'string') return null;
	const t = tag.trim();
	const first = t.indexOf(separator);
	const last = t.lastIndexOf(separator);
	// language, segment and marker must all be present: two separators at least, non-empty parts
	if (first <= 0 || last < first + separator.length) return null;
	const language = t.slice(0, first).trim();
	const segment = t.slice(first + separator.length, last).trim();
	if (!language || !segment) return null;
	const tail = readBatchTail(t.slice(last + separator.length));
	if (!tail) return null;
	const entry = markers.get(tail.marker);
	if (!entry || tail.number < 1 || tail.number > BATCH_COUNT[entry.group]) return null;
	return { batch: { language, segment, group: entry.group, batch: tail.number }, language: entry.language, spaced: tail.spaced };
}

/** `English-Equipment Dealers-Marketing05` → parts, or null when the tag is not a batch tag of this grammar. */
export function parseBatchTag(tag: string, grammar?: Partial<TagGrammar>): BatchTag | null {
	return parseBatchTagForm(tag, grammar)?.batch ?? null;
}

/** Like parseBatchTag, with the marker's language and the spacing. Never throws on a bad tag. */
export function parseBatchTagForm(tag: string, grammar?: Partial<TagGrammar>): BatchMatch | null {
	if (grammar === undefined || grammar === DEFAULT_TAG_GRAMMAR) return matchBatch(tag, DEFAULT_TAG_GRAMMAR.separator, DEFAULT_MARKERS);
	const g = resolveGrammar(grammar);
	return matchBatch(tag, g.separator, markerTable(g));
}

/** The first of `words` written in `language`, else the first of all. */
function wordIn(words: readonly string[], language: TagLanguage | undefined): string {
	if (language !== undefined) for (const w of words) if (wordLanguage(w) === language) return w;
	return words[0];
}

/**
 * The batch tag for `parts`, with `form.marker`, or the marker of `form.language` when the grammar has one (else its
 * first marker), and a space before NN when `form.spaced`.
 */
export function formatBatchTag(parts: BatchTag, grammar?: Partial<TagGrammar>, form: BatchTagForm = {}): string {
	const g = resolveGrammar(grammar);
	const { language, segment, group, batch } = parts;
	if (!Number.isInteger(batch) || batch < 1 || batch > BATCH_COUNT[group])
		throw new RangeError(`${group} batch must be a whole number from 1 to ${BATCH_COUNT[group]}, got ${batch}`);
	if (!language?.trim() || !segment?.trim()) throw new RangeError('a batch tag needs a language and a segment');
	if (language.includes(g.separator)) throw new RangeError(`the language "${language}" contains the separator "${g.separator}"`);
	const markers = group === 'marketing' ? g.marketingMarkers : g.readMarkers;
	if (form.marker !== undefined && !markers.includes(form.marker)) throw new RangeError(`"${form.marker}" is not a ${group} marker of the grammar`);
	const marker = form.marker ?? wordIn(markers, form.language);
	return `${language.trim()}${g.separator}${segment.trim()}${g.separator}${marker}${form.spaced ? ' ' : ''}${padBatch(batch)}`;
}

/** A group membership in key form: the prefixes (with their language) and the listed tags. */
interface MembershipKeys {
	prefixes: Array<{ key: string; word: string; language: TagLanguage }>;
	tags: Set<string>;
}

function membershipKeys(m: GroupMembership | undefined): MembershipKeys {
	const tags = new Set<string>();
	for (const t of Array.isArray(m?.tags) ? m.tags : []) if (typeof t === 'string' && tagKey(t)) tags.add(tagKey(t));
	const prefixes: MembershipKeys['prefixes'] = [];
	const words = [...(typeof m?.prefix === 'string' ? [m.prefix] : []), ...(Array.isArray(m?.prefixes) ? m.prefixes : [])];
	for (const word of words) {
		// a prefix of only spaces would match every tag: it means "no prefix"
		const key = typeof word === 'string' ? tagKey(word) : '';
		if (key && !prefixes.some((p) => p.key === key)) prefixes.push({ key, word: word.trim(), language: wordLanguage(word) });
	}
	return { prefixes, tags };
}

/** The membership's prefix that `key` starts with (its language), true for a listed tag, null for neither. */
function inMembership(key: string, m: MembershipKeys): TagLanguage | true | null {
	for (const p of m.prefixes) if (key.startsWith(p.key)) return p.language;
	return m.tags.has(key) ? true : null;
}

export interface TagInfo {
	group: TagGroup | null;
	batch?: BatchTag;
	/** The tag's comparison key (tagKey). */
	key: string;
	/** The language the tag is written in, when its marker or group prefix tells. */
	language?: TagLanguage;
	/** A batch tag written with a space before NN (`营销 02`). */
	spaced?: true;
}

/**
 * Classifies tags into groups. Group prefixes and explicit lists compare by tagKey (case, width and surrounding
 * spaces do not matter). Keeps a cache per classifier, so create one per run, not per contact. Never throws.
 */
export class TagClassifier {
	readonly grammar: ResolvedTagGrammar;
	private readonly cache = new Map<string, TagInfo>();
	private readonly markers: ReadonlyMap<string, MarkerEntry>;
	private readonly intent: MembershipKeys;
	private readonly risk: MembershipKeys;

	constructor(grammar?: Partial<TagGrammar>) {
		this.grammar = resolveGrammar(grammar);
		this.markers = markerTable(this.grammar);
		this.intent = membershipKeys(this.grammar.intent);
		this.risk = membershipKeys(this.grammar.risk);
	}

	info(tag: string): TagInfo {
		if (typeof tag !== 'string') return { group: null, key: '' };
		let info = this.cache.get(tag);
		if (info === undefined) {
			info = this.compute(tag);
			if (this.cache.size < CLASSIFIER_CACHE_LIMIT && tag.length <= MAX_TAG_LENGTH) this.cache.set(tag, info);
		}
		return info;
	}

	group(tag: string): TagGroup | null {
		return this.info(tag).group;
	}

	/** The language tags get when a contact's own tags do not tell: that of the first marketing marker. */
	get fallbackLanguage(): TagLanguage {
		return wordLanguage(this.grammar.marketingMarker);
	}

	/** The prefix of `group` for tags in `language` (else the group's first prefix), or null when it has none. */
	prefixFor(group: StateGroup, language: TagLanguage): string | null {
		const prefixes = (group === 'risk' ? this.risk : this.intent).prefixes;
		if (prefixes.length === 0) return null;
		return (prefixes.find((p) => p.language === language) ?? prefixes[0]).word;
	}

	/** `prefixFor`'s keys, to strip a prefix a user wrote into a state name. */
	prefixKeys(group: StateGroup): string[] {
		return (group === 'risk' ? this.risk : this.intent).prefixes.map((p) => p.key);
	}

	private compute(tag: string): TagInfo {
		const key = tagKey(tag);
		// Risk before intent: a tag listed in both must stop mail, not just bulk mail.
		const risk = inMembership(key, this.risk);
		if (risk !== null) return risk === true ? { group: 'risk', key } : { group: 'risk', key, language: risk };
		const intent = inMembership(key, this.intent);
		if (intent !== null) return intent === true ? { group: 'intent', key } : { group: 'intent', key, language: intent };
		const m = matchBatch(tag, this.grammar.separator, this.markers);
		if (m)
			return m.spaced
				? { group: m.batch.group, batch: m.batch, key, language: m.language, spaced: true }
				: { group: m.batch.group, batch: m.batch, key, language: m.language };
		return { group: null, key };
	}
}

export function tagGroup(tag: string, grammar?: Partial<TagGrammar>): TagGroup | null {
	return new TagClassifier(grammar).group(tag);
}

function classifierOf(grammar?: Partial<TagGrammar> | TagClassifier): TagClassifier {
	return grammar instanceof TagClassifier ? grammar : new TagClassifier(grammar);
}

/**
 * The language a contact's new tags are written in, from its own tags: the language of its first marketing batch
 * tag; else the language most of its read, intent and risk tags are written in; on a tie, or with none of those,
 * the grammar's fallback (the language of its first marketing marker, English by default). Never throws.
 */
export function contactTagLanguage(tags: unknown, grammar?: Partial<TagGrammar> | TagClassifier): TagLanguage {
	const classifier = classifierOf(grammar);
	if (!Array.isArray(tags)) return classifier.fallbackLanguage;
	const count: Record<TagLanguage, number> = { en: 0, zh: 0 };
	for (const t of tags) {
		const info = classifier.info(t);
		if (info.language === undefined) continue;
		if (info.group === 'marketing') return info.language;
		count[info.language]++;
	}
	if (count.zh > count.en) return 'zh';
	if (count.en > count.zh) return 'en';
	return classifier.fallbackLanguage;
}

/** The language a segment's batch tags are written in: Chinese when its language or segment name is. */
export function segmentTagLanguage(segment: { language: string; segment: string }, grammar?: Partial<TagGrammar> | TagClassifier): TagLanguage {
	const l = wordLanguage(`${segment?.language ?? ''}${segment?.segment ?? ''}`);
	return l === 'zh' ? 'zh' : classifierOf(grammar).fallbackLanguage;
}

export interface StateName {
	group: StateGroup;
	en: string;
	zh: string;
	/** Other spellings read as this state (either language). */
	aliases?: readonly string[];
}

/**
 * State tags the templates add, in both languages (the part after `Risk-`/`风险-` or `Intent-`/`意向-`). The
 * Chinese names are the words sales teams write on such tags; 同行 and 非目标 are the guide's own (seeds/004).
 */
export const STATE_NAMES = Object.freeze({
	unsubscribed: { group: 'risk', en: 'Unsubscribed', zh: '退订' },
	hardBounce: { group: 'risk', en: 'Hard bounce', zh: '硬退信', aliases: ['Hard-bounce', 'HardBounce', '退信'] },
	complained: { group: 'risk', en: 'Complained', zh: '投诉', aliases: ['Complaint'] },
	notInterested: { group: 'risk', en: 'NotInterested', zh: '不感兴趣', aliases: ['Not interested', '无兴趣'] },
	competitor: { group: 'risk', en: 'Competitor', zh: '同行', aliases: ['竞争对手'] },
	notTarget: { group: 'risk', en: 'Not target', zh: '非目标', aliases: ['NotTarget'] },
	replied: { group: 'intent', en: 'Replied', zh: '已回复' },
	interested: { group: 'intent', en: 'Interested', zh: '感兴趣' },
	askedPrice: { group: 'intent', en: 'Asked price', zh: '询价', aliases: ['AskedPrice'] },
	askedSample: { group: 'intent', en: 'Asked sample', zh: '要样品', aliases: ['AskedSample'] },
} satisfies Record<string, StateName>);

export type StateId = keyof typeof STATE_NAMES;

/** Every spelling of every state (its id, both names, aliases) by key; built once, never changed. */
const STATE_BY_KEY: ReadonlyMap<string, Readonly<StateName>> = (() => {
	const map = new Map<string, Readonly<StateName>>();
	for (const [id, s] of Object.entries(STATE_NAMES) as Array<[string, StateName]>)
		for (const w of [id, s.en, s.zh, ...(s.aliases ?? [])]) map.set(tagKey(w), s);
	return map;
})();

/** The table's entry for a state name written in either language (or its id), or undefined. */
export function findState(name: string): Readonly<StateName> | undefined {
	return typeof name === 'string' ? STATE_BY_KEY.get(tagKey(name)) : undefined;
}

/**
 * The state tag of `group` in `language`: the group's prefix of that language and the state's name in it, e.g.
 * ('risk', 'Unsubscribed', 'zh') → `风险-退订`. A name in STATE_NAMES (either language, any case, with or without
 * the group's prefix) is translated; any other is kept as written. Throws a RangeError on an empty name or a group
 * without a prefix (a group defined only by a list of tags).
 */
export function stateTag(group: StateGroup, state: string, language: TagLanguage, grammar?: Partial<TagGrammar> | TagClassifier): string {
	if (group !== 'intent' && group !== 'risk') throw new RangeError(`a state tag belongs to the intent or risk group, not "${String(group)}"`);
	const classifier = classifierOf(grammar);
	let name = typeof state === 'string' ? state.trim() : '';
	const key = tagKey(name);
	for (const p of classifier.prefixKeys(group))
		if (key.startsWith(p) && key.length > p.length) {
			name = dropPrefix(name, p);
			break;
		}
	if (!name) throw new RangeError(`a ${group} state tag needs a state name`);
	const prefix = classifier.prefixFor(group, language);
	if (prefix === null)
		throw new RangeError(`the ${group} group has no prefix to write a state tag with: set a ${group} prefix in Tag Grammar, or add the tag by name`);
	const known = findState(name);
	return `${prefix}${known ? known[language] : name}`;
}

/** `name` without its first characters that fold to `prefixKey` (width folding keeps lengths close: bounded). */
function dropPrefix(name: string, prefixKey: string): string {
	const limit = Math.min(name.length, prefixKey.length * 4 + 4);
	for (let i = 1; i <= limit; i++) if (tagKey(name.slice(0, i)) === prefixKey) return name.slice(i).trim();
	return name;
}

/** A contact's tags as read, and why reading stopped early (a limit cut in, or a value that is no tag). */
export interface TagList {
	tags: string[];
	problem?: string;
}

function quote(s: string): string {
	return s.length > QUOTE_LENGTH ? `"${s.slice(0, QUOTE_LENGTH)}…"` : `"${s}"`;
}

/**
 * Walks the delimited parts of `s` (trimmed, non-empty) in one pass; `visit` returns false to stop. Each delimiter's
 * next occurrence is found once and reused, so the walk is linear in `s` for any delimiters.
 */
function eachPart(s: string, delimiters: string | readonly string[], visit: (part: string) => boolean): void {
	const list = (typeof delimiters === 'string' ? [delimiters] : delimiters).filter((d) => typeof d === 'string' && d !== '');
	if (list.every((d) => d.length === 1)) {
		// one character each: a plain scan, and no copy of the empty parts between adjacent delimiters
		const codes = list.map((d) => d.charCodeAt(0));
		let start = 0;
		for (let i = 0; i <= s.length; i++) {
			if (i < s.length && !codes.includes(s.charCodeAt(i))) continue;
			if (i > start) {
				const part = s.slice(start, i).trim();
				if (part !== '' && !visit(part)) return;
			}
			start = i + 1;
		}
		return;
	}
	const next = list.map((d) => s.indexOf(d));
	let pos = 0;
	for (;;) {
		let end = s.length;
		let width = 0;
		for (let k = 0; k < list.length; k++) {
			if (next[k] !== -1 && next[k] < pos) next[k] = s.indexOf(list[k], pos);
			if (next[k] !== -1 && next[k] < end) {
				end = next[k];
				width = list[k].length;
			}
		}
		const part = s.slice(pos, end).trim();
		if (part !== '' && !visit(part)) return;
		if (width === 0) return;
		pos = end + width;
	}
}

/**
 * A contact's tags from an array or a delimited string (`a, b; c`): trimmed, empties and exact duplicates dropped,
 * order kept. Stops with a `problem` at the first tag longer than MAX_TAG_LENGTH, past MAX_TAGS_PER_CONTACT distinct
 * tags, or at a value that is no tag (an object); `tags` then holds what was read before. Linear; never throws.
 */
export function parseTagList(value: unknown, delimiters: string | readonly string[] = DEFAULT_TAG_DELIMITERS): TagList {
	const tags: string[] = [];
	const seen = new Set<string>();
	let problem: string | undefined;
	const add = (t: string): boolean => {
		if (t.length > MAX_TAG_LENGTH) {
			problem = `a tag is ${t.length} characters long, more than ${MAX_TAG_LENGTH}: ${quote(t)}`;
			return false;
		}
		if (seen.has(t)) return true;
		if (tags.length === MAX_TAGS_PER_CONTACT) {
			problem = `more than ${MAX_TAGS_PER_CONTACT} tags`;
			return false;
		}
		seen.add(t);
		tags.push(t);
		return true;
	};
	const scalar = (v: unknown): string | null | undefined => {
		if (typeof v === 'string') return v.trim();
		if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
		if (v === null || v === undefined) return null;
		return undefined;
	};
	if (typeof value === 'string') eachPart(value, delimiters, add);
	else if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) {
			const t = scalar(value[i]);
			if (t === undefined) {
				problem = `tag ${i + 1} is ${Array.isArray(value[i]) ? 'a list' : 'an object'}, not text`;
				break;
			}
			if (t && !add(t)) break;
		}
	} else {
		const t = scalar(value);
		if (t === undefined) problem = 'the tags field is an object, not a list or text';
		else if (t) add(t);
	}
	return problem === undefined ? { tags } : { tags, problem };
}

/**
 * Items of a configured list (prefixes, domains, tag names) from an array or a delimited string: trimmed, empties
 * and exact duplicates dropped, order kept. Linear; never throws. Configuration is not cut by the contact limits.
 */
export function splitList(value: unknown, delimiters: string | readonly string[] = DEFAULT_TAG_DELIMITERS): string[] {
	const out: string[] = [];
	const seen = new Set<string>();
	const add = (t: string): boolean => {
		if (!seen.has(t)) {
			seen.add(t);
			out.push(t);
		}
		return true;
	};
	if (typeof value === 'string') eachPart(value, delimiters, add);
	else if (Array.isArray(value)) {
		for (const v of value) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') if (String(v).trim()) add(String(v).trim());
	} else if (typeof value === 'number' || typeof value === 'boolean') add(String(value));
	return out;
}

/** Tags as stored, without limits (see parseTagList for a contact's tags, with limits and a problem). */
export function normalizeTags(value: unknown, delimiters: string | readonly string[] = DEFAULT_TAG_DELIMITERS): string[] {
	return splitList(value, delimiters);
}
