/**
 * Calendar keys (`day`, `week`, `month`) of event instants in a time zone, without parsing a Date per event.
 *
 * Every time zone in use today has an offset that is a whole number of quarter hours and changes it on a quarter
 * hour, so all instants of one UTC quarter hour fall on the same local day. The key is computed once per quarter
 * hour (with luxon) and cached; the instant itself is read straight from the ISO string's digits.
 */
import { DateTime } from 'luxon';

export type MetricsTimeUnit = 'day' | 'week' | 'month';

const QUARTER_MS = 15 * 60_000;

function digit(s: string, i: number): number {
	const c = s.charCodeAt(i) - 48;
	return c >= 0 && c <= 9 ? c : -1000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
	y -= m <= 2 ? 1 : 0;
	const era = Math.floor(y / 400);
	const yoe = y - era * 400;
	const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
	const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
	return era * 146097 + doe - 719468;
}

/**
 * Epoch minutes of `YYYY-MM-DDTHH:MM[:SS[.fff…]](Z|±HH:MM|±HHMM)`, or NaN when the string has another shape
 * (then the caller falls back to a full parser). Seconds never move an instant across a quarter hour boundary
 * that the minutes do not, so they are validated but not used.
 */
export function isoEpochMinutes(s: string): number {
	const n = s.length;
	if (n < 17) return NaN;
	const y = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
	const mo = digit(s, 5) * 10 + digit(s, 6);
	const d = digit(s, 8) * 10 + digit(s, 9);
	const h = digit(s, 11) * 10 + digit(s, 12);
	const mi = digit(s, 14) * 10 + digit(s, 15);
	const t = s.charCodeAt(10);
	if (
		y < 0 ||
		mo < 1 ||
		mo > 12 ||
		d < 1 ||
		d > 31 ||
		h < 0 ||
		h > 23 ||
		mi < 0 ||
		mi > 59 ||
		s.charCodeAt(4) !== 45 ||
		s.charCodeAt(7) !== 45 ||
		(t !== 84 && t !== 32 && t !== 116) ||
		s.charCodeAt(13) !== 58
	)
		return NaN;
	// the offset
	let end: number;
	let offset: number;
	const last = s.charCodeAt(n - 1);
	if (last === 90 || last === 122) {
		end = n - 1;
		offset = 0;
	} else {
		let signAt: number;
		let oh: number;
		let om: number;
		if (s.charCodeAt(n - 3) === 58) {
			signAt = n - 6;
			oh = digit(s, n - 5) * 10 + digit(s, n - 4);
			om = digit(s, n - 2) * 10 + digit(s, n - 1);
		} else {
			signAt = n - 5;
			oh = digit(s, n - 4) * 10 + digit(s, n - 3);
			om = digit(s, n - 2) * 10 + digit(s, n - 1);
		}
		const sign = s.charCodeAt(signAt);
		if ((sign !== 43 && sign !== 45) || signAt < 16 || oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
		end = signAt;
		offset = (sign === 45 ? -1 : 1) * (oh * 60 + om);
	}
	// what lies between the minutes and the offset: nothing, or :SS, or :SS.fraction
	if (end !== 16) {
		if (end < 19 || s.charCodeAt(16) !== 58 || digit(s, 17) < 0 || digit(s, 18) < 0) return NaN;
		if (end > 19) {
			if (s.charCodeAt(19) !== 46 || end === 20) return NaN;
			for (let i = 20; i < end; i++) if (digit(s, i) < 0) return NaN;
		}
	}
	// reject 31 April, 30 February and the like, as Date parsers do
	if (d > 28 && d > (mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : DAYS_IN_MONTH[mo])) return NaN;
	return (daysFromCivil(y, mo, d) * 24 + h) * 60 + mi - offset;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function pad2(n: number): string {
	return n < 10 ? `0${n}` : String(n);
}

/**
 * Turns event times into calendar keys in one time zone. Keeps a cache per quarter hour and the last key used
 * (event streams are mostly in time order), so create one per computation.
 */
export class MetricsCalendar {
	readonly timeZone: string;
	private readonly cache = new Map<number, string>();
	private lastQuarter = NaN;
	private lastKey = '';

	constructor(
		readonly unit: MetricsTimeUnit,
		timeZone = 'UTC',
	) {
		const probe = DateTime.fromMillis(0, { zone: timeZone });
		if (!probe.isValid) throw new RangeError(`unknown time zone "${timeZone}"`);
		this.timeZone = timeZone;
	}

	/** The key of an event time (ISO string, Date or epoch milliseconds), or null when it is not a valid time. */
	key(at: unknown): string | null {
		let quarter: number;
		if (typeof at === 'string') {
			const minutes = isoEpochMinutes(at);
			quarter = minutes === minutes ? Math.floor(minutes / 15) : this.slowQuarter(at);
		} else if (at instanceof Date) quarter = Math.floor(at.getTime() / QUARTER_MS);
		else if (typeof at === 'number' && Number.isFinite(at)) quarter = Math.floor(at / QUARTER_MS);
		else return null;
		if (quarter !== quarter) return null;
		if (quarter === this.lastQuarter) return this.lastKey;
		let key = this.cache.get(quarter);
		if (key === undefined) {
			key = this.format(quarter);
			this.cache.set(quarter, key);
		}
		this.lastQuarter = quarter;
		this.lastKey = key;
		return key;
	}

	/** ISO strings of other shapes: without an offset they are wall-clock times in the time zone. */
	private slowQuarter(at: string): number {
		const s = at.trim();
		const hasOffset = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/.test(s) && /[T ]\d/.test(s);
		const dt = hasOffset ? DateTime.fromISO(s.replace(' ', 'T')) : DateTime.fromISO(s.replace(' ', 'T'), { zone: this.timeZone });
		return dt.isValid ? Math.floor(dt.toMillis() / QUARTER_MS) : NaN;
	}

	private format(quarter: number): string {
		const dt = DateTime.fromMillis(quarter * QUARTER_MS, { zone: this.timeZone });
		if (this.unit === 'day') return `${dt.year}-${pad2(dt.month)}-${pad2(dt.day)}`;
		if (this.unit === 'month') return `${dt.year}-${pad2(dt.month)}`;
		return `${dt.weekYear}-W${pad2(dt.weekNumber)}`;
	}
}
