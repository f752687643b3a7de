/**
 * The A/B roll-out rules (core/abRollout.ts): the sample is deterministic and of the asked size, independent of the
 * variant; the decision follows the A/B comparison's significance rule, with the default variant or no decision when
 * there is no winner; the decision event and its report line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	AB_DEFAULT_SAMPLE_PERCENT,
	AB_HOLDOUT_REASON,
	AB_SAMPLE_REASON,
	abDecisionEvent,
	decideAbWinner,
	formatAbDecision,
	inAbSample,
	type AbDecisionOptions,
} from '../../core/abRollout';
import { computeMetrics, compareVariants, DEFAULT_AB_MIN_SAMPLE, normalizeMetricsEvent } from '../../core/metrics';
import { chooseVariant } from '../../core/tracker';
import { node, reaches } from '../helpers/templates';

const addresses = (n: number, campaign = 'c') => Array.from({ length: n }, (_, i) => ({ email: `person${i}@company${i % 97}.example`, campaign }));

describe('inAbSample', () => {
	it('takes the asked share of 10,000 addresses, within 1.5 points, for several percents', () => {
		const people = addresses(10_000);
		for (const percent of [5, AB_DEFAULT_SAMPLE_PERCENT, 50, 80]) {
			const share = (people.filter((p) => inAbSample(p.email, 'spring', percent)).length / people.length) * 100;
			expect(Math.abs(share - percent)).toBeLessThan(1.5);
		}
	});

	it('is deterministic, ignores case and spaces of the address, and depends on the campaign', () => {
		const people = addresses(2_000);
		const a = people.map((p) => inAbSample(p.email, 'spring', 20));
		expect(people.map((p) => inAbSample(`  ${p.email.toUpperCase()} `, 'spring', 20))).toEqual(a);
		const b = people.map((p) => inAbSample(p.email, 'autumn', 20));
		expect(b).not.toEqual(a);
	});

	it('is nested: a contact in the 10 % sample is in the 20 % sample; 0 takes nobody and 100 everybody', () => {
		fc.assert(
			fc.property(fc.emailAddress(), fc.string({ maxLength: 20 }), fc.integer({ min: 0, max: 99 }), (email, campaign, p) => {
				if (inAbSample(email, campaign, p)) expect(inAbSample(email, campaign, p + 1)).toBe(true);
				expect(inAbSample(email, campaign, 0)).toBe(false);
				expect(inAbSample(email, campaign, 100)).toBe(true);
			}),
			{ numRuns: 200 },
		);
	});

	it('does not line up with the variant: each variant is about 20 % sampled', () => {
		const people = addresses(10_000);
		for (const v of ['A', 'B']) {
			const arm = people.filter((p) => chooseVariant(p.email, 'spring', ['A', 'B']) === v);
			const share = (arm.filter((p) => inAbSample(p.email, 'spring', 20)).length / arm.length) * 100;
			expect(Math.abs(share - 20)).toBeLessThan(2);
		}
	});

	it('refuses a percent outside 0–100', () => {
		for (const bad of [-1, 101, Number.NaN, Infinity]) expect(() => inAbSample('a@b.example', 'c', bad)).toThrow(/from 0 to 100/);
	});
});

/** Sends of `variant` to `n` contacts, `clicks` of them clicking as a human (and opening). */
function arm(variant: string, n: number, clicks: number, campaign = 'spring') {
	const events: Record<string, unknown>[] = [];
	for (let i = 0; i < n; i++) {
		const token = `${variant}-${i}`;
		const base = { email: `${token}@x.example`, campaign, variant, token };
		events.push({ ...base, id: `s-${token}`, type: 'sent', at: '2026-12-04T09:00:00Z' });
		if (i < clicks) {
			events.push({ ...base, id: `o-${token}`, type: 'opened', class: 'human', at: '2026-12-04T10:00:00Z' });
			events.push({ ...base, id: `c-${token}`, type: 'clicked', class: 'human', at: '2026-12-04T10:01:00Z', url: 'https://a.example/' });
		}
	}
	return events;
}

