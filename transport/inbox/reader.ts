/**
 * Reading messages from an open mailbox by UID, in bounded batches, and acting on them (flags, moves). Never
 * deletes or expunges anything.
 */
import type { ImapFlow } from 'imapflow';
import { describeImapError } from './connection';

export interface FetchedInboxMessage {
	mailbox: string;
	uidValidity: string;
	uid: number;
	receivedAt?: Date;
	/** At most the byte limit of the message. */
	source: Buffer;
	/** The message is (or may be: exactly at the limit) longer than `source`. */
	truncated: boolean;
}

/** `1,2,3,5,7,8,9` → `1:3,5,7:9`: keeps commands short for long, mostly contiguous UID lists. */
export function compressUidSet(uids: number[]): string {
	const sorted = [...new Set(uids)].filter((u) => Number.isInteger(u) && u > 0).sort((a, b) => a - b);
	const parts: string[] = [];
	for (let i = 0; i < sorted.length; ) {
		let j = i;
		while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
		parts.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
		i = j + 1;
	}
	return parts.join(',');
}

/** UIDs matching a search, ascending. */
export async function searchInboxUids(client: ImapFlow, query: { uidFrom?: number; since?: Date; before?: Date }): Promise<number[]> {
	const q: { uid?: string; since?: Date; before?: Date; all?: boolean } = {};
	if (query.uidFrom !== undefined) q.uid = `${Math.max(1, query.uidFrom)}:*`;
	if (query.since) q.since = query.since;
	if (query.before) q.before = query.before;
	if (Object.keys(q).length === 0) q.all = true;
	const found = await client.search(q, { uid: true });
	if (!Array.isArray(found)) throw new Error(`IMAP SEARCH failed in ${client.mailbox ? client.mailbox.path : 'mailbox'}`);
	// `N:*` always matches the highest UID, even below N (RFC 3501 6.4.8): drop what is below the floor.
	const floor = query.uidFrom ?? 0;
	return found.filter((u) => u >= floor).sort((a, b) => a - b);
}

/**
 * Fetches the given UIDs (ascending) and hands each message to `onMessage` as it arrives, so only one message
 * body is held at a time. A failure midway (dropped connection, server error) is returned with the messages
 * handled so far, rather than thrown, so the caller can keep the progress it made.
 */
export async function fetchInboxMessages(
	client: ImapFlow,
	uids: number[],
	maxBytes: number,
	onMessage: (m: FetchedInboxMessage) => void | Promise<void>,
): Promise<{ handled: number[]; error?: Error }> {
	const handled: number[] = [];
	if (uids.length === 0) return { handled };
	const mailbox = client.mailbox ? client.mailbox.path : '';
	const uidValidity = client.mailbox ? String(client.mailbox.uidValidity) : '';
	try {
		// No RFC822.SIZE: on Maildir, Dovecot computes it by reading the whole file; a full-length partial body
		// tells us the same thing (cut or not) for free.
		const query = { uid: true, internalDate: true, source: { maxLength: maxBytes } };
		for await (const m of client.fetch(compressUidSet(uids), query, { uid: true })) {
			if (!m || !m.uid) continue;
			const source = m.source ?? Buffer.alloc(0);
			const internal = m.internalDate instanceof Date ? m.internalDate : m.internalDate ? new Date(m.internalDate) : undefined;
			await onMessage({
				mailbox,
				uidValidity,
				uid: m.uid,
				receivedAt: internal && !Number.isNaN(internal.getTime()) ? internal : undefined,
				source,
				truncated: source.length >= maxBytes,
			});
			handled.push(m.uid);
		}
		// A fetch whose connection closed can end quietly: the caller compares `handled` with what it asked for.
		if (!client.usable && handled.length < uids.length) {
			return { handled, error: new Error('IMAP connection closed during FETCH') };
		}
		return { handled };
	} catch (error) {
		return { handled, error: error instanceof Error ? error : new Error(describeImapError(error)) };
	}
}

export interface InboxMessageAction {
	uids: number[];
	addFlags?: string[];
	moveTo?: string;
}

/** Adds flags, then moves; creates a missing target folder. Returns problems as text; never throws. */
export async function applyInboxActions(client: ImapFlow, actions: InboxMessageAction[]): Promise<string[]> {
	const problems: string[] = [];
	const here = client.mailbox ? client.mailbox.path : '';
	const created = new Set<string>();
	for (const a of actions) {
		if (a.uids.length === 0 || !a.addFlags?.length) continue;
		try {
			await client.messageFlagsAdd(compressUidSet(a.uids), a.addFlags, { uid: true });
		} catch (error) {
			problems.push(`could not flag ${a.uids.length} message(s) ${a.addFlags.join(' ')}: ${describeImapError(error)}`);
		}
	}
	// Without MOVE, imapflow falls back to COPY + \Deleted + EXPUNGE; without UIDPLUS that EXPUNGE would also
	// remove any other message someone marked \Deleted. Rather leave the mail where it is.
	const canMove = client.capabilities.has('MOVE') || client.capabilities.has('UIDPLUS');
	for (const a of actions) {
		const target = a.moveTo?.trim();
		if (a.uids.length === 0 || !target || target === here) continue;
		if (!canMove) {
			problems.push(`not moved to ${target}: the server supports neither MOVE nor UIDPLUS`);
			continue;
		}
		try {
			if (!created.has(target)) {
				await ensureMailbox(client, target);
				created.add(target);
			}
			const moved = await client.messageMove(compressUidSet(a.uids), target, { uid: true });
			if (moved === false) problems.push(`could not move ${a.uids.length} message(s) to ${target}`);
		} catch (error) {
			problems.push(`could not move ${a.uids.length} message(s) to ${target}: ${describeImapError(error)}`);
		}
	}
	return problems;
}

async function ensureMailbox(client: ImapFlow, path: string): Promise<void> {
	// imapflow answers an existing folder (ALREADYEXISTS) with `created: false`, not an error.
	await client.mailboxCreate(path);
}
