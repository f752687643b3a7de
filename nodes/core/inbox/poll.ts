/**
 * One poll of the sender mailbox(es), the engine of the Cadence Inbox Trigger, and the one-off range read of the
 * Cadence Inbox node. Pure of n8n: state goes in and comes out as plain JSON.
 *
 * Guarantees of `runInboxPoll`:
 * - only messages with a UID above the mailbox's cursor are read, at most `maxMessages` per mailbox per poll;
 * - the cursor moves only over messages that were fetched and classified, so a connection dropped midway
 *   neither loses the rest (read next poll) nor repeats what was returned;
 * - a UIDVALIDITY change re-reads a window of recent days and skips messages already emitted (by Message-ID);
 * - a first poll starts from now (nothing from the past) unless a start date is given;
 * - a poll stops taking messages after `INBOX_POLL_TIME_BUDGET_MS` (after at least one), the rest wait;
 * - with a `classifier` spec, each message is classified in a worker thread within a time limit (budget.ts); a
 *   message the classifier cannot finish, or that makes it fail, is emitted as `other` with the problem whatever
 *   the kinds asked for (nobody can tell what it was), and the cursor moves past it like any other;
 * - mail is flagged or moved only when asked, and never deleted.
 */
import type { ImapFlow } from 'imapflow';
import type { Classification, MessageKind } from '../classify';
import { createClassifierPool, isClassifierPool, type BudgetedClassification, type ClassifierPool, type ClassifierSpec } from './budget';
import { describeImapError } from './connection';
import { classificationToEvents, type InboxEvent, type InboxEventOptions } from './events';
import { applyInboxActions, fetchInboxMessages, searchInboxUids, type FetchedInboxMessage, type InboxMessageAction } from './reader';
import {
	BoundedHashSet,
	DEFAULT_REMEMBER_MESSAGES,
	DEFAULT_REMEMBER_SENDERS,
	loadInboxState,
	inboxMessageKey,
	inboxHash,
	type InboxMailboxCursor,
	type InboxPollState,
} from './state';

export type InboxClassifier = (raw: Buffer) => Classification | Promise<Classification>;

export interface InboxKindAction {
	/** Kinds the rule applies to. */
	kinds: MessageKind[];
	/** Flags or keywords to add, e.g. `\Seen` or `$CadenceBounce`. */
	addFlags?: string[];
	/** Folder to move the messages to (created when missing). The first rule with a folder wins. */
	moveTo?: string;
}

export interface InboxReadOptions {
	/** Classifies in this thread, without a time limit: for trusted classifiers only. */
	classify?: InboxClassifier;
	/**
	 * Classifies in a worker thread with a time limit per message; wins over `classify`. A spec gets a worker for
	 * this call only (closed when it returns); a pool is the caller's to close.
	 */
	classifier?: ClassifierSpec | ClassifierPool;
	/** Time limit per message with a `classifier` spec, in ms (default DEFAULT_CLASSIFY_TIME_LIMIT_MS). */
	classifyTimeLimitMs?: number;
	/** Kinds to emit; others are read (and acted on) but not returned. */
	kinds: MessageKind[];
	/** Bytes of each message fetched and classified; the rest is not downloaded. */
	maxBytes?: number;
	eventOptions?: Pick<InboxEventOptions, 'resolveAddressKey'>;
	now?: Date;
}

export interface InboxPollOptions extends InboxReadOptions {
	mailboxes: string[];
	/** Per mailbox per poll. */
	maxMessages: number;
	/** Days re-read after a UIDVALIDITY change. */
	rescanDays: number;
	/** First poll: read from this date; absent means start from now. */
	startFrom?: Date;
	actions?: InboxKindAction[];
	rememberMessages?: number;
	rememberSenders?: number;
	/** Wall time after which the poll takes no further message (default INBOX_POLL_TIME_BUDGET_MS). */
	timeBudgetMs?: number;
}

export interface InboxMailboxReport {
	mailbox: string;
	uidValidity?: string;
	/** Messages fetched and classified this poll. */
	processed: number;
	emitted: number;
	/** Messages skipped because they were emitted before a UIDVALIDITY change. */
	duplicates: number;
	/** Messages the classifier could not finish or failed on (emitted as `other` with the problem). */
	unclassified: number;
	/** More messages are waiting (batch limit reached). */
	more: boolean;
	/** What happened to the cursor: `started` (first poll), `reset` (UIDVALIDITY changed), or undefined. */
	cursor?: 'started' | 'reset';
	error?: string;
	warnings: string[];
}

