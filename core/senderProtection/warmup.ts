/**
 * A sender mailbox's daily cap: a ceiling, and for a new mailbox a warm-up ramp that starts low and rises each day
 * until the ceiling, because mailbox providers judge a new sender by how gradually its volume grows.
 */
import { DEFAULT_MAILBOX_DAILY_CAP, DEFAULT_WARMUP_DAILY_INCREASE, DEFAULT_WARMUP_FIRST_DAY } from './defaults';

export interface MailboxLimits {
	/** The mailbox's ceiling per calendar day; 0: no cap (and no ramp). */
	dailyCap: number;
	/** YYYY-MM-DD, the first day of the ramp; empty or absent: an established mailbox, capped at dailyCap only. */
	warmupStart?: string;
	/** The cap on the ramp's first day (default DEFAULT_WARMUP_FIRST_DAY); at least 1. */
	warmupFirstDay?: number;
	/** Added to the cap each day after the first (default DEFAULT_WARMUP_DAILY_INCREASE). */
	warmupDailyIncrease?: number;
}

const DAY_MS = 86_400_000;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a YYYY-MM-DD calendar date; null when it is not one (2026-02-30 is not). */
export function calendarDayNumber(day: unknown): number | null {
	if (typeof day !== 'string') return null;
	const m = ISO_DAY.exec(day);
	if (!m) return null;
	const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
	const ms = Date.UTC(y, mo - 1, d);
	const back = new Date(ms);
	if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
	return ms / DAY_MS;
}

function wholeAtLeast(value: unknown, min: number, name: string): number {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
		throw new RangeError(`${name} must be a whole number ≥ ${min}, got ${JSON.stringify(value) ?? String(value)}`);
	return value;
}

/**
 * The cap of a mailbox on `day` (YYYY-MM-DD): the ramp from warmupStart (day 0 = its first day: warmupFirstDay,
 * then + warmupDailyIncrease a day; a day before warmupStart gets the first day's cap), never above dailyCap;
 * 0 = no cap. Throws a RangeError naming the field when a limit or the day is malformed.
 */
export function mailboxCapOn(limits: MailboxLimits, day: string): number {
	if (!limits || typeof limits !== 'object') throw new RangeError('mailbox limits must be an object');
	const dailyCap = wholeAtLeast(limits.dailyCap, 0, 'dailyCap');
	if (dailyCap === 0) return 0;
	const start = limits.warmupStart;
	if (start === undefined || start === null || start === '') return dailyCap;
	const startDay = calendarDayNumber(start);
	if (startDay === null) throw new RangeError(`warmupStart must be a date as YYYY-MM-DD, got ${JSON.stringify(start)}`);
	const today = calendarDayNumber(day);
	if (today === null) throw new RangeError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(day)}`);
	const first = wholeAtLeast(limits.warmupFirstDay ?? DEFAULT_WARMUP_FIRST_DAY, 1, 'warmupFirstDay');
	const increase = wholeAtLeast(limits.warmupDailyIncrease ?? DEFAULT_WARMUP_DAILY_INCREASE, 0, 'warmupDailyIncrease');
	const index = Math.max(0, today - startDay);
	return Math.min(dailyCap, first + increase * index);
}

function readWhole(raw: Record<string, unknown>, key: string, min: number, fallback: number | undefined): number | undefined {
	const value = raw[key];
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return fallback;
	const n = typeof value === 'string' ? Number(value.trim()) : value;
	if (typeof n !== 'number' || !Number.isInteger(n) || n < min)
		throw new RangeError(`"${key}" must be a whole number ≥ ${min}, got ${JSON.stringify(value) ?? String(value)}`);
	return n;
}

/**
 * Mailbox limits from user input (a parameter, a table row, JSON): whole numbers (numeric strings accepted), dailyCap
 * ≥ 0 (default DEFAULT_MAILBOX_DAILY_CAP, 0: no cap), warmupFirstDay ≥ 1, warmupDailyIncrease ≥ 0, warmupStart a
 * date as YYYY-MM-DD (the date part of an ISO date-time or of a Date is taken; empty: an established mailbox).
 * Throws a RangeError that names the field and the value.
 */
export function parseMailboxLimits(raw: unknown): MailboxLimits {
	if (raw === undefined || raw === null) return { dailyCap: DEFAULT_MAILBOX_DAILY_CAP };
	if (typeof raw !== 'object' || Array.isArray(raw))
		throw new RangeError(`mailbox limits must be an object, got ${JSON.stringify(raw) ?? typeof raw}`);
	const r = raw as Record<string, unknown>;
	const out: MailboxLimits = { dailyCap: readWhole(r, 'dailyCap', 0, DEFAULT_MAILBOX_DAILY_CAP) as number };
	const first = readWhole(r, 'warmupFirstDay', 1, undefined);
	if (first !== undefined) out.warmupFirstDay = first;
	const increase = readWhole(r, 'warmupDailyIncrease', 0, undefined);
	if (increase !== undefined) out.warmupDailyIncrease = increase;
	const start = r.warmupStart;
	if (start instanceof Date) {
		if (Number.isNaN(start.getTime())) throw new RangeError('"warmupStart" is an invalid date');
		out.warmupStart = start.toISOString().slice(0, 10);
	} else if (typeof start === 'string' && start.trim() !== '') {
		const text = start.trim();
		const day = /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(text) ? text.slice(0, 10) : text;
		if (calendarDayNumber(day) === null) throw new RangeError(`"warmupStart" must be a date as YYYY-MM-DD, got ${JSON.stringify(start)}`);
		out.warmupStart = day;
	} else if (start !== undefined && start !== null && start !== '') {
		throw new RangeError(`"warmupStart" must be a date as YYYY-MM-DD, got ${JSON.stringify(start) ?? typeof start}`);
	}
	return out;
}
