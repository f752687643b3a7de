/**
 * The statistics behind an A/B verdict: the error function, the standard normal distribution and the pooled
 * two-proportion z-test.
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * erfc(x) for x ≥ 0. Below 3: 1 − erf from the series erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)),
 * whose terms are all positive (no cancellation). From 3 up: the continued fraction
 * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated with Lentz's method, which keeps
 * full relative precision in the far tail where p-values live.
 */
function erfcNonNegative(x: number): number {
	if (x === 0) return 1;
	if (x < 3) return 1 - erfSeries(x);
	if (x > 27) return 0; // below the smallest double
	const tiny = 1e-300;
	let f = x;
	let c = x;
	let d = 0;
	for (let n = 1; n < 500; n++) {
		const a = n / 2;
		d = x + a * d;
		d = d === 0 ? tiny : 1 / d;
		c = x + a / c;
		if (c === 0) c = tiny;
		const delta = c * d;
		f *= delta;
		if (Math.abs(delta - 1) < 1e-16) break;
	}
	return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

function erfSeries(x: number): number {
	const x2 = x * x;
	let term = x;
	let sum = x;
	for (let n = 1; n < 200; n++) {
		term *= (2 * x2) / (2 * n + 1);
		sum += term;
		if (term < sum * 1e-17) break;
	}
	return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** The error function, to about 1e-15 relative precision. */
export function metricsErf(x: number): number {
	if (Number.isNaN(x)) return NaN;
	if (x < 0) return -metricsErf(-x);
	return x < 3 ? erfSeries(x) : 1 - erfcNonNegative(x);
}

/** The complementary error function 1 − erf(x), precise in the tails. */
export function metricsErfc(x: number): number {
	if (Number.isNaN(x)) return NaN;
	return x < 0 ? 2 - erfcNonNegative(-x) : erfcNonNegative(x);
}

/** P(Z ≤ z) for a standard normal Z. */
export function standardNormalCdf(z: number): number {
	return 0.5 * metricsErfc(-z / Math.SQRT2);
}

export interface TwoProportionTest {
	/** Success proportions of the two arms (null when an arm has no trials). */
	pA: number | null;
	pB: number | null;
	/** pB − pA. */
	difference: number | null;
	pooled: number | null;
	z: number | null;
	/** Two-sided p-value; null when the test is undefined (no trials, or both arms all successes or all failures). */
	pValue: number | null;
}

/** Pooled two-proportion z-test of xA/nA against xB/nB, two-sided. */
export function twoProportionZTest(xA: number, nA: number, xB: number, nB: number): TwoProportionTest {
	for (const [name, v] of Object.entries({ xA, nA, xB, nB }))
		if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${v}`);
	if (xA > nA || xB > nB) throw new RangeError('successes cannot exceed trials');
	const pA = nA > 0 ? xA / nA : null;
	const pB = nB > 0 ? xB / nB : null;
	const difference = pA !== null && pB !== null ? pB - pA : null;
	if (nA === 0 || nB === 0) return { pA, pB, difference, pooled: null, z: null, pValue: null };
	const pooled = (xA + xB) / (nA + nB);
	const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
	if (se === 0) return { pA, pB, difference, pooled, z: null, pValue: null };
	const z = (difference as number) / se;
	return { pA, pB, difference, pooled, z, pValue: metricsErfc(Math.abs(z) / Math.SQRT2) };
}
