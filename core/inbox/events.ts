/**
 * From a classified inbox message to CadenceEvents: one event per message, or one per bounced
 * recipient for a bounce. Ids are stable, so reading the same message twice (another poll, a re-scan after a
 * UIDVALIDITY change, the action node over a file) yields the same ids.
 */
import { normalizeEmail } from '../address';
import type { Classification, ClassifyTokenData, MessageKind } from '../classify';
import { eventId, type CadenceEvent, type EventType } from '../events';

/** `other` messages have no event type of their own; they are emitted only when asked for. */
export type InboxEventType = EventType | 'other';
type KnownEventFields = { [K in keyof CadenceEvent as string extends K ? never : K]: CadenceEvent[K] };
/** A CadenceEvent (plus `kind`, and `other` as a type), with the message's own fields as extras. */
export type InboxEvent = Omit<KnownEventFields, 'type'> & {
	type: InboxEventType;
	kind: MessageKind;
	[extra: string]: unknown;
};

export const INBOX_EVENT_TYPE: Record<MessageKind, InboxEventType> = {
	bounce: 'bounced',
	delay: 'delayed',
	delivered: 'delivered',
	auto_reply: 'auto_replied',
	complaint: 'complained',
	unsubscribe: 'unsubscribed',
	reply: 'replied',
	inbound: 'inbound',
	read_receipt: 'read_receipt',
	other: 'other',
};

export const INBOX_MESSAGE_KINDS: MessageKind[] = [
	'bounce',
	'delay',
	'delivered',
	'auto_reply',
	'complaint',
	'unsubscribe',
	'reply',
	'inbound',
	'read_receipt',
	'other',
];

/** Where the message came from, when it came from a mailbox. */
export interface InboxMessageRef {
	mailbox?: string;
	uidValidity?: string;
	uid?: number;
	/** IMAP internal date: when the server received it. */
	receivedAt?: Date | string;
	/** The message bytes, for an id when there is no Message-ID. */
	raw?: Buffer | string;
	/** The message was cut at the size limit before classification. */
	truncated?: boolean;
}

/** What a `reply+KEY@` / `bounce+KEY@` key stands for, when the user can tell (from sent events). */
export interface AddressKeyTarget {
	token?: string;
	data?: ClassifyTokenData | null;
	email?: string;
}

export interface InboxEventOptions {
	/** Resolves `addressKey` to a token or an address; unknown keys are reported as they are. */
	resolveAddressKey?: (key: string) => AddressKeyTarget | null | undefined;
	/** Whether an inbound sender is seen for the first time (and remembers it). */
	firstInboundFrom?: (email: string) => boolean;
	/** Fallback timestamp (defaults to now). */
	now?: Date;
}

