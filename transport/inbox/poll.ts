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
import type { Classification, MessageKind } from '../../core/classify';
import { createClassifierPool, isClassifierPool, type BudgetedClassification, type ClassifierPool, type ClassifierSpec } from './budget';
import { describeImapError } from './connection';
import { classificationToEvents, type InboxEvent, type InboxEventOptions } from '../../core/inbox/events';
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
} from '../../core/inbox/state';

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
				return {
					classification: { kind: 'other', bounces: [], problem: `classifier failed: ${(error as Error)?.message ?? String(error)}` },
					failed: true,
				};
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

/** A message a poll fetched and classified, for the flag and move rules. */
type ProcessedMessage = { uid: number; kind: MessageKind };

function actionsFor(processed: ProcessedMessage[], rules: InboxKindAction[]): InboxMessageAction[] {
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

/** The events of one classified message. */
function messageEvents(c: Classification, m: FetchedInboxMessage, eventOptions: InboxEventOptions): InboxEvent[] {
	return classificationToEvents(
		c,
		{ mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid, receivedAt: m.receivedAt, raw: m.source, truncated: m.truncated },
		eventOptions,
	);
}

/** The mailbox names given, trimmed, without blanks or repeats. */
function uniqueMailboxes(names: string[]): string[] {
	return [...new Set(names.map((m) => m.trim()).filter(Boolean))];
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

/** What one poll shares across its mailboxes: settings, the state it updates, what it has found so far. */
class PollRun {
	readonly state: InboxPollState;
	readonly now: Date;
	private readonly startedAt: number;
	private readonly budgetMs: number;
	/** Messages taken so far; the time budget stops the poll only after the first. */
	handled = 0;
	readonly emitted: BoundedHashSet;
	readonly kinds: Set<MessageKind>;
	readonly maxMessages: number;
	readonly maxBytes: number;
	/** Some rule flags or moves mail, so mailboxes are opened read-write. */
	readonly wantsWrite: boolean;
	readonly eventOptions: InboxEventOptions;
	readonly events: InboxEvent[] = [];
	readonly reports: InboxMailboxReport[] = [];

	constructor(
		previous: unknown,
		readonly options: InboxPollOptions,
		readonly classifier: MessageClassifier,
	) {
		this.state = loadInboxState(previous);
		this.now = options.now ?? new Date();
		this.startedAt = Date.now();
		this.budgetMs = options.timeBudgetMs ?? INBOX_POLL_TIME_BUDGET_MS;
		this.emitted = new BoundedHashSet(this.state.emitted, options.rememberMessages ?? DEFAULT_REMEMBER_MESSAGES);
		const senders = new BoundedHashSet(this.state.senders, options.rememberSenders ?? DEFAULT_REMEMBER_SENDERS);
		this.kinds = new Set(options.kinds);
		this.maxMessages = Math.max(1, Math.floor(options.maxMessages));
		this.maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
		this.wantsWrite = (options.actions ?? []).some((a) => a.kinds.length && (a.addFlags?.length || a.moveTo?.trim()));
		this.eventOptions = {
			...options.eventOptions,
			now: this.now,
			firstInboundFrom(email) {
				const key = inboxHash('sender', email);
				if (senders.has(key)) return false;
				senders.add(key);
				return true;
			},
		};
	}

	outOfTime(): boolean {
		return this.handled > 0 && Date.now() - this.startedAt > this.budgetMs;
	}
}

async function pollWith(client: ImapFlow, previous: unknown, options: InboxPollOptions, classifier: MessageClassifier): Promise<InboxPollResult> {
	const run = new PollRun(previous, options, classifier);
	const mailboxes = uniqueMailboxes(options.mailboxes);
	for (let index = 0; index < mailboxes.length; index++) {
		const report: InboxMailboxReport = {
			mailbox: mailboxes[index],
			processed: 0,
			emitted: 0,
			duplicates: 0,
			unclassified: 0,
			more: false,
			warnings: [],
		};
		run.reports.push(report);
		const looked = await pollMailbox(client, run, report);
		if (looked && !client.usable) {
			// Later mailboxes keep their cursors: they are read next poll.
			for (const m of mailboxes.slice(index + 1)) {
				if (!run.reports.some((r) => r.mailbox === m)) {
					run.reports.push({
						mailbox: m,
						processed: 0,
						emitted: 0,
						duplicates: 0,
						unclassified: 0,
						more: true,
						warnings: [],
						error: 'IMAP connection lost',
					});
				}
			}
			break;
		}
	}
	return { events: run.events, state: run.state, mailboxes: run.reports };
}

/**
 * Polls the report's mailbox: cursor, new messages, actions; an IMAP failure goes into the report. False when there
 * was nothing to read (a cursor just started from now, or nothing above the cursor): the poll then goes on to the
 * next mailbox without looking at the connection.
 */
async function pollMailbox(client: ImapFlow, run: PollRun, report: InboxMailboxReport): Promise<boolean> {
	let lock: { release(): void } | undefined;
	try {
		lock = await client.getMailboxLock(report.mailbox, { readOnly: !run.wantsWrite });
		const box = client.mailbox;
		if (!box) throw new Error(`could not open mailbox ${report.mailbox}`);
		const uidValidity = String(box.uidValidity);
		const lastExisting = box.uidNext > 0 ? box.uidNext - 1 : undefined;
		report.uidValidity = uidValidity;
		const cursor = await mailboxCursor(client, run, report, uidValidity, lastExisting);
		if (!cursor || nothingAboveCursor(cursor, lastExisting)) return false;
		const processed = await readNewMessages(client, run, cursor, report);
		if (!report.error && !report.more && cursor.since) {
			// Caught up with the window: back to plain UID order, past everything that existed when we looked.
			delete cursor.since;
			delete cursor.rescan;
			if (lastExisting !== undefined) cursor.lastUid = Math.max(cursor.lastUid, lastExisting);
		}
		if (run.wantsWrite && processed.length && client.usable) {
			report.warnings.push(...(await applyInboxActions(client, actionsFor(processed, run.options.actions ?? []))));
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
	return true;
}

/**
 * The mailbox's cursor for this poll. A first poll starts one: from the start date, or else past the newest message,
 * and then there is nothing to read (undefined). A UIDVALIDITY change means the server renumbered the mailbox and
 * UIDs mean nothing now: the cursor is reset to re-read recent days, skipping what was emitted.
 */
async function mailboxCursor(
	client: ImapFlow,
	run: PollRun,
	report: InboxMailboxReport,
	uidValidity: string,
	lastExisting: number | undefined,
): Promise<InboxMailboxCursor | undefined> {
	const { options, state } = run;
	const cursor = state.mailboxes[report.mailbox];
	if (!cursor) {
		report.cursor = 'started';
		const started: InboxMailboxCursor = options.startFrom
			? { uidValidity, lastUid: 0, since: options.startFrom.toISOString() }
			: { uidValidity, lastUid: lastExisting ?? 0 };
		if (!options.startFrom && lastExisting === undefined) {
			// No UIDNEXT from the server: find the newest UID the slow way.
			const all = await searchInboxUids(client, {});
			started.lastUid = all.length ? all[all.length - 1] : 0;
		}
		state.mailboxes[report.mailbox] = started;
		return options.startFrom ? started : undefined;
	}
	if (cursor.uidValidity === uidValidity) return cursor;
	report.cursor = 'reset';
	const reset: InboxMailboxCursor = {
		uidValidity,
		lastUid: 0,
		since: new Date(run.now.getTime() - options.rescanDays * DAY_MS).toISOString(),
		rescan: true,
	};
	state.mailboxes[report.mailbox] = reset;
	return reset;
}

/** True when no message exists above the cursor; a re-read window is then over. */
function nothingAboveCursor(cursor: InboxMailboxCursor, lastExisting: number | undefined): boolean {
	if (lastExisting === undefined || lastExisting > cursor.lastUid) return false;
	if (cursor.since) {
		delete cursor.since;
		delete cursor.rescan;
	}
	return true;
}

/**
 * Fetches and classifies the next batch above the cursor (at most maxMessages, none once out of time) and returns
 * what was processed, for the actions. A fetch failure goes into the report, with `more` set.
 */
async function readNewMessages(client: ImapFlow, run: PollRun, cursor: InboxMailboxCursor, report: InboxMailboxReport): Promise<ProcessedMessage[]> {
	const since = cursor.since ? new Date(cursor.since) : undefined;
	const pending = await searchInboxUids(client, { uidFrom: cursor.lastUid + 1, since });
	const batch = run.outOfTime() ? [] : pending.slice(0, run.maxMessages);
	report.more = pending.length > batch.length;
	const processed: ProcessedMessage[] = [];
	if (batch.length) await run.classifier.start();
	let stopped = false;
	const fetched = await fetchInboxMessages(client, batch, run.maxBytes, async (m: FetchedInboxMessage) => {
		// Out of time: this message and every later one stay above the cursor for the next poll.
		if (stopped || run.outOfTime()) {
			stopped = true;
			report.more = true;
			return;
		}
		await takeMessage(run, cursor, report, processed, m);
	});
	if (fetched.error) {
		report.error = describeImapError(fetched.error);
		report.more = true;
	}
	return processed;
}

/** Classifies one message, moves the cursor past it, and emits its events unless emitted before or not asked for. */
async function takeMessage(
	run: PollRun,
	cursor: InboxMailboxCursor,
	report: InboxMailboxReport,
	processed: ProcessedMessage[],
	m: FetchedInboxMessage,
): Promise<void> {
	run.handled++;
	const { classification: c, failed } = await run.classifier.classify(m.source);
	const key = inboxMessageKey(c.messageId, m.source);
	processed.push({ uid: m.uid, kind: c.kind });
	report.processed++;
	// Each message moves the cursor as soon as it is handled: a later failure cannot undo it.
	cursor.lastUid = Math.max(cursor.lastUid, m.uid);
	if (failed) {
		report.unclassified++;
		report.warnings.push(unclassifiedWarning(m, c));
	}
	if (cursor.rescan && run.emitted.has(key)) {
		report.duplicates++;
		return;
	}
	if (!failed && !run.kinds.has(c.kind)) return;
	const out = messageEvents(c, m, run.eventOptions);
	if (out.length === 0) return;
	run.emitted.add(key);
	run.events.push(...out);
	report.emitted += out.length;
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

/** Event options of a range read: an inbound sender is first the first time this read meets it. */
function rangeEventOptions(options: InboxRangeOptions): InboxEventOptions {
	const seen = new Set<string>();
	return {
		...options.eventOptions,
		now: options.now,
		firstInboundFrom(email) {
			if (seen.has(email)) return false;
			seen.add(email);
			return true;
		},
	};
}

/** The UIDs a range read takes: the first `limit` of the range, or the last with `newestFirst`. */
function chooseRange(uids: number[], options: InboxRangeOptions): number[] {
	const limit = Math.floor(options.limit) > 0 ? Math.floor(options.limit) : uids.length;
	return options.newestFirst ? uids.slice(Math.max(0, uids.length - limit)) : uids.slice(0, limit);
}

async function rangeWith(client: ImapFlow, options: InboxRangeOptions, classifier: MessageClassifier): Promise<InboxRangeResult> {
	const kinds = new Set(options.kinds);
	const eventOptions = rangeEventOptions(options);
	const lock = await client.getMailboxLock(options.mailbox, { readOnly: true });
	try {
		const uidValidity = client.mailbox ? String(client.mailbox.uidValidity) : '';
		const uids = await searchInboxUids(client, { since: options.since, before: options.before });
		const chosen = chooseRange(uids, options);
		const byUid = new Map<number, InboxEvent[]>();
		const warnings: string[] = [];
		if (chosen.length) await classifier.start();
		const fetched = await fetchInboxMessages(client, chosen, options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES, async (m) => {
			const { classification: c, failed } = await classifier.classify(m.source);
			if (failed) warnings.push(unclassifiedWarning(m, c));
			if (!failed && !kinds.has(c.kind)) return;
			byUid.set(m.uid, messageEvents(c, m, eventOptions));
		});
		// events in the order of the range read, whatever order the server sent the messages in
		const events: InboxEvent[] = [];
		for (const uid of options.newestFirst ? [...chosen].reverse() : chosen) events.push(...(byUid.get(uid) ?? []));
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
		for (const mailbox of uniqueMailboxes(options.mailboxes)) {
			const r = await classifyMailboxRange(client, { ...options, classifier: shared, mailbox, limit: Math.max(1, options.count), newestFirst: true });
			events.push(...r.events);
		}
	} finally {
		await classifier.close();
	}
	return events;
}
