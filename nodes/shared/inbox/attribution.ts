/**
 * Parameters both Inbox nodes share (which kinds to emit, substitute addresses, reply/bounce keys) and turning
 * them into the classifier's options. Parsing only; the rules live in the core classifier.
 */
import type { IDataObject, INodeProperties } from 'n8n-workflow';
import type { ClassifyOptions, ClassifyUtm, MessageKind } from '../../../core/classify';
import { parseAddress } from '../../../core/address';
import {
	classifyTimeLimit,
	DEFAULT_CLASSIFY_TIME_LIMIT_MS,
	DEFAULT_MAX_MESSAGE_BYTES,
	MAX_CLASSIFY_TIME_LIMIT_MS,
	type ClassifierSpec,
} from '../../../transport/inbox';
import { type AddressKeyTarget } from '../../../core/inbox';
import { DEFAULT_SUBSTITUTE_SEPARATORS, SUBSTITUTE_SEPARATOR_CHARS, type SubstituteOptions } from '../../../core/classify/attribution';
import { TRACKING_SECRET_MIN_LENGTH } from '../../../core/tracker';
import type { TrackingSetup } from './credentials';

export const KIND_OPTIONS: Array<{ name: string; value: MessageKind; description: string }> = [
	{ name: 'Auto-Reply', value: 'auto_reply', description: 'Out-of-office and other automatic answers (RFC 3834)' },
	{ name: 'Bounce', value: 'bounce', description: 'Delivery failure: one event per bounced recipient, hard or soft' },
	{ name: 'Complaint', value: 'complaint', description: 'Spam complaint from a feedback loop (ARF)' },
	{ name: 'Delay', value: 'delay', description: 'Delivery delayed, still being retried: not a bounce' },
	{ name: 'Delivered', value: 'delivered', description: 'Delivery success report' },
	{ name: 'Inbound Lead', value: 'inbound', description: 'Mail to a substitute address (e.g. info+ads@)' },
	{ name: 'Other', value: 'other', description: 'Anything else, including unreadable messages (with the problem)' },
	{ name: 'Read Receipt', value: 'read_receipt', description: 'The recipient displayed the message (RFC 8098 disposition notification): a read' },
	{ name: 'Reply', value: 'reply', description: 'A person answered a tracked message' },
	{ name: 'Unsubscribe', value: 'unsubscribe', description: 'A reply asking to be removed, or mail to the unsubscribe address' },
];

/** Every kind, in the order of the options list. */
export const ALL_KINDS: MessageKind[] = KIND_OPTIONS.map((o) => o.value);

/** The mailbox both nodes read unless told otherwise. */
export const DEFAULT_MAILBOX = 'INBOX';

/** Max Message Size as the nodes show it, in KB, and its floor (delivery reports need their first lines). */
export const DEFAULT_MAX_MESSAGE_KB = DEFAULT_MAX_MESSAGE_BYTES / 1024;
export const MIN_MAX_MESSAGE_KB = 16;

/** The classification time limit as the nodes show it, in seconds. */
export const DEFAULT_CLASSIFY_TIME_LIMIT_SECONDS = DEFAULT_CLASSIFY_TIME_LIMIT_MS / 1000;

export const DEFAULT_TRIGGER_KINDS: MessageKind[] = ['auto_reply', 'bounce', 'complaint', 'delay', 'inbound', 'read_receipt', 'reply', 'unsubscribe'];

export function kindsProperty(defaults: MessageKind[]): INodeProperties {
	return {
		displayName: 'Kinds to Emit',
		name: 'kinds',
		type: 'multiOptions',
		options: KIND_OPTIONS,
		default: [...defaults],
		description: 'Which kinds of messages produce events; others are read and skipped',
	};
}

/**
 * Verify Tracking Tokens is an options field, not a boolean: n8n's editor treats a boolean that a credential's
 * display depends on as the node's authentication switch and hides it, so the field would never show.
 */
export const VERIFY_TOKENS_OFF = 'off';
export const VERIFY_TOKENS_ON = 'on';
/**
 * Values that turn token checks on; `true` is how workflows that stored this field as a boolean hold On. The nodes'
 * Cadence Tracking credential is shown for the same values (written out there: n8n's node linter reads literals).
 */
export const VERIFY_TOKENS_ON_VALUES: Array<string | boolean> = [VERIFY_TOKENS_ON, true];

