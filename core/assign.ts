/**
 * Assigning new contacts to marketing batches. Contacts found on day d go to batch d; a company's addresses fill
 * batch d up to a per-company cap and roll on to d+1, d+2, ... (wrapping 30 → 01), because many messages to one
 * company on one day get mail blocked. A company is the registrable domain (companyOf): a.example.co.uk and
 * b.example.co.uk share one cap, and contacts already in batches count towards it.
 */
import { DateTime } from 'luxon';
import { parseAddress, explainInvalidAddress } from './address';
import { toZonedDateTime } from './calendar';
import { companyOf } from './company';
import { BATCH_COUNT, TagClassifier, type TagGrammar } from './tags';

export interface ExistingContact {
	email: string;
	/** Marketing batch, if known; otherwise read from `tags`. Known batches count towards the company cap. */
	batch?: number;
	tags?: string[];
}

/**
 * Most addresses of one company (registrable domain) put into one marketing batch: more than this to one company on
 * one day gets mail blocked. The name keeps `domain` for compatibility.
 */
export const DEFAULT_PER_DOMAIN_CAP = 10;

export interface AssignOptions {
	date: Date | string | number | DateTime;
	/** Most addresses of one company (registrable domain) per batch, existing contacts included; default {@link DEFAULT_PER_DOMAIN_CAP}. */
	perDomainCap?: number;
	/** Contacts already in the base (every earlier import): skipped when given again, and their batches count. */
	existing?: Iterable<string | ExistingContact>;
	timeZone?: string;
	grammar?: Partial<TagGrammar>;
}

export interface BatchAssignment {
	email: string;
	batch: number;
	/** Index of the address in the input, so callers can map back to their items. */
	index: number;
	/** True when every batch already holds the cap for this company and the address went to the least full one. */
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
 * addresses are skipped with a reason. Output is grouped by company in order of first appearance, addresses in
 * input order within a company.
 */
export function planBatchAssignment(emails: Iterable<unknown>, options: AssignOptions): AssignResult {
	const cap = options.perDomainCap ?? DEFAULT_PER_DOMAIN_CAP;
	if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`perDomainCap must be a whole number ≥ 1, got ${cap}`);
	const startBatch = startBatchForDay(toZonedDateTime(options.date, options.timeZone ?? 'UTC').day);
	const { existing, occupancy } = readExisting(options.existing ?? [], new TagClassifier(options.grammar));
	const { byCompany, skipped } = groupNewAddresses(emails, existing);
	const assigned: BatchAssignment[] = [];
	for (const [company, list] of byCompany) placeCompany(list, countIn(occupancy, company), startBatch, cap, assigned);
	return { assigned, skipped, startBatch };
}

/** Known addresses (lower-cased), and per company how many of them each marketing batch already holds. */
function readExisting(entries: Iterable<string | ExistingContact>, tags: TagClassifier): { existing: Set<string>; occupancy: Map<string, number[]> } {
	const existing = new Set<string>();
	// company → batch → count, from existing contacts whose batch is known
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
		if (batch !== undefined && batch >= 1 && batch <= BATCH_COUNT.marketing) countIn(occupancy, companyOf(parsed.domain))[batch - 1]++;
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
 * New addresses grouped by company, in order of first appearance; invalid, existing and repeated addresses are
 * skipped with the reason.
 */
function groupNewAddresses(
	emails: Iterable<unknown>,
	existing: ReadonlySet<string>,
): { byCompany: Map<string, NewAddress[]>; skipped: SkippedAddress[] } {
	const byCompany = new Map<string, NewAddress[]>();
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
		const company = companyOf(parsed.domain);
		let list = byCompany.get(company);
		if (!list) byCompany.set(company, (list = []));
		list.push({ email: parsed.email, index });
	}
	return { byCompany, skipped };
}

/** One company's addresses, in order, into the first batch from the start batch still under the cap. */
function placeCompany(list: readonly NewAddress[], counts: number[], startBatch: number, cap: number, assigned: BatchAssignment[]): void {
	let offset = 0; // batches before this one (from the start batch) are full for this company
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

function countIn(occupancy: Map<string, number[]>, company: string): number[] {
	let counts = occupancy.get(company);
	if (!counts) occupancy.set(company, (counts = new Array<number>(BATCH_COUNT.marketing).fill(0)));
	return counts;
}
