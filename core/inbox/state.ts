/**
 * What the inbox trigger remembers between polls (n8n static data): a cursor per mailbox, and two bounded lists of
 * hashes (messages already emitted, inbound senders already seen). Plain JSON, and small: static data is saved
 * with the workflow after every poll that emits.
 */
import { createHash } from 'node:crypto';

export interface InboxMailboxCursor {
	/** UIDVALIDITY as a decimal string (it is a 32-bit unsigned number; bigint in imapflow). */
	uidValidity: string;
	/** Every message with a UID up to this one has been processed. */
	lastUid: number;
	/**
	 * While set, only messages received on or after this ISO date are read (first start from a date, or the
	 * re-scan after a UIDVALIDITY change). Cleared once the window is caught up.
	 */
	since?: string;
	/** The window is a re-scan: skip messages whose hash is in `emitted`. */
	rescan?: boolean;
}

export interface InboxPollState {
	version: 1;
	mailboxes: Record<string, InboxMailboxCursor>;
	/** Hashes of emitted messages (Message-ID, else content), oldest first, bounded. */
	emitted: string[];
	/** Hashes of inbound senders already seen, oldest first, bounded. */
	senders: string[];
}

export const DEFAULT_REMEMBER_MESSAGES = 2000;
export const DEFAULT_REMEMBER_SENDERS = 2000;

export function emptyInboxState(): InboxPollState {
	return { version: 1, mailboxes: {}, emitted: [], senders: [] };
}

/** Reads state from static data defensively: anything malformed is dropped rather than trusted. */
export function loadInboxState(raw: unknown): InboxPollState {
	const state = emptyInboxState();
	if (!raw || typeof raw !== 'object') return state;
	const r = raw as Record<string, unknown>;
	if (r.mailboxes && typeof r.mailboxes === 'object') {
		for (const [path, c] of Object.entries(r.mailboxes as Record<string, unknown>)) {
			if (!c || typeof c !== 'object') continue;
			const cursor = c as Record<string, unknown>;
			const uidValidity = typeof cursor.uidValidity === 'string' ? cursor.uidValidity : String(cursor.uidValidity ?? '');
			const lastUid = Number(cursor.lastUid);
			if (!/^\d+$/.test(uidValidity) || !Number.isInteger(lastUid) || lastUid < 0) continue;
			const out: InboxMailboxCursor = { uidValidity, lastUid };
			if (typeof cursor.since === 'string' && !Number.isNaN(Date.parse(cursor.since))) out.since = cursor.since;
			if (cursor.rescan === true) out.rescan = true;
			state.mailboxes[path] = out;
		}
	}
	const strings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
	state.emitted = strings(r.emitted);
	state.senders = strings(r.senders);
	return state;
}

/** A FIFO set of short hashes with a size bound, backed by the state's array. */
export class BoundedHashSet {
	private readonly set: Set<string>;
	constructor(
		private readonly list: string[],
		private readonly limit: number,
	) {
		this.trim();
		this.set = new Set(list);
	}
	has(hash: string): boolean {
		return this.set.has(hash);
	}
	add(hash: string): void {
		if (this.set.has(hash)) return;
		this.list.push(hash);
		this.set.add(hash);
		this.trim();
	}
	private trim(): void {
		const excess = this.list.length - Math.max(0, this.limit);
		if (excess > 0) {
			for (const gone of this.list.splice(0, excess)) this.set?.delete(gone);
		}
	}
}

export function inboxHash(kind: string, value: string | Buffer): string {
	return createHash('sha256').update(kind).update('\u0000').update(value).digest('base64url').slice(0, 16);
}

/** The identity of a message across UIDVALIDITY changes: its Message-ID, else its bytes. */
export function inboxMessageKey(messageId: string | undefined, raw: Buffer | string): string {
	const id = messageId?.trim().replace(/^<|>$/g, '').toLowerCase();
	return id ? inboxHash('mid', id) : inboxHash('raw', raw);
}