describe('decideAbWinner', () => {
	const clear = [...arm('A', 400, 8), ...arm('B', 400, 40)];

	it('names the clear winner, with the same p-value as the A/B comparison', () => {
		const d = decideAbWinner(clear, { campaign: 'spring' });
		expect(d).toMatchObject({ decided: true, winner: 'B', significant: true, rate: 'clickRate', defaultVariant: 'A' });
		const cmp = compareVariants(clear, { rates: ['clickRate'] })[0].comparisons[0];
		expect(d.figures[1].pValue).toBe(cmp.pValue);
		expect(d.figures.map((f) => [f.variant, f.sent, f.successes, f.trials])).toEqual([
			['A', 400, 8, 400],
			['B', 400, 40, 400],
		]);
		expect(d.reason).toMatch(/^B wins on clickRate/);
	});

	it('the default variant wins when it is significantly better', () => {
		const d = decideAbWinner(clear, { defaultVariant: 'B' });
		expect(d).toMatchObject({ decided: true, winner: 'B', significant: true, defaultVariant: 'B' });
	});

	it('a lower-is-better rate picks the variant with fewer', () => {
		const events = [...arm('A', 300, 0), ...arm('B', 300, 0)];
		// 30 hard bounces on A, 3 on B
		events.push(
			...Array.from({ length: 30 }, (_, i) => ({
				id: `b-A-${i}`,
				type: 'bounced',
				token: `A-${i}`,
				email: `A-${i}@x.example`,
				campaign: 'spring',
				variant: 'A',
				at: '2026-12-04T09:05:00Z',
				bounce: { hard: true },
			})),
		);
		events.push(
			...Array.from({ length: 3 }, (_, i) => ({
				id: `b-B-${i}`,
				type: 'bounced',
				token: `B-${i}`,
				email: `B-${i}@x.example`,
				campaign: 'spring',
				variant: 'B',
				at: '2026-12-04T09:05:00Z',
				bounce: { hard: true },
			})),
		);
		expect(decideAbWinner(events, { rate: 'bounceRate' }).winner).toBe('B');
	});

	it('no significant difference: the default variant, or no decision when testing goes on', () => {
		const even = [...arm('A', 400, 20), ...arm('B', 400, 22)];
		const byDefault = decideAbWinner(even, { defaultVariant: 'B' });
		expect(byDefault).toMatchObject({ decided: true, winner: 'B', significant: false });
		expect(byDefault.reason).toMatch(/no significant difference .*the default variant B goes to the rest/);
		const keep = decideAbWinner(even, { noWinner: 'keepTesting' });
		expect(keep).toMatchObject({ decided: false, winner: null, significant: false });
		expect(keep.reason).toMatch(/testing goes on$/);
	});

	it('a sample under the minimum decides nothing, however large the difference', () => {
		const small = [...arm('A', 60, 1), ...arm('B', 60, 30)];
		expect(DEFAULT_AB_MIN_SAMPLE).toBeGreaterThan(60);
		const d = decideAbWinner(small, { noWinner: 'keepTesting' });
		expect(d).toMatchObject({ decided: false, winner: null });
		expect(d.reason).toMatch(/too small: each arm needs at least 100 trials \(have 60 and 60\)/);
		expect(decideAbWinner(small, { noWinner: 'keepTesting', minSample: 50 })).toMatchObject({ decided: true, winner: 'B' });
	});

	it('counts only the campaign, events with a variant, and each event id once', () => {
		const other = arm('A', 400, 200, 'autumn');
		const replayed = clear.filter((e) => e.type === 'clicked' && String(e.variant) === 'A').map((e) => ({ ...e }));
		const noVariant = { id: 'x', type: 'sent', email: 'z@x.example', campaign: 'spring', at: '2026-12-04T09:00:00Z' };
		const d = decideAbWinner([...clear, ...other, ...replayed, noVariant], { campaign: 'spring' });
		expect(d.figures.map((f) => [f.variant, f.sent, f.successes])).toEqual([
			['A', 400, 8],
			['B', 400, 40],
		]);
	});

	it('a named variant without events is an empty arm: no decision', () => {
		const d = decideAbWinner(arm('A', 400, 8), { variants: ['A', 'B'], noWinner: 'keepTesting' });
		expect(d).toMatchObject({ decided: false, winner: null });
		expect(d.figures[1]).toMatchObject({ variant: 'B', sent: 0, trials: 0 });
		expect(() => decideAbWinner(clear, { variants: ['A', 'B'], defaultVariant: 'C' })).toThrow(/default variant "C" is not one of/);
	});

	it('with three variants alpha is split, and the best significant one wins', () => {
		const three = [...arm('A', 500, 10), ...arm('B', 500, 45), ...arm('C', 500, 30)];
		const d = decideAbWinner(three, {});
		expect(d.alpha).toBeCloseTo(0.025, 12);
		expect(d.winner).toBe('B');
	});

	it('refuses unknown rates and choices', () => {
		expect(() => decideAbWinner(clear, { rate: 'nope' as AbDecisionOptions['rate'] })).toThrow(/unknown A\/B rate/);
		expect(() => decideAbWinner(clear, { noWinner: 'maybe' as AbDecisionOptions['noWinner'] })).toThrow(/unknown no-winner/);
		expect(() => decideAbWinner([], { alpha: 1 })).toThrow(/alpha must be between 0 and 1/);
		expect(() => decideAbWinner([], { minSample: -1 })).toThrow(/minimum sample/);
		expect(() => decideAbWinner([null as never])).toThrow(/event 1 is not an object/);
	});

	it('never names a winner the comparison does not find significant (property)', () => {
		fc.assert(
			fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 100, max: 300 }), (ka, kb, n) => {
				const a = Math.min(ka, n);
				const b = Math.min(kb, n);
				const events = [...arm('A', n, a), ...arm('B', n, b)];
				const d = decideAbWinner(events, { noWinner: 'keepTesting' });
				const cmp = compareVariants(events, { rates: ['clickRate'] })[0].comparisons[0];
				expect(d.winner).toBe(cmp.winner);
			}),
			{ numRuns: 50 },
		);
	});
});

