import type { ReplyIntent } from './replyIntent';

/** The classifier's public shapes: what one inbox message is and whom it is about. */

export type MessageKind =
	| 'bounce'
	| 'delay'
	| 'delivered'
	| 'auto_reply'
	| 'complaint'
	| 'unsubscribe'
	| 'reply'
	| 'inbound'
	| 'read_receipt'
	| 'other';

/** One recipient's outcome in a delivery report. */
export interface BounceRow {
	recipient: string;
	action: string;
	status: string;
	replyCode: string;
	diagnostic: string;
	/** Sisimai's vocabulary (userunknown, mailboxfull, blocked, ...). */
	reason: string;
	/** The address itself is permanently bad (userunknown, hostunknown, hasmoved, notaccept). */
	hard: boolean;
}

export interface ClassifyUtm {
	source?: string;
	medium?: string;
	campaign?: string;
	term?: string;
	content?: string;
}

export interface ClassifyTokenData {
	email: string;
	campaign: string;
	batchTag: string;
	variant: string;
	sentAt: number;
}

export interface ClassifyOptions {
	/** Verifies a token found in Message-ID/In-Reply-To/References/X-Cadence-Token; returns its data or null. */
	verifyToken?: (token: string) => ClassifyTokenData | null;
	/** Our own sending addresses or domains: recognises reply+KEY@ / bounce+KEY@ and substitute addresses. */
	ownAddresses?: string[];
	/** Static plus-tags (one per channel), e.g. { ads: { channel: 'ads', utm: { source: 'google' } } }. */
	substituteChannels?: Record<string, { channel: string; utm?: ClassifyUtm }>;
	/** Separators of substitute addresses besides the plus (default `+.`). */
	substituteSeparators?: string;
	/** The secret visitor addresses are signed with (issueVisitorAddress). */
	visitorSecret?: string;
	/** Dynamic plus-tags (one per website visitor), mapped to that visit's UTM fields. */
	dynamicTags?: Record<string, { channel?: string; utm?: ClassifyUtm }>;
	/** Bound on the bytes examined per message (default 10 MB); larger messages are 'other' with a problem. */
	maxBytes?: number;
}

export interface Classification {
	/** Inbound to a visitor address: the visitor id its code carries. */
	visitorId?: string;
	kind: MessageKind;
	bounces: BounceRow[];
	feedbackType?: string;
	/** The full tracking token found (only verified tokens when verifyToken is given). */
	token?: string;
	tokenData?: ClassifyTokenData;
	/** KEY from reply+KEY@ / bounce+KEY@ (resolved later against sent events). */
	addressKey?: string;
	/** The contact: the token's email, else the original recipient (bounce) or the sender (reply). */
	contact?: string;
	channel?: string;
	utm?: ClassifyUtm;
	plusTag?: string;
	messageId?: string;
	inReplyTo?: string;
	from?: string;
	to?: string[];
	subject?: string;
	date?: string;
	/** Why a malformed message was classified 'other'. */
	problem?: string;
	/** Kind `reply`: what the answer says. */
	replyIntent?: ReplyIntent;
	/** Kind `reply`, wrong person: the address the writer refers us to. */
	referral?: string;
	/**
	 * A disposition notification (RFC 8098): its disposition type (`displayed`, `deleted`, `dispatched`, `processed`, ...),
	 * with modifiers after a slash (`displayed/error`). Kind `read_receipt` only for `displayed` without an error; any
	 * other disposition is kind `other`, attributed like a read receipt.
	 */
	disposition?: string;
	/** A disposition notification: the Message-ID of the message it is about (Original-Message-ID). */
	originalMessageId?: string;
	/** Kind `reply`: language of the new text (en, zh, fr, es, de, pt, it, ru, ja, ar, tr), when recognised. */
	replyLanguage?: string;
}
