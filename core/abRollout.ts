/**
 * A/B roll-out: the variants go to a sample of the day's batch first; after a wait, the significance rule of
 * core/metrics/abTest.ts names a winner on one rate, and the winner goes to the rest. Pure: no I/O.
 *
 * The sample is drawn from a hash of the address and the campaign, so a re-run (or the roll-out hours later) sees
 * the same sample, and it is independent of the variant a contact gets (chooseVariant hashes without the salt).
 */
import { createHash } from 'node:crypto';
import { normalizeEmail } from './address';
import { eventId, type CadenceEvent } from './events';
import { AB_RATES, compareMetricsRows, DEFAULT_AB_ALPHA, DEFAULT_AB_MIN_SAMPLE, type AbRateName } from './metrics/abTest';
import { computeMetrics, type MetricsRow } from './metrics/compute';

/** Share of the day's batch (per cent) that gets the A/B variants first. */
export const AB_DEFAULT_SAMPLE_PERCENT = 20;
/** The rate the winner is picked on: human unique clicks per delivered message (opens are unreliable since MPP). */
export const AB_DEFAULT_DECISION_RATE: AbRateName = 'clickRate';
/** What happens without a significant winner: the default variant goes to the rest. */
export const AB_DEFAULT_NO_WINNER: AbNoWinner = 'default';
/** Skip reason in the sample send of a contact outside the sample: it waits for the roll-out. */
export const AB_HOLDOUT_REASON = 'ab-holdout';
/** Skip reason in the roll-out of a contact in the sample: it got its variant in the sample send. */
export const AB_SAMPLE_REASON = 'ab-sample';
/** Skip reason in the roll-out of a contact whose content (language and segment) has no variant of the winner's name. */
export const AB_NO_WINNER_CONTENT_REASON = 'ab-no-winner-content';
/** Event type of a recorded decision. */
export const AB_DECIDED_EVENT_TYPE = 'ab_decided';
/** Salt of the sample hash, so the sample does not line up with the variant chooseVariant picks. */
const SAMPLE_SALT = 'ab-sample';
const TWO_POW_32 = 2 ** 32;

/** Without a significant winner: send the default variant to the rest, or keep the A/B split for the rest too. */
export type AbNoWinner = 'default' | 'keepTesting';
export const AB_NO_WINNER_CHOICES: readonly AbNoWinner[] = ['default', 'keepTesting'];

/** Throws a RangeError unless `percent` is a number from 0 to 100. */
export function checkSamplePercent(percent: unknown): number {
	if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100)
		throw new RangeError(`the A/B sample percent must be a number from 0 to 100, got ${JSON.stringify(percent)}`);
	return percent;
}

/**
 * Whether the contact is in the campaign's A/B sample of `percent` per cent. Deterministic: the same address (as
 * normalised for sending) and campaign always give the same answer. Throws a RangeError for a percent outside 0–100.
 */
export function inAbSample(email: string, campaign: string, percent: number): boolean {
	checkSamplePercent(percent);
	const digest = createHash('sha256')
		.update(`${SAMPLE_SALT}\u0000${normalizeEmail(String(email ?? ''))}\u0000${campaign ?? ''}`)
		.digest();
	return (digest.readUInt32BE(0) / TWO_POW_32) * 100 < percent;
}

export interface AbDecisionOptions {
	/** Only events of this campaign count (empty or absent: every event given). */
	campaign?: string;
	/** The variant names under test; absent or empty: those found in the events. A named variant without events is an empty arm. */
	variants?: string[];
	/** The variant every other one is compared with, and the one sent when `noWinner` is `default`; default: the first name in sort order. */
	defaultVariant?: string;
	/** The rate the winner is picked on; default AB_DEFAULT_DECISION_RATE. */
	rate?: AbRateName;
	/** Significance level; default DEFAULT_AB_ALPHA (split over the comparisons when more than two variants). */
	alpha?: number;
	/** Smallest number of trials (the rate's denominator) in each arm; default DEFAULT_AB_MIN_SAMPLE. */
	minSample?: number;
	/** Without a significant winner; default AB_DEFAULT_NO_WINNER. */
	noWinner?: AbNoWinner;
	/** Event field naming the variant; default `variant`. */
	variantField?: string;
}

export interface AbVariantFigures {
	variant: string;
	sent: number;
	delivered: number;
	/** The rate's numerator and denominator (e.g. human unique clicks and delivered messages). */
	successes: number;
	trials: number;
	rate: number | null;
	/** Two-sided p-value against the default variant (null for the default variant itself, or when undefined). */
	pValue: number | null;
	/** Why the comparison with the default variant cannot decide yet, when it cannot. */
	sampleNote: string | null;
}

