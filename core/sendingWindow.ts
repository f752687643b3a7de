/**
 * The sending window: mail goes out only between a start and an end time on chosen weekdays, on the wall clock of
 * the contact's time zone (IANA name) when one is known, else the workflow's. Wall-clock rules make it correct
 * across daylight-saving switches: 09:00 is 09:00 local on the day the clocks move too. Pure: the instant is given.
 */
import { DateTime, IANAZone } from 'luxon';

/** Whether Send holds mail back outside the window when the option is not set. */
export const DEFAULT_SENDING_WINDOW_ENABLED = false;
/** Local time the window opens (HH:MM, 24-hour). */
export const DEFAULT_WINDOW_START = '09:00';
/** Local time the window closes (HH:MM; the minute itself is outside; 24:00 is the end of the day). */
export const DEFAULT_WINDOW_END = '17:00';
/** Weekdays the window is open on. */
export const DEFAULT_WINDOW_DAYS: readonly WindowDay[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
/** The item field that holds the contact's IANA time zone. */
export const DEFAULT_TIME_ZONE_FIELD = 'timezone';
/** Longest time zone value read from an item; longer ones are not a zone. */
export const TIME_ZONE_MAX_LENGTH = 64;
/** Zone used when neither the item nor the workflow names a valid one. */
export const FALLBACK_TIME_ZONE = 'UTC';

export const WINDOW_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WindowDay = (typeof WINDOW_DAYS)[number];

export interface SendingWindow {
	/** Minutes after local midnight: open from `start` (included) to `end` (excluded). */
	start: number;
	end: number;
	/** ISO weekdays (1 = Monday … 7 = Sunday) the window is open on. */
	days: ReadonlySet<number>;
}

/** Thrown for window settings that cannot make a window, naming what is wrong. */
export class SendingWindowError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'SendingWindowError';
	}
}

/** `HH:MM` (or `H:MM`) as minutes after midnight, 00:00–24:00; undefined for anything else. */
export function parseClockTime(value: unknown): number | undefined {
	if (typeof value !== 'string') return undefined;
	const m = /^\s*(\d{1,2}):(\d{2})\s*$/.exec(value);
	if (!m) return undefined;
	const hours = Number(m[1]);
	const minutes = Number(m[2]);
	if (hours > 24 || minutes > 59 || (hours === 24 && minutes > 0)) return undefined;
	return hours * 60 + minutes;
}

/**
 * The window from its settings; a missing setting takes its default. Throws SendingWindowError for a time that
 * is not HH:MM, an end not after the start, an unknown day, or no day at all.
 */
export function parseSendingWindow(settings: { start?: unknown; end?: unknown; days?: unknown }): SendingWindow {
	const time = (value: unknown, fallback: string, what: string) => {
		if (value === undefined || value === null || value === '') return parseClockTime(fallback)!;
		const minutes = parseClockTime(value);
		if (minutes === undefined) {
			throw new SendingWindowError(`Sending Window: the ${what} time "${String(value).slice(0, 40)}" is not a time of day as HH:MM (00:00 to 24:00)`);
		}
		return minutes;
	};
	const start = time(settings.start, DEFAULT_WINDOW_START, 'start');
	const end = time(settings.end, DEFAULT_WINDOW_END, 'end');
	if (end <= start) {
		throw new SendingWindowError(`Sending Window: the end time (${clock(end)}) must be after the start time (${clock(start)}) on the same day`);
	}
	const given = settings.days === undefined || settings.days === null ? DEFAULT_WINDOW_DAYS : settings.days;
	const list = typeof given === 'string' ? given.split(',') : Array.isArray(given) ? given : [given];
	const days = new Set<number>();
	for (const d of list) {
		const name = String(d).trim().toLowerCase().slice(0, 3);
		const index = (WINDOW_DAYS as readonly string[]).indexOf(name);
		if (index < 0) throw new SendingWindowError(`Sending Window: "${String(d).slice(0, 40)}" is not a weekday (use ${WINDOW_DAYS.join(', ')})`);
		days.add(index + 1);
	}
	if (days.size === 0) throw new SendingWindowError('Sending Window: choose at least one day');
	return { start, end, days };
}

/** Minutes after midnight as HH:MM. */
export function clock(minutes: number): string {
	return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** A short description of the window, e.g. `09:00-17:00 mon,tue,wed,thu,fri`. */
export function describeWindow(window: SendingWindow): string {
	const days = [...window.days].sort((a, b) => a - b).map((d) => WINDOW_DAYS[d - 1]);
	return `${clock(window.start)}-${clock(window.end)} ${days.join(',')}`;
}

/** Whether `value` is an IANA time zone name this runtime knows (bounded: long values are refused unread). */
export function isTimeZone(value: unknown): value is string {
	return typeof value === 'string' && value.length > 0 && value.length <= TIME_ZONE_MAX_LENGTH && IANAZone.isValidZone(value);
}

export interface ResolvedTimeZone {
	/** The zone the window is read in. */
	zone: string;
	/** Where it came from: the item's field, or the workflow (no value, or one that is not a zone). */
	source: 'item' | 'workflow';
	/** The item's value when it was given but is not a time zone (cut to TIME_ZONE_MAX_LENGTH). */
	invalid?: string;
}

/**
 * The zone for an item: its own value when that is a time zone, else the workflow's (else FALLBACK_TIME_ZONE).
 * Never throws: an invalid value is reported in `invalid`, not an error.
 */
export function resolveTimeZone(value: unknown, workflowZone: string): ResolvedTimeZone {
	const fallback = isTimeZone(workflowZone) ? workflowZone : FALLBACK_TIME_ZONE;
	if (value === undefined || value === null) return { zone: fallback, source: 'workflow' };
	const text = typeof value === 'string' ? value.trim() : '';
	if (text !== '' && isTimeZone(text)) return { zone: text, source: 'item' };
	if (typeof value === 'string' && text === '') return { zone: fallback, source: 'workflow' };
	const shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
	return { zone: fallback, source: 'workflow', invalid: String(shown).slice(0, TIME_ZONE_MAX_LENGTH) };
}

export type WindowStatus = { inside: true } | { inside: false; /** ISO 8601 with the zone's offset. */ opensAt: string };

/**
 * Whether the instant `at` (epoch ms) is inside the window in `zone` (a valid IANA zone), and if not, when the
 * window opens next, as local ISO time of that zone. A start time that does not exist that day (a spring-forward
 * gap) opens at the first minute after the gap.
 */
export function windowStatus(window: SendingWindow, at: number, zone: string): WindowStatus {
	const local = DateTime.fromMillis(at, { zone });
	if (!local.isValid) throw new SendingWindowError(`Sending Window: "${zone}" is not a time zone`);
	const minutes = local.hour * 60 + local.minute;
	if (window.days.has(local.weekday) && minutes >= window.start && minutes < window.end) return { inside: true };
	// The window opens today (before the start) or on the first open day after: within the next seven days.
	for (let ahead = 0; ahead <= 7; ahead++) {
		const day = local.startOf('day').plus({ days: ahead });
		if (!window.days.has(day.weekday)) continue;
		if (ahead === 0 && minutes >= window.start) continue;
		const opens = DateTime.fromObject(
			{ year: day.year, month: day.month, day: day.day, hour: Math.floor(window.start / 60), minute: window.start % 60 },
			{ zone },
		);
		if (opens.toMillis() <= at) continue;
		return { inside: false, opensAt: opens.toISO({ suppressMilliseconds: true })! };
	}
	// Unreachable for a window with at least one day: every weekday comes round within seven days.
	throw new SendingWindowError('Sending Window: the window never opens');
}
