/**
 * A/B comparison of variants per group: for each rate, the difference, a pooled two-proportion z-test, and a winner
 * only when the difference is significant and the sample is large enough for the normal approximation.
 */
import { computeMetrics, type MetricsOptions, type MetricsRow } from './compute';
import { twoProportionZTest } from './stats';

/** Each tested rate as successes / trials, and whether higher is better. */
export const AB_RATES = {
	deliveryRate: { successes: 'delivered', trials: 'sent', higherIsBetter: true },
	bounceRate: { successes: 'bounced', trials: 'sent', higherIsBetter: false },
	openRate: { successes: 'uniqueOpens', trials: 'delivered', higherIsBetter: true },
	humanOpenRate: { successes: 'humanUniqueOpens', trials: 'delivered', higherIsBetter: true },
	clickThroughRate: { successes: 'humanUniqueClicks', trials: 'humanUniqueOpens', higherIsBetter: true },
	clickRate: { successes: 'humanUniqueClicks', trials: 'delivered', higherIsBetter: true },
	replyRate: { successes: 'replies', trials: 'humanUniqueOpens', higherIsBetter: true },
	unsubscribeRate: { successes: 'unsubscribes', trials: 'delivered', higherIsBetter: false },
	complaintRate: { successes: 'complaints', trials: 'delivered', higherIsBetter: false },
} as const;

/** Event field naming the A/B variant. */
export const DEFAULT_AB_VARIANT_FIELD = 'variant';
/** Significance level: a winner is named only when the p-value is below it. */
export const DEFAULT_AB_ALPHA = 0.05;
/** Smallest number of trials (the rate's denominator) in each arm. */
export const DEFAULT_AB_MIN_SAMPLE = 100;

export type AbRateName = keyof typeof AB_RATES;

export interface AbTestOptions extends MetricsOptions {
	/** Event field naming the variant; default DEFAULT_AB_VARIANT_FIELD. */
	variantField?: string;
	/** Significance level; default DEFAULT_AB_ALPHA. */
	alpha?: number;
	/** Smallest number of trials (the rate's denominator) in each arm; default DEFAULT_AB_MIN_SAMPLE. */
	minSample?: number;
	/** The control arm; default the first variant in sort order. Other variants are each compared with it. */
	control?: string;
	/** Rates to test; default all of AB_RATES. */
	rates?: AbRateName[];
}

export interface AbRateComparison {
	rate: AbRateName;
	control: number | null;
	variant: number | null;
	/** variant − control. */
	difference: number | null;
	/** (variant − control) / control. */
	relativeDifference: number | null;
	z: number | null;
	pValue: number | null;
	significant: boolean;
	sampleLargeEnough: boolean;
	/** Why the sample is too small, when it is. */
	sampleNote: string | null;
	/** The better arm's name when significant and the sample is large enough, else null. */
	winner: string | null;
}

export interface AbComparisonRow {
	[groupKey: string]: unknown;
	control: string;
	variant: string;
	controlSent: number;
	variantSent: number;
	alpha: number;
	comparisons: AbRateComparison[];
	/** Names of the rates with a winner, e.g. `{ humanOpenRate: 'B' }`. */
	winners: Record<string, string>;
}

const EXPECTED_MIN = 5;

function sampleCheck(xA: number, nA: number, xB: number, nB: number, minSample: number): string | null {
	if (nA < minSample || nB < minSample) return `each arm needs at least ${minSample} trials (have ${nA} and ${nB})`;
	const pooled = (xA + xB) / (nA + nB);
	const expected = [nA * pooled, nA * (1 - pooled), nB * pooled, nB * (1 - pooled)];
	if (expected.some((v) => v < EXPECTED_MIN))
		return `expected successes and failures must each be at least ${EXPECTED_MIN} in both arms (smallest is ${Math.min(...expected).toFixed(1)})`;
	return null;
}

