/**
 * Parameters and helpers shared by the nodes that read contacts: which fields hold the address and the tags, the
 * tag grammar, and writing tags back in the shape they came in (array or delimited string).
 */
import { valueAtPath } from '../../core/paths';
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { DEFAULT_TAG_GRAMMAR, MAX_TAG_LENGTH, MAX_TAGS_PER_CONTACT, parseTagList, splitList, type TagGrammar, type TagList } from '../../core/tags';

/** Default field names and tag delimiter, used by the parameters below and by readContactSettings. */
export const DEFAULT_EMAIL_FIELD = 'email';
export const DEFAULT_TAGS_FIELD = 'tags';
export const DEFAULT_TAGS_DELIMITER = ',';

export const emailFieldProperty: INodeProperties = {
	displayName: 'Email Field',
	name: 'emailField',
	type: 'string',
	default: DEFAULT_EMAIL_FIELD,
	description: "Name of the input field that holds the contact's email address (dot notation for nested fields)",
};

export const tagsFieldProperty: INodeProperties = {
	displayName: 'Tags Field',
	name: 'tagsField',
	type: 'string',
	default: DEFAULT_TAGS_FIELD,
	description: `Name of the input field that holds the contact's tags: an array, or a string with tags separated by the delimiter below. At most ${MAX_TAGS_PER_CONTACT} tags of at most ${MAX_TAG_LENGTH} characters; a contact with more is reported, never mailed.`,
};

export const contactFieldProperties: INodeProperties[] = [emailFieldProperty, tagsFieldProperty];

const defaults = (list: readonly string[] | undefined) => (list ?? []).join(', ');
const separator = DEFAULT_TAG_GRAMMAR.separator;

export const tagGrammarOption: INodeProperties = {
	displayName: 'Tag Grammar',
	name: 'grammar',
	type: 'collection',
	placeholder: 'Change Tag Grammar',
	default: {},
	description:
		'How tags are named: {language}{separator}{segment}{separator}{marker}{NN}, e.g. English-Equipment Dealers-Marketing05 or 法语-工程设备经销商-营销05. By default both English and Chinese markers and prefixes are accepted, and tags added to a contact are written in the language of its own tags.',
	options: [
		{
			displayName: 'Intent Prefixes',
			name: 'intentPrefix',
			type: 'string',
			default: defaults(DEFAULT_TAG_GRAMMAR.intent.prefixes),
			description:
				'Comma-separated: tags starting with one of these belong to the intent group (case and surrounding spaces do not matter). Empty: none, only the tags listed below.',
		},
		{
			displayName: 'Intent Tags',
			name: 'intentTags',
			type: 'string',
			default: '',
			description: 'Comma-separated tag names that also belong to the intent group (case and surrounding spaces do not matter)',
		},
		{
			displayName: 'Marketing Markers',
			name: 'marketingMarker',
			type: 'string',
			default: defaults(DEFAULT_TAG_GRAMMAR.marketingMarkers),
			description:
				"Comma-separated words before the two-digit marketing batch number (01–30); a space before the number and full-width digits are accepted. The first is written when a contact's language has no marker here.",
		},
		{
			displayName: 'Read Markers',
			name: 'readMarker',
			type: 'string',
			default: defaults(DEFAULT_TAG_GRAMMAR.readMarkers),
			description: 'Comma-separated words before the two-digit read batch number (01–10)',
		},
		{
			displayName: 'Risk Prefixes',
			name: 'riskPrefix',
			type: 'string',
			default: defaults(DEFAULT_TAG_GRAMMAR.risk.prefixes),
			description:
				'Comma-separated: tags starting with one of these belong to the risk group (case and surrounding spaces do not matter). Empty: none, only the tags listed below.',
		},
		{
			displayName: 'Risk Tags',
			name: 'riskTags',
			type: 'string',
			default: '',
			description: 'Comma-separated tag names that also belong to the risk group (case and surrounding spaces do not matter)',
		},
		{
			displayName: 'Separator',
			name: 'separator',
			type: 'string',
			default: separator,
			description: 'Character(s) between language, segment and marker',
		},
		{
			displayName: 'Tags Delimiter',
			name: 'tagsDelimiter',
			type: 'string',
			default: DEFAULT_TAGS_DELIMITER,
			description: 'Delimiter between tags when the tags field is a string; tags written back keep the shape they came in',
		},
	],
};