export interface InboxPollResult {
	events: InboxEvent[];
	state: InboxPollState;
	mailboxes: InboxMailboxReport[];
}

export const DEFAULT_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
/**
 * A poll takes no further message after this long and leaves the rest for the next poll. n8n starts the next
 * poll on schedule (every minute at most) even when one still runs, and two polls at once would read the same
 * messages: a mailbox full of messages that each use up the classification time limit must not get there.
 */
export const INBOX_POLL_TIME_BUDGET_MS = 30_000;
const DAY_MS = 86_400_000;

interface MessageClassifier {
	classify(raw: Buffer): Promise<BudgetedClassification>;
	/** Rejects when no worker can start: not a message's fault, so nothing is read rather than skipped. */
	start(): Promise<void>;
	close(): Promise<void>;
}

/** The classifier a read uses, from its options; `close` ends what this call started and nothing else. */
function messageClassifier(options: InboxReadOptions): MessageClassifier {
	const given = options.classifier;
	if (given) {
		const pool = isClassifierPool(given) ? given : createClassifierPool(given, { timeLimitMs: options.classifyTimeLimitMs });
		return {
			classify: (raw) => pool.classify(raw),
			start: () => pool.start(),
			close: async () => (pool === given ? undefined : await pool.close()),
		};
	}
	const classify = options.classify;
	if (!classify) throw new TypeError('an inbox read needs a classifier');
	return {
		async classify(raw) {
			try {
				return { classification: await classify(raw) };
			} catch (error) {
				return { classification: { kind: 'other', bounces: [], problem: `classifier failed: ${(error as Error)?.message ?? String(error)}` }, failed: true };
			}
		},
		start: async () => undefined,
		close: async () => undefined,
	};
}

/** Where an unclassifiable message was, for the log. */
function unclassifiedWarning(m: FetchedInboxMessage, c: Classification): string {
	return `UID ${m.uid}${c.messageId ? ` ${c.messageId}` : ''}: ${c.problem ?? 'not classified'}`;
}

function actionsFor(processed: Array<{ uid: number; kind: MessageKind }>, rules: InboxKindAction[]): InboxMessageAction[] {
	const out: InboxMessageAction[] = [];
	const moved = new Set<number>();
	for (const rule of rules) {
		const kinds = new Set(rule.kinds);
		const uids = processed.filter((p) => kinds.has(p.kind)).map((p) => p.uid);
		if (uids.length === 0) continue;
		const flags = (rule.addFlags ?? []).map((f) => f.trim()).filter(Boolean);
		const moveTo = rule.moveTo?.trim();
		const movable = moveTo ? uids.filter((u) => !moved.has(u)) : [];
		movable.forEach((u) => moved.add(u));
		if (flags.length) out.push({ uids, addFlags: flags });
		if (moveTo && movable.length) out.push({ uids: movable, moveTo });
	}
	return out;
}

/** Runs one poll. `previous` is the state from static data (any shape; malformed parts are dropped). */
export async function runInboxPoll(client: ImapFlow, previous: unknown, options: InboxPollOptions): Promise<InboxPollResult> {
	const classifier = messageClassifier(options);
	try {
		return await pollWith(client, previous, options, classifier);
	} finally {
		await classifier.close();
	}
}

