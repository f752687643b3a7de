/**
 * Tag grammar (SPEC section 2): `{language}-{segment}-{marker}{NN}`, e.g. `English-Equipment Dealers-Marketing05`.
 * Tags are never stripped: state is added as new tags, and sending excludes by tag groups.
 */

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

function inMembership(tag: string, m: GroupMembership): boolean {
	if (m.prefix && tag.startsWith(m.prefix)) return true;
	return !!m.tags && m.tags.includes(tag);
}

export interface TagInfo {
	group: TagGroup | null;
	batch?: BatchTag;
}

/**
 * Classifies tags into groups. Keeps a cache per classifier (contact bases reuse a few hundred distinct tags across a
 * million contacts), so create one per run, not per contact.
 */
export class TagClassifier {
	readonly grammar: TagGrammar;
	private readonly cache = new Map<string, TagInfo>();
	private readonly intentTags: Set<string>;
	private readonly riskTags: Set<string>;

	constructor(grammar?: Partial<TagGrammar>) {
		this.grammar = resolveGrammar(grammar);
		this.intentTags = new Set(this.grammar.intent.tags ?? []);
		this.riskTags = new Set(this.grammar.risk.tags ?? []);
	}

	info(tag: string): TagInfo {
		let info = this.cache.get(tag);
		if (info === undefined) {
			info = this.compute(tag);
			if (this.cache.size < 100_000) this.cache.set(tag, info);
		}
		return info;
	}

	group(tag: string): TagGroup | null {
		return this.info(tag).group;
	}

	private compute(tag: string): TagInfo {
		const t = tag.trim();
		// Risk before intent: a tag listed in both must stop mail, not just bulk mail.
		if (this.riskTags.has(t) || (this.grammar.risk.prefix && t.startsWith(this.grammar.risk.prefix)))
			return { group: 'risk' };
		if (this.intentTags.has(t) || (this.grammar.intent.prefix && t.startsWith(this.grammar.intent.prefix)))
			return { group: 'intent' };
		const batch = parseBatchTag(t, this.grammar);
		if (batch) return { group: batch.group, batch };
		return { group: null };
	}
}

export function tagGroup(tag: string, grammar?: Partial<TagGrammar>): TagGroup | null {
	const g = resolveGrammar(grammar);
	if (inMembership(tag.trim(), g.risk)) return 'risk';
	if (inMembership(tag.trim(), g.intent)) return 'intent';
	return parseBatchTag(tag, g)?.group ?? null;
}

/**
 * Tags as stored: an array, or a delimited string (`a, b; c`). Trims, drops empties and duplicates, keeps order.
 */
export function normalizeTags(value: unknown, delimiter: string | RegExp = /[,;\n]/): string[] {
	let list: unknown[];
	if (Array.isArray(value)) list = value;
	else if (typeof value === 'string') list = value.split(delimiter);
	else if (value === null || value === undefined) list = [];
	else list = [value];
	const out: string[] = [];
	const seen = new Set<string>();
	for (const v of list) {
		if (v === null || v === undefined) continue;
		const t = String(v).trim();
		if (t && !seen.has(t)) {
			seen.add(t);
			out.push(t);
		}
	}
	return out;
}