/** Compares two metrics rows (control and variant) rate by rate. */
export function compareMetricsRows(
	control: MetricsRow,
	variant: MetricsRow,
	names: { control: string; variant: string },
	options: { alpha?: number; minSample?: number; rates?: AbRateName[] } = {},
): AbRateComparison[] {
	const alpha = options.alpha ?? DEFAULT_AB_ALPHA;
	const minSample = options.minSample ?? DEFAULT_AB_MIN_SAMPLE;
	if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be between 0 and 1, got ${alpha}`);
	if (!(minSample >= 0)) throw new RangeError(`the minimum sample must be 0 or more, got ${minSample}`);
	const rates = options.rates ?? (Object.keys(AB_RATES) as AbRateName[]);
	return rates.map((rate) => {
		const def = AB_RATES[rate];
		if (!def) throw new RangeError(`unknown rate "${rate}"`);
		const xA = Math.max(0, control[def.successes] as number);
		const nA = Math.max(0, control[def.trials] as number);
		const xB = Math.max(0, variant[def.successes] as number);
		const nB = Math.max(0, variant[def.trials] as number);
		const test = twoProportionZTest(Math.min(xA, nA), nA, Math.min(xB, nB), nB);
		const sampleNote = sampleCheck(xA, nA, xB, nB, minSample);
		const significant = test.pValue !== null && test.pValue < alpha;
		let winner: string | null = null;
		if (significant && !sampleNote && test.difference !== null && test.difference !== 0) {
			const variantHigher = test.difference > 0;
			winner = variantHigher === def.higherIsBetter ? names.variant : names.control;
		}
		return {
			rate,
			control: test.pA,
			variant: test.pB,
			difference: test.difference,
			relativeDifference: test.pA ? (test.difference as number) / test.pA : null,
			z: test.z,
			pValue: test.pValue,
			significant,
			sampleLargeEnough: sampleNote === null,
			sampleNote,
			winner,
		};
	});
}

/**
 * Computes metrics per group and variant from events, then compares each variant with the control in every group.
 * Groups with a single variant give no row.
 */
export function compareVariants(events: ArrayLike<object>, options: AbTestOptions = {}): AbComparisonRow[] {
	const variantField = options.variantField || DEFAULT_AB_VARIANT_FIELD;
	const groupBy = (options.groupBy ?? []).filter((k) => k !== variantField);
	const rows = computeMetrics(events, { ...options, groupBy: [...groupBy, variantField] });
	return compareVariantRows(rows, { ...options, groupBy, variantField });
}

/** The same comparison from rows already grouped by `[...groupBy, variantField]`. */
export function compareVariantRows(rows: MetricsRow[], options: AbTestOptions & { groupBy: string[] }): AbComparisonRow[] {
	const variantField = options.variantField || DEFAULT_AB_VARIANT_FIELD;
	const alpha = options.alpha ?? DEFAULT_AB_ALPHA;
	const groups = new Map<string, MetricsRow[]>();
	for (const row of rows) {
		if (row[variantField] === null || row[variantField] === undefined) continue; // events without a variant
		const key = JSON.stringify(options.groupBy.map((k) => row[k] ?? null));
		let list = groups.get(key);
		if (!list) groups.set(key, (list = []));
		list.push(row);
	}
	const out: AbComparisonRow[] = [];
	for (const list of groups.values()) {
		if (list.length < 2) continue;
		list.sort((a, b) => String(a[variantField]).localeCompare(String(b[variantField])));
		const control = (options.control !== undefined && list.find((r) => r[variantField] === options.control)) || list[0];
		const controlName = String(control[variantField]);
		for (const row of list) {
			if (row === control) continue;
			const variantName = String(row[variantField]);
			const comparisons = compareMetricsRows(control, row, { control: controlName, variant: variantName }, options);
			const result: AbComparisonRow = {
				control: controlName,
				variant: variantName,
				controlSent: control.sent,
				variantSent: row.sent,
				alpha,
				comparisons,
				winners: Object.fromEntries(comparisons.filter((c) => c.winner).map((c) => [c.rate, c.winner as string])),
			};
			const keyed: AbComparisonRow = {} as AbComparisonRow;
			for (const k of options.groupBy) keyed[k] = control[k] ?? null;
			out.push(Object.assign(keyed, result));
		}
	}
	return out;
}
