/**
 * The A/B roll-out in Send. Phase `sample`: only contacts in the campaign's sample (core/abRollout.ts inAbSample) are
 * mailed, each with its A/B variant; the others are skipped (ab-holdout). Phase `rollout`: the sample is skipped
 * (ab-sample, it was tested), the others get the winner, or their own variant when no winner is given (testing goes
 * on). Both run before the day's caps are handed out, so a skipped contact takes no place under them.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';
import {
	AB_DEFAULT_SAMPLE_PERCENT,
	AB_HOLDOUT_REASON,
	AB_NO_WINNER_CONTENT_REASON,
	AB_SAMPLE_REASON,
	checkSamplePercent,
	inAbSample,
} from '../../../core/abRollout';
import { contentKey } from '../../../core/content';
import { str } from './paramReader';
import type { Plan, SendPlan } from './types';

export const AB_PHASES = ['all', 'sample', 'rollout'] as const;
export type AbPhase = (typeof AB_PHASES)[number];
/** Every contact gets its A/B variant in one send: saved workflows without the option keep working. */
export const DEFAULT_AB_PHASE: AbPhase = 'all';

export interface AbRolloutSettings {
	phase: Exclude<AbPhase, 'all'>;
	percent: number;
	/** The winner to roll out; '' keeps each contact's own variant. */
	winner: string;
}

/** The A/B Roll-Out option, read once per run (from the first item); null when every contact gets its variant at once. */
export function readAbRollout(ctx: IExecuteFunctions): AbRolloutSettings | null {
	const o = (ctx.getNodeParameter('abRollout', 0, {}) ?? {}) as IDataObject;
	const phase = str(o.phase ?? DEFAULT_AB_PHASE) as AbPhase;
	const fail = (message: string) =>
		new NodeOperationError(ctx.getNode(), message, { description: 'Nothing was sent: the A/B Roll-Out option is wrong.' });
	if (!(AB_PHASES as readonly string[]).includes(phase)) throw fail(`Unknown A/B phase "${phase}": use one of ${AB_PHASES.join(', ')}`);
	if (phase === 'all') return null;
	let percent: number;
	try {
		percent = checkSamplePercent(o.samplePercent === undefined || o.samplePercent === '' ? AB_DEFAULT_SAMPLE_PERCENT : Number(o.samplePercent));
	} catch (error) {
		throw fail((error as Error).message);
	}
	const winner = phase === 'rollout' ? winnerName(o.winnerVariant) : '';
	return { phase, percent, winner };
}

/** The winner parameter: a name, or a decision event (its `winner`); null, undefined or empty: none. */
function winnerName(value: unknown): string {
	if (value && typeof value === 'object' && 'winner' in value) return winnerName((value as { winner: unknown }).winner);
	if (value === null || value === undefined) return '';
	return str(value).trim();
}

/**
 * Skips the contacts the phase holds back and, in the roll-out with a winner, gives every other contact the winner:
 * the variant of that name among `variantNames` (the node's A/B variants, in order) or, with content per language
 * and segment (`variantNames` null), the row of that name in the contact's group. Throws when the winner is not one
 * of the node's variants.
 */
export function applyAbRollout(ctx: IExecuteFunctions, plans: Plan[], settings: AbRolloutSettings, variantNames: string[] | null): void {
	const single = variantNames ? variantNames.indexOf(settings.winner) : -1;
	if (settings.winner && variantNames && single < 0) {
		throw new NodeOperationError(
			ctx.getNode(),
			`The winner "${settings.winner}" is not one of the A/B variants (${variantNames.filter(Boolean).join(', ') || 'none'})`,
			{ description: 'Nothing was sent: roll out a variant this node has.' },
		);
	}
	for (let i = 0; i < plans.length; i++) {
		const p = plans[i];
		if (p.kind !== 'send') continue;
		const sampled = inAbSample(p.head.to, p.head.input.campaign, settings.percent);
		if (settings.phase === 'sample') {
			if (!sampled) plans[i] = skip(p, AB_HOLDOUT_REASON, `Outside the A/B sample (${settings.percent} % of the campaign): mailed in the roll-out`);
			continue;
		}
		if (sampled) {
			plans[i] = skip(p, AB_SAMPLE_REASON, `In the A/B sample (${settings.percent} % of the campaign): it got its variant in the sample send`);
			continue;
		}
		if (!settings.winner) continue;
		if (!p.head.content) {
			p.head.variantIndex = single;
			p.head.input.variant = settings.winner;
			continue;
		}
		const row = winnerRow(p, settings.winner);
		if (row === undefined) {
			plans[i] = skip(
				p,
				AB_NO_WINNER_CONTENT_REASON,
				`The contact's content (${p.head.content.language}, ${p.head.content.segment || 'any segment'}) has no variant "${settings.winner}"`,
			);
			continue;
		}
		if (row) {
			p.head.content.row = row.row;
			p.head.input.variant = row.name;
		}
	}
}

/** The winner's row in the group of the contact's content row; null when the group has no variants; undefined when none is named so. */
function winnerRow(p: SendPlan, winner: string): { row: number; name: string } | null | undefined {
	const content = p.head.content!;
	for (const segments of content.index.groups.values())
		for (const group of segments.values()) {
			if (group.base !== content.row && !group.variants.some((v) => v.row === content.row)) continue;
			if (group.variants.length === 0) return null;
			const v = group.variants.find((x) => contentKey(x.name) === contentKey(winner));
			return v ? { row: v.row, name: v.name } : undefined;
		}
	return undefined;
}

function skip(p: SendPlan, reason: string, error: string): Plan {
	return { kind: 'skip', head: p.head, reason, error };
}

/** The node's A/B variant names in order (read from the first item), for finding the winner's place. */
export function readVariantNames(ctx: IExecuteFunctions): string[] {
	const raw = ((ctx.getNode().parameters.variants as IDataObject | undefined)?.variant as IDataObject[] | undefined) ?? [];
	return raw.map((_, k) => str(ctx.getNodeParameter(`variants.variant[${k}].name`, 0, '')).trim());
}