export interface AbDecision {
	/** Whether the roll-out can go ahead: a winner, or the default variant when there is none and `noWinner` is `default`. */
	decided: boolean;
	/** The variant for the rest of the batch; null when not decided (keep testing). */
	winner: string | null;
	/** Whether the winner is significantly better (false: the default variant by default). */
	significant: boolean;
	/** One sentence: what was decided and why, with the figures. */
	reason: string;
	rate: AbRateName;
	/** The significance level each comparison used. */
	alpha: number;
	defaultVariant: string;
	figures: AbVariantFigures[];
}

function percentText(rate: number | null): string {
	return rate === null ? 'n/a' : `${(rate * 100).toFixed(2)} %`;
}

function pText(p: number | null): string {
	if (p === null) return 'p n/a';
	return p < 0.0001 ? 'p < 0.0001' : `p = ${p.toPrecision(2)}`;
}

/**
 * Picks the A/B winner from the campaign's events with the significance rule of compareMetricsRows: each variant is
 * compared with the default variant on one rate (pooled two-proportion z-test, both arms large enough); with more
 * than two variants alpha is split over the comparisons (Bonferroni). The winner is the best variant significantly
 * better than the default one, or the default one when it is significantly better than every other. Without one:
 * the default variant (`noWinner: 'default'`) or no decision (`'keepTesting'`). Throws a RangeError for bad options
 * or an event that is not an object.
 */
export function decideAbWinner(events: ArrayLike<object>, options: AbDecisionOptions = {}): AbDecision {
	const rate = options.rate ?? AB_DEFAULT_DECISION_RATE;
	const def = AB_RATES[rate];
	if (!def) throw new RangeError(`unknown A/B rate "${rate}" (expected one of ${Object.keys(AB_RATES).join(', ')})`);
	const noWinner = options.noWinner ?? AB_DEFAULT_NO_WINNER;
	if (!AB_NO_WINNER_CHOICES.includes(noWinner)) throw new RangeError(`unknown no-winner choice "${noWinner}" (expected default or keepTesting)`);
	const baseAlpha = options.alpha ?? DEFAULT_AB_ALPHA;
	const minSample = options.minSample ?? DEFAULT_AB_MIN_SAMPLE;
	if (!(baseAlpha > 0 && baseAlpha < 1)) throw new RangeError(`alpha must be between 0 and 1, got ${baseAlpha}`);
	if (!(minSample >= 0)) throw new RangeError(`the minimum sample must be 0 or more, got ${minSample}`);
	const field = options.variantField || 'variant';
	const campaign = (options.campaign ?? '').trim();

	const selected: object[] = [];
	for (let i = 0; i < events.length; i++) {
		const e = events[i] as Record<string, unknown>;
		if (!e || typeof e !== 'object') throw new RangeError(`event ${i + 1} is not an object`);
		if (campaign && String(e.campaign ?? '').trim() !== campaign) continue;
		const v = e[field];
		if (typeof v !== 'string' || v.trim() === '') continue;
		selected.push(v === v.trim() ? e : { ...e, [field]: v.trim() });
	}
	const rows = new Map<string, MetricsRow>();
	for (const row of computeMetrics(selected, { groupBy: [field] })) rows.set(String(row[field]), row);

	const named = (options.variants ?? []).map((v) => String(v).trim()).filter(Boolean);
	const variants = [...new Set(named.length ? named : [...rows.keys()])].sort((a, b) => a.localeCompare(b));
	const wanted = (options.defaultVariant ?? '').trim();
	if (wanted && named.length && !variants.includes(wanted))
		throw new RangeError(`the default variant "${wanted}" is not one of the variants (${variants.join(', ')})`);
	const control = wanted || variants[0] || '';
	if (control && !variants.includes(control)) variants.unshift(control);
	// An arm without events: every count the comparison reads is 0.
	const empty = (name: string) =>
		({ [field]: name, sent: 0, delivered: 0, [def.successes]: 0, [def.trials]: 0, [rate]: null }) as unknown as MetricsRow;
	const rowOf = (name: string) => rows.get(name) ?? empty(name);
	const others = variants.filter((v) => v !== control);
	const alpha = others.length > 1 ? baseAlpha / others.length : baseAlpha;

	const controlRow = rowOf(control);
	const share = (row: MetricsRow) => ({
		successes: Math.max(0, row[def.successes] as number),
		trials: Math.max(0, row[def.trials] as number),
		rate: row[rate] as number | null,
	});
	const figures: AbVariantFigures[] = [
		{ variant: control, sent: controlRow.sent, delivered: controlRow.delivered, ...share(controlRow), pValue: null, sampleNote: null },
	];
	const beats: AbVariantFigures[] = [];
	let controlBeatsAll = others.length > 0;
	for (const name of others) {
		const row = rowOf(name);
		const [c] = compareMetricsRows(controlRow, row, { control, variant: name }, { alpha, minSample, rates: [rate] });
		const f: AbVariantFigures = {
			variant: name,
			sent: row.sent,
			delivered: row.delivered,
			...share(row),
			pValue: c.pValue,
			sampleNote: c.sampleNote,
		};
		figures.push(f);
		if (c.winner === name) beats.push(f);
		if (c.winner !== control) controlBeatsAll = false;
	}

	const better = (a: AbVariantFigures, b: AbVariantFigures) =>
		((b.rate ?? 0) - (a.rate ?? 0)) * (def.higherIsBetter ? 1 : -1) || (a.pValue ?? 1) - (b.pValue ?? 1);
	const shown = (f: AbVariantFigures) => `${f.variant} ${percentText(f.rate)} (${f.successes}/${f.trials})`;
	const all = figures.map(shown).join(', ');
	const rateName = `${rate} (${def.successes} / ${def.trials})`;
	const base = { rate, alpha, defaultVariant: control, figures };
	if (beats.length) {
		const best = [...beats].sort(better)[0];
		return {
			...base,
			decided: true,
			winner: best.variant,
			significant: true,
			reason: `${best.variant} wins on ${rateName}: ${all}; ${pText(best.pValue)} against ${control}, below ${alpha}`,
		};
	}
	if (controlBeatsAll) {
		const p = Math.max(...figures.slice(1).map((f) => f.pValue ?? 1));
		return {
			...base,
			decided: true,
			winner: control,
			significant: true,
			reason: `${control} wins on ${rateName}: ${all}; ${pText(p)} or lower against every other variant, below ${alpha}`,
		};
	}
	const notes = [...new Set(figures.flatMap((f) => (f.sampleNote ? [f.sampleNote] : [])))];
	const why =
		variants.length < 2
			? `fewer than two variants in the events (${variants.join(', ') || 'none'})`
			: notes.length
				? `the sample is too small: ${notes.join('; ')}`
				: `no significant difference at ${alpha} (${figures
						.slice(1)
						.map((f) => `${f.variant} ${pText(f.pValue)}`)
						.join(', ')})`;
	if (noWinner === 'default' && control) {
		return {
			...base,
			decided: true,
			winner: control,
			significant: false,
			reason: `No winner on ${rateName}: ${why}; ${all}; the default variant ${control} goes to the rest`,
		};
	}
	return { ...base, decided: false, winner: null, significant: false, reason: `No winner on ${rateName} yet: ${why}; ${all}; testing goes on` };
}