/** Whether a Verify Tracking Tokens value asks for token checks. Never throws. */
export function verifyTokensOn(value: unknown): boolean {
	return VERIFY_TOKENS_ON_VALUES.includes(value as string | boolean);
}

export const verifyTokensProperty: INodeProperties = {
	displayName: 'Verify Tracking Tokens',
	name: 'verifyTokens',
	type: 'options',
	default: VERIFY_TOKENS_OFF,
	options: [
		{ name: 'Off', value: VERIFY_TOKENS_OFF, description: 'Events carry only what the message says; no tracking credential needed' },
		{
			name: 'On',
			value: VERIFY_TOKENS_ON,
			description: 'Check tokens with the Cadence Tracking credential, so events carry the campaign, batch tag and variant the token was signed with',
		},
	],
	description: 'On: tracking tokens in replies and bounces are checked with the Cadence Tracking credential, linking each event to its campaign',
};

/** Entries for an `options` collection. */
export const attributionOptionProperties: INodeProperties[] = [
	{
		displayName: 'Own Addresses',
		name: 'ownAddresses',
		type: 'string',
		default: '',
		placeholder: 'sales@example.com, example.com',
		description:
			'Comma-separated sending addresses or domains, to recognise reply+KEY@, bounce+KEY@, an own address with +KEY (a Reply-To Plus-Address given as an address) and substitute addresses (the mailbox user is always included)',
	},
	{
		displayName: 'Substitute Channels',
		name: 'substituteChannels',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add Channel',
		default: {},
		description: 'Static plus-tags, one per channel: mail to info+ads@ is an inbound lead from the channel of "ads"',
		options: [
			{
				displayName: 'Channel',
				name: 'channel',
				values: [
					{
						displayName: 'Channel',
						name: 'channel',
						type: 'string',
						default: '',
						placeholder: 'Google Ads',
					},
					{
						displayName: 'Plus-Tag',
						name: 'plusTag',
						type: 'string',
						default: '',
						placeholder: 'ads',
					},
					{
						displayName: 'UTM Campaign',
						name: 'campaign',
						type: 'string',
						default: '',
					},
					{
						displayName: 'UTM Content',
						name: 'content',
						type: 'string',
						default: '',
					},
					{
						displayName: 'UTM Medium',
						name: 'medium',
						type: 'string',
						default: '',
					},
					{
						displayName: 'UTM Source',
						name: 'source',
						type: 'string',
						default: '',
					},
					{
						displayName: 'UTM Term',
						name: 'term',
						type: 'string',
						default: '',
					},
				],
			},
		],
	},
	{
		displayName: 'Dynamic Plus-Tags',
		name: 'dynamicTags',
		type: 'json',
		default: '{}',
		description:
			'Per-visitor tags (or visitor IDs of visitor addresses) mapped to that visit\'s UTM fields: {"k3f9": {"channel": "web", "utm": {"source": "google", "medium": "cpc"}}}, or a list of {"tag", "channel", "source", "medium", "campaign", "term", "content"}',
	},
	{
		displayName: 'Substitute Separators',
		name: 'substituteSeparators',
		type: 'string',
		default: DEFAULT_SUBSTITUTE_SEPARATORS,
		placeholder: DEFAULT_SUBSTITUTE_SEPARATORS,
		description: `Characters between one of your addresses and a tag, from ${SUBSTITUTE_SEPARATOR_CHARS}: info+ads@ (plus form) and info.ads@ (dotted form). Forms other than plus count only for addresses listed in Own Addresses and for known tags, so john.smith@ is never read as a tag of john@.`,
	},
	{
		displayName: 'Visitor Address Secret',
		name: 'visitorSecret',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		description: `The secret your website signs per-visitor addresses with (issueVisitorAddress, at least ${TRACKING_SECRET_MIN_LENGTH} characters): mail to info+v-CODE@ gives the channel, visitor ID and UTM fields the code carries; codes not signed with it are unknown tags`,
	},
	{
		displayName: 'Address Keys',
		name: 'addressKeys',
		type: 'json',
		default: '{}',
		description:
			'Resolves reply+KEY@ / bounce+KEY@: an object {"KEY": "token or email"}, or a list of sent tokens (or sent events with a "token" field), whose keys are computed with the tracking credential',
	},
	{
		displayName: 'Max Message Size (KB)',
		name: 'maxMessageKb',
		type: 'number',
		typeOptions: { minValue: MIN_MAX_MESSAGE_KB },
		default: DEFAULT_MAX_MESSAGE_KB,
		description: 'Bytes of each message read and classified; the rest is not downloaded (delivery reports sit at the top)',
	},
	{
		displayName: 'Classification Time Limit (Seconds)',
		name: 'classifyTimeLimit',
		type: 'number',
		typeOptions: { minValue: 0.001, maxValue: MAX_CLASSIFY_TIME_LIMIT_MS / 1000, numberPrecision: 3 },
		default: DEFAULT_CLASSIFY_TIME_LIMIT_SECONDS,
		description:
			'Longest time one message may take to classify (it runs apart from n8n, in a worker thread). A message that takes longer is returned as kind Other with the problem, whatever Kinds to Emit says, and reading goes on with the next message.',
	},
];

