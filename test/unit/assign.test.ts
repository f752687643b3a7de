import { describe, expect, it } from 'vitest';
import { assignBatches, planBatchAssignment } from '../../core/assign';

const domain = (name: string, n: number) => Array.from({ length: n }, (_, i) => `user${i + 1}@${name}`);

describe('assignBatches', () => {
	it('worked example: on 5 July, 58 addresses of one domain fill Marketing05..09 with 10 and Marketing10 with 8', () => {
		const result = assignBatches(domain('acme.com', 58), { date: '2026-07-05' });
		const counts: Record<number, number> = {};
		for (const r of result) counts[r.batch] = (counts[r.batch] ?? 0) + 1;
		expect(counts).toEqual({ 5: 10, 6: 10, 7: 10, 8: 10, 9: 10, 10: 8 });
		expect(result.slice(0, 10).every((r) => r.batch === 5)).toBe(true);
		expect(result[57]).toEqual({ email: 'user58@acme.com', batch: 10 });
	});

	it('each domain starts at the day, domains grouped in order of first appearance', () => {
		const emails = ['a1@x.com', 'b1@y.com', 'a2@x.com', 'B2@Y.com '];
		expect(assignBatches(emails, { date: '2026-07-05', perDomainCap: 1 })).toEqual([
			{ email: 'a1@x.com', batch: 5 },
			{ email: 'a2@x.com', batch: 6 },
			{ email: 'b1@y.com', batch: 5 },
			{ email: 'b2@y.com', batch: 6 },
		]);
	});

	it('wraps from 30 to 01, and day 31 goes to batch 01', () => {
		const r = assignBatches(domain('big.com', 25), { date: '2026-07-29' });
		expect(r.map((x) => x.batch)).toEqual([...new Array(10).fill(29), ...new Array(10).fill(30), ...new Array(5).fill(1)]);
		expect(assignBatches(['a@b.com'], { date: '2026-07-31' })).toEqual([{ email: 'a@b.com', batch: 1 }]);
	});

	it('uses the calendar day in the time zone', () => {
		expect(assignBatches(['a@b.com'], { date: '2026-07-05T20:00:00Z', timeZone: 'Asia/Shanghai' })[0].batch).toBe(6);
		expect(assignBatches(['a@b.com'], { date: '2026-07-05T20:00:00Z', timeZone: 'America/New_York' })[0].batch).toBe(5);
	});

	it('skips existing addresses case-insensitively after trimming, and duplicates and invalid ones with reasons', () => {
		const plan = planBatchAssignment([' Old@Acme.com', 'new@acme.com', 'new@ACME.com', 'not-an-address', '', 'a b@c.com'], {
			date: '2026-07-05',
			existing: ['old@acme.COM '],
		});
		expect(plan.assigned).toEqual([{ email: 'new@acme.com', batch: 5, index: 1 }]);
		expect(plan.skipped.map((s) => [s.index, s.reason])).toEqual([
			[0, 'existing'],
			[2, 'duplicate'],
			[3, 'invalid-address'],
			[4, 'invalid-address'],
			[5, 'invalid-address'],
		]);
		expect(plan.skipped[3].detail).toMatch(/empty/);
	});

	it('counts existing contacts of the domain towards the cap of their batch', () => {
		const existing = [...domain('acme.com', 7).map((email) => ({ email, batch: 5 })), { email: 'z@acme.com', tags: ['English-Dealers-Marketing06'] }];
		const r = assignBatches(['n1@acme.com', 'n2@acme.com', 'n3@acme.com', 'n4@acme.com'], { date: '2026-07-05', existing, perDomainCap: 8 });
		expect(r.map((x) => x.batch)).toEqual([5, 6, 6, 6]);
	});

	it('spreads a domain larger than 30 × cap evenly instead of refusing it', () => {
		const plan = planBatchAssignment(domain('huge.com', 65), { date: '2026-07-01', perDomainCap: 2 });
		expect(plan.assigned).toHaveLength(65);
		const counts = new Array(31).fill(0);
		for (const a of plan.assigned) counts[a.batch]++;
		expect(Math.max(...counts.slice(1)) - Math.min(...counts.slice(1))).toBeLessThanOrEqual(1);
		expect(plan.assigned.filter((a) => a.overCap)).toHaveLength(5);
	});

	it('rejects a bad cap or date', () => {
		expect(() => assignBatches(['a@b.com'], { date: '2026-07-05', perDomainCap: 0 })).toThrow(/perDomainCap/);
		expect(() => assignBatches(['a@b.com'], { date: 'soon' })).toThrow(/valid date/);
	});
});