describe('the decision event', () => {
	const d = decideAbWinner([...arm('A', 400, 8), ...arm('B', 400, 40)], {});

	it('carries the winner in variant and the sentence in reason; the same day gives the same id', () => {
		const e = abDecisionEvent(d, { campaign: 'spring', at: '2026-12-04T13:00:00.000Z', day: '2026-12-04' });
		expect(e).toMatchObject({ type: 'ab_decided', campaign: 'spring', variant: 'B', winner: 'B', decided: true, email: '' });
		expect(abDecisionEvent(d, { campaign: 'spring', at: '2026-12-04T15:00:00.000Z', day: '2026-12-04' }).id).toBe(e.id);
		expect(abDecisionEvent(d, { campaign: 'spring', at: '2026-12-05T13:00:00.000Z', day: '2026-12-05' }).id).not.toBe(e.id);
		expect(() => abDecisionEvent(d, { campaign: 'spring', at: 'noon' })).toThrow(/not a valid time/);
	});

	it('is a known event type that the metrics accept and do not count', () => {
		const e = abDecisionEvent(d, { campaign: 'spring', at: '2026-12-04T13:00:00.000Z' });
		expect(normalizeMetricsEvent(e).type).toBe('ab_decided');
		const events = arm('A', 10, 2);
		expect(computeMetrics([...events, e])).toEqual(computeMetrics(events));
	});

	it('reads as one report line, from the stored columns too', () => {
		const e = abDecisionEvent(d, { campaign: 'spring', at: '2026-12-04T13:00:00.000Z' });
		expect(formatAbDecision(e)).toMatch(/^A\/B decision: campaign spring, winner B \(B wins on clickRate .*(?:p < 0\.0001|p = \d)/);
		expect(formatAbDecision({ campaign: 'spring', variant: '', reason: 'No winner yet' })).toBe(
			'A/B decision: campaign spring, no winner yet (No winner yet)',
		);
		expect(formatAbDecision(null as never)).toBe('A/B decision: campaign (no campaign), no winner yet');
	});
});

describe('template 11 (static, both stores)', () => {
	type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
	const load = (store: string): Json => JSON.parse(readFileSync(join(__dirname, '..', '..', 'workflows', store, '11-ab-rollout.json'), 'utf8'));
	const targets = (wf: Json, from: string, output = 0): string[] => (wf.connections[from]?.main?.[output] ?? []).map((c: Json) => c.node);

	for (const store of ['', 'postgres']) {
		const wf = load(store);
		const label = store || 'data tables';

		it(`${label}: the sample and the roll-out sends differ only in their phase and winner`, () => {
			const sample = node(wf, 'Sample send').parameters;
			const rollout = node(wf, 'Roll-out send').parameters;
			expect(sample.abRollout).toEqual({ phase: 'sample', samplePercent: AB_DEFAULT_SAMPLE_PERCENT });
			expect(rollout.abRollout).toEqual({
				phase: 'rollout',
				samplePercent: AB_DEFAULT_SAMPLE_PERCENT,
				winnerVariant: "={{ $('Decide A/B winner').first().json.winner ?? '' }}",
			});
			const { abRollout: _a, ...restSample } = sample;
			const { abRollout: _b, ...restRollout } = rollout;
			expect(restRollout).toEqual(restSample);
			expect(sample.variants.variant.map((v: Json) => v.name)).toEqual(['A', 'B']);
			const decide = node(wf, 'Decide A/B winner').parameters;
			expect(decide).toMatchObject({ operation: 'decideAbWinner', abCampaign: sample.campaign, abVariants: 'A, B', abDefaultVariant: 'A' });
		});

		it(`${label}: 9:00 sends the sample; 13:00 decides, saves the decision, then rolls out`, () => {
			expect(targets(wf, 'Roll-out at 13:00')).toEqual(['Campaign events']);
			expect(targets(wf, 'Campaign events')).toEqual(['Decide A/B winner']);
			expect(targets(wf, 'Decide A/B winner')).toEqual(['Save decision']);
			// Data tables fetch only the event types Sender status reads, listed by a node before Sender history.
			const history = store ? 'Sender history' : 'Event types the status reads';
			expect(targets(wf, 'Save decision')).toEqual([history]);
			expect(targets(wf, 'Every morning')).toEqual([history]);
			expect(node(wf, 'Campaign events').alwaysOutputData).toBe(true);
			expect(reaches(wf, 'Every morning', 'Decide A/B winner')).toBe(false);
			expect(targets(wf, 'Views')).toEqual(['Roll-out?']);
			expect(JSON.stringify(node(wf, 'Roll-out?').parameters)).toContain("$('Decide A/B winner').isExecuted");
			expect(targets(wf, 'Roll-out?', 0)).toEqual(['Roll-out send']);
			expect(targets(wf, 'Roll-out?', 1)).toEqual(['Sample send']);
			for (const send of ['Sample send', 'Roll-out send']) expect(targets(wf, send)).toEqual(['Not held back']);
			const held = JSON.stringify(node(wf, 'Not held back').parameters);
			for (const reason of [AB_HOLDOUT_REASON, AB_SAMPLE_REASON]) expect(held).toContain(`'${reason}'`);
			expect(reaches(wf, 'Not held back', store ? 'Save events and lastSentAt' : 'Set lastSentAt')).toBe(true);
		});

		it(`${label}: the decision is saved with its winner and reason, and the sticky says what happens without a winner`, () => {
			const save = node(wf, 'Save decision');
			if (store) expect(save.parameters.query).toMatch(/INSERT INTO events \([^)]*\bvariant\b[^)]*\breason\b/);
			else expect(Object.keys(save.parameters.columns.value)).toEqual(expect.arrayContaining(['eventId', 'type', 'campaign', 'variant', 'reason']));
			const about = node(wf, 'About').parameters.content as string;
			expect(about).toMatch(/Keep Testing/);
			expect(about).toContain(`${AB_DEFAULT_SAMPLE_PERCENT} %`);
		});
	}
});