export interface AttributionSetup {
	/** Plain data the classification worker builds the classifier from. */
	classifier: ClassifierSpec;
	classifyTimeLimitMs: number;
	resolveAddressKey?: (key: string) => AddressKeyTarget | null;
	maxBytes: number;
}

function parseJsonParameter(value: unknown, name: string): unknown {
	if (value === undefined || value === null || value === '') return undefined;
	if (typeof value !== 'string') return value;
	let problem = '';
	try {
		return JSON.parse(value);
	} catch (error) {
		problem = (error as Error).message;
	}
	throw new Error(`${name} is not valid JSON: ${problem}`);
}

function utmOf(o: IDataObject): ClassifyUtm | undefined {
	const utm: ClassifyUtm = {};
	for (const k of ['source', 'medium', 'campaign', 'term', 'content'] as const) {
		const v = o[k];
		if (typeof v === 'string' && v.trim()) utm[k] = v.trim();
	}
	return Object.keys(utm).length ? utm : undefined;
}

function normaliseTag(tag: unknown): string {
	return String(tag ?? '')
		.trim()
		.replace(/^\+/, '')
		.toLowerCase();
}

export function parseDynamicTags(value: unknown): ClassifyOptions['dynamicTags'] {
	const parsed = parseJsonParameter(value, 'Dynamic Plus-Tags');
	if (parsed === undefined) return undefined;
	const out: NonNullable<ClassifyOptions['dynamicTags']> = {};
	const add = (tag: unknown, entry: IDataObject) => {
		const key = normaliseTag(tag);
		if (!key) throw new Error('Dynamic Plus-Tags: an entry has no tag');
		const utm = entry.utm && typeof entry.utm === 'object' ? utmOf(entry.utm as IDataObject) : utmOf(entry);
		out[key] = { ...(typeof entry.channel === 'string' && entry.channel ? { channel: entry.channel } : {}), ...(utm ? { utm } : {}) };
	};
	if (Array.isArray(parsed)) {
		for (const e of parsed) {
			if (!e || typeof e !== 'object') throw new Error('Dynamic Plus-Tags: list entries must be objects with a "tag"');
			add((e as IDataObject).tag ?? (e as IDataObject).plusTag, e as IDataObject);
		}
	} else if (typeof parsed === 'object' && parsed) {
		for (const [tag, e] of Object.entries(parsed as IDataObject)) add(tag, e && typeof e === 'object' ? (e as IDataObject) : {});
	} else throw new Error('Dynamic Plus-Tags must be an object or a list');
	return out;
}

export function parseSubstituteChannels(value: unknown): ClassifyOptions['substituteChannels'] {
	const rows = ((value as IDataObject | undefined)?.channel ?? []) as IDataObject[];
	if (!Array.isArray(rows) || rows.length === 0) return undefined;
	const out: NonNullable<ClassifyOptions['substituteChannels']> = {};
	for (const row of rows) {
		const tag = normaliseTag(row.plusTag);
		if (!tag) throw new Error('Substitute Channels: a channel has no plus-tag');
		const channel = String(row.channel ?? '').trim() || tag;
		const utm = utmOf(row);
		out[tag] = { channel, ...(utm ? { utm } : {}) };
	}
	return out;
}

/** The separator characters, checked against SUBSTITUTE_SEPARATOR_CHARS; empty means the default. */
export function parseSubstituteSeparators(value: unknown): string {
	const text = String(value ?? '').replace(/[\s,]+/g, '');
	if (!text) return DEFAULT_SUBSTITUTE_SEPARATORS;
	const bad = [...text].filter((c) => !SUBSTITUTE_SEPARATOR_CHARS.includes(c));
	if (bad.length > 0) {
		throw new Error(`Substitute Separators may hold only ${SUBSTITUTE_SEPARATOR_CHARS.split('').join(' ')}, got ${JSON.stringify(bad.join(''))}`);
	}
	return [...new Set(text)].join('');
}

