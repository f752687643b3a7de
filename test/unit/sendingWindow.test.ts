/**
 * The sending window: wall-clock business hours in the contact's zone, east and west of UTC, weekends, the days
 * the clocks change, and zones that are not zones.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
	DEFAULT_SENDING_WINDOW_ENABLED,
	DEFAULT_TIME_ZONE_FIELD,
	DEFAULT_WINDOW_DAYS,
	DEFAULT_WINDOW_END,
	DEFAULT_WINDOW_START,
	describeWindow,
	FALLBACK_TIME_ZONE,
	parseClockTime,
	parseSendingWindow,
	resolveTimeZone,
	SendingWindowError,
	TIME_ZONE_MAX_LENGTH,
	windowStatus,
} from '../../core/sendingWindow';

const business = parseSendingWindow({});
const at = (iso: string) => Date.parse(iso);

describe('parseSendingWindow', () => {
	it('defaults to 09:00-17:00 Monday to Friday, off', () => {
		expect(describeWindow(business)).toBe('09:00-17:00 mon,tue,wed,thu,fri');
		expect([DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, DEFAULT_WINDOW_DAYS.join()]).toEqual(['09:00', '17:00', 'mon,tue,wed,thu,fri']);
		expect(DEFAULT_SENDING_WINDOW_ENABLED).toBe(false);
		expect(DEFAULT_TIME_ZONE_FIELD).toBe('timezone');
	});

	it('reads times, day names and day lists', () => {
		expect(describeWindow(parseSendingWindow({ start: '8:30', end: '24:00', days: ['sat', 'Sunday'] }))).toBe('08:30-24:00 sat,sun');
		expect(describeWindow(parseSendingWindow({ days: 'mon, wed' }))).toBe('09:00-17:00 mon,wed');
		expect(parseClockTime('23:59')).toBe(1439);
		for (const bad of ['24:01', '9', '09:60', '9am', '', ' : ', 9]) expect(parseClockTime(bad)).toBeUndefined();
	});

	it('refuses what is not a window, naming it', () => {
		expect(() => parseSendingWindow({ start: '9am' })).toThrow(/start time "9am" is not a time of day as HH:MM/);
		expect(() => parseSendingWindow({ start: '17:00', end: '09:00' })).toThrow(/end time \(09:00\) must be after the start time \(17:00\)/);
		expect(() => parseSendingWindow({ start: '10:00', end: '10:00' })).toThrow(SendingWindowError);
		expect(() => parseSendingWindow({ days: ['mon', 'funday'] })).toThrow(/"funday" is not a weekday/);
		expect(() => parseSendingWindow({ days: [] })).toThrow(/at least one day/);
	});
});

describe('resolveTimeZone', () => {
	it('the item’s zone when it is one; else the workflow’s, saying why', () => {
		expect(resolveTimeZone('Asia/Shanghai', 'Europe/Berlin')).toEqual({ zone: 'Asia/Shanghai', source: 'item' });
		expect(resolveTimeZone(' America/New_York ', 'Europe/Berlin')).toEqual({ zone: 'America/New_York', source: 'item' });
		expect(resolveTimeZone(undefined, 'Europe/Berlin')).toEqual({ zone: 'Europe/Berlin', source: 'workflow' });
		expect(resolveTimeZone('', 'Europe/Berlin')).toEqual({ zone: 'Europe/Berlin', source: 'workflow' });
		expect(resolveTimeZone('Mars/Olympus', 'Europe/Berlin')).toEqual({ zone: 'Europe/Berlin', source: 'workflow', invalid: 'Mars/Olympus' });
		expect(resolveTimeZone('+03:00', 'Europe/Berlin').invalid).toBe('+03:00');
		expect(resolveTimeZone(42, 'Europe/Berlin')).toEqual({ zone: 'Europe/Berlin', source: 'workflow', invalid: '42' });
		expect(resolveTimeZone({ a: 1 }, 'Europe/Berlin').invalid).toBe('{"a":1}');
		expect(resolveTimeZone('x'.repeat(100_000), 'Europe/Berlin').invalid).toHaveLength(TIME_ZONE_MAX_LENGTH);
		expect(resolveTimeZone('Mars/Olympus', 'Not/AZone').zone).toBe(FALLBACK_TIME_ZONE);
	});

	it('never throws, whatever the value', () => {
		fc.assert(
			fc.property(fc.anything(), (value) => {
				const r = resolveTimeZone(value, 'Europe/Berlin');
				expect(typeof r.zone).toBe('string');
			}),
			{ numRuns: 200 },
		);
	});
});

describe('windowStatus', () => {
	// Wednesday 9 December 2026, 10:00 UTC.
	const wednesday = at('2026-12-09T10:00:00Z');

	it('east and west of UTC at the same instant', () => {
		expect(windowStatus(business, wednesday, 'Europe/Berlin')).toEqual({ inside: true }); // 11:00
		// Shanghai: 18:00, after the window: opens on Thursday morning.
		expect(windowStatus(business, wednesday, 'Asia/Shanghai')).toEqual({ inside: false, opensAt: '2026-12-10T09:00:00+08:00' });
		// Los Angeles: 02:00, before the window: opens the same day.
		expect(windowStatus(business, wednesday, 'America/Los_Angeles')).toEqual({ inside: false, opensAt: '2026-12-09T09:00:00-08:00' });
		// Kolkata: 15:30 (a half-hour offset).
		expect(windowStatus(business, wednesday, 'Asia/Kolkata')).toEqual({ inside: true });
	});

	it('the start minute is inside, the end minute is outside', () => {
		expect(windowStatus(business, at('2026-12-09T08:00:00Z'), 'Europe/Berlin')).toEqual({ inside: true });
		expect(windowStatus(business, at('2026-12-09T07:59:59Z'), 'Europe/Berlin')).toEqual({ inside: false, opensAt: '2026-12-09T09:00:00+01:00' });
		expect(windowStatus(business, at('2026-12-09T16:00:00Z'), 'Europe/Berlin')).toEqual({ inside: false, opensAt: '2026-12-10T09:00:00+01:00' });
	});

	it('weekends: Friday evening and Saturday wait for Monday; a weekend window opens on Saturday', () => {
		expect(windowStatus(business, at('2026-12-11T17:30:00Z'), 'Europe/Berlin')).toEqual({ inside: false, opensAt: '2026-12-14T09:00:00+01:00' });
		expect(windowStatus(business, at('2026-12-12T11:00:00Z'), 'Europe/Berlin')).toEqual({ inside: false, opensAt: '2026-12-14T09:00:00+01:00' });
		// Friday 23:00 UTC is already Saturday 07:00 in Shanghai.
		expect(windowStatus(business, at('2026-12-11T23:00:00Z'), 'Asia/Shanghai')).toEqual({ inside: false, opensAt: '2026-12-14T09:00:00+08:00' });
		const weekend = parseSendingWindow({ days: ['sat', 'sun'] });
		expect(windowStatus(weekend, at('2026-12-11T12:00:00Z'), 'Europe/Berlin')).toEqual({ inside: false, opensAt: '2026-12-12T09:00:00+01:00' });
		const monday = parseSendingWindow({ days: ['mon'] });
		// Monday 10:00 after the window: next Monday, seven days on.
		expect(windowStatus(monday, at('2026-12-14T17:00:00Z'), 'Europe/Berlin')).toEqual({ inside: false, opensAt: '2026-12-21T09:00:00+01:00' });
	});

	it('DST switch days follow the wall clock (Berlin: 29 March and 25 October 2026)', () => {
		// Spring forward: 09:00 CEST is 07:00 UTC.
		expect(windowStatus(business, at('2026-03-30T07:00:00Z'), 'Europe/Berlin')).toEqual({ inside: true });
		expect(windowStatus(business, at('2026-03-27T16:30:00Z'), 'Europe/Berlin')).toEqual({ inside: false, opensAt: '2026-03-30T09:00:00+02:00' });
		// Sunday of the switch, with a window open on Sundays from 02:30 (a time that does not exist that day).
		const night = parseSendingWindow({ start: '02:30', end: '05:00', days: ['sun'] });
		const gap = windowStatus(night, at('2026-03-29T00:30:00Z'), 'Europe/Berlin'); // 01:30 CET
		expect(gap.inside).toBe(false);
		expect(gap.inside === false && DateTime.fromISO(gap.opensAt).toUTC().toISO()).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
		expect(windowStatus(night, at('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toEqual({ inside: true }); // 03:00 CEST
		// Fall back: on 26 October 09:00 is CET again (08:00 UTC); 07:30 UTC is 08:30 local.
		expect(windowStatus(business, at('2026-10-26T07:30:00Z'), 'Europe/Berlin')).toEqual({ inside: false, opensAt: '2026-10-26T09:00:00+01:00' });
		expect(windowStatus(business, at('2026-10-23T07:30:00Z'), 'Europe/Berlin')).toEqual({ inside: true }); // 09:30 CEST
		// New York switches on other days (8 March 2026): the same UTC instant is inside there, 09:00 EDT.
		expect(windowStatus(business, at('2026-03-09T13:00:00Z'), 'America/New_York')).toEqual({ inside: true });
		// The Friday before, 13:00 UTC is 08:00 EST: outside; 09:00 EST is 14:00 UTC.
		expect(windowStatus(business, at('2026-03-06T13:00:00Z'), 'America/New_York')).toEqual({ inside: false, opensAt: '2026-03-06T09:00:00-05:00' });
		expect(windowStatus(business, at('2026-03-06T14:00:00Z'), 'America/New_York')).toEqual({ inside: true });
		expect(windowStatus(business, at('2026-03-09T12:59:00Z'), 'America/New_York')).toEqual({ inside: false, opensAt: '2026-03-09T09:00:00-04:00' });
	});

	it('the next opening is always later, on an open day, at the start time, and inside the window', () => {
		const zones = fc.constantFrom(
			'Europe/Berlin',
			'Asia/Shanghai',
			'America/Los_Angeles',
			'Australia/Lord_Howe',
			'Asia/Kathmandu',
			'UTC',
			'Pacific/Apia',
		);
		const windows = fc
			.tuple(
				fc.integer({ min: 0, max: 1438 }),
				fc.integer({ min: 1, max: 600 }),
				fc.subarray(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], { minLength: 1 }),
			)
			.map(([start, length, days]) => {
				const end = Math.min(1440, start + length);
				const t = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
				return parseSendingWindow({ start: t(start), end: t(end), days });
			});
		fc.assert(
			fc.property(windows, zones, fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 11, 31) }), (window, zone, instant) => {
				const status = windowStatus(window, instant, zone);
				if (status.inside) return;
				const opens = DateTime.fromISO(status.opensAt, { setZone: true });
				expect(opens.toMillis()).toBeGreaterThan(instant);
				expect(opens.toMillis() - instant).toBeLessThanOrEqual(8 * 86_400_000);
				expect(windowStatus(window, opens.toMillis(), zone)).toEqual({ inside: true });
				// Nothing earlier in between is inside: one minute before the opening is outside.
				expect(windowStatus(window, opens.toMillis() - 60_000, zone).inside).toBe(false);
			}),
			{ numRuns: 200 },
		);
	});
});
