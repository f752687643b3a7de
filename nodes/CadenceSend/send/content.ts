/**
 * Content per language and segment in Send: the content entries (node parameters) or the rows of a content table
 * are read once per run; each planned message gets the entry of its contact's language and segment (and A/B
 * variant), and a contact without one is skipped with `no-content` before the day's caps are assigned, so it takes
 * no place under them.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import {
	chooseContent,
	contactContentKeys,
	contentOf,
	DEFAULT_LANGUAGE_FIELD,
	DEFAULT_SEGMENT_FIELD,
	indexContent,
	noContentMessage,
	NO_CONTENT_REASON,
	parseContentTable,
	type ContentIndex,
	type ContentRow,
} from '../../../core/content';
import type { BodyReader, BodyValue } from './bodyReader';
import { str, type ParamReader } from './paramReader';
import type { ItemContent, Plan } from './types';
import { fieldValue } from './window';

/** Where the subject and bodies come from: the fields for everyone, content entries, or a content table. */
export const CONTENT_MODES = ['single', 'perLanguage', 'table'] as const;
export type ContentMode = (typeof CONTENT_MODES)[number];
/** One message for everyone: saved workflows without the Content parameter keep working. */
export const DEFAULT_CONTENT_MODE: ContentMode = 'single';

export interface ContentSettings {
	source: 'entries' | 'table';
	index: ContentIndex;
	languageField: string;
	segmentField: string;
}

/** The Content parameter (for the whole run); an unknown value is refused. */
export function readContentMode(ctx: IExecuteFunctions): ContentMode {
	const mode = str(ctx.getNodeParameter('content', 0, DEFAULT_CONTENT_MODE));
	if ((CONTENT_MODES as readonly string[]).includes(mode)) return mode as ContentMode;
	throw new NodeOperationError(ctx.getNode(), `Unknown Content "${mode}": use one of ${CONTENT_MODES.join(', ')}`, {
		description: 'Nothing was sent.',
	});
}

/**
 * The content entries or content table with the fields the contact's language and segment are read from, or null
 * for one message for everyone. Keys (language, segment, variant) are read once per run, from the first item; bad
 * or missing content fails the node before anything is sent.
 */
export function readContentSettings(ctx: IExecuteFunctions): ContentSettings | null {
	const mode = readContentMode(ctx);
	if (mode === 'single') return null;
	const source = mode === 'table' ? 'table' : 'entries';
	let index: ContentIndex;
	try {
		const rows = source === 'table' ? parseContentTable(ctx.getNodeParameter('contentTable', 0, '')) : readEntryKeys(ctx);
		index = indexContent(rows);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message, { description: 'Nothing was sent: the content could not be read.' });
	}
	if (index.rows.length === 0) {
		throw new NodeOperationError(
			ctx.getNode(),
			source === 'table' ? 'The Content Table has no rows' : 'Content is per language and segment, but no Content Entries are set',
			{ description: 'Nothing was sent: no contact would have content.' },
		);
	}
	return {
		source,
		index,
		languageField: str(ctx.getNodeParameter('languageField', 0, DEFAULT_LANGUAGE_FIELD)).trim() || DEFAULT_LANGUAGE_FIELD,
		segmentField: str(ctx.getNodeParameter('segmentField', 0, DEFAULT_SEGMENT_FIELD)).trim() || DEFAULT_SEGMENT_FIELD,
	};
}

/** The keys of the content entries; their subject and bodies are read per item, at each message's turn. */
function readEntryKeys(ctx: IExecuteFunctions): ContentRow[] {
	const raw = ((ctx.getNode().parameters.contentEntries as IDataObject | undefined)?.entry as IDataObject[] | undefined) ?? [];
	const read = (k: number, name: string) => str(ctx.getNodeParameter(`contentEntries.entry[${k}].${name}`, 0, ''));
	return raw.map((_, k) => ({ language: read(k, 'language'), segment: read(k, 'segment'), variant: read(k, 'variant') }));
}

/**
 * Gives every planned message its contact's content and A/B variant (`head.content`, `head.input.variant`); a
 * contact whose language (and segment) has none is skipped with NO_CONTENT_REASON, naming the languages that have
 * content.
 */
export function applyContent(plans: Plan[], items: readonly INodeExecutionData[], settings: ContentSettings): void {
	for (let i = 0; i < plans.length; i++) {
		const p = plans[i];
		if (p.kind !== 'send') continue;
		const json = items[p.index]?.json;
		const keys = contactContentKeys(fieldValue(json, settings.languageField), fieldValue(json, settings.segmentField), p.head.input.batchTag);
		const choice = chooseContent(settings.index, { ...keys, email: p.head.to, campaign: p.head.input.campaign });
		if (choice.found) {
			p.head.content = { source: settings.source, index: settings.index, row: choice.row, base: choice.base, ...keys };
			p.head.input.variant = choice.variant;
			continue;
		}
		plans[i] = { kind: 'skip', head: p.head, reason: NO_CONTENT_REASON, error: noContentMessage(keys, choice, settings.languageField) };
	}
}

/** The subject and bodies of a message's content row, each empty one from its group's base row. */
export function readContent(
	param: ParamReader,
	body: BodyReader,
	i: number,
	content: ItemContent,
): { subject: string; html: BodyValue; text: BodyValue } {
	if (content.source === 'table') {
		// A table's text is the user's template: sent as written, its links tracked, the placeholder filled.
		const c = contentOf(content.index, content);
		return { subject: c.subject, html: { text: c.html, fields: [] }, text: { text: c.text, fields: [] } };
	}
	const path = (k: number, name: string) => `contentEntries.entry[${k}].${name}`;
	let subject = str(param(path(content.row, 'subject'), i, ''));
	if (subject.trim() === '' && content.base >= 0) subject = str(param(path(content.base, 'subject'), i, ''));
	const part = (name: 'html' | 'text'): BodyValue => {
		const own = body(path(content.row, name), i, name);
		if (own.text.trim() !== '' || content.base < 0) return own;
		return body(path(content.base, name), i, name);
	};
	return { subject, html: part('html'), text: part('text') };
}
