/**
 * List health: effective contacts (outside the risk view), new and left contacts in a period,
 * growth rate (new − left) / base and churn rate left / base.
 */
import { DateTime } from 'luxon';
import { normalizeEmail } from '../address';
import { TAG_WORDS, tagKey } from '../tags';

export interface ListHealthContact {
	email: unknown;
	/** An array of tags, or a string of tags separated by `tagsDelimiter`. */
	tags?: unknown;
	/** When the contact was added (ISO string, Date or epoch ms); missing means "before the period". */
	createdAt?: unknown;
	/** When a risk tag was added, if the store records it; in the period it counts the contact as left. */
	riskTaggedAt?: unknown;
}

export interface ListHealthOptions {
	/** The period [start, end): ISO strings (date-only strings are midnight in `timeZone`), Dates or epoch ms. */
	periodStart: unknown;
	periodEnd: unknown;
	timeZone?: string;
	/** Tags starting with one of these (a list, or comma-separated) are in the risk view; default DEFAULT_LIST_HEALTH_RISK_PREFIXES. */
	riskPrefix?: string | readonly string[];
	/** Tags in the risk view besides the prefix. */
	riskTags?: string[];
	/** Delimiter of tags given as a string; default comma, semicolon or newline. */
	tagsDelimiter?: string;
}

export interface ListHealth {
	periodStart: string;
	periodEnd: string;
	contacts: number;
	/** Contacts not in the risk view. */
	effective: number;
	inRiskView: number;
	/** Effective contacts at the start of the period: added before it, and not in the risk view or left during it. */
	base: number;
	newContacts: number;
	/** Distinct contacts that unsubscribed, complained or hard-bounced in the period, or got a risk tag in it. */
	left: number;
	leftUnsubscribed: number;
	leftComplained: number;
	leftHardBounced: number;
	leftRiskTagged: number;
	/** Addresses with a leaving event in the period that are not in the contacts input (not counted in `left`). */
	leftNotInContacts: number;
	netGrowth: number;
	growthRate: number | null;
	churnRate: number | null;
}

/** Tags starting with this put a contact in the risk view. */
/** Risk-view prefixes of list health: both languages' (`Risk-`, `风险-`). */
export const DEFAULT_LIST_HEALTH_RISK_PREFIXES: readonly string[] = Object.freeze([TAG_WORDS.en.risk, TAG_WORDS.zh.risk]);

/**
 * Epoch ms of a time value: an ISO string (with an offset it is an instant; without one it is wall time in
 * `timeZone`), a Date or epoch ms. Null for a missing value (undefined, null, empty string); NaN when invalid.
 */
export function metricsInstant(value: unknown, timeZone = 'UTC'): number | null {
	if (value === undefined || value === null || value === '') return null;
	if (value instanceof Date) return value.getTime();
	if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
	if (typeof value !== 'string') return NaN;
	const s = value.trim().replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2');
	const hasOffset = /T.*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/.test(s);
	const dt = hasOffset ? DateTime.fromISO(s) : DateTime.fromISO(s, { zone: timeZone });
	return dt.isValid ? dt.toMillis() : NaN;
}

function requiredInstant(value: unknown, name: string, timeZone: string): number {
	const ms = metricsInstant(value, timeZone);
	if (ms === null || Number.isNaN(ms)) throw new RangeError(`${name} must be a date or date-time, got ${JSON.stringify(value)}`);
	return ms;
}

function splitTags(tags: unknown, delimiter: string | RegExp): string[] {
	if (Array.isArray(tags)) return tags.filter((t) => t !== null && t !== undefined).map((t) => String(t).trim());
	if (typeof tags === 'string') return tags.split(delimiter).map((t) => t.trim());
	return [];
}

const LEAVING = { unsubscribed: 'unsubscribed', complained: 'complained', bounced: 'hardBounced' } as const;
type LeavingReason = (typeof LEAVING)[keyof typeof LEAVING];

/** The period [start, end) and how contacts' tags and times are read. */
interface HealthRules {
	start: number;
	end: number;
	timeZone: string;
	riskPrefixes: string[];
	riskTags: Set<string>;
	delimiter: string | RegExp;
}

