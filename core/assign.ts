/**
 * Assigning new contacts to marketing batches. Contacts found on day d go to batch d; a domain's
 * addresses fill batch d up to a per-domain cap and roll on to d+1, d+2, ... (wrapping 30 → 01), because many
 * messages to one company on one day get mail blocked.
 */
import { DateTime } from 'luxon';
import { parseAddress, explainInvalidAddress } from './address';
import { toZonedDateTime } from './calendar';
import { BATCH_COUNT, TagClassifier, type TagGrammar } from './tags';

export interface ExistingContact {
	email: string;
	/** Marketing batch, if known; otherwise read from `tags`. Known batches count towards the domain cap. */
	batch?: number;
	tags?: string[];
}

/** Most addresses of one domain put into one marketing batch: more than this to one company on one day gets mail blocked. */
export const DEFAULT_PER_DOMAIN_CAP = 10;

export interface AssignOptions {
	date: Date | string | number | DateTime;
	perDomainCap?: number;
	existing?: Iterable<string | ExistingContact>;
	timeZone?: string;
	grammar?: Partial<TagGrammar>;
}

export interface BatchAssignment {
	email: string;
	batch: number;
	/** Index of the address in the input, so callers can map back to their items. */
	index: number;
	/** True when every batch already holds the cap for this domain and the address went to the least full one. */
	overCap?: boolean;
}

export interface SkippedAddress {
	input: unknown;
	index: number;
	reason: 'existing' | 'duplicate' | 'invalid-address';
	detail: string;
}

export interface AssignResult {
	assigned: BatchAssignment[];
	skipped: SkippedAddress[];
	startBatch: number;
}

/** Day 1..30 → that batch; day 31 → batch 01. */
export function startBatchForDay(day: number): number {
	return day > BATCH_COUNT.marketing ? 1 : day;
}

/**
 * Assigns every new address to a marketing batch; existing (case-insensitive, trimmed), duplicate and invalid
 * addresses are skipped with a reason. Output is grouped by domain in order of first appearance, addresses in
 * input order within a domain.
 */
export function planBatchAssignment(emails: Iterable<unknown>, options: AssignOptions): AssignResult {
	const cap = options.perDomainCap ?? DEFAULT_PER_DOMAIN_CAP;
	if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`perDomainCap must be a whole number ≥ 1, got ${cap}`);
	const startBatch = startBatchForDay(toZonedDateTime(options.date, options.timeZone ?? 'UTC').day);
	const { existing, occupancy } = readExisting(options.existing ?? [], new TagClassifier(options.grammar));
	const { byDomain, skipped } = groupNewAddresses(emails, existing);
	const assigned: BatchAssignment[] = [];
	for (const [domain, list] of byDomain) placeDomain(list, countIn(occupancy, domain), startBatch, cap, assigned);
	return { assigned, skipped, startBatch };
}

/** Known addresses (lower-cased), and per domain how many of them each marketing batch already holds. */
function readExisting(entries: Iterable<string | ExistingContact>, tags: TagClassifier): { existing: Set<string>; occupancy: Map<string, number[]> } {
	const existing = new Set<string>();
	// domain → batch → count, from existing contacts whose batch is known
	const occupancy = new Map<string, number[]>();
	for (const entry of entries) {
		const contact: ExistingContact = typeof entry === 'string' ? { email: entry } : entry;
		const parsed = parseAddress(contact?.email);
		const email =
			parsed?.email ??
			String(contact?.email ?? '')
				.trim()
				.toLowerCase();
		if (!email) continue;
		existing.add(email);
		if (!parsed) continue;
		const batch = contact.batch !== undefined ? contact.batch : marketingBatchOf(contact.tags, tags);
		if (batch !== undefined && batch >= 1 && batch <= BATCH_COUNT.marketing) countIn(occupancy, parsed.domain)[batch - 1]++;
	}
	return { existing, occupancy };
}

/** The batch of the first marketing tag, if the contact has one. */
function marketingBatchOf(contactTags: ExistingContact['tags'], tags: TagClassifier): number | undefined {
	if (!Array.isArray(contactTags)) return undefined;
	for (const t of contactTags) {
		const info = tags.info(t);
		if (info.batch?.group === 'marketing') return info.batch.batch;
	}
	return undefined;
}

type NewAddress = { email: string; index: number };

/**
 * New addresses grouped by domain, in order of first appearance; invalid, existing and repeated addresses are
 * skipped with the reason.
 */
function groupNewAddresses(
	emails: Iterable<unknown>,
	existing: ReadonlySet<string>,
): { byDomain: Map<string, NewAddress[]>; skipped: SkippedAddress[] } {
	const byDomain = new Map<string, NewAddress[]>();
	const skipped: SkippedAddress[] = [];
	const seen = new Set<string>();
	let index = -1;
	for (const input of emails) {
		index++;
		const parsed = parseAddress(input);
		if (!parsed) {
			skipped.push({ input, index, reason: 'invalid-address', detail: explainInvalidAddress(input) });
			continue;
		}
		if (existing.has(parsed.email)) {
			skipped.push({ input, index, reason: 'existing', detail: `${parsed.email} is already a contact` });
			continue;
		}
		if (seen.has(parsed.email)) {
			skipped.push({ input, index, reason: 'duplicate', detail: `${parsed.email} appears earlier in this input` });
			continue;
		}
		seen.add(parsed.email);
		let list = byDomain.get(parsed.domain);
		if (!list) byDomain.set(parsed.domain, (list = []));
		list.push({ email: parsed.email, index });
	}
	return { byDomain, skipped };
}

/** One domain's addresses, in order, into the first batch from the start batch still under the cap. */
function placeDomain(list: readonly NewAddress[], counts: number[], startBatch: number, cap: number, assigned: BatchAssignment[]): void {
	let offset = 0; // batches before this one (from the start batch) are full for this domain
	for (const { email, index } of list) {
		while (offset < BATCH_COUNT.marketing && counts[batchAt(startBatch, offset) - 1] >= cap) offset++;
		if (offset < BATCH_COUNT.marketing) {
			const batch = batchAt(startBatch, offset);
			counts[batch - 1]++;
			assigned.push({ email, batch, index });
		} else {
			const batch = leastFullBatch(counts, startBatch);
			counts[batch - 1]++;
			assigned.push({ email, batch, index, overCap: true });
		}
	}
}

/** All 30 batches hold the cap: spread the rest evenly rather than refuse them (the first least full from the start). */
function leastFullBatch(counts: readonly number[], startBatch: number): number {
	let best = 0;
	for (let k = 1; k < BATCH_COUNT.marketing; k++) {
		if (counts[batchAt(startBatch, k) - 1] < counts[batchAt(startBatch, best) - 1]) best = k;
	}
	return batchAt(startBatch, best);
}

/** `{ email, batch }` for every new address (see planBatchAssignment for the skipped ones and why). */
export function assignBatches(emails: Iterable<unknown>, options: AssignOptions): Array<{ email: string; batch: number }> {
	return planBatchAssignment(emails, options).assigned.map(({ email, batch }) => ({ email, batch }));
}

function batchAt(start: number, offset: number): number {
	return ((start - 1 + offset) % BATCH_COUNT.marketing) + 1;
}

function countIn(occupancy: Map<string, number[]>, domain: string): number[] {
	let counts = occupancy.get(domain);
	if (!counts) occupancy.set(domain, (counts = new Array<number>(BATCH_COUNT.marketing).fill(0)));
	return counts;
}