async function pollWith(client: ImapFlow, previous: unknown, options: InboxPollOptions, classifier: MessageClassifier): Promise<InboxPollResult> {
	const state = loadInboxState(previous);
	const now = options.now ?? new Date();
	const startedAt = Date.now();
	const budgetMs = options.timeBudgetMs ?? INBOX_POLL_TIME_BUDGET_MS;
	let handledInPoll = 0;
	const outOfTime = () => handledInPoll > 0 && Date.now() - startedAt > budgetMs;
	const emitted = new BoundedHashSet(state.emitted, options.rememberMessages ?? DEFAULT_REMEMBER_MESSAGES);
	const senders = new BoundedHashSet(state.senders, options.rememberSenders ?? DEFAULT_REMEMBER_SENDERS);
	const kinds = new Set(options.kinds);
	const maxMessages = Math.max(1, Math.floor(options.maxMessages));
	const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
	const wantsWrite = (options.actions ?? []).some((a) => a.kinds.length && (a.addFlags?.length || a.moveTo?.trim()));
	const events: InboxEvent[] = [];
	const reports: InboxMailboxReport[] = [];
	const eventOptions: InboxEventOptions = {
		...options.eventOptions,
		now,
		firstInboundFrom(email) {
			const key = inboxHash('sender', email);
			if (senders.has(key)) return false;
			senders.add(key);
			return true;
		},
	};

	const mailboxes = [...new Set(options.mailboxes.map((m) => m.trim()).filter(Boolean))];
	for (const mailbox of mailboxes) {
		const report: InboxMailboxReport = { mailbox, processed: 0, emitted: 0, duplicates: 0, unclassified: 0, more: false, warnings: [] };
		reports.push(report);
		let lock: { release(): void } | undefined;
		try {
			lock = await client.getMailboxLock(mailbox, { readOnly: !wantsWrite });
			const box = client.mailbox;
			if (!box) throw new Error(`could not open mailbox ${mailbox}`);
			const uidValidity = String(box.uidValidity);
			const lastExisting = box.uidNext > 0 ? box.uidNext - 1 : undefined;
			report.uidValidity = uidValidity;
			let cursor: InboxMailboxCursor | undefined = state.mailboxes[mailbox];
			if (!cursor) {
				report.cursor = 'started';
				cursor = options.startFrom
					? { uidValidity, lastUid: 0, since: options.startFrom.toISOString() }
					: { uidValidity, lastUid: lastExisting ?? 0 };
				if (!options.startFrom && lastExisting === undefined) {
					// No UIDNEXT from the server: find the newest UID the slow way.
					const all = await searchInboxUids(client, {});
					cursor.lastUid = all.length ? all[all.length - 1] : 0;
				}
				state.mailboxes[mailbox] = cursor;
				if (!options.startFrom) continue;
			} else if (cursor.uidValidity !== uidValidity) {
				// The server renumbered the mailbox: UIDs mean nothing now. Re-read recent days, skip what was emitted.
				report.cursor = 'reset';
				cursor = { uidValidity, lastUid: 0, since: new Date(now.getTime() - options.rescanDays * DAY_MS).toISOString(), rescan: true };
				state.mailboxes[mailbox] = cursor;
			}
			if (lastExisting !== undefined && lastExisting <= cursor.lastUid) {
				if (cursor.since) {
					delete cursor.since;
					delete cursor.rescan;
				}
				continue;
			}

			const since = cursor.since ? new Date(cursor.since) : undefined;
			const pending = await searchInboxUids(client, { uidFrom: cursor.lastUid + 1, since });
			const batch = outOfTime() ? [] : pending.slice(0, maxMessages);
			report.more = pending.length > batch.length;
			const processed: Array<{ uid: number; kind: MessageKind }> = [];
			const live = cursor;
			if (batch.length) await classifier.start();
			let stopped = false;
			const fetched = await fetchInboxMessages(client, batch, maxBytes, async (m: FetchedInboxMessage) => {
				// Out of time: this message and every later one stay above the cursor for the next poll.
				if (stopped || outOfTime()) {
					stopped = true;
					report.more = true;
					return;
				}
				handledInPoll++;
				const { classification: c, failed } = await classifier.classify(m.source);
				const key = inboxMessageKey(c.messageId, m.source);
				processed.push({ uid: m.uid, kind: c.kind });
				report.processed++;
				// Each message moves the cursor as soon as it is handled: a later failure cannot undo it.
				live.lastUid = Math.max(live.lastUid, m.uid);
				if (failed) {
					report.unclassified++;
					report.warnings.push(unclassifiedWarning(m, c));
				}
				if (live.rescan && emitted.has(key)) {
					report.duplicates++;
					return;
				}
				if (!failed && !kinds.has(c.kind)) return;
				const out = classificationToEvents(
					c,
					{ mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, receivedAt: m.receivedAt, raw: m.source, truncated: m.truncated },
					eventOptions,
				);
				if (out.length === 0) return;
				emitted.add(key);
				events.push(...out);
				report.emitted += out.length;
			});
			if (fetched.error) {
				report.error = describeImapError(fetched.error);
				report.more = true;
			} else if (!report.more && cursor.since) {
				// Caught up with the window: back to plain UID order, past everything that existed when we looked.
				delete cursor.since;
				delete cursor.rescan;
				if (lastExisting !== undefined) cursor.lastUid = Math.max(cursor.lastUid, lastExisting);
			}
			if (wantsWrite && processed.length && client.usable) {
				report.warnings.push(...(await applyInboxActions(client, actionsFor(processed, options.actions ?? []))));
			}
		} catch (error) {
			report.error = describeImapError(error);
		} finally {
			try {
				lock?.release();
			} catch {
				// the connection is gone; nothing to release
			}
		}
		if (!client.usable) {
			// Later mailboxes keep their cursors: they are read next poll.
			for (const m of mailboxes.slice(mailboxes.indexOf(mailbox) + 1)) {
				if (!reports.some((r) => r.mailbox === m)) {
					reports.push({ mailbox: m, processed: 0, emitted: 0, duplicates: 0, unclassified: 0, more: true, warnings: [], error: 'IMAP connection lost' });
				}
			}
			break;
		}
	}
	return { events, state, mailboxes: reports };
}

