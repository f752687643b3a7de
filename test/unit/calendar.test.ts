import { describe, expect, it } from 'vitest';
import { dueBatches, readBatchFor, toZonedDateTime } from '../../core/calendar';

/** Every calendar day of a year as YYYY-MM-DD with its day and month length, computed with plain UTC arithmetic. */
function daysOfYear(year: number): Array<{ iso: string; day: number; month: number; dim: number }> {
	const out = [];
	for (let t = Date.UTC(year, 0, 1); new Date(t).getUTCFullYear() === year; t += 86_400_000) {
		const d = new Date(t);
		const dim = new Date(Date.UTC(year, d.getUTCMonth() + 1, 0)).getUTCDate();
		out.push({ iso: d.toISOString().slice(0, 10), day: d.getUTCDate(), month: d.getUTCMonth() + 1, dim });
	}
	return out;
}

const YEARS = [2023, 2024, 2025, 2026, 2027, 2028, 2100];

describe('dueBatches over whole years', () => {
	for (const year of YEARS) {
		it(`${year}: catch-up gives every marketing batch exactly once a month and nothing on the 31st`, () => {
			const byMonth = new Map<number, number[]>();
			for (const { iso, day, month, dim } of daysOfYear(year)) {
				const silent = dueBatches(iso, { cadence: 'silent' });
				if (day === 31) expect(silent, iso).toEqual([]);
				else if (day === dim && dim < 30) expect(silent, iso).toEqual(Array.from({ length: 31 - day }, (_, k) => day + k));
				else expect(silent, iso).toEqual([day]);
				byMonth.set(month, [...(byMonth.get(month) ?? []), ...silent]);
			}
			for (const [month, list] of byMonth)
				expect(
					list.sort((a, b) => a - b),
					`month ${month}`,
				).toEqual(Array.from({ length: 30 }, (_, k) => k + 1));
		});

		it(`${year}: read cadence is ((d-1) mod 10)+1, each read batch three times a month`, () => {
			const byMonth = new Map<number, number[]>();
			for (const { iso, day, month, dim } of daysOfYear(year)) {
				const read = dueBatches(iso, { cadence: 'read' });
				if (day === 31) expect(read, iso).toEqual([]);
				else if (day === dim && dim < 30) expect(read).toEqual(Array.from({ length: 31 - day }, (_, k) => ((day + k - 1) % 10) + 1));
				else expect(read, iso).toEqual([((day - 1) % 10) + 1]);
				byMonth.set(month, [...(byMonth.get(month) ?? []), ...read]);
			}
			for (const [month, list] of byMonth) {
				const counts = Array.from({ length: 10 }, (_, k) => list.filter((b) => b === k + 1).length);
				expect(counts, `month ${month}`).toEqual(new Array(10).fill(3));
			}
		});

		it(`${year}: strict matches the day literally and skips 29/30 in short months`, () => {
			for (const { iso, day } of daysOfYear(year)) {
				expect(dueBatches(iso, { cadence: 'silent', shortMonth: 'strict' }), iso).toEqual(day <= 30 ? [day] : []);
				expect(dueBatches(iso, { cadence: 'read', shortMonth: 'strict' }), iso).toEqual(day <= 30 ? [((day - 1) % 10) + 1] : []);
			}
		});
	}

	it('worked examples from the spec', () => {
		expect(dueBatches('2026-07-09', { cadence: 'silent' })).toEqual([9]);
		expect(dueBatches('2026-07-01', { cadence: 'read' })).toEqual([1]);
		expect(dueBatches('2026-07-11', { cadence: 'read' })).toEqual([1]);
		expect(dueBatches('2026-07-21', { cadence: 'read' })).toEqual([1]);
		expect(dueBatches('2026-07-30', { cadence: 'read' })).toEqual([10]);
		expect(dueBatches('2026-02-28', { cadence: 'silent' })).toEqual([28, 29, 30]);
		expect(dueBatches('2026-02-28', { cadence: 'read' })).toEqual([8, 9, 10]);
		expect(dueBatches('2024-02-28', { cadence: 'silent' })).toEqual([28]); // leap year: the 29th comes
		expect(dueBatches('2024-02-29', { cadence: 'silent' })).toEqual([29, 30]);
		expect(dueBatches('2026-02-28', { cadence: 'silent', shortMonth: 'strict' })).toEqual([28]);
		expect(dueBatches('2026-01-31', { cadence: 'silent' })).toEqual([]);
		expect(dueBatches('2026-01-31', { cadence: 'read' })).toEqual([]);
	});
});

