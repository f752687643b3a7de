/**
 * Content per language and segment: which subject and bodies a contact gets, from rows keyed by language, segment
 * and A/B variant. Pure: no I/O.
 *
 * Rows sharing a language and a segment form a group. In a group, the row without a variant name is its base and
 * every named row is an A/B variant; a variant's empty subject, HTML or text falls back to the base row's. A
 * contact's language and segment are matched as text after trimming, NFKC folding and lower-casing (`French`,
 * ` french `, `ＦＲＥＮＣＨ` are one language; `French` and `法语` are two). A group for the contact's segment beats
 * the language's group without a segment; a contact whose language (or language and segment) has no group gets no
 * content and is not mailed.
 */
import { parseBatchTag } from './tags';
import { chooseVariant } from './tracker';

/** The item field that holds the contact's language, when none is configured. */
export const DEFAULT_LANGUAGE_FIELD = 'language';
/** The item field that holds the contact's segment, when none is configured. */
export const DEFAULT_SEGMENT_FIELD = 'segment';
/** The skip reason of a contact whose language (and segment) has no content. */
export const NO_CONTENT_REASON = 'no-content';
/** Most rows a content table may have (a real one has a few languages x segments x variants). */
export const CONTENT_TABLE_MAX_ROWS = 5_000;
/** Longest language, segment or variant name (characters, after trimming). */
export const CONTENT_KEY_MAX_LENGTH = 200;
/** Languages named in a no-content message; more are counted. */
const LANGUAGES_SHOWN = 20;

/** One row of content: its keys, and (for a content table) its subject and bodies. */
export interface ContentRow {
	language: string;
	/** '' : any segment of the language. */
	segment: string;
	/** '' : the group's base row. */
	variant: string;
	subject?: string;
	html?: string;
	text?: string;
}

/** Bad content rows: the message names the row (1-based) and what is wrong. */
export class ContentError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ContentError';
	}
}

interface ContentGroup {
	/** Index of the base row, -1 when the group has only variants. */
	base: number;
	variants: Array<{ name: string; row: number }>;
}

/** Rows indexed by language and segment key. Build with `indexContent`. */
export interface ContentIndex {
	rows: readonly ContentRow[];
	groups: ReadonlyMap<string, ReadonlyMap<string, ContentGroup>>;
	/** Each language that has content, as first written, in row order. */
	languages: readonly string[];
}

/** The form languages, segments and variant names are compared in: NFKC-folded, lower-cased, trimmed. */
export function contentKey(value: string): string {
	return value.normalize('NFKC').toLowerCase().trim();
}

/**
 * Checks the rows and groups them. Throws ContentError for a row without a language, an over-long key, or two
 * rows with the same language, segment and variant (as keys).
 */
export function indexContent(rows: readonly ContentRow[]): ContentIndex {
	if (rows.length > CONTENT_TABLE_MAX_ROWS)
		throw new ContentError(`The content has ${rows.length} rows; at most ${CONTENT_TABLE_MAX_ROWS} are allowed`);
	const groups = new Map<string, Map<string, ContentGroup>>();
	const languages: string[] = [];
	rows.forEach((row, k) => {
		const where = `Content row ${k + 1}`;
		const language = row.language.trim();
		if (!language) throw new ContentError(`${where}: the language is empty`);
		for (const [what, value] of [
			['language', row.language],
			['segment', row.segment],
			['variant', row.variant],
		] as const) {
			if (value.trim().length > CONTENT_KEY_MAX_LENGTH)
				throw new ContentError(`${where}: the ${what} is longer than ${CONTENT_KEY_MAX_LENGTH} characters`);
		}
		const lang = contentKey(language);
		let segments = groups.get(lang);
		if (!segments) {
			groups.set(lang, (segments = new Map()));
			languages.push(language);
		}
		const seg = contentKey(row.segment);
		let group = segments.get(seg);
		if (!group) segments.set(seg, (group = { base: -1, variants: [] }));
		const name = row.variant.trim();
		const shown = `language "${language}"${seg ? `, segment "${row.segment.trim()}"` : ''}`;
		if (!name) {
			if (group.base >= 0) throw new ContentError(`${where}: a second row for ${shown} without a variant name (the first is row ${group.base + 1})`);
			group.base = k;
			return;
		}
		const key = contentKey(name);
		const twin = group.variants.find((v) => contentKey(v.name) === key);
		if (twin) throw new ContentError(`${where}: variant "${name}" for ${shown} is already row ${twin.row + 1}`);
		group.variants.push({ name, row: k });
	});
	return { rows, groups, languages };
}

/** The contact's language and segment: the item's fields, else the language and segment of its batch tag. */
export function contactContentKeys(language: unknown, segment: unknown, batchTag: string): { language: string; segment: string } {
	const lang = keyText(language);
	const seg = keyText(segment);
	if (lang && seg) return { language: lang, segment: seg };
	const tag = batchTag ? parseBatchTag(batchTag) : null;
	return { language: lang || (tag?.language.trim() ?? ''), segment: seg || (tag?.segment.trim() ?? '') };
}

/** A field value as a key: strings and numbers, trimmed; anything else is no value. */
function keyText(value: unknown): string {
	if (typeof value === 'string') return value.trim();
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	return '';
}

