/**
 * Which contacts and tags are due today: the due batch numbers turned into tag names for a
 * store query, or used to pick contacts from a list.
 */
import type { DateTime } from 'luxon';
import { dueBatches, type Cadence, type ShortMonthRule } from './calendar';
import { formatBatchTag, segmentTagLanguage, TagClassifier, tagKey, type BatchTag, type TagGrammar, type TagLanguage } from './tags';

export interface Segment {
	language: string;
	segment: string;
}

export interface DueOptions {
	cadence: Cadence;
	date: Date | string | number | DateTime;
	timeZone?: string;
	shortMonth?: ShortMonthRule;
	grammar?: Partial<TagGrammar>;
}

/**
 * Which spellings of a due tag to name: `own`, the segment's own (Chinese markers for a segment named in Chinese,
 * no space before NN); `all`, every spelling the grammar accepts (each marker, with and without the space), for a
 * store that matches tags exactly.
 */
export type DueTagForms = 'own' | 'all';
export const DEFAULT_DUE_TAG_FORMS: DueTagForms = 'own';

/** Today's due tag names for the given segments, e.g. `English-Equipment Dealers-Marketing09`, `法语-工程设备经销商-营销09`. */
export function dueTagNames(segments: Segment[], options: DueOptions & { forms?: DueTagForms }): string[] {
	const tags = new TagClassifier(options.grammar);
	const batches = dueBatches(options.date, options);
	const group = options.cadence === 'silent' ? 'marketing' : 'read';
	const markers = group === 'marketing' ? tags.grammar.marketingMarkers : tags.grammar.readMarkers;
	const out: string[] = [];
	const seen = new Set<string>();
	const push = (t: string) => {
		if (!seen.has(t)) {
			seen.add(t);
			out.push(t);
		}
	};
	for (const s of segments)
		for (const batch of batches) {
			const parts = { language: s.language, segment: s.segment, group, batch } as const;
			const own: TagLanguage = segmentTagLanguage(s, tags);
			push(formatBatchTag(parts, tags.grammar, { language: own }));
			if ((options.forms ?? DEFAULT_DUE_TAG_FORMS) !== 'all') continue;
			push(formatBatchTag(parts, tags.grammar, { language: own, spaced: true }));
			for (const marker of markers) for (const spaced of [false, true]) push(formatBatchTag(parts, tags.grammar, { marker, spaced }));
		}
	return out;
}

export interface DueContactOptions extends DueOptions {
	/** Only these segments (all when empty or absent). */
	segments?: Segment[];
	tagClassifier?: TagClassifier;
}

/**
 * Indexes of the contacts carrying a due tag (marketing tags for the silent cadence, read tags for the read cadence),
 * with the tag that made each due.
 */
export function selectDueContacts(
	contacts: ReadonlyArray<{ tags?: readonly string[] }>,
	options: DueContactOptions,
): Array<{ index: number; dueTag: string }> {
	const tags = options.tagClassifier ?? new TagClassifier(options.grammar);
	const due = new Set(dueBatches(options.date, options));
	const group = options.cadence === 'silent' ? 'marketing' : 'read';
	const segmentKeys = options.segments?.length
		? new Set(options.segments.map((s) => `${tagKey(String(s.language ?? ''))}\u0000${tagKey(String(s.segment ?? ''))}`))
		: null;
	const out: Array<{ index: number; dueTag: string }> = [];
	if (due.size === 0) return out;
	for (let i = 0; i < contacts.length; i++) {
		const list = contacts[i]?.tags;
		if (!Array.isArray(list)) continue;
		for (const t of list) {
			const b = tags.info(t).batch;
			if (!b || b.group !== group || !due.has(b.batch)) continue;
			if (segmentKeys && !segmentKeys.has(`${tagKey(b.language)}\u0000${tagKey(b.segment)}`)) continue;
			out.push({ index: i, dueTag: t });
			break;
		}
	}
	return out;
}

/**
 * The read tag to add to a reader: same language and segment as its first marketing tag, read batch
 * ((NN-1) mod 10)+1, written like that tag (`营销21` → `阅读01`, `Marketing 21` → `Read 01`).
 */
export function readTagFor(tags: readonly string[], grammar?: Partial<TagGrammar> | TagClassifier): string | null {
	const classifier = grammar instanceof TagClassifier ? grammar : new TagClassifier(grammar);
	if (!Array.isArray(tags)) return null;
	for (const t of tags) {
		const info = classifier.info(t);
		const b = info.batch;
		if (b?.group === 'marketing')
			return formatBatchTag({ ...b, group: 'read', batch: ((b.batch - 1) % 10) + 1 }, classifier.grammar, {
				language: info.language,
				spaced: info.spaced === true,
			});
	}
	return null;
}

/**
 * The contact's tag naming the same batch as `target` (same language, segment, group and number, compared by key),
 * whatever its marker language or spacing: `…-阅读 01` and `…-Read01` name one batch. Null when none does.
 */
export function findBatchTag(tags: readonly string[], target: BatchTag, grammar?: Partial<TagGrammar> | TagClassifier): string | null {
	const classifier = grammar instanceof TagClassifier ? grammar : new TagClassifier(grammar);
	if (!Array.isArray(tags)) return null;
	const language = tagKey(target.language);
	const segment = tagKey(target.segment);
	for (const t of tags) {
		const b = classifier.info(t).batch;
		if (b && b.group === target.group && b.batch === target.batch && tagKey(b.language) === language && tagKey(b.segment) === segment) return t;
	}
	return null;
}
