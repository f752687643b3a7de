import { describe, expect, it } from 'vitest';
import { compareVariants, metricsErf, metricsErfc, standardNormalCdf, twoProportionZTest } from '../../core/metrics';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('erf, erfc and the normal CDF', () => {
	it('match reference values to ~1e-14 relative, tails included', () => {
		const erf: Array<[number, number]> = [
			[0.5, 0.5204998778130465],
			[1, 0.8427007929497149],
			[2, 0.9953222650189527],
		];
		for (const [x, v] of erf) {
			expect(rel(metricsErf(x), v), `erf(${x})`).toBeLessThan(1e-14);
			expect(rel(metricsErf(-x), -v)).toBeLessThan(1e-14);
		}
		const erfc: Array<[number, number]> = [
			[3, 2.2090496998585438e-5],
			[4, 1.541725790028002e-8],
			[6, 2.1519736712498916e-17],
			[10, 2.088487583762545e-45],
		];
		for (const [x, v] of erfc) expect(rel(metricsErfc(x), v), `erfc(${x})`).toBeLessThan(1e-13);
		expect(metricsErfc(-3)).toBeCloseTo(2 - 2.2090496998585438e-5, 15);
		expect(metricsErf(0)).toBe(0);
		expect(rel(standardNormalCdf(1.959963984540054), 0.975)).toBeLessThan(1e-14);
		expect(rel(standardNormalCdf(-1), 0.15865525393145707)).toBeLessThan(1e-14);
	});
});

describe('twoProportionZTest', () => {
	it('computes the pooled z and a two-sided p-value (200/1000 vs 250/1000)', () => {
		const t = twoProportionZTest(200, 1000, 250, 1000);
		expect(t.pA).toBe(0.2);
		expect(t.pB).toBe(0.25);
		expect(t.difference).toBeCloseTo(0.05, 15);
		expect(t.pooled).toBe(0.225);
		expect(rel(t.z!, 2.6773977630083294)).toBeLessThan(1e-12);
		expect(rel(t.pValue!, 0.007419649261025679)).toBeLessThan(1e-10);
	});

	it('is undefined (null) without trials or without variance, and rejects impossible input', () => {
		expect(twoProportionZTest(0, 0, 1, 10)).toMatchObject({ pA: null, z: null, pValue: null });
		expect(twoProportionZTest(0, 10, 0, 10)).toMatchObject({ pooled: 0, z: null, pValue: null });
		expect(() => twoProportionZTest(11, 10, 1, 10)).toThrow(/cannot exceed/);
		expect(() => twoProportionZTest(-1, 10, 1, 10)).toThrow(/xA must be a non-negative/);
	});
});

/** `n` sent messages of one variant, the first `opened` of them opened by a person. */
function arm(variant: string, n: number, opened: number, campaign = 'C1') {
	const events: Record<string, unknown>[] = [];
	for (let i = 0; i < n; i++) {
		const token = `${campaign}-${variant}-${i}`;
		events.push({ id: `s-${token}`, type: 'sent', at: '2026-11-01T09:00:00Z', campaign, variant, token });
		if (i < opened) events.push({ id: `o-${token}`, type: 'opened', at: '2026-11-01T10:00:00Z', campaign, variant, token, class: 'human' });
	}
	return events;
}

describe('compareVariants', () => {
	const events = [...arm('A', 200, 40), ...arm('B', 200, 70), ...arm('A', 50, 10, 'C2'), ...arm('B', 50, 30, 'C2')];
	const rows = compareVariants(events, { groupBy: ['campaign'] });

	it('names a winner when p < alpha and the sample is large enough', () => {
		expect(rows.map((r) => [r.campaign, r.control, r.variant, r.controlSent, r.variantSent])).toEqual([
			['C1', 'A', 'B', 200, 200],
			['C2', 'A', 'B', 50, 50],
		]);
		const open = rows[0].comparisons.find((c) => c.rate === 'humanOpenRate')!;
		// 40/200 vs 70/200: pooled 0.275, z = 0.15 / sqrt(0.275 · 0.725 · 2/200)
		expect(open.control).toBe(0.2);
		expect(open.variant).toBe(0.35);
		expect(open.difference).toBeCloseTo(0.15, 15);
		expect(open.relativeDifference).toBeCloseTo(0.75, 12);
		expect(rel(open.z!, 3.3593550657351257)).toBeLessThan(1e-12);
		expect(rel(open.pValue!, 0.0007812461893217221)).toBeLessThan(1e-9);
		expect(open).toMatchObject({ significant: true, sampleLargeEnough: true, sampleNote: null, winner: 'B' });
		expect(rows[0].winners).toEqual({ openRate: 'B', humanOpenRate: 'B' });
	});

	it("gives no winner without variance, or when a rate's trials are below the minimum", () => {
		const delivery = rows[0].comparisons.find((c) => c.rate === 'deliveryRate')!;
		expect(delivery).toMatchObject({ control: 1, variant: 1, difference: 0, pValue: null, significant: false, winner: null });
		const ctr = rows[0].comparisons.find((c) => c.rate === 'clickThroughRate')!; // trials = 40 and 70 human opens
		expect(ctr.sampleLargeEnough).toBe(false);
		expect(ctr.sampleNote).toMatch(/at least 100 trials \(have 40 and 70\)/);
		expect(ctr.winner).toBeNull();
	});

	it('keeps a significant difference without a winner when the arms are too small', () => {
		const open = rows[1].comparisons.find((c) => c.rate === 'humanOpenRate')!; // 10/50 vs 30/50
		expect(open.significant).toBe(true);
		expect(open.sampleNote).toMatch(/at least 100 trials \(have 50 and 50\)/);
		expect(open.winner).toBeNull();
		const lowered = compareVariants(events, { groupBy: ['campaign'], minSample: 50 });
		expect(lowered[1].winners.humanOpenRate).toBe('B');
	});

	it('checks expected successes and failures of at least 5', () => {
		const few = [...arm('A', 400, 2), ...arm('B', 400, 4)];
		const open = compareVariants(few, { rates: ['humanOpenRate'] })[0].comparisons[0];
		expect(open.sampleNote).toMatch(/expected successes and failures must each be at least 5 .*smallest is 3\.0/);
	});

	it('picks a lower-is-better winner for bounces, honours alpha and a named control', () => {
		const bounce = (variant: string, n: number, bounced: number) =>
			arm(variant, n, 0).concat(
				Array.from({ length: bounced }, (_, i) => ({
					id: `b-${variant}-${i}`,
					type: 'bounced',
					at: '2026-11-01T09:05:00Z',
					campaign: 'C1',
					variant,
					token: `C1-${variant}-${i}`,
					bounce: { hard: false },
				})),
			);
		const evs = [...bounce('A', 500, 50), ...bounce('B', 500, 20)];
		const [row] = compareVariants(evs, { rates: ['bounceRate'], control: 'B' });
		expect(row.control).toBe('B');
		expect(row.comparisons[0].winner).toBe('B'); // 20/500 < 50/500
		const strict = compareVariants(evs, { rates: ['bounceRate'], alpha: 1e-6 })[0].comparisons[0];
		expect(strict.pValue).toBeGreaterThan(1e-6);
		expect(strict.winner).toBeNull();
		expect(() => compareVariants(evs, { alpha: 2 })).toThrow(/alpha must be between 0 and 1/);
	});

	it('skips groups with one variant and events without a variant', () => {
		expect(compareVariants([...arm('A', 10, 1), { id: 'x', type: 'sent', at: '2026-11-01T09:00:00Z', campaign: 'C1' }])).toEqual([]);
	});
});
