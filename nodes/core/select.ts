/**
 * Which contacts and tags are due today (SPEC sections 3 and 5): the due batch numbers turned into tag names for a
 * store query, or used to pick contacts from a list.
 */
import type { DateTime } from 'luxon';
import { dueBatches, type Cadence, type ShortMonthRule } from './calendar';
import { formatBatchTag, TagClassifier, type TagGrammar } from './tags';

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

/** Today's due tag names for the given segments, e.g. `English-Equipment Dealers-Marketing09`. */
export function dueTagNames(segments: Segment[], options: DueOptions): string[] {
	const tags = new TagClassifier(options.grammar);
	const batches = dueBatches(options.date, options);
	const group = options.cadence === 'silent' ? 'marketing' : 'read';
	const out: string[] = [];
	for (const s of segments)
		for (const batch of batches) out.push(formatBatchTag({ language: s.language, segment: s.segment, group, batch }, tags.grammar));
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
		? new Set(options.segments.map((s) => `${s.language.trim().toLowerCase()}\u0000${s.segment.trim().toLowerCase()}`))
		: null;
	const out: Array<{ index: number; dueTag: string }> = [];
	if (due.size === 0) return out;
	for (let i = 0; i < contacts.length; i++) {
		const list = contacts[i]?.tags;
		if (!Array.isArray(list)) continue;
		for (const t of list) {
			const b = tags.info(t).batch;
			if (!b || b.group !== group || !due.has(b.batch)) continue;
			if (segmentKeys && !segmentKeys.has(`${b.language.toLowerCase()}\u0000${b.segment.toLowerCase()}`)) continue;
			out.push({ index: i, dueTag: t });
			break;
		}
	}
	return out;
}

/** The read tag to add to a reader: same language and segment as the marketing tag, read batch ((NN-1) mod 10)+1. */
export function readTagFor(tags: readonly string[], grammar?: Partial<TagGrammar> | TagClassifier): string | null {
	const classifier = grammar instanceof TagClassifier ? grammar : new TagClassifier(grammar);
	if (!Array.isArray(tags)) return null;
	for (const t of tags) {
		const b = classifier.info(t).batch;
		if (b?.group === 'marketing')
			return formatBatchTag({ ...b, group: 'read', batch: ((b.batch - 1) % 10) + 1 }, classifier.grammar);
	}
	return null;
}