function healthRules(options: ListHealthOptions): HealthRules {
	const timeZone = options.timeZone ?? 'UTC';
	const start = requiredInstant(options.periodStart, 'the period start', timeZone);
	const end = requiredInstant(options.periodEnd, 'the period end', timeZone);
	if (end <= start) throw new RangeError('the period end must be after its start');
	return {
		start,
		end,
		timeZone,
		// Risk tags compare as the views compare them: case, full-width forms and surrounding spaces ignored.
		riskPrefixes: riskPrefixesOf(options.riskPrefix),
		riskTags: new Set((options.riskTags ?? []).map(tagKey)),
		delimiter: options.tagsDelimiter || /[,;\n]/,
	};
}

function riskPrefixesOf(value: string | readonly string[] | undefined): string[] {
	const list = value === undefined ? DEFAULT_LIST_HEALTH_RISK_PREFIXES : typeof value === 'string' ? value.split(',') : value;
	return list.map((p) => tagKey(String(p))).filter(Boolean);
}

const inPeriod = (rules: HealthRules, ms: number) => ms >= rules.start && ms < rules.end;

/** Who left in the period (unsubscribed, complained or hard-bounced), by address, and why. */
function leaversInPeriod(events: ArrayLike<object>, rules: HealthRules): Map<string, Set<LeavingReason>> {
	const leavers = new Map<string, Set<LeavingReason>>();
	for (let i = 0; i < events.length; i++) {
		const e = events[i] as Record<string, unknown>;
		const reason = LEAVING[e.type as keyof typeof LEAVING];
		if (!reason) continue;
		if (e.type === 'bounced' && (e.bounce as { hard?: unknown } | undefined)?.hard !== true) continue;
		const ms = metricsInstant(e.at, rules.timeZone);
		if (ms === null || Number.isNaN(ms) || !inPeriod(rules, ms)) continue;
		const email = normalizeEmail(e.email);
		if (!email) continue;
		let reasons = leavers.get(email);
		if (!reasons) leavers.set(email, (reasons = new Set()));
		reasons.add(reason);
	}
	return leavers;
}

function emptyHealth(rules: HealthRules): ListHealth {
	return {
		periodStart: new Date(rules.start).toISOString(),
		periodEnd: new Date(rules.end).toISOString(),
		contacts: 0,
		effective: 0,
		inRiskView: 0,
		base: 0,
		newContacts: 0,
		left: 0,
		leftUnsubscribed: 0,
		leftComplained: 0,
		leftHardBounced: 0,
		leftRiskTagged: 0,
		leftNotInContacts: 0,
		netGrowth: 0,
		growthRate: null,
		churnRate: null,
	};
}

/** A contact time: null when absent; a RangeError naming the contact when invalid. */
function contactInstant(value: unknown, what: string, index: number, email: string, timeZone: string): number | null {
	const ms = metricsInstant(value, timeZone);
	if (ms !== null && Number.isNaN(ms)) throw new RangeError(`contact ${index} (${email}) has ${what}: ${JSON.stringify(value).slice(0, 60)}`);
	return ms;
}

/** Counts one (first-seen) contact into `health`. */
function countContact(
	health: ListHealth,
	contact: ListHealthContact,
	index: number,
	email: string,
	reasons: Set<LeavingReason> | undefined,
	rules: HealthRules,
): void {
	const created = contactInstant(contact.createdAt, 'an invalid createdAt', index, email, rules.timeZone);
	const riskAt = contactInstant(contact.riskTaggedAt, 'an invalid risk-tag time', index, email, rules.timeZone);
	const risky = splitTags(contact.tags, rules.delimiter).some((tag) => {
		const t = tagKey(tag);
		return rules.riskPrefixes.some((p) => t.startsWith(p)) || rules.riskTags.has(t);
	});
	const riskTagged = risky && riskAt !== null && inPeriod(rules, riskAt);
	const left = reasons !== undefined || riskTagged;
	health.contacts++;
	if (risky) health.inRiskView++;
	else health.effective++;
	if (created !== null && inPeriod(rules, created)) health.newContacts++;
	if ((created === null || created < rules.start) && (!risky || left)) health.base++;
	if (left) {
		health.left++;
		if (reasons?.has('unsubscribed')) health.leftUnsubscribed++;
		if (reasons?.has('complained')) health.leftComplained++;
		if (reasons?.has('hardBounced')) health.leftHardBounced++;
		if (riskTagged) health.leftRiskTagged++;
	}
}

