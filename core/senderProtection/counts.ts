/**
 * The day's counts from store events: messages per recipient company, per contact and per sender mailbox on one
 * calendar day of a time zone. Every message the package may have sent counts: `sent`, and `failed` with reason
 * `unconfirmed` (the server may have taken it). Events are read leniently: what is not an object, has no known
 * type or no valid time is skipped, never thrown on.
 */
import { DateTime } from 'luxon';
import { companyOf } from '../company';

export interface DayCounts {
	/** Company (registrable domain of the recipient) → messages. */
	companies: Map<string, number>;
	/** Lower-case recipient address → messages. */
	contacts: Map<string, number>;
	/** Sender mailbox (lower-case From address) → messages. */
	mailboxes: Map<string, number>;
}

export interface DayCountsOptions {
	/** YYYY-MM-DD. */
	day: string;
	/** IANA time zone the day is read in (default UTC). */
	timeZone?: string;
}

/** Epoch milliseconds of an event time (ISO string, Date, epoch ms); null when there is none. */
export function eventTime(at: unknown): number | null {
	let ms: number;
	if (typeof at === 'string') ms = Date.parse(at);
	else if (at instanceof Date) ms = at.getTime();
	else if (typeof at === 'number') ms = at;
	else return null;
	// beyond ±8.64e15 ms a Date is invalid
	return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? ms : null;
}

/** How many events one event stands for: its `count` when a whole number ≥ 0 (numeric strings too), else 1. */
export function eventMultiplicity(event: Record<string, unknown>): number {
	const raw = event.count;
	if (raw === undefined || raw === null) return 1;
	const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : typeof raw === 'bigint' ? Number(raw) : raw;
	return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : 1;
}

/** A trimmed, lower-case string field; '' when absent or not a string. */
export function lowerField(event: Record<string, unknown>, key: string): string {
	const v = event[key];
	return typeof v === 'string' ? v.trim().toLowerCase() : '';
}

/**
 * A mailbox id: the lower-case From address; a From written with a name (`Sales <a@b.example>`) gives its address.
 * '' when absent or not a string.
 */
export function mailboxKey(value: unknown): string {
	if (typeof value !== 'string') return '';
	const text = value.trim().toLowerCase();
	if (!text.endsWith('>')) return text;
	const open = text.lastIndexOf('<');
	return open < 0 ? text : text.slice(open + 1, -1).trim();
}

/** The event's type, trimmed and lower case; '' when it has none. */
export function eventType(event: Record<string, unknown>): string {
	return lowerField(event, 'type');
}

/** Whether an event stands for messages that may have gone out: `sent`, or `failed` with reason `unconfirmed`. */
export function isMessageEvent(type: string, event: Record<string, unknown>): boolean {
	return type === 'sent' || (type === 'failed' && lowerField(event, 'reason') === 'unconfirmed');
}

/** The sending domain of a mailbox (what follows its last `@`, lower case); the input itself when it has no `@`. */
export function mailboxDomain(mailbox: string): string {
	return mailbox
		.slice(mailbox.lastIndexOf('@') + 1)
		.trim()
		.toLowerCase();
}

/** Throws a RangeError unless `timeZone` is an IANA zone Intl knows. */
export function checkTimeZone(timeZone: unknown): string {
	if (typeof timeZone !== 'string' || timeZone.trim() === '')
		throw new RangeError(`timeZone must be an IANA time zone name, got ${JSON.stringify(timeZone)}`);
	let known = true;
	try {
		new Intl.DateTimeFormat('en-CA', { timeZone });
	} catch {
		known = false;
	}
	if (!known) throw new RangeError(`unknown time zone "${timeZone}"`);
	return timeZone;
}

/** The instants [start, end) of calendar day `day` (YYYY-MM-DD) in `timeZone`, daylight-saving days included. */
export function zoneDayBounds(day: string, timeZone = 'UTC'): { start: number; end: number } {
	checkTimeZone(timeZone);
	const start = typeof day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(day) ? DateTime.fromISO(day, { zone: timeZone }).startOf('day') : null;
	if (!start || !start.isValid) throw new RangeError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(day)}`);
	return { start: start.toMillis(), end: start.plus({ days: 1 }).toMillis() };
}

/** The calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function zoneDay(ms: number, timeZone = 'UTC'): string {
	return DateTime.fromMillis(ms, { zone: timeZone }).toISODate() ?? '';
}

function add(map: Map<string, number>, key: string, n: number): void {
	if (key) map.set(key, (map.get(key) ?? 0) + n);
}

/**
 * Counts of the day, each message once: an event stands for `count` messages, and an event whose `id` was seen
 * already (a store replaying the same fact) is skipped. A message event adds to what it carries: its contact and
 * company (from `email`) and its mailbox. Throws only for a malformed day or time zone.
 */
export function createDayCounter(options: DayCountsOptions): {
	add(event: Record<string, unknown>, type: string, ms: number): void;
	counts: DayCounts;
} {
	const { start, end } = zoneDayBounds(options.day, options.timeZone ?? 'UTC');
	const counts: DayCounts = { companies: new Map(), contacts: new Map(), mailboxes: new Map() };
	const companyCache = new Map<string, string>();
	return {
		counts,
		add(event, type, ms) {
			if (ms < start || ms >= end || !isMessageEvent(type, event)) return;
			const n = eventMultiplicity(event);
			if (n === 0) return;
			const email = lowerField(event, 'email');
			if (email) {
				add(counts.contacts, email, n);
				let company = companyCache.get(email);
				if (company === undefined) {
					company = companyOf(email);
					companyCache.set(email, company);
				}
				add(counts.companies, company, n);
			}
			add(counts.mailboxes, mailboxKey(event.mailbox), n);
		},
	};
}

/** Events without an `id` are all distinct; the others count once per id. */
export function createIdFilter(): (event: Record<string, unknown>) => boolean {
	const seen = new Set<string>();
	return (event) => {
		const id = event.id;
		if (typeof id !== 'string' || id === '') return true;
		if (seen.has(id)) return false;
		seen.add(id);
		return true;
	};
}

/** Iterates anything: an iterable's items, nothing for null or a non-iterable. */
export function* eventsOf(events: unknown): Generator<unknown> {
	if (events === null || events === undefined || typeof (events as Iterable<unknown>)[Symbol.iterator] !== 'function' || typeof events === 'string')
		return;
	yield* events as Iterable<unknown>;
}

/**
 * Messages per company, contact and mailbox on `day` (YYYY-MM-DD) in `timeZone`, from store events (see
 * createDayCounter). Junk events are skipped; throws a RangeError only for a malformed day or time zone.
 */
export function dayCounts(events: Iterable<unknown>, options: DayCountsOptions): DayCounts {
	const counter = createDayCounter(options);
	const fresh = createIdFilter();
	for (const raw of eventsOf(events)) {
		if (!raw || typeof raw !== 'object') continue;
		const e = raw as Record<string, unknown>;
		const type = eventType(e);
		if (type !== 'sent' && type !== 'failed') continue;
		const ms = eventTime(e.at);
		if (ms === null || !isMessageEvent(type, e) || !fresh(e)) continue;
		counter.add(e, type, ms);
	}
	return counter.counts;
}