describe('time zones', () => {
	it('an instant is converted to the zone; a local time is taken in the zone', () => {
		// 23:30 on the 9th in Los Angeles is already the 10th in UTC and in Tokyo
		const instant = '2026-03-09T23:30:00-07:00';
		expect(dueBatches(instant, { cadence: 'silent', timeZone: 'America/Los_Angeles' })).toEqual([9]);
		expect(dueBatches(instant, { cadence: 'silent', timeZone: 'UTC' })).toEqual([10]);
		expect(dueBatches(instant, { cadence: 'silent', timeZone: 'Asia/Tokyo' })).toEqual([10]);
		expect(dueBatches(new Date('2026-03-09T23:30:00Z'), { cadence: 'silent', timeZone: 'Asia/Shanghai' })).toEqual([10]);
		expect(dueBatches(Date.UTC(2026, 2, 9, 15, 59), { cadence: 'silent', timeZone: 'Asia/Shanghai' })).toEqual([9]);
		expect(dueBatches(Date.UTC(2026, 2, 9, 16, 0), { cadence: 'silent', timeZone: 'Asia/Shanghai' })).toEqual([10]);
		// no offset: a local date-time in the zone, whatever the zone
		expect(dueBatches('2026-03-09T23:59:59', { cadence: 'silent', timeZone: 'Pacific/Kiritimati' })).toEqual([9]);
		expect(dueBatches('2026-03-09', { cadence: 'silent', timeZone: 'Pacific/Pago_Pago' })).toEqual([9]);
	});

	it('days stay whole across DST changes far from UTC', () => {
		// Auckland leaves DST on 2026-04-05 (03:00 → 02:00) and enters it on 2026-09-27; Lord Howe shifts by 30 min
		for (const zone of ['Pacific/Auckland', 'Australia/Lord_Howe', 'America/Santiago', 'America/St_Johns']) {
			for (let h = 0; h < 72; h++) {
				const t = Date.UTC(2026, 3, 3, 12) + h * 3_600_000;
				const local = toZonedDateTime(t, zone);
				expect(dueBatches(t, { cadence: 'silent', timeZone: zone }), `${zone} +${h}h`).toEqual([local.day]);
			}
		}
		// The instant 2026-04-04T13:30Z is 02:30 on the 5th in Auckland (after the fall-back hour), still the 5th
		expect(dueBatches('2026-04-04T13:30:00Z', { cadence: 'silent', timeZone: 'Pacific/Auckland' })).toEqual([5]);
		// A non-existent local time (spring-forward gap) still falls on its day
		expect(dueBatches('2026-03-08T02:30:00', { cadence: 'silent', timeZone: 'America/New_York' })).toEqual([8]);
	});

	it('catch-up at the end of February follows the zone, not UTC', () => {
		// 2026-02-28T20:00Z is already 1 March in Shanghai: batch 1, not the February catch-up
		expect(dueBatches('2026-02-28T20:00:00Z', { cadence: 'silent', timeZone: 'Asia/Shanghai' })).toEqual([1]);
		expect(dueBatches('2026-03-01T02:00:00Z', { cadence: 'silent', timeZone: 'America/Chicago' })).toEqual([28, 29, 30]);
	});
});

describe('bad input', () => {
	it('rejects invalid dates, zones and options with a clear message', () => {
		expect(() => dueBatches('2026-02-30', { cadence: 'silent' })).toThrow(/not a valid date/);
		expect(() => dueBatches('yesterday', { cadence: 'silent' })).toThrow(/not a valid date/);
		expect(() => dueBatches('2026-02-01', { cadence: 'silent', timeZone: 'Mars/Olympus' })).toThrow(/time zone/);
		expect(() => dueBatches(new Date(NaN), { cadence: 'silent' })).toThrow(/not a valid date/);
		expect(() => dueBatches('2026-02-01', { cadence: 'weekly' as never })).toThrow(/cadence/);
		expect(() => dueBatches('2026-02-01', { cadence: 'silent', shortMonth: 'skip' as never })).toThrow(/shortMonth/);
		expect(() => dueBatches(null as never, { cadence: 'silent' })).toThrow(/expected a date/);
	});
});

describe('readBatchFor', () => {
	it('maps marketing 01, 11, 21 to read 01 and 10, 20, 30 to read 10', () => {
		for (let nn = 1; nn <= 30; nn++) expect(readBatchFor(nn)).toBe(((nn - 1) % 10) + 1);
		expect([1, 11, 21].map(readBatchFor)).toEqual([1, 1, 1]);
		expect([10, 20, 30].map(readBatchFor)).toEqual([10, 10, 10]);
		expect(() => readBatchFor(0)).toThrow(RangeError);
		expect(() => readBatchFor(31)).toThrow(RangeError);
		expect(() => readBatchFor(2.5)).toThrow(RangeError);
	});
});