/** The visitor address secret, or undefined when not set; a short one is refused, as the website could not use it either. */
export function parseVisitorSecret(value: unknown): string | undefined {
	const secret = typeof value === 'string' ? value : '';
	if (!secret) return undefined;
	if (secret.length < TRACKING_SECRET_MIN_LENGTH) {
		throw new Error(`Visitor Address Secret must have at least ${TRACKING_SECRET_MIN_LENGTH} characters, got ${secret.length}`);
	}
	return secret;
}

/** key → target, from an object map or from sent tokens (keys computed by the tracker, which is one-way). */
export function parseAddressKeys(value: unknown, tracker: TrackingSetup['tracker'] | null): Map<string, string> | undefined {
	const parsed = parseJsonParameter(value, 'Address Keys');
	if (parsed === undefined) return undefined;
	const map = new Map<string, string>();
	if (Array.isArray(parsed)) {
		for (const e of parsed) {
			const token = typeof e === 'string' ? e : e && typeof e === 'object' ? (e as IDataObject).token : undefined;
			if (typeof token !== 'string' || !token) continue;
			if (!tracker) throw new Error('Address Keys given as sent tokens need the Cadence Tracking credential (set Verify Tracking Tokens to On)');
			map.set(tracker.addressKey(token), token);
		}
	} else if (parsed && typeof parsed === 'object') {
		for (const [key, target] of Object.entries(parsed as IDataObject)) {
			if (typeof target === 'string' && target.trim()) map.set(key.trim().toLowerCase(), target.trim());
		}
	} else throw new Error('Address Keys must be an object or a list');
	return map.size ? map : undefined;
}

/**
 * Builds the classifier's spec and the key resolver from node options. Throws readable errors for bad input.
 * Token checks in the classifier use a tracker the worker rebuilds from `tracking.options`; the key resolver uses
 * `tracking.tracker` here.
 */
export function setupAttribution(options: IDataObject, mailboxUser: string, tracking: TrackingSetup | null): AttributionSetup {
	const tracker = tracking?.tracker ?? null;
	const own = String(options.ownAddresses ?? '')
		.split(/[,\s;]+/)
		.map((s) => s.trim().toLowerCase())
		.filter(Boolean);
	const user = parseAddress(mailboxUser);
	if (user && !own.includes(user.email)) own.push(user.email);
	const maxKb = Number(options.maxMessageKb ?? DEFAULT_MAX_MESSAGE_KB);
	const maxBytes = Math.max(MIN_MAX_MESSAGE_KB, Number.isFinite(maxKb) ? maxKb : DEFAULT_MAX_MESSAGE_KB) * 1024;
	const visitorSecret = parseVisitorSecret(options.visitorSecret);
	const separators = parseSubstituteSeparators(options.substituteSeparators);
	const classifyOptions: Omit<ClassifyOptions, 'verifyToken'> & SubstituteOptions = {
		ownAddresses: own,
		substituteChannels: parseSubstituteChannels(options.substituteChannels),
		dynamicTags: parseDynamicTags(options.dynamicTags),
		// Only a choice other than the classifier's default is passed on.
		...(separators !== DEFAULT_SUBSTITUTE_SEPARATORS ? { substituteSeparators: separators } : {}),
		...(visitorSecret ? { visitorSecret } : {}),
		maxBytes,
	};
	const seconds = Number(options.classifyTimeLimit ?? DEFAULT_CLASSIFY_TIME_LIMIT_SECONDS);
	if (!Number.isFinite(seconds) || seconds <= 0) {
		throw new Error(`Classification Time Limit must be a positive number of seconds, got ${String(options.classifyTimeLimit)}`);
	}
	const keys = parseAddressKeys(options.addressKeys, tracker);
	const resolveAddressKey = keys
		? (key: string): AddressKeyTarget | null => {
				const target = keys.get(key.toLowerCase());
				if (!target) return null;
				if (parseAddress(target)) return { email: target };
				return { token: target, data: tracker ? tracker.verifyToken(target) : null };
			}
		: undefined;
	return {
		classifier: { options: classifyOptions, ...(tracking ? { tracker: tracking.options } : {}) },
		classifyTimeLimitMs: classifyTimeLimit(seconds * 1000),
		resolveAddressKey,
		maxBytes,
	};
}
