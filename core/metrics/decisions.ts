/**
 * The A/B roll-out decisions (`ab_decided` events: the winner in `variant`, why in `reason`) for the report, newest
 * first, a replayed event once.
 */
import { metricsInstant } from './listHealth';

export interface AbDecisionRow {
	/** ISO time of the decision, or '' when the event has none. */
	at: string;
	campaign: string;
	/** The winner; '' when testing goes on. */
	winner: string;
	reason: string;
}

/** Decisions shown in the report at most (the newest). */
export const MAX_REPORT_AB_DECISIONS = 20;

const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** The decisions among `events` (other types are ignored), newest first, at most `limit`. */
export function abDecisions(events: ArrayLike<object>, limit = MAX_REPORT_AB_DECISIONS): AbDecisionRow[] {
	const seen = new Set<string>();
	const rows: Array<AbDecisionRow & { ms: number }> = [];
	for (let i = 0; i < events.length; i++) {
		const e = events[i] as Record<string, unknown>;
		if (e.type !== 'ab_decided') continue;
		const id = text(e.id ?? e.eventId);
		if (id !== '') {
			if (seen.has(id)) continue;
			seen.add(id);
		}
		const ms = metricsInstant(e.at);
		const valid = ms !== null && !Number.isNaN(ms);
		rows.push({
			at: valid ? new Date(ms).toISOString() : '',
			ms: valid ? ms : -Infinity,
			campaign: text(e.campaign),
			winner: text(e.variant ?? e.winner),
			reason: text(e.reason),
		});
	}
	rows.sort((a, b) => b.ms - a.ms || (a.campaign < b.campaign ? -1 : a.campaign > b.campaign ? 1 : 0));
	return rows.slice(0, Math.max(0, limit)).map((r) => ({ at: r.at, campaign: r.campaign, winner: r.winner, reason: r.reason }));
}
