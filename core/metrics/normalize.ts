/**
 * Events as they arrive from tables and other tools: flattened (`bounce_hard`, `bounce.hard` as a literal key,
 * `bounce` as a JSON string), ids as numbers, booleans as strings, dates as Date objects. `normalizeMetricsEvent`
 * returns the shape computeMetrics reads, or throws a RangeError that says what is wrong with the event.
 */
import type { EventType } from '../events';
import { metricsInstant } from './listHealth';

export const METRICS_EVENT_TYPES: readonly EventType[] = [
	'sent',
	'failed',
	'skipped',
	'bounced',
	'delayed',
	'delivered',
	'opened',
	'read_receipt',
	'clicked',
	'replied',
	'auto_replied',
	'unsubscribed',
	'complained',
	'inbound',
	'paused',
	'resumed',
	'erased',
	'ab_decided',
	'converted',
];
const KNOWN_TYPES = new Set<string>(METRICS_EVENT_TYPES);

function truthy(v: unknown): boolean {
	if (typeof v === 'string') return ['true', '1', 'yes', 'y', 'hard'].includes(v.trim().toLowerCase());
	return v === true || v === 1;
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return undefined;
	}
}

function hardFlag(raw: Record<string, unknown>): boolean | undefined {
	let bounce = raw.bounce;
	if (typeof bounce === 'string' && bounce.trim().startsWith('{')) {
		const text = bounce;
		bounce = parseJson(text);
		if (bounce === undefined) throw new RangeError(`"bounce" is not valid JSON: ${text.slice(0, 80)}`);
	}
	if (bounce && typeof bounce === 'object' && 'hard' in bounce) return truthy((bounce as { hard: unknown }).hard);
	for (const key of ['bounce.hard', 'bounce_hard', 'bounceHard', 'hard'])
		if (raw[key] !== undefined && raw[key] !== null && raw[key] !== '') return truthy(raw[key]);
	return undefined;
}

/** A `converted` event's value: a number or numeric text; missing is undefined. */
function conversionValue(v: unknown): number | undefined {
	if (v === undefined || v === null || v === '') return undefined;
	const n = typeof v === 'string' ? Number(v.trim()) : typeof v === 'bigint' ? Number(v) : v;
	if (typeof n !== 'number' || !Number.isFinite(n))
		throw new RangeError(`the event "value" must be a number, got ${JSON.stringify(v)?.slice(0, 60)}`);
	return n;
}

export interface NormalizeEventOptions {
	/** The `at` field must hold a valid time (when grouping by day, week or month). */
	requireTime?: boolean;
}

export function normalizeMetricsEvent(raw: unknown, options: NormalizeEventOptions = {}): Record<string, unknown> {
	if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new RangeError('an event must be an object');
	const e = raw as Record<string, unknown>;
	const type = typeof e.type === 'string' ? e.type.trim().toLowerCase() : e.type;
	if (typeof type !== 'string' || type === '') throw new RangeError('the event has no "type"');
	if (!KNOWN_TYPES.has(type)) throw new RangeError(`unknown event type "${type}" (expected one of ${METRICS_EVENT_TYPES.join(', ')})`);
	const out: Record<string, unknown> = { ...e, type };
	if (typeof e.id === 'number' || typeof e.id === 'bigint') out.id = String(e.id);
	else if (e.id !== undefined && e.id !== null && typeof e.id !== 'string') throw new RangeError('the event "id" must be a string');
	if (e.class === undefined && typeof e.hitClass === 'string') out.class = e.hitClass;
	if (type === 'converted') {
		const value = conversionValue(e.value);
		if (value === undefined) delete out.value;
		else out.value = value;
	}
	// a forward flag stored as text or a number (`forwarded` column of a table)
	if (e.forwarded !== undefined && e.forwarded !== null && e.forwarded !== '') out.forwarded = truthy(e.forwarded);
	if (type === 'bounced') {
		const hard = hardFlag(e);
		const bounce = e.bounce && typeof e.bounce === 'object' ? (e.bounce as Record<string, unknown>) : {};
		out.bounce = { ...bounce, hard: hard ?? false };
	}
	if (options.requireTime) {
		// the same reading computeMetrics uses, so an event accepted here never fails there
		const ms = metricsInstant(e.at);
		if (ms === null || Number.isNaN(ms)) throw new RangeError(`the event has no valid time in "at": ${JSON.stringify(e.at) ?? 'undefined'}`);
	}
	return out;
}