/** The address inside a From/To header value (`"Name" <a@b.c>` or a bare address). */
export function inboxAddressOf(value: string | undefined): string {
	if (!value) return '';
	const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
	if (angle) return normalizeEmail(angle[1]);
	const bare = /[^\s<>"',;:()]+@[^\s<>"',;:()]+/.exec(value);
	return bare ? normalizeEmail(bare[0]) : '';
}

function isoOf(v: Date | string | undefined): string | undefined {
	if (v === undefined || v === '') return undefined;
	const t = v instanceof Date ? v.getTime() : Date.parse(v);
	return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export function classificationToEvents(c: Classification, ref: InboxMessageRef = {}, options: InboxEventOptions = {}): InboxEvent[] {
	const type = INBOX_EVENT_TYPE[c.kind] ?? 'other';
	const tracking = trackingOf(c, options);
	const from = inboxAddressOf(c.from);
	const identity = messageIdentity(c, ref);
	const base = baseEvent(c, ref, options, type, tracking, from);
	if (c.kind === 'bounce' && c.bounces.length > 0) return bounceEvents(c, base, tracking.data, identity);
	const event: InboxEvent = { ...base, id: eventId(type, ...identity, '') };
	addKindFields(event, c, options, base.email || from);
	return [event];
}

/** What ties a message to a send. */
interface MessageTracking {
	token: string | undefined;
	data: ClassifyTokenData | null;
	/** The address a `reply+KEY@` / `bounce+KEY@` key stands for, when the caller knows it. */
	keyEmail: string | undefined;
}

/** The message's own token and data; without data, what the caller resolves its address key to fills the gaps. */
function trackingOf(c: Classification, options: InboxEventOptions): MessageTracking {
	const tracking: MessageTracking = { token: c.token, data: c.tokenData ?? null, keyEmail: undefined };
	if (!tracking.data && c.addressKey && options.resolveAddressKey) {
		const target = options.resolveAddressKey(c.addressKey);
		if (target) {
			if (target.data) tracking.data = target.data;
			if (target.token) tracking.token = target.token;
			if (target.email) tracking.keyEmail = normalizeEmail(target.email);
		}
	}
	return tracking;
}

/** The parts hashed into an event id. */
type IdentityParts = Array<string | number | undefined>;

/** Identity of the message: its Message-ID, else where it sits in the mailbox, else its bytes. */
function messageIdentity(c: Classification, ref: InboxMessageRef): IdentityParts {
	if (c.messageId) return ['mid', c.messageId.trim().replace(/^<|>$/g, '').toLowerCase()];
	if (ref.uid !== undefined && ref.mailbox !== undefined) return ['uid', ref.mailbox, ref.uidValidity, ref.uid];
	return ['raw', ref.raw === undefined ? '' : eventId(typeof ref.raw === 'string' ? ref.raw : ref.raw.toString('latin1'))];
}

/** The fields every event of the message shares (id still empty); only fields with a value are present. */
function baseEvent(
	c: Classification,
	ref: InboxMessageRef,
	options: InboxEventOptions,
	type: InboxEventType,
	{ token, data, keyEmail }: MessageTracking,
	from: string,
): InboxEvent {
	// The message date says when the sender wrote it; the server's receipt time backs it up when the header is bad.
	const at = isoOf(c.date) ?? isoOf(ref.receivedAt) ?? (options.now ?? new Date()).toISOString();
	return {
		id: '',
		type,
		kind: c.kind,
		at,
		email: normalizeEmail(data?.email ?? c.contact ?? keyEmail ?? (c.kind === 'bounce' ? '' : from)),
		...(data ? { campaign: data.campaign, batchTag: data.batchTag, variant: data.variant } : {}),
		...(token ? { token } : {}),
		...(c.addressKey ? { addressKey: c.addressKey } : {}),
		...(c.messageId ? { messageId: c.messageId } : {}),
		...(c.inReplyTo ? { inReplyTo: c.inReplyTo } : {}),
		...(c.originalMessageId ? { originalMessageId: c.originalMessageId } : {}),
		...(c.disposition ? { disposition: c.disposition } : {}),
		...(c.subject !== undefined ? { subject: c.subject } : {}),
		...(from ? { from } : {}),
		...(ref.mailbox !== undefined ? { mailbox: ref.mailbox } : {}),
		...(ref.uid !== undefined ? { uid: ref.uid } : {}),
		...(ref.truncated ? { truncated: true } : {}),
		...(c.problem ? { problem: c.problem } : {}),
		...(c.replyIntent ? { replyIntent: c.replyIntent } : {}),
		...(c.referral ? { referral: c.referral } : {}),
		...(c.replyLanguage ? { replyLanguage: c.replyLanguage } : {}),
	};
}

/** One event per bounced recipient, each with its own id and bounce details. */
function bounceEvents(c: Classification, base: InboxEvent, data: ClassifyTokenData | null, identity: IdentityParts): InboxEvent[] {
	return c.bounces.map((row) => {
		const recipient = normalizeEmail(row.recipient);
		// Our sends have one recipient per message, so the token names the contact; a report listing several
		// recipients is about each of them.
		const email = data && (c.bounces.length === 1 || recipient === normalizeEmail(data.email)) ? normalizeEmail(data.email) : recipient || base.email;
		return {
			...base,
			id: eventId(base.type, ...identity, recipient),
			email,
			...(recipient ? { recipient } : {}),
			bounce: {
				hard: row.hard,
				status: row.status,
				reason: row.reason,
				diagnostic: row.diagnostic,
				replyCode: row.replyCode,
			},
		};
	});
}

/** A complaint's feedback type; an inbound message's channel, UTM fields, plus tag and first-contact flag. */
function addKindFields(event: InboxEvent, c: Classification, options: InboxEventOptions, sender: string): void {
	if (c.kind === 'complaint' && c.feedbackType) event.feedbackType = c.feedbackType;
	if (c.kind !== 'inbound') return;
	if (c.channel) event.channel = c.channel;
	if (c.utm && Object.keys(c.utm).length > 0) event.utm = { ...c.utm };
	if (c.plusTag) event.plusTag = c.plusTag;
	if (c.visitorId) event.visitorId = c.visitorId;
	if (options.firstInboundFrom && sender) event.unique = options.firstInboundFrom(sender);
}
