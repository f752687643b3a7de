import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assignBatches, planBatchAssignment } from '../../core/assign';
import { companyOf } from '../../core/company';

const domain = (name: string, n: number) => Array.from({ length: n }, (_, i) => `user${i + 1}@${name}`);
const countByBatch = (list: ReadonlyArray<{ batch: number }>) => {
	const counts: Record<number, number> = {};
	for (const r of list) counts[r.batch] = (counts[r.batch] ?? 0) + 1;
	return counts;
};

describe('assignBatches', () => {
	it('worked example: on 5 July, 58 addresses of one domain fill Marketing05..09 with 10 and Marketing10 with 8', () => {
		const result = assignBatches(domain('acme.com', 58), { date: '2026-07-05' });
		const counts: Record<number, number> = {};
		for (const r of result) counts[r.batch] = (counts[r.batch] ?? 0) + 1;
		expect(counts).toEqual({ 5: 10, 6: 10, 7: 10, 8: 10, 9: 10, 10: 8 });
		expect(result.slice(0, 10).every((r) => r.batch === 5)).toBe(true);
		expect(result[57]).toEqual({ email: 'user58@acme.com', batch: 10 });
	});

	it('each company starts at the day, companies grouped in order of first appearance', () => {
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

	it('counts existing contacts of the company towards the cap of their batch', () => {
		const existing = [...domain('acme.com', 7).map((email) => ({ email, batch: 5 })), { email: 'z@acme.com', tags: ['English-Dealers-Marketing06'] }];
		const r = assignBatches(['n1@acme.com', 'n2@acme.com', 'n3@acme.com', 'n4@acme.com'], { date: '2026-07-05', existing, perDomainCap: 8 });
		expect(r.map((x) => x.batch)).toEqual([5, 6, 6, 6]);
	});

	it('spreads a company larger than 30 × cap evenly instead of refusing it', () => {
		const plan = planBatchAssignment(domain('huge.com', 65), { date: '2026-07-01', perDomainCap: 2 });
		expect(plan.assigned).toHaveLength(65);
		const counts = new Array(31).fill(0);
		for (const a of plan.assigned) counts[a.batch]++;
		expect(Math.max(...counts.slice(1)) - Math.min(...counts.slice(1))).toBeLessThanOrEqual(1);
		expect(plan.assigned.filter((a) => a.overCap)).toHaveLength(5);
	});

	it('subdomains of one company share the cap; x.github.io and y.github.io are two companies', () => {
		const hosts = ['a.example.co.uk', 'b.example.co.uk', 'example.co.uk', 'mail.a.example.co.uk'];
		const r = assignBatches(
			Array.from({ length: 24 }, (_, i) => `u${i}@${hosts[i % 4]}`),
			{ date: '2026-07-05' },
		);
		expect(countByBatch(r)).toEqual({ 5: 10, 6: 10, 7: 4 });
		const pages = assignBatches([...domain('x.github.io', 10), ...domain('y.github.io', 10)], { date: '2026-07-05' });
		expect(countByBatch(pages)).toEqual({ 5: 20 });
	});

	it('a second import the same day, given the first import as existing contacts, keeps every batch at 10 per company', () => {
		const first = assignBatches(domain('acme.com', 58), { date: '2026-07-05' });
		expect(countByBatch(first)).toEqual({ 5: 10, 6: 10, 7: 10, 8: 10, 9: 10, 10: 8 });
		// the contacts as the store holds them: their batch in a tag
		const existing = first.map(({ email, batch }) => ({ email, tags: [`English-Dealers-Marketing${String(batch).padStart(2, '0')}`] }));
		const more = Array.from({ length: 15 }, (_, i) => `late${i}@${i % 2 ? 'sales.acme.com' : 'acme.com'}`);
		const second = planBatchAssignment([...more, first[0].email], { date: '2026-07-05', existing });
		expect(second.skipped.map((s) => s.reason)).toEqual(['existing']);
		expect(countByBatch(second.assigned)).toEqual({ 10: 2, 11: 10, 12: 3 });
		const all = countByBatch([...first, ...second.assigned]);
		expect(Math.max(...Object.values(all))).toBe(10);
	});

	it('counts existing contacts of a sibling host towards the company cap', () => {
		const existing = domain('eu.acme.com', 9).map((email) => ({ email, batch: 5 }));
		const r = assignBatches(['n1@us.acme.com', 'n2@acme.com', 'n3@other.com'], { date: '2026-07-05', existing });
		expect(r).toEqual([
			{ email: 'n1@us.acme.com', batch: 5 },
			{ email: 'n2@acme.com', batch: 6 },
			{ email: 'n3@other.com', batch: 5 },
		]);
	});

	it('property: after any imports of one day, no batch holds more than the cap of a company until all 30 are full', () => {
		const host = fc.constantFrom('acme.com', 'eu.acme.com', 'a.example.co.uk', 'b.example.co.uk', 'x.github.io', 'y.github.io');
		fc.assert(
			fc.property(fc.array(fc.array(host, { maxLength: 40 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 5 }), (imports, cap) => {
				const existing: Array<{ email: string; batch: number }> = [];
				imports.forEach((hosts, k) => {
					const r = assignBatches(
						hosts.map((h, i) => `i${k}u${i}@${h}`),
						{ date: '2026-07-05', existing, perDomainCap: cap },
					);
					existing.push(...r);
				});
				const counts = new Map<string, number>();
				const totals = new Map<string, number>();
				for (const { email, batch } of existing) {
					const key = `${companyOf(email)} ${batch}`;
					counts.set(key, (counts.get(key) ?? 0) + 1);
					totals.set(companyOf(email), (totals.get(companyOf(email)) ?? 0) + 1);
				}
				// a company larger than 30 × cap is spread evenly instead
				for (const [key, n] of counts) expect(n).toBeLessThanOrEqual(Math.max(cap, Math.ceil(totals.get(key.split(' ')[0])! / 30)));
			}),
			{ numRuns: 100 },
		);
	});

	it('rejects a bad cap or date', () => {
		expect(() => assignBatches(['a@b.com'], { date: '2026-07-05', perDomainCap: 0 })).toThrow(/perDomainCap/);
		expect(() => assignBatches(['a@b.com'], { date: 'soon' })).toThrow(/valid date/);
	});
});
