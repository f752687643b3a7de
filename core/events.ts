import { createHash } from 'node:crypto';

/**
 * The one event shape every node speaks, so sending, tracking and inbox events can live in one
 * table and be counted together.
 */
export type EventType =
	| 'sent'
	| 'failed'
	| 'skipped'
	| 'bounced'
	| 'delayed'
	| 'delivered'
	| 'opened'
	/** A read receipt (RFC 8098 disposition notification, `displayed`): the recipient read the message, like a human open. */
	| 'read_receipt'
	| 'clicked'
	| 'replied'
	| 'auto_replied'
	| 'unsubscribed'
	| 'complained'
	| 'inbound'
	| 'paused'
	| 'erased'
	| 'resumed'
	/** An A/B roll-out decision: the winner (in `variant`) and why (in `reason`), for the campaign. */
	| 'ab_decided'
	/** A conversion the website reported for a tracked visit (an order, a quote request), with its `value`. */
	| 'converted';

/** Who produced a tracking hit. Cadence rules act on `human` only. */
export type HitClass = 'human' | 'apple_mpp' | 'image_proxy' | 'scanner' | 'unknown';

export interface BounceInfo {
	hard: boolean;
	status: string;
	reason: string;
	diagnostic: string;
	replyCode?: string;
}

export interface UtmFields {
	source?: string;
	medium?: string;
	campaign?: string;
	term?: string;
	content?: string;
}

export interface CadenceEvent {
	/** Stable id: stores replay events, and metrics count each id once. */
	id: string;
	type: EventType;
	/** ISO 8601 instant. */
	at: string;
	email: string;
	campaign?: string;
	batchTag?: string;
	variant?: string;
	messageId?: string;
	token?: string;
	class?: HitClass;
	url?: string;
	bounce?: BounceInfo;
	channel?: string;
	utm?: UtmFields;
	unique?: boolean;
	/** Why an item was skipped or failed (e.g. `domain-cap`, `failure-rate`, `invalid-address`). */
	reason?: string;
	/**
	 * The sender mailbox: on `sent` and `failed` events the From address used (lower case); on `paused` and `resumed`
	 * events the paused mailbox, or the sending domain when `scope` is `domain`.
	 */
	mailbox?: string;
	/** Money a `converted` event brought (in the report's currency); absent when unknown. */
	value?: number;
	/** How many events of its kind this one stands for (a whole number ≥ 1, default 1), e.g. an aggregated row. */
	count?: number;
	[extra: string]: unknown;
}

/**
 * A short, stable id from the parts that make an event unique (e.g. type + token for `sent`), so the same fact
 * written twice gets the same id and is counted once.
 */
export function eventId(...parts: Array<string | number | undefined | null>): string {
	return createHash('sha256')
		.update(parts.map((p) => (p === undefined || p === null ? '' : String(p))).join('\u0000'))
		.digest('base64url')
		.slice(0, 22);
}