function list(value: unknown): string[] {
	return splitList(value, ',');
}

export interface ContactSettings {
	emailField: string;
	tagsField: string;
	delimiter: string;
	grammar: Partial<TagGrammar>;
}

/**
 * The node's grammar settings. An option left out keeps the core default (both languages); one set replaces it, so
 * a saved `Marketing` marker or `Intent-` prefix keeps meaning exactly that. An empty prefix option means no prefix.
 */
export function readContactSettings(ctx: IExecuteFunctions, itemIndex = 0): ContactSettings {
	const g = (ctx.getNodeParameter('grammar', itemIndex, {}) ?? {}) as IDataObject;
	const grammar: Partial<TagGrammar> = {};
	if (g.separator) grammar.separator = String(g.separator);
	if (g.marketingMarker && list(g.marketingMarker).length) grammar.marketingMarkers = list(g.marketingMarker);
	if (g.readMarker && list(g.readMarker).length) grammar.readMarkers = list(g.readMarker);
	const intentTags = list(g.intentTags);
	const riskTags = list(g.riskTags);
	if (g.intentPrefix !== undefined || intentTags.length)
		grammar.intent = {
			prefixes: g.intentPrefix === undefined ? [...(DEFAULT_TAG_GRAMMAR.intent.prefixes ?? [])] : list(g.intentPrefix),
			tags: intentTags,
		};
	if (g.riskPrefix !== undefined || riskTags.length)
		grammar.risk = { prefixes: g.riskPrefix === undefined ? [...(DEFAULT_TAG_GRAMMAR.risk.prefixes ?? [])] : list(g.riskPrefix), tags: riskTags };
	return {
		emailField: String(ctx.getNodeParameter('emailField', itemIndex, DEFAULT_EMAIL_FIELD)),
		tagsField: String(ctx.getNodeParameter('tagsField', itemIndex, DEFAULT_TAGS_FIELD)),
		delimiter: g.tagsDelimiter ? String(g.tagsDelimiter) : DEFAULT_TAGS_DELIMITER,
		grammar,
	};
}

/** Reads a possibly nested field (`contact.email`) without evaluating anything. */
export const getField: (json: IDataObject, path: string) => unknown = valueAtPath;

/** The contact's tags, with a `problem` when a limit cut in (see parseTagList). Never throws. */
export function readTagList(json: IDataObject, settings: ContactSettings): TagList {
	return parseTagList(getField(json, settings.tagsField), settings.delimiter);
}

/** The contact's tags; throws the problem when they cannot all be read, so the item fails instead of losing tags. */
export function readTags(json: IDataObject, settings: ContactSettings): string[] {
	const read = readTagList(json, settings);
	if (read.problem !== undefined) throw new Error(`The contact's tags cannot be read: ${read.problem}`);
	return read.tags;
}

/** A copy of `json` whose tags field holds `tags`, as an array or a delimited string like the input had it. */
export function withTags(json: IDataObject, tags: string[], settings: ContactSettings): IDataObject {
	const before = getField(json, settings.tagsField);
	const value = typeof before === 'string' ? tags.join(settings.delimiter === ',' ? ', ' : settings.delimiter) : tags;
	const out: IDataObject = { ...json };
	const path = settings.tagsField in json || !settings.tagsField.includes('.') ? [settings.tagsField] : settings.tagsField.split('.');
	let target = out;
	for (let i = 0; i < path.length - 1; i++) {
		const next = target[path[i]];
		target[path[i]] = next && typeof next === 'object' && !Array.isArray(next) ? { ...(next as IDataObject) } : {};
		target = target[path[i]] as IDataObject;
	}
	target[path[path.length - 1]] = value;
	return out;
}
