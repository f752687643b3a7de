/**
 * The batch calendar: which marketing batch (30-day round) and read batch (10-day round) are due on
 * a calendar day in the workflow's time zone.
 */
import { DateTime } from 'luxon';
import { BATCH_COUNT } from './tags';

export type Cadence = 'silent' | 'read';
/**
 * `catch-up` (default): on the last day of a month shorter than 30 days, the batches of the missing days are due
 * too, so no batch waits two months. `strict`: the seed's literal rule, batch = day, batches 29/30 skipped in short
 * months.
 */
export type ShortMonthRule = 'catch-up' | 'strict';
/** On the last day of a short month, the batches of the missing days are due too, so no batch waits two months. */
export const DEFAULT_SHORT_MONTH: ShortMonthRule = 'catch-up';

export interface CalendarOptions {
	cadence: Cadence;
	timeZone?: string;
	shortMonth?: ShortMonthRule;
}

const OFFSET_RE = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;
/** Longest date text read: an ISO date-time with fractions and an offset is about 35 characters. */
export const MAX_DATE_TEXT_LENGTH = 64;
/** Longest time zone name read: IANA names are at most about 30 characters. */
export const MAX_ZONE_NAME_LENGTH = 64;
/** Characters of a refused date or zone quoted in the error. */
const QUOTE_LENGTH = 40;

function quote(value: unknown): string {
	const s = String(value);
	return s.length > QUOTE_LENGTH ? `${s.slice(0, QUOTE_LENGTH)}… (${s.length} characters)` : s;
}

/**
 * A calendar day in a time zone. A `Date`, a number (epoch ms) or an ISO string with an offset is an instant,
 * converted to `timeZone`; an ISO string without an offset is a local date-time in `timeZone`.
 */
export function toZonedDateTime(date: Date | string | number | DateTime, timeZone = 'UTC'): DateTime {
	if (typeof timeZone !== 'string' || timeZone.length > MAX_ZONE_NAME_LENGTH)
		throw new RangeError(`not a valid time zone (${quote(timeZone)}): not a name of at most ${MAX_ZONE_NAME_LENGTH} characters`);
	let dt: DateTime;
	if (DateTime.isDateTime(date)) dt = date.setZone(timeZone);
	else if (date instanceof Date) dt = DateTime.fromJSDate(date, { zone: timeZone });
	else if (typeof date === 'number') dt = DateTime.fromMillis(date, { zone: timeZone });
	else if (typeof date === 'string') {
		const s = date.trim();
		if (s.length > MAX_DATE_TEXT_LENGTH) throw new RangeError(`not a valid date (${quote(s)}): longer than ${MAX_DATE_TEXT_LENGTH} characters`);
		dt = OFFSET_RE.test(s) && s.includes('T') ? DateTime.fromISO(s, { setZone: true }).setZone(timeZone) : DateTime.fromISO(s, { zone: timeZone });
	} else throw new TypeError(`expected a date, got ${date === null ? 'null' : typeof date}`);
	if (!dt.isValid) {
		const why = dt.invalidExplanation ?? dt.invalidReason ?? 'invalid';
		throw new RangeError(`not a valid date or time zone (${quote(date)}, ${quote(timeZone)}): ${why}`);
	}
	return dt;
}

/** Read batch fed by a marketing batch: Marketing01, 11 and 21 all feed Read01. */
export function readBatchFor(marketingBatch: number): number {
	if (!Number.isInteger(marketingBatch) || marketingBatch < 1 || marketingBatch > BATCH_COUNT.marketing)
		throw new RangeError(`marketing batch must be a whole number from 1 to 30, got ${marketingBatch}`);
	return ((marketingBatch - 1) % BATCH_COUNT.read) + 1;
}

/** Marketing batches due on a calendar day (day of month and days in that month). */
export function dueMarketingBatches(day: number, daysInMonth: number, shortMonth: ShortMonthRule = DEFAULT_SHORT_MONTH): number[] {
	if (day > BATCH_COUNT.marketing) return []; // the 31st: nothing is due
	if (shortMonth === 'catch-up' && day === daysInMonth && daysInMonth < BATCH_COUNT.marketing) {
		const due: number[] = [];
		for (let b = day; b <= BATCH_COUNT.marketing; b++) due.push(b);
		return due;
	}
	return [day];
}

/** Batches due on `date` for a cadence: marketing batch numbers (silent) or read batch numbers (read). */
export function dueBatches(date: Date | string | number | DateTime, options: CalendarOptions): number[] {
	const { cadence, timeZone = 'UTC', shortMonth = DEFAULT_SHORT_MONTH } = options;
	if (cadence !== 'silent' && cadence !== 'read') throw new RangeError(`cadence must be "silent" or "read", got ${String(cadence)}`);
	if (shortMonth !== 'catch-up' && shortMonth !== 'strict')
		throw new RangeError(`shortMonth must be "catch-up" or "strict", got ${String(shortMonth)}`);
	const dt = toZonedDateTime(date, timeZone);
	const marketing = dueMarketingBatches(dt.day, dt.daysInMonth ?? 31, shortMonth);
	if (cadence === 'silent') return marketing;
	const read: number[] = [];
	for (const b of marketing) {
		const r = readBatchFor(b);
		if (!read.includes(r)) read.push(r);
	}
	return read;
}
