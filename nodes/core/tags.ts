/**
 * Tag grammar (SPEC section 2): `{language}-{segment}-{marker}{NN}`, e.g. `English-Equipment Dealers-Marketing05`.
 * Tags are never stripped: state is added as new tags, and sending excludes by tag groups.
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

/** Which tags belong to a group that has no batch number: by prefix, by explicit list, or both. */
export interface GroupMembership {
	prefix?: string;
	tags?: string[];
}

export interface TagGrammar {
	separator: string;
	marketingMarker: string;
	readMarker: string;
	intent: GroupMembership;
	risk: GroupMembership;
}

export const DEFAULT_TAG_GRAMMAR: TagGrammar = {
	separator: '-',
	marketingMarker: 'Marketing',
	readMarker: 'Read',
	intent: { prefix: 'Intent-' },
	risk: { prefix: 'Risk-' },
};

/** Highest batch number per group: one marketing batch per day of a 30-day round, one read batch per 10 days. */
export const BATCH_COUNT: Record<BatchGroup, number> = { marketing: 30, read: 10 };

export interface BatchTag {
	language: string;
	segment: string;
	group: BatchGroup;
	batch: number;
}

export function resolveGrammar(grammar?: Partial<TagGrammar>): TagGrammar {
	const g = { ...DEFAULT_TAG_GRAMMAR, ...(grammar ?? {}) };
	if (!g.separator) throw new RangeError('the tag separator must not be empty');
	if (!g.marketingMarker || !g.readMarker) throw new RangeError('the marketing and read markers must not be empty');
	if (g.marketingMarker.toLowerCase() === g.readMarker.toLowerCase())
		throw new RangeError('the marketing and read markers must differ');
	return g;
}

export function padBatch(batch: number): string {
	return batch < 10 ? `0${batch}` : String(batch);
}

/** `English-Equipment Dealers-Marketing05` → parts, or null when the tag is not a batch tag of this grammar. */
export function parseBatchTag(tag: string, grammar: TagGrammar = DEFAULT_TAG_GRAMMAR): BatchTag | null {
	if (typeof tag !== 'string') return null;
	const t = tag.trim();
	const sep = grammar.separator;
	const last = t.lastIndexOf(sep);
	const first = t.indexOf(sep);
	// language, segment and marker must all be present: two separators at least, non-empty parts
	if (first <= 0 || last <= first + sep.length - 1 || last === first) return null;
	const language = t.slice(0, first).trim();
	const segment = t.slice(first + sep.length, last).trim();
	const tail = t.slice(last + sep.length);
	if (!language || !segment || tail.length < 3) return null;
	const digits = tail.slice(-2);
	if (!/^[0-9]{2}$/.test(digits)) return null;
	const marker = tail.slice(0, -2).toLowerCase();
	let group: BatchGroup;
	if (marker === grammar.marketingMarker.toLowerCase()) group = 'marketing';
	else if (marker === grammar.readMarker.toLowerCase()) group = 'read';
	else return null;
	const batch = Number(digits);
	if (batch < 1 || batch > BATCH_COUNT[group]) return null;
	return { language, segment, group, batch };
}

export function formatBatchTag(parts: BatchTag, grammar: TagGrammar = DEFAULT_TAG_GRAMMAR): string {
	const { language, segment, group, batch } = parts;
	if (!Number.isInteger(batch) || batch < 1 || batch > BATCH_COUNT[group])
		throw new RangeError(`${group} batch must be a whole number from 1 to ${BATCH_COUNT[group]}, got ${batch}`);
	if (!language?.trim() || !segment?.trim()) throw new RangeError('a batch tag needs a language and a segment');
	if (language.includes(grammar.separator))
		throw new RangeError(`the language "${language}" contains the separator "${grammar.separator}"`);
	const marker = group === 'marketing' ? grammar.marketingMarker : grammar.readMarker;
	return `${language.trim()}${grammar.separator}${segment.trim()}${grammar.separator}${marker}${padBatch(batch)}`;
}

/** A group membership in key form: the prefix ('' = none) and the listed tags. */
interface MembershipKeys {
	prefix: string;
	tags: Set<string>;
}

function membershipKeys(m: GroupMembership | undefined): MembershipKeys {
	const tags = new Set<string>();
	for (const t of Array.isArray(m?.tags) ? m.tags : []) if (typeof t === 'string' && tagKey(t)) tags.add(tagKey(t));
	// a prefix of only spaces would match every tag: it means "no prefix"
	return { prefix: typeof m?.prefix === 'string' ? tagKey(m.prefix) : '', tags };
}

function inMembership(key: string, m: MembershipKeys): boolean {
	return (m.prefix !== '' && key.startsWith(m.prefix)) || m.tags.has(key);
}

export interface TagInfo {
	group: TagGroup | null;
	batch?: BatchTag;
	/** The tag's comparison key (tagKey). */
	key: string;
}

/**
 * Classifies tags into groups. Group prefixes and explicit lists compare by tagKey (case, width and surrounding
 * spaces do not matter). Keeps a cache per classifier, so create one per run, not per contact. Never throws.
 */
export class TagClassifier {
	readonly grammar: TagGrammar;
	private readonly cache = new Map<string, TagInfo>();
	private readonly intent: MembershipKeys;
	private readonly risk: MembershipKeys;

	constructor(grammar?: Partial<TagGrammar>) {
		this.grammar = resolveGrammar(grammar);
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

	private compute(tag: string): TagInfo {
		const key = tagKey(tag);
		// Risk before intent: a tag listed in both must stop mail, not just bulk mail.
		if (inMembership(key, this.risk)) return { group: 'risk', key };
		if (inMembership(key, this.intent)) return { group: 'intent', key };
		const batch = parseBatchTag(tag, this.grammar);
		if (batch) return { group: batch.group, batch, key };
		return { group: null, key };
	}
}

export function tagGroup(tag: string, grammar?: Partial<TagGrammar>): TagGroup | null {
	return new TagClassifier(grammar).group(tag);
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