export function computeListHealth(contacts: ListHealthContact[], events: ArrayLike<object>, options: ListHealthOptions): ListHealth {
	const rules = healthRules(options);
	const leavers = leaversInPeriod(events, rules);
	const health = emptyHealth(rules);
	const seen = new Set<string>();
	contacts.forEach((contact, index) => {
		const email = normalizeEmail(contact.email);
		if (!email) throw new RangeError(`contact ${index} has no email address`);
		if (seen.has(email)) return; // the same contact twice counts once
		seen.add(email);
		countContact(health, contact, index, email, leavers.get(email), rules);
	});
	for (const email of leavers.keys()) if (!seen.has(email)) health.leftNotInContacts++;
	health.netGrowth = health.newContacts - health.left;
	health.growthRate = health.base === 0 ? null : health.netGrowth / health.base;
	health.churnRate = health.base === 0 ? null : health.left / health.base;
	return health;
}

/**
 * List size thresholds of permission email (seed 003): a list of its own starts to show marketing value from about 500
 * addresses, and the value is clearly visible from about 5,000.
 */
export const LIST_SIZE_USEFUL_FROM = 500;
export const LIST_SIZE_STRONG_FROM = 5000;

export type ListSizeLevel = 'small' | 'useful' | 'strong';

/** Where a list of `effective` contacts stands against the size thresholds, in words for the report. */
export function listSizeAssessment(effective: number): { level: ListSizeLevel; note: string } {
	const useful = LIST_SIZE_USEFUL_FROM.toLocaleString('en-US');
	const strong = LIST_SIZE_STRONG_FROM.toLocaleString('en-US');
	if (effective < LIST_SIZE_USEFUL_FROM)
		return { level: 'small', note: `below ${useful}: too small for reliable rates; a list starts to pay from about ${useful} contacts` };
	if (effective < LIST_SIZE_STRONG_FROM)
		return { level: 'useful', note: `${useful} to ${strong}: large enough to start paying; from ${strong} its value is clearly visible` };
	return { level: 'strong', note: `${strong}+: a list whose value is clearly visible` };
}

const HEALTH_COUNTS = [
	'contacts',
	'effective',
	'inRiskView',
	'base',
	'newContacts',
	'left',
	'leftUnsubscribed',
	'leftComplained',
	'leftHardBounced',
	'leftRiskTagged',
	'leftNotInContacts',
] as const;

/** Whether an item is list health a store counted (every count of a ListHealth, no address) rather than a contact. */
export function isCountedListHealth(item: Record<string, unknown>): boolean {
	return item.email === undefined && HEALTH_COUNTS.every((k) => item[k] !== undefined && item[k] !== null);
}

/**
 * Several counted list healths of disjoint sets of contacts (a list counted in parts by address) as one: the counts
 * added up, the period of the first. Throws a RangeError when the parts cover different periods.
 */
export function sumCountedListHealth(items: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
	if (items.length === 0) throw new RangeError('list health: no counted part');
	const sum: Record<string, unknown> = { periodStart: items[0].periodStart, periodEnd: items[0].periodEnd };
	for (const k of HEALTH_COUNTS) sum[k] = 0;
	const instant = (v: unknown) => metricsInstant(v);
	for (const item of items) {
		if (instant(item.periodStart) !== instant(sum.periodStart) || instant(item.periodEnd) !== instant(sum.periodEnd))
			throw new RangeError('list health: the counted parts cover different periods');
		const one = listHealthFromCounts(item);
		for (const k of HEALTH_COUNTS) (sum[k] as number) += one[k];
	}
	return sum;
}

/**
 * List health from the counts a store returned (numbers or numeric text): net growth, growth and churn rates computed as
 * computeListHealth computes them. Throws a RangeError naming a count that is not a whole number of 0 or more, or a
 * period bound that is not a time.
 */
export function listHealthFromCounts(item: Record<string, unknown>): ListHealth {
	const counts = {} as Record<(typeof HEALTH_COUNTS)[number], number>;
	for (const k of HEALTH_COUNTS) {
		const v = item[k];
		const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
		if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
			throw new RangeError(`list health: "${k}" is not a whole number of 0 or more: ${JSON.stringify(v)}`);
		counts[k] = n;
	}
	const bound = (name: 'periodStart' | 'periodEnd') => {
		const ms = metricsInstant(item[name]);
		if (ms === null || Number.isNaN(ms)) throw new RangeError(`list health: "${name}" is not a time: ${JSON.stringify(item[name])}`);
		return new Date(ms).toISOString();
	};
	const netGrowth = counts.newContacts - counts.left;
	return {
		periodStart: bound('periodStart'),
		periodEnd: bound('periodEnd'),
		...counts,
		netGrowth,
		growthRate: counts.base === 0 ? null : netGrowth / counts.base,
		churnRate: counts.base === 0 ? null : counts.left / counts.base,
	};
}
