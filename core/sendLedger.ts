/**
 * The send ledger: one durable record per message, keyed by an idempotency key (by default contact, campaign and
 * day), written by the sender itself around each SMTP transaction. It is what lets a retried execution (a queue-mode
 * worker killed mid-send, a schedule fired twice, a user pressing "retry") skip what already went out and still emit
 * the events of what did, so the events store loses nothing and no contact gets the same mail twice.
 *
 * Why not check the events table: the workflow writes events after the send node has finished the whole batch, so a
 * worker dying mid-batch leaves sent messages with no event anywhere. Only the sender can record each message as it
 * goes, and only a record written before the transaction (a claim) can stop a second sender in a race.
 *
 * Life of a key: `claim` just before the message is handed to SMTP (an atomic insert: exactly one caller wins) →
 * `settle` with the outcome and its event (`sent`, `failed` for a refusal that will not change today, `unconfirmed`
 * when the server may or may not have taken it) → or `release` when nothing reached the server (connection, 4xx
 * exhausted, cancelled, stop-loss), so a later run may send it. A claim that never settles is a run that died in the
 * middle of that message's transaction: at most once, it is not sent again and reads as `unconfirmed`.
 */
import type { CadenceEvent } from './events';

export type LedgerStatus = 'claimed' | 'sent' | 'failed' | 'unconfirmed';

export interface LedgerEntry {
	key: string;
	status: LedgerStatus;
	email: string;
	campaign: string;
	/** The event of a settled key, replayed by a later run. */
	event: CadenceEvent | null;
	claimedAt: string;
	executionId: string;
}

export interface LedgerClaim {
	email: string;
	campaign: string;
	executionId?: string;
}

export interface SendLedger {
	/** What the ledger holds for these keys (absent keys are free). */
	lookup(keys: readonly string[]): Promise<Map<string, LedgerEntry>>;
	/** Takes a free key before its message goes out; false when another run holds it already. */
	claim(key: string, claim: LedgerClaim): Promise<boolean>;
	/** Records a claimed message's outcome with the event a later run replays. */
	settle(key: string, status: Exclude<LedgerStatus, 'claimed'>, event: CadenceEvent): Promise<void>;
	/** Gives a claim back: nothing reached the server, so a later run may send it. */
	release(key: string): Promise<void>;
	close(): Promise<void>;
}

/** The calendar day of `at` in an IANA time zone, as YYYY-MM-DD (the day a cadence run belongs to). */
export function localDay(at: Date, timeZone = 'UTC'): string {
	let zone = timeZone;
	try {
		new Intl.DateTimeFormat('en-CA', { timeZone: zone });
	} catch {
		zone = 'UTC';
	}
	const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
	const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
	return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The default idempotency key: one message per contact, campaign and day. */
export function sendIdempotencyKey(email: string, campaign: string, day: string): string {
	return `${day}|${campaign}|${email.trim().toLowerCase()}`;
}

/**
 * The event a run emits for a key that another run claimed and has not settled: that run is sending it right now,
 * or it stopped between claim and settle and the message may have gone out. Either way it is reported, not resent.
 */
export function unsettledClaimEvent(
	entry: LedgerEntry,
	base: { id: string; at: string; email: string; campaign?: string; batchTag?: string; variant?: string },
): CadenceEvent {
	return {
		...base,
		type: 'failed',
		reason: 'unconfirmed',
		error: `Another run${entry.executionId ? ` (execution ${entry.executionId})` : ''} claimed this message at ${entry.claimedAt} and has not recorded the server's answer: it is sending it now, or it stopped mid-transaction and the message may have been delivered. Not sent again here (delete ledger key "${entry.key}" to allow a resend)`,
	};
}

/**
 * A ledger in memory, for library users and tests in one process. It does not survive a restart and is not shared
 * between processes: n8n executions use the Postgres ledger.
 */
export function createMemoryLedger(): SendLedger & { entries(): LedgerEntry[] } {
	const rows = new Map<string, LedgerEntry>();
	return {
		async lookup(keys) {
			const out = new Map<string, LedgerEntry>();
			for (const k of keys) {
				const e = rows.get(k);
				if (e) out.set(k, { ...e });
			}
			return out;
		},
		async claim(key, c) {
			if (rows.has(key)) return false;
			rows.set(key, {
				key,
				status: 'claimed',
				email: c.email,
				campaign: c.campaign,
				event: null,
				claimedAt: new Date().toISOString(),
				executionId: c.executionId ?? '',
			});
			return true;
		},
		async settle(key, status, event) {
			const e = rows.get(key);
			if (e) Object.assign(e, { status, event });
		},
		async release(key) {
			if (rows.get(key)?.status === 'claimed') rows.delete(key);
		},
		async close() {},
		entries: () => [...rows.values()].map((e) => ({ ...e })),
	};
}