export interface AbDecisionEvent extends CadenceEvent {
	type: 'ab_decided';
	campaign: string;
	/** The winner ('' when not decided), also in `winner`. */
	variant: string;
	winner: string | null;
	decided: boolean;
	significant: boolean;
	reason: string;
	rate: AbRateName;
	figures: AbVariantFigures[];
}

/**
 * The decision as an event to record in the store. Its id is the campaign and the day, so recording the same day's
 * decision twice stores it once. `variant` holds the winner and `reason` the sentence, so a store with the usual
 * event columns keeps what the report shows. Throws a RangeError for an invalid `at`.
 */
export function abDecisionEvent(decision: AbDecision, context: { campaign: string; at?: string; day?: string }): AbDecisionEvent {
	const at = context.at ?? new Date().toISOString();
	if (Number.isNaN(Date.parse(at))) throw new RangeError(`the decision time is not a valid time: ${JSON.stringify(at)}`);
	const campaign = String(context.campaign ?? '').trim();
	return {
		id: eventId(AB_DECIDED_EVENT_TYPE, campaign, context.day ?? at.slice(0, 10)),
		type: AB_DECIDED_EVENT_TYPE,
		at,
		email: '',
		campaign,
		variant: decision.winner ?? '',
		winner: decision.winner,
		decided: decision.decided,
		significant: decision.significant,
		reason: decision.reason,
		rate: decision.rate,
		figures: decision.figures,
	};
}

/**
 * One report line for a recorded decision, from the fields every store keeps (campaign, variant, reason), e.g.
 * `A/B decision: campaign spring, winner B (B wins on clickRate ...)`. Never throws.
 */
export function formatAbDecision(event: { campaign?: unknown; variant?: unknown; winner?: unknown; reason?: unknown; at?: unknown }): string {
	const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
	const campaign = text(event?.campaign) || '(no campaign)';
	const winner = text(event?.winner) || text(event?.variant);
	const reason = text(event?.reason);
	const head = winner ? `A/B decision: campaign ${campaign}, winner ${winner}` : `A/B decision: campaign ${campaign}, no winner yet`;
	return reason ? `${head} (${reason})` : head;
}