export type ContentChoice =
	| {
			found: true;
			/** The row whose content is sent (a variant's, or the base). */
			row: number;
			/** The group's base row that the variant's empty fields fall back to; -1 when none (or when `row` is the base). */
			base: number;
			/** The A/B variant name, '' without variants. */
			variant: string;
			/** Whether the group is the contact's segment's (false: the language's group without a segment). */
			segmentMatched: boolean;
	  }
	| {
			found: false;
			/** The languages that have content. */
			languages: readonly string[];
			/** The segments that have content in the contact's language, when the language has any. */
			segments?: readonly string[];
	  };

/**
 * The contact's content: the group of its language and segment, else its language's group without a segment; in
 * the group, the variant chooseVariant picks from the address and the campaign (among the named rows). Never throws.
 */
export function chooseContent(index: ContentIndex, contact: { language: string; segment: string; email: string; campaign: string }): ContentChoice {
	const segments = contact.language ? index.groups.get(contentKey(contact.language)) : undefined;
	if (!segments) return { found: false, languages: index.languages };
	const seg = contentKey(contact.segment);
	const own = seg ? segments.get(seg) : undefined;
	const group = own ?? segments.get('');
	if (!group) {
		const names = [...segments.values()].flatMap((g) => {
			const r = index.rows[g.base >= 0 ? g.base : g.variants[0].row];
			return r ? [r.segment.trim()] : [];
		});
		return { found: false, languages: index.languages, segments: names };
	}
	if (group.variants.length === 0) return { found: true, row: group.base, base: -1, variant: '', segmentMatched: own !== undefined };
	const variant = chooseVariant(
		contact.email,
		contact.campaign,
		group.variants.map((v) => v.name),
	);
	const row = group.variants.find((v) => v.name === variant)!.row;
	return { found: true, row, base: group.base, variant, segmentMatched: own !== undefined };
}

/**
 * Why a contact gets no content, naming its language and segment (and where they came from when the item had
 * none) and the languages, or the language's segments, that have content.
 */
export function noContentMessage(
	contact: { language: string; segment: string },
	choice: Extract<ContentChoice, { found: false }>,
	languageField: string,
): string {
	if (!contact.language) {
		return `No content: the contact has no language (the item has no ${languageField} and its batch tag names none); content exists for ${listed(choice.languages)}`;
	}
	if (choice.segments) {
		return `No content for language "${contact.language}" and segment "${contact.segment}": that language has content only for segment ${listed(choice.segments)}, and none without a segment`;
	}
	return `No content for language "${contact.language}"; content exists for ${listed(choice.languages)}`;
}

function listed(names: readonly string[]): string {
	if (names.length === 0) return 'no language';
	const shown = names
		.slice(0, LANGUAGES_SHOWN)
		.map((n) => `"${n}"`)
		.join(', ');
	return names.length > LANGUAGES_SHOWN ? `${shown} and ${names.length - LANGUAGES_SHOWN} more` : shown;
}

/** The subject, HTML and text of a chosen row of a content table: the row's own, each empty one from the base row. */
export function contentOf(index: ContentIndex, choice: { row: number; base: number }): { subject: string; html: string; text: string } {
	const row = index.rows[choice.row];
	const base = choice.base >= 0 ? index.rows[choice.base] : undefined;
	const pick = (name: 'subject' | 'html' | 'text') => {
		const own = row?.[name] ?? '';
		return own.trim() !== '' ? own : (base?.[name] ?? '');
	};
	return { subject: pick('subject'), html: pick('html'), text: pick('text') };
}

const NOT_JSON = Symbol('not JSON');

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return NOT_JSON;
	}
}

const ROW_FIELDS = ['language', 'segment', 'variant', 'subject', 'html', 'text'] as const;

/**
 * Content rows from a content table: an array of objects (or a JSON text of one) with `language` and optionally
 * `segment`, `variant`, `subject`, `html`, `text`; other keys are ignored. Throws ContentError naming the row.
 */
export function parseContentTable(value: unknown): ContentRow[] {
	let table = value;
	if (typeof table === 'string') {
		if (table.trim() === '') return [];
		table = parseJson(table);
		if (table === NOT_JSON)
			throw new ContentError('The content table is not JSON: give an array of rows {language, segment, variant, subject, html, text}');
	}
	if (table && typeof table === 'object' && !Array.isArray(table)) table = [table];
	if (!Array.isArray(table)) throw new ContentError('The content table is not a list of rows {language, segment, variant, subject, html, text}');
	if (table.length > CONTENT_TABLE_MAX_ROWS)
		throw new ContentError(`The content table has ${table.length} rows; at most ${CONTENT_TABLE_MAX_ROWS} are allowed`);
	return table.map((raw: unknown, k): ContentRow => {
		if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ContentError(`Content row ${k + 1} is not an object`);
		const out: Record<string, string> = {};
		for (const field of ROW_FIELDS) {
			const v = Object.prototype.hasOwnProperty.call(raw, field) ? (raw as Record<string, unknown>)[field] : undefined;
			if (v === undefined || v === null) out[field] = '';
			else if (typeof v === 'string') out[field] = v;
			else if (typeof v === 'number' && Number.isFinite(v)) out[field] = String(v);
			else throw new ContentError(`Content row ${k + 1}: ${field} is not text`);
		}
		return { language: out.language, segment: out.segment, variant: out.variant, subject: out.subject, html: out.html, text: out.text };
	});
}