export interface InboxRangeOptions extends InboxReadOptions {
	mailbox: string;
	since?: Date;
	before?: Date;
	/** Most messages read; the oldest in the range come first. */
	limit: number;
	/** Read the newest messages of the range first instead. */
	newestFirst?: boolean;
}

export interface InboxRangeResult {
	events: InboxEvent[];
	/** Messages in the range; more than `read` when the limit cut it. */
	matched: number;
	read: number;
	uidValidity: string;
	/** Messages the classifier could not finish or failed on (returned as `other` with the problem). */
	warnings: string[];
	error?: string;
}

/**
 * Reads and classifies the messages of one mailbox within a date range (read-only; nothing is flagged). Inbound
 * senders are marked unique within this run.
 */
export async function classifyMailboxRange(client: ImapFlow, options: InboxRangeOptions): Promise<InboxRangeResult> {
	const classifier = messageClassifier(options);
	try {
		return await rangeWith(client, options, classifier);
	} finally {
		await classifier.close();
	}
}

async function rangeWith(client: ImapFlow, options: InboxRangeOptions, classifier: MessageClassifier): Promise<InboxRangeResult> {
	const kinds = new Set(options.kinds);
	const seen = new Set<string>();
	const eventOptions: InboxEventOptions = {
		...options.eventOptions,
		now: options.now,
		firstInboundFrom(email) {
			if (seen.has(email)) return false;
			seen.add(email);
			return true;
		},
	};
	const lock = await client.getMailboxLock(options.mailbox, { readOnly: true });
	try {
		const uidValidity = client.mailbox ? String(client.mailbox.uidValidity) : '';
		const uids = await searchInboxUids(client, { since: options.since, before: options.before });
		const limit = Math.floor(options.limit) > 0 ? Math.floor(options.limit) : uids.length;
		const chosen = options.newestFirst ? uids.slice(Math.max(0, uids.length - limit)) : uids.slice(0, limit);
		const events: InboxEvent[] = [];
		const byUid = new Map<number, InboxEvent[]>();
		const warnings: string[] = [];
		if (chosen.length) await classifier.start();
		const fetched = await fetchInboxMessages(client, chosen, options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES, async (m) => {
			const { classification: c, failed } = await classifier.classify(m.source);
			if (failed) warnings.push(unclassifiedWarning(m, c));
			if (!failed && !kinds.has(c.kind)) return;
			byUid.set(
				m.uid,
				classificationToEvents(
					c,
					{ mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, receivedAt: m.receivedAt, raw: m.source, truncated: m.truncated },
					eventOptions,
				),
			);
		});
		const order = options.newestFirst ? [...chosen].reverse() : chosen;
		for (const uid of order) events.push(...(byUid.get(uid) ?? []));
		return {
			events,
			matched: uids.length,
			read: fetched.handled.length,
			uidValidity,
			warnings,
			...(fetched.error ? { error: describeImapError(fetched.error) } : {}),
		};
	} finally {
		lock.release();
	}
}

/** The latest few messages of each mailbox, for a manual test run: reads no state and changes nothing. */
export async function sampleLatestMessages(
	client: ImapFlow,
	options: InboxReadOptions & { mailboxes: string[]; count: number },
): Promise<InboxEvent[]> {
	const events: InboxEvent[] = [];
	const classifier = messageClassifier(options);
	// One worker for every mailbox of the sample.
	const shared: ClassifierPool = { classify: (raw) => classifier.classify(raw), start: () => classifier.start(), close: async () => undefined };
	try {
		for (const mailbox of [...new Set(options.mailboxes.map((m) => m.trim()).filter(Boolean))]) {
			const r = await classifyMailboxRange(client, { ...options, classifier: shared, mailbox, limit: Math.max(1, options.count), newestFirst: true });
			events.push(...r.events);
		}
	} finally {
		await classifier.close();
	}
	return events;
}
