/** The shapes a Send run passes between its steps: an item's head, the content it is read from, and its plan. */
import type { ContentIndex } from '../../../core/content';
import type { DkimStamp } from '../../../core/dkim';
import type { LedgerEntry } from '../../../core/sendLedger';
import type { ResolvedTimeZone } from '../../../core/sendingWindow';
import type { CadenceMessageInput, CheckedMessage, RenderedMessage, RenderTrackingOptions } from '../../../core/sendRender';
import type { SmtpResult } from '../../../transport/smtp';
import type { Mailbox } from './mailboxes';

/** What is read and checked for every item before any SMTP traffic: sender, recipient, options, the variant. */
export interface ItemHead {
	input: Omit<CadenceMessageInput, 'sentAt' | 'subject' | 'html' | 'text'>;
	tracking: Omit<RenderTrackingOptions, 'tracker'>;
	/** The recipient, normalised. */
	to: string;
	/** Index of the chosen variant in the node's variant list, -1 without variants. */
	variantIndex: number;
	/** With a sending window: the zone the item's window was read in, and the item's value if it was not a zone. */
	timeZone?: ResolvedTimeZone;
	/** With content per language and segment: the content row the message is read from (set by applyContent). */
	content?: ItemContent;
}

/** One item's message, read from the parameters and checked, not yet rendered (no token yet). */
export interface ItemMessage {
	input: Omit<CadenceMessageInput, 'sentAt'>;
	tracking: Omit<RenderTrackingOptions, 'tracker'>;
	checked: CheckedMessage;
}

/** The content a planned message is read from: a row of the entries or the table, and its group's base row. */
export interface ItemContent {
	source: 'entries' | 'table';
	index: ContentIndex;
	row: number;
	/** -1: no base row to fall back to. */
	base: number;
	/** The contact's language and segment as matched. */
	language: string;
	segment: string;
}

/** What a send plan carries once a mailbox is chosen: the ledger claims the same caps again. */
export interface PlanSender {
	mailbox: Mailbox;
	company: string;
	mailboxCap: number;
}

export type SendPlan = {
	kind: 'send';
	index: number;
	head: ItemHead;
	msg?: RenderedMessage;
	contentError?: { reason: string; error: string };
	result?: SmtpResult;
	at?: string;
	/** Send ledger: the message's idempotency key, and whether this run holds its claim. */
	key?: string;
	claimed?: boolean;
	/** The mailbox it goes out through and the caps its ledger claim checks again. */
	sender?: PlanSender;
	/** The DKIM signature it went out with: signing domain, selector, alignment with From. */
	dkim?: DkimStamp;
	/** Another run took the last place under a cap between planning and this message's claim. */
	capSkip?: { reason: string; error: string };
};

export type LedgerPlan = { kind: 'ledger'; head: ItemHead; entry: LedgerEntry };
export type SkipPlan = { kind: 'skip'; head: ItemHead; reason: string; error: string };
export type InvalidPlan = { kind: 'invalid'; email: string; campaign: string; batchTag: string; reason: string; error: string };

export type Plan = SendPlan | LedgerPlan | SkipPlan | InvalidPlan;
