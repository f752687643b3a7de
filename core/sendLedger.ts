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
 *
 * Daily caps: each row records the day it counts in, the recipient's company and the sending mailbox, so a claim can
 * refuse a key when the day already holds `companyCap` rows of the company, `mailboxCap` of the mailbox or
 * `contactCap` of the contact, whichever run, workflow or worker wrote them. Every status counts (a message that may
 * have gone out counts as sent); a released claim is deleted and frees its place.
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
	/**
	 * A `claimed` key whose run is known to be still running (the Postgres ledger tells by that run's session lock):
	 * that run sends it, so a later run reports it as already claimed rather than as unconfirmed.
	 */
	inFlight?: boolean;
}

export interface LedgerClaim {
	email: string;
	campaign: string;
	executionId?: string;
	/** YYYY-MM-DD the caps count in (the Send node passes localDay(now, workflow zone)); default today in UTC. */
	day?: string;
	/** Recipient company (companyOf(email)) and sending mailbox (lower-case From address) the caps count by. */
	company?: string;
	mailbox?: string;
	/** Claims of `day` (any status) a company, a mailbox, a contact may hold; 0 or undefined: no cap. */
	companyCap?: number;
	mailboxCap?: number;
	contactCap?: number;
}

/**
 * What a claim got: `claimed` (send it), `taken` (another run holds the key), or the cap that stopped it. When several
 * caps are full the contact's is named first, then the company's, then the mailbox's: only a full mailbox can be
 * helped by another mailbox of the pool.
 */
export type ClaimOutcome = 'claimed' | 'taken' | 'company-cap' | 'mailbox-cap' | 'contact-cap';

/** The claims of one day per company, mailbox and contact (lower-case email). */
export interface LedgerUsage {
	companies: Map<string, number>;
	mailboxes: Map<string, number>;
	contacts: Map<string, number>;
}

export type LedgerCapScope = 'contact' | 'company' | 'mailbox';

/** A claim checked and normalised: the row's columns and the caps it must respect, in the order they are reported. */
export interface LedgerClaimScope {
	day: string;
	email: string;
	company: string;
	mailbox: string;
	caps: Array<{ scope: LedgerCapScope; name: string; cap: number; outcome: Exclude<ClaimOutcome, 'claimed' | 'taken'> }>;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Checks a claim's day and caps and names what it counts by. Throws a RangeError naming the field for a cap that is
 * not a whole number ≥ 0, a day that is not YYYY-MM-DD, or a company/mailbox cap without its company/mailbox.
 */
export function ledgerClaimScope(claim: LedgerClaim, now: Date = new Date()): LedgerClaimScope {
	const day = claim.day === undefined || claim.day === '' ? localDay(now) : claim.day;
	if (typeof day !== 'string' || !DAY.test(day)) throw new RangeError(`Send ledger claim: day "${String(claim.day)}" is not a YYYY-MM-DD date`);
	const email = String(claim.email ?? '')
		.trim()
		.toLowerCase();
	const company = String(claim.company ?? '')
		.trim()
		.toLowerCase();
	const mailbox = String(claim.mailbox ?? '')
		.trim()
		.toLowerCase();
	const caps: LedgerClaimScope['caps'] = [];
	const add = (scope: LedgerCapScope, field: 'contactCap' | 'companyCap' | 'mailboxCap', name: string) => {
		const cap = claim[field];
		if (cap === undefined || cap === null) return;
		if (typeof cap !== 'number' || !Number.isSafeInteger(cap) || cap < 0) {
			throw new RangeError(`Send ledger claim: ${field} ${String(cap)} is not a whole number ≥ 0 (0: no cap)`);
		}
		if (cap === 0) return;
		if (!name) throw new RangeError(`Send ledger claim: ${field} ${cap} is given without a ${scope} to count it by`);
		caps.push({ scope, name, cap, outcome: `${scope}-cap` });
	};
	add('contact', 'contactCap', email);
	add('company', 'companyCap', company);
	add('mailbox', 'mailboxCap', mailbox);
	return { day, email, company, mailbox, caps };
}

export interface SendLedger {
	/** What the ledger holds for these keys (absent keys are free). */
	lookup(keys: readonly string[]): Promise<Map<string, LedgerEntry>>;
	/**
	 * Takes a free key before its message goes out, unless another run holds it (`taken`) or one of the claim's caps is
	 * full for its day. Atomic across processes: claims racing for one company, mailbox or contact never exceed a cap
	 * together. A cap counts the day's rows of every status (a released claim is gone and frees its place); it holds
	 * against the claims that carry it. Throws a RangeError for a bad cap or day before touching the store.
	 */
	claim(key: string, claim: LedgerClaim): Promise<ClaimOutcome>;
	/** Rows of `day` (any status: claimed, sent, failed, unconfirmed) per company, mailbox and contact. */
	usage(day: string): Promise<LedgerUsage>;
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
	const rows = new Map<string, LedgerEntry & { day: string; company: string; mailbox: string }>();
	// Claims per day and scope, kept with the rows so a capped claim costs no scan.
	const counts = new Map<string, number>();
	const countKey = (day: string, scope: LedgerCapScope, name: string) => `${day}\u0000${scope}\u0000${name}`;
	const bump = (r: { day: string; email: string; company: string; mailbox: string }, by: 1 | -1) => {
		for (const [scope, name] of [
			['contact', r.email],
			['company', r.company],
			['mailbox', r.mailbox],
		] as const) {
			const k = countKey(r.day, scope, name);
			const n = (counts.get(k) ?? 0) + by;
			if (n > 0) counts.set(k, n);
			else counts.delete(k);
		}
	};
	const strip = (r: LedgerEntry): LedgerEntry => ({
		key: r.key,
		status: r.status,
		email: r.email,
		campaign: r.campaign,
		event: r.event,
		claimedAt: r.claimedAt,
		executionId: r.executionId,
	});
	return {
		async lookup(keys) {
			const out = new Map<string, LedgerEntry>();
			for (const k of keys) {
				const e = rows.get(k);
				if (e) out.set(k, strip(e));
			}
			return out;
		},
		async claim(key, c) {
			const scope = ledgerClaimScope(c);
			if (rows.has(key)) return 'taken';
			for (const cap of scope.caps) if ((counts.get(countKey(scope.day, cap.scope, cap.name)) ?? 0) >= cap.cap) return cap.outcome;
			const row = {
				key,
				status: 'claimed' as const,
				email: scope.email,
				campaign: c.campaign,
				event: null,
				claimedAt: new Date().toISOString(),
				executionId: c.executionId ?? '',
				day: scope.day,
				company: scope.company,
				mailbox: scope.mailbox,
			};
			rows.set(key, row);
			bump(row, 1);
			return 'claimed';
		},
		async usage(day) {
			const out: LedgerUsage = { companies: new Map(), mailboxes: new Map(), contacts: new Map() };
			for (const r of rows.values()) {
				if (r.day !== day) continue;
				if (r.company) out.companies.set(r.company, (out.companies.get(r.company) ?? 0) + 1);
				if (r.mailbox) out.mailboxes.set(r.mailbox, (out.mailboxes.get(r.mailbox) ?? 0) + 1);
				if (r.email) out.contacts.set(r.email, (out.contacts.get(r.email) ?? 0) + 1);
			}
			return out;
		},
		async settle(key, status, event) {
			const e = rows.get(key);
			if (e) Object.assign(e, { status, event });
		},
		async release(key) {
			const e = rows.get(key);
			if (e?.status === 'claimed') {
				rows.delete(key);
				bump(e, -1);
			}
		},
		async close() {},
		entries: () => [...rows.values()].map(strip),
	};
}
