/**
 * Delivery and engagement metrics from cadence events, grouped by any keys.
 *
 * Built to count tens of millions of events in one process: one pass over the event objects counts each event in its
 * group and appends two kinds of small int records, straight into hash partitions: the hash of each event's id (for
 * deduplication) and, for events that carry a per-message fact (opened, clicked by a person, bounced, ...), the
 * fingerprint of its message key. Each partition then gets a hash table that fits in the CPU cache. One big JS
 * Set/Map of ten million strings costs 0.5–1 µs per insert on this kind of machine, mostly cache misses.
 */
import { BatchTagPartsCache, type MetricsTagGrammar } from './batchTagParts';
import { appendFingerprint96, hash32 } from './fingerprint';
import { valueAtNestedPath } from '../paths';
import { PartitionedRecords, partitionBits } from './partitionedRecords';
import { nextPow2, scratch } from './scratch';
import { MetricsCalendar, type MetricsTimeUnit } from './timeKeys';
import { DEFAULT_COST_PER_SEND } from './defaults';

export interface MetricsOptions {
	/** Group keys: any event field (dot paths allowed), plus `day`, `week`, `month`, `language`, `segment`. */
	groupBy?: string[];
	/** Time zone of `day`, `week` (ISO, Monday first) and `month`; default UTC. */
	timeZone?: string;
	/** Event field holding revenue to sum per group (e.g. on `replied` or your own `won` events). */
	revenueField?: string;
	/** Event field holding cost to sum per group (e.g. a per-message cost on `sent`). */
	costField?: string;
	/** Cost of each message sent, added to the group's cost (0: none); with any cost a row gets revenue and ROI. */
	costPerSend?: number;
	/** How batch tags are read for `language` and `segment`. */
	tagGrammar?: MetricsTagGrammar;
}

export interface MetricsCounts {
	sent: number;
	failed: number;
	skipped: number;
	/** Messages with at least one bounce (a message bouncing twice counts once). */
	bounced: number;
	hardBounced: number;
	softBounced: number;
	/** sent − bounced. */
	delivered: number;
	delayed: number;
	/** All `opened` events, repeats included. */
	opens: number;
	uniqueOpens: number;
	humanUniqueOpens: number;
	/** All `clicked` events, repeats included. */
	clicks: number;
	uniqueClicks: number;
	humanUniqueClicks: number;
	/** Messages that got a reply (two replies to one message count once); likewise the next three. */
	replies: number;
	autoReplies: number;
	unsubscribes: number;
	complaints: number;
	/** `inbound` events (mail to substitute addresses). */
	inbound: number;
	/** Contacts with a `converted` event (a contact is its address, else its message). */
	conversions: number;
	/** Contacts with an `opened` or `clicked` event flagged `forwarded` (someone the mail was forwarded to). */
	forwards: number;
}

export interface MetricsRates {
	deliveryRate: number | null;
	bounceRate: number | null;
	hardBounceRate: number | null;
	softBounceRate: number | null;
	openRate: number | null;
	humanOpenRate: number | null;
	clickThroughRate: number | null;
	clickRate: number | null;
	replyRate: number | null;
	unsubscribeRate: number | null;
	complaintRate: number | null;
	/** conversions / delivered. */
	conversionRate: number | null;
	/** forwards / humanUniqueOpens. */
	forwardRate: number | null;
}

export type MetricsGroupValue = string | null;

export type MetricsRow = MetricsCounts &
	MetricsRates & {
		/** Sum of `value` of the group's `converted` events. */
		conversionValue: number;
		revenue?: number;
		cost?: number;
		roi?: number | null;
		[groupKey: string]: MetricsGroupValue | number | undefined;
	};

export interface MetricsResult {
	rows: MetricsRow[];
	/** Row index of each input event (in `rows` order), −1 for events of an unknown type. */
	rowOfEvent: Int32Array;
	/** Events dropped because an earlier event had the same `id`. */
	duplicates: number;
	/** Events of a type metrics do not know. */
	ignored: number;
}

export const METRICS_TIME_KEYS = ['day', 'week', 'month'] as const;
export const METRICS_TAG_KEYS = ['language', 'segment'] as const;

// Counters of a group (COUNTERS_PER_GROUP Int32s at group * COUNTERS_PER_GROUP): first the raw count of each event
// type, at its type code; then, from UNIQUE_BASE, one count of distinct messages per fact bit.
// Event type codes:
const SENT = 0;
const FAILED = 1;
const SKIPPED = 2;
const BOUNCED = 3;
const DELAYED = 4;
const DELIVERED = 5;
const OPENED = 6;
const CLICKED = 7;
const REPLIED = 8;
const AUTO_REPLIED = 9;
const UNSUBSCRIBED = 10;
const COMPLAINED = 11;
const INBOUND = 12;
const CONVERTED = 13;
const UNKNOWN = 255;

// Per-message facts: bit b counts into counter slot UNIQUE_BASE + b the first time a message has it.
const UNIQUE_BASE = 14;
const F_OPEN = 1;
const F_HUMAN_OPEN = 2;
const F_CLICK = 4;
const F_HUMAN_CLICK = 8;
const F_BOUNCE = 16;
const F_HARD = 32;
const F_REPLY = 64;
const F_AUTO = 128;
const F_UNSUB = 256;
const F_COMPLAINT = 512;
// Per-contact facts (keyed by the contact, not the message).
const F_CONVERT = 1024;
const F_FORWARD = 2048;
const U_OPEN = UNIQUE_BASE;
const U_HUMAN_OPEN = UNIQUE_BASE + 1;
const U_CLICK = UNIQUE_BASE + 2;
const U_HUMAN_CLICK = UNIQUE_BASE + 3;
const U_BOUNCE = UNIQUE_BASE + 4;
const U_HARD = UNIQUE_BASE + 5;
const U_REPLY = UNIQUE_BASE + 6;
const U_AUTO = UNIQUE_BASE + 7;
const U_UNSUB = UNIQUE_BASE + 8;
const U_COMPLAINT = UNIQUE_BASE + 9;
const U_CONVERT = UNIQUE_BASE + 10;
const U_FORWARD = UNIQUE_BASE + 11;
const COUNTERS_PER_GROUP = UNIQUE_BASE + 12;

// Record layouts of the PartitionedRecords: the offset of each field in a record, and the record's width. They are
// module-local consts rather than exported objects so that the hot loops read them as constants (CommonJS output
// turns a use of an exported const into a property load).
// An event's id: the 32-bit hash of the id (it picks the partition and the hash slot), the event's index, its group.
const ID_HASH = 0;
const ID_EVENT = 1;
const ID_GROUP = 2;
const ID_WIDTH = 3;
// A per-message fact: the 96-bit fingerprint of the message key seeded with the group (three ints written by
// appendFingerprint96; the first picks the partition and the hash slot), the group, the event's index, the fact bits.
const FACT_KEY_A = 0;
const FACT_KEY_B = 1;
const FACT_KEY_C = 2;
const FACT_GROUP = 3;
const FACT_EVENT = 4;
const FACT_FLAGS = 5;
const FACT_WIDTH = 6;

function typeCode(t: unknown): number {
	switch (t) {
		case 'sent':
			return SENT;
		case 'opened':
			return OPENED;
		case 'clicked':
			return CLICKED;
		case 'delivered':
			return DELIVERED;
		case 'bounced':
			return BOUNCED;
		case 'failed':
			return FAILED;
		case 'skipped':
			return SKIPPED;
		case 'delayed':
			return DELAYED;
		case 'replied':
			return REPLIED;
		case 'auto_replied':
			return AUTO_REPLIED;
		case 'unsubscribed':
			return UNSUBSCRIBED;
		case 'complained':
			return COMPLAINED;
		case 'inbound':
			return INBOUND;
		case 'converted':
			return CONVERTED;
		default:
			return UNKNOWN;
	}
}

/** A person (or the image proxy fetching for one) opened the mail. */
function isHumanOpenClass(c: unknown): boolean {
	return c === 'human' || c === 'image_proxy';
}

// Public entry points take ArrayLike<object> so that arrays typed with an interface (no index signature) pass;
// fields are read by name inside.
type EventLike = Record<string, unknown>;
type KeyReader = (e: EventLike) => MetricsGroupValue;

/**
 * An event field by name or dot path. Unlike valueAtPath, a key spelled like the path that holds undefined does not
 * hide the nested field.
 */
function fieldValue(e: EventLike, path: string): unknown {
	const direct = e[path];
	if (direct !== undefined || !path.includes('.')) return direct;
	return valueAtNestedPath(e, path);
}

function groupValue(v: unknown): MetricsGroupValue {
	if (typeof v === 'string') return v === '' ? null : v;
	if (v === null || v === undefined) return null;
	if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
	if (typeof v === 'object') return JSON.stringify(v);
	return String(v);
}

const textValue = (v: unknown): MetricsGroupValue => (typeof v === 'string' && v !== '' ? v : groupValue(v));

/** Readers of the usual event fields by name: a fixed property load is much cheaper than `e[name]`. */
const NAMED_READERS: Record<string, KeyReader> = {
	campaign: (e) => textValue(e.campaign),
	batchTag: (e) => textValue(e.batchTag),
	variant: (e) => textValue(e.variant),
	email: (e) => textValue(e.email),
	type: (e) => textValue(e.type),
	class: (e) => textValue(e.class),
	channel: (e) => textValue(e.channel),
	token: (e) => textValue(e.token),
	reason: (e) => textValue(e.reason),
};

function keyReader(name: string, options: MetricsOptions): KeyReader {
	if ((METRICS_TIME_KEYS as readonly string[]).includes(name)) {
		const calendar = new MetricsCalendar(name as MetricsTimeUnit, options.timeZone ?? 'UTC');
		return (e) => {
			const key = calendar.key(e.at);
			if (key === null)
				throw new RangeError(`event ${typeof e.id === 'string' ? `"${e.id}" ` : ''}has no valid time in "at": ${JSON.stringify(e.at)}`);
			return key;
		};
	}
	if (name === 'language' || name === 'segment') {
		const tags = new BatchTagPartsCache(options.tagGrammar);
		return (e) => {
			const parts = tags.get(e.batchTag);
			return parts ? parts[name] : null;
		};
	}
	const named = NAMED_READERS[name];
	if (named) return named;
	if (!name.includes('.'))
		return (e) => {
			const v = e[name];
			return typeof v === 'string' && v !== '' ? v : groupValue(v);
		};
	return (e) => groupValue(fieldValue(e, name));
}

function numberValue(v: unknown): number {
	if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
	if (typeof v === 'string' && v.trim() !== '') {
		const n = Number(v);
		return Number.isFinite(n) ? n : 0;
	}
	return 0;
}

/** The message an event belongs to: its token, else its Message-ID, else address + campaign + batch tag. */
function messageKey(e: EventLike): string {
	const token = e.token;
	if (typeof token === 'string' && token !== '') return token;
	const mid = e.messageId;
	if (typeof mid === 'string' && mid !== '') return `\u0001${mid}`;
	return `\u0002${String(e.email ?? '')
		.trim()
		.toLowerCase()}\u0000${String(e.campaign ?? '')}\u0000${String(e.batchTag ?? '')}`;
}

/**
 * The contact an event belongs to: its address (trimmed, lower-cased), else its message. Contact keys start with
 * \u0003, so they never equal a message key.
 */
function contactKey(e: EventLike): string {
	const email = String(e.email ?? '')
		.trim()
		.toLowerCase();
	return email !== '' ? `\u0003${email}` : `\u0003${messageKey(e)}`;
}

/** The per-contact fact bits an event of type `code` carries (0 for none). */
function contactFacts(code: number, e: EventLike): number {
	if (code === CONVERTED) return F_CONVERT;
	if ((code === OPENED || code === CLICKED) && (e.forwarded === true || e.forwarded === 'true')) return F_FORWARD;
	return 0;
}

/** The per-message fact bits an event of type `code` carries (0 for none). */
function messageFacts(code: number, e: EventLike): number {
	switch (code) {
		case OPENED:
			return isHumanOpenClass(e.class) ? F_OPEN | F_HUMAN_OPEN : F_OPEN;
		case CLICKED:
			return e.class === 'human' ? F_CLICK | F_HUMAN_CLICK | F_HUMAN_OPEN : F_CLICK;
		case BOUNCED: {
			const bounce = e.bounce as { hard?: unknown } | undefined;
			return bounce && bounce.hard === true ? F_BOUNCE | F_HARD : F_BOUNCE;
		}
		case REPLIED:
			return F_REPLY;
		case AUTO_REPLIED:
			return F_AUTO;
		case UNSUBSCRIBED:
			return F_UNSUB;
		case COMPLAINED:
			return F_COMPLAINT;
		default:
			return 0;
	}
}

function sameId(a: unknown, b: unknown): boolean {
	return a === b || String(a) === String(b);
}

/** Appends the id record of event `i` (group `g`); an event without a string or number id gets none. */
function appendIdRecord(ids: PartitionedRecords, id: unknown, i: number, g: number): void {
	const idText = typeof id === 'string' ? id : typeof id === 'number' ? String(id) : '';
	if (idText === '') return;
	const h = hash32(idText);
	const o = ids.append(h);
	const d = ids.data;
	d[o + ID_HASH] = h;
	d[o + ID_EVENT] = i;
	d[o + ID_GROUP] = g;
}

/** Appends the fact record of event `i` (group `g`, fact bits `flags`), keyed by `key` (its message or contact) within the group. */
function appendFactRecord(facts: PartitionedRecords, key: string, i: number, g: number, flags: number): void {
	const o = appendFingerprint96(facts, key, Math.imul(g + 1, 0x9e3779b1));
	const d = facts.data;
	d[o + FACT_GROUP] = g;
	d[o + FACT_EVENT] = i;
	d[o + FACT_FLAGS] = flags;
}

/**
 * Marks events whose `id` an earlier event already had and takes them off their group's counters. Events without
 * an id are never duplicates. Equal hashes are checked against the ids themselves, so the answer is exact.
 */
function markDuplicates(events: ArrayLike<EventLike>, ids: PartitionedRecords, dup: Uint8Array, counters: Int32Array): number {
	const d = ids.data;
	const slots = scratch(Int32Array, nextPow2(ids.maxCount() * 2));
	let duplicates = 0;
	for (let p = 0; p < ids.parts; p++) {
		const count = ids.counts[p];
		if (count < 2) continue;
		const mask = nextPow2(count * 2) - 1;
		slots.fill(-1, 0, mask + 1);
		for (let block = ids.firstBlock(p); block >= 0; block = ids.nextBlock(block)) {
			const end = ids.blockEnd(p, block);
			for (let o = block; o < end; o += ID_WIDTH) {
				const h = d[o + ID_HASH];
				let slot = h & mask;
				for (;;) {
					const s = slots[slot];
					if (s < 0) {
						slots[slot] = o;
						break;
					}
					// equal hashes: the ids themselves decide (replays, or a rare 32-bit collision)
					if (d[s + ID_HASH] === h && sameId(events[d[s + ID_EVENT]].id, events[d[o + ID_EVENT]].id)) {
						const i = d[o + ID_EVENT];
						dup[i] = 1;
						counters[d[o + ID_GROUP] * COUNTERS_PER_GROUP + typeCode(events[i].type)]--;
						duplicates++;
						break;
					}
					slot = (slot + 1) & mask;
				}
			}
		}
	}
	return duplicates;
}

/**
 * The groups met so far, with their keys, counters and money sums. An event's group is found through a trie of Maps,
 * one level per group key, so no key string is built per event.
 */
class GroupTable {
	readonly keys: MetricsGroupValue[][] = [];
	counters = scratch(Int32Array, 16 * COUNTERS_PER_GROUP);
	revenue = scratch(Float64Array, 16);
	cost = scratch(Float64Array, 16);
	conversionValue = scratch(Float64Array, 16);
	private readonly root = new Map<MetricsGroupValue, unknown>();
	private readonly dims: number;
	private readonly read0: KeyReader;
	private readonly read1: KeyReader;
	/** The keys read so far for a new group of three or more keys. */
	private readonly path: MetricsGroupValue[];

	constructor(private readonly readers: KeyReader[]) {
		this.dims = readers.length;
		this.read0 = readers[0];
		this.read1 = readers[1];
		this.path = new Array<MetricsGroupValue>(this.dims);
	}

	/** The group of event `e`, added when it is the first of its group. */
	groupOf(e: EventLike): number {
		const dims = this.dims;
		if (dims === 0) {
			if (this.keys.length === 0) this.keys.push([]);
			return 0;
		}
		if (dims === 1) {
			const v = this.read0(e);
			const found = this.root.get(v) as number | undefined;
			return found !== undefined ? found : this.addGroup(this.root, v, [v]);
		}
		if (dims === 2) {
			const v0 = this.read0(e);
			let level = this.root.get(v0) as Map<MetricsGroupValue, unknown> | undefined;
			if (level === undefined) this.root.set(v0, (level = new Map()));
			const v1 = this.read1(e);
			const found = level.get(v1) as number | undefined;
			return found !== undefined ? found : this.addGroup(level, v1, [v0, v1]);
		}
		return this.groupOfMany(e);
	}

	/** groupOf for three or more keys. */
	private groupOfMany(e: EventLike): number {
		const readers = this.readers;
		const last = this.dims - 1;
		let node = this.root;
		for (let d = 0; d < last; d++) {
			const v = readers[d](e);
			this.path[d] = v;
			let next = node.get(v) as Map<MetricsGroupValue, unknown> | undefined;
			if (next === undefined) {
				next = new Map();
				node.set(v, next);
			}
			node = next;
		}
		const v = readers[last](e);
		const found = node.get(v) as number | undefined;
		if (found !== undefined) return found;
		this.path[last] = v;
		return this.addGroup(node, v, this.path.slice());
	}

	/** A new group with these keys, entered in the trie level `level` under its last key `v`. */
	private addGroup(level: Map<MetricsGroupValue, unknown>, v: MetricsGroupValue, keys: MetricsGroupValue[]): number {
		const g = this.keys.length;
		this.keys.push(keys);
		if ((g + 1) * COUNTERS_PER_GROUP > this.counters.length) this.grow();
		level.set(v, g);
		return g;
	}

	/** Doubles the room for groups. */
	private grow(): void {
		const capacity = (this.counters.length / COUNTERS_PER_GROUP) * 2;
		const counters = scratch(Int32Array, capacity * COUNTERS_PER_GROUP);
		counters.set(this.counters);
		this.counters = counters;
		const revenue = scratch(Float64Array, capacity);
		revenue.set(this.revenue);
		this.revenue = revenue;
		const cost = scratch(Float64Array, capacity);
		cost.set(this.cost);
		this.cost = cost;
		const conversionValue = scratch(Float64Array, capacity);
		conversionValue.set(this.conversionValue);
		this.conversionValue = conversionValue;
	}
}

function ratio(numerator: number, denominator: number): number | null {
	return denominator === 0 ? null : numerator / denominator;
}

/** The order of metrics rows by their group keys: each key in turn, strings by UTF-16 code units, null last. */
export function compareMetricsGroupKeys(a: readonly MetricsGroupValue[], b: readonly MetricsGroupValue[]): number {
	for (let d = 0; d < a.length; d++) {
		const x = a[d];
		const y = b[d];
		if (x === y) continue;
		if (x === null) return 1;
		if (y === null) return -1;
		return x < y ? -1 : 1;
	}
	return 0;
}

/** The metrics of each group, with a row index per event (for pairing output rows with input items). */
export function computeMetricsDetailed(events: ArrayLike<object>, options: MetricsOptions = {}): MetricsResult {
	return compute(events as ArrayLike<EventLike>, options, true);
}

/** What the one pass over the events leaves for the later steps. */
interface EventPass {
	groups: GroupTable;
	/** The group of each event, −1 for an unknown type; empty unless asked for. */
	groupOf: Int32Array;
	ids: PartitionedRecords;
	facts: PartitionedRecords;
	/** Per-contact facts (conversions, forwards): few, so kept apart from the per-message ones. */
	contactFacts: PartitionedRecords;
	/** Index and group of each `converted` event (pairs), for their value once duplicates are known. */
	converted: number[];
	ignored: number;
}

/**
 * The one pass over the event objects: each event of a known type is counted in its group (duplicates included; the
 * few found later are taken off again), and its id and per-message fact records are appended.
 */
function countEvents(events: ArrayLike<EventLike>, readers: KeyReader[], keepGroups: boolean): EventPass {
	const n = events.length;
	const groupOf = scratch(Int32Array, keepGroups ? n : 0);
	const ids = new PartitionedRecords(ID_WIDTH, n, partitionBits(n));
	// facts: at most one per event, mostly fewer than half (the pool's unused pages are never touched)
	const facts = new PartitionedRecords(FACT_WIDTH, n, partitionBits(n >> 1));
	const contactFactRecords = new PartitionedRecords(FACT_WIDTH, n, partitionBits(n >> 4));
	const converted: number[] = [];
	const groups = new GroupTable(readers);
	let ignored = 0;
	for (let i = 0; i < n; i++) {
		const e = events[i];
		const code = typeCode(e.type);
		if (code === UNKNOWN) {
			if (keepGroups) groupOf[i] = -1;
			ignored++;
			continue;
		}
		const g = groups.groupOf(e);
		if (keepGroups) groupOf[i] = g;
		groups.counters[g * COUNTERS_PER_GROUP + code]++;
		appendIdRecord(ids, e.id, i, g);
		const flags = messageFacts(code, e);
		if (flags !== 0) appendFactRecord(facts, messageKey(e), i, g, flags);
		const perContact = contactFacts(code, e);
		if (perContact !== 0) appendFactRecord(contactFactRecords, contactKey(e), i, g, perContact);
		if (code === CONVERTED) converted.push(i, g);
	}
	return { groups, groupOf, ids, facts, contactFacts: contactFactRecords, converted, ignored };
}

/**
 * Revenue and cost per group, summed after deduplication (adding and taking off again would leave floating-point
 * residue).
 */
function sumMoney(
	events: ArrayLike<EventLike>,
	groupOf: Int32Array,
	dup: Uint8Array,
	groups: GroupTable,
	revenueField?: string,
	costField?: string,
): void {
	for (let i = 0; i < events.length; i++) {
		const g = groupOf[i];
		if (g < 0 || dup[i] === 1) continue;
		if (revenueField !== undefined) groups.revenue[g] += numberValue(fieldValue(events[i], revenueField));
		if (costField !== undefined) groups.cost[g] += numberValue(fieldValue(events[i], costField));
	}
}

/** The `value` of each kept `converted` event, summed per group (a missing or non-numeric value is 0). */
function sumConversionValues(events: ArrayLike<EventLike>, converted: number[], dup: Uint8Array, groups: GroupTable): void {
	for (let k = 0; k < converted.length; k += 2) {
		const i = converted[k];
		if (dup[i] !== 1) groups.conversionValue[converted[k + 1]] += numberValue(events[i].value);
	}
}

function compute(events: ArrayLike<EventLike>, options: MetricsOptions, withRowOfEvent: boolean): MetricsResult {
	const groupBy = options.groupBy ?? [];
	const readers = groupBy.map((name) => keyReader(name, options));
	const revenueField = options.revenueField || undefined;
	const costField = options.costField || undefined;
	const costPerSend = checkCostPerSend(options.costPerSend);
	const withMoney = revenueField !== undefined || costField !== undefined;
	// the group of each event: only kept when asked for, or for the money sums after deduplication
	const pass = countEvents(events, readers, withRowOfEvent || withMoney);
	const counters = pass.groups.counters;
	const dup = scratch(Uint8Array, events.length);
	const duplicates = markDuplicates(events, pass.ids, dup, counters);
	if (withMoney) sumMoney(events, pass.groupOf, dup, pass.groups, revenueField, costField);
	countMessageFacts(pass.facts, dup, counters);
	countMessageFacts(pass.contactFacts, dup, counters);
	sumConversionValues(events, pass.converted, dup, pass.groups);

	// rows, ordered by their keys
	const { keys } = pass.groups;
	const order = keys.map((_, g) => g).sort((a, b) => compareMetricsGroupKeys(keys[a], keys[b]));
	const rowOfGroup = scratch(Int32Array, order.length);
	const rows: MetricsRow[] = order.map((g, r) => {
		rowOfGroup[g] = r;
		return buildRow(groupBy, pass.groups, g, revenueField !== undefined, costField !== undefined, costPerSend);
	});
	const rowOfEvent = withRowOfEvent ? pass.groupOf : new Int32Array(0);
	if (withRowOfEvent) for (let i = 0; i < rowOfEvent.length; i++) if (rowOfEvent[i] >= 0) rowOfEvent[i] = rowOfGroup[rowOfEvent[i]];
	return { rows, rowOfEvent, duplicates, ignored: pass.ignored };
}

/**
 * Sets each message's fact bits per group; the first time a bit is set, the group's unique counter goes up. Messages
 * are told apart by group and the 96-bit fingerprint of their key (see appendFingerprint96 for the odds of a mix-up).
 */
function countMessageFacts(facts: PartitionedRecords, dup: Uint8Array, counters: Int32Array): void {
	const d = facts.data;
	const size = nextPow2(facts.maxCount() * 2);
	const slotRecord = scratch(Int32Array, size);
	const slotFlags = scratch(Uint16Array, size);
	for (let p = 0; p < facts.parts; p++) {
		const count = facts.counts[p];
		if (count === 0) continue;
		const mask = nextPow2(count * 2) - 1;
		slotRecord.fill(-1, 0, mask + 1);
		for (let block = facts.firstBlock(p); block >= 0; block = facts.nextBlock(block)) {
			const end = facts.blockEnd(p, block);
			for (let o = block; o < end; o += FACT_WIDTH) {
				if (dup[d[o + FACT_EVENT]] === 1) continue;
				const h = d[o + FACT_KEY_A];
				const g = d[o + FACT_GROUP];
				let slot = h & mask;
				for (;;) {
					const s = slotRecord[slot];
					if (s < 0) {
						slotRecord[slot] = o;
						slotFlags[slot] = 0;
						break;
					}
					if (
						d[s + FACT_KEY_A] === h &&
						d[s + FACT_KEY_B] === d[o + FACT_KEY_B] &&
						d[s + FACT_KEY_C] === d[o + FACT_KEY_C] &&
						d[s + FACT_GROUP] === g
					)
						break;
					slot = (slot + 1) & mask;
				}
				const had = slotFlags[slot];
				let fresh = d[o + FACT_FLAGS] & ~had;
				if (fresh === 0) continue;
				slotFlags[slot] = had | fresh;
				const base = g * COUNTERS_PER_GROUP + UNIQUE_BASE;
				while (fresh !== 0) {
					const low = fresh & -fresh;
					counters[base + 31 - Math.clz32(low)]++;
					fresh ^= low;
				}
			}
		}
	}
}

/** The counts a rate is computed from. */
export type MetricsRateCounts = Pick<
	MetricsCounts,
	| 'sent'
	| 'bounced'
	| 'hardBounced'
	| 'delivered'
	| 'uniqueOpens'
	| 'humanUniqueOpens'
	| 'humanUniqueClicks'
	| 'replies'
	| 'unsubscribes'
	| 'complaints'
	| 'conversions'
	| 'forwards'
>;

/** The rates of a row from its counts; a rate whose denominator is 0 is null. */
export function metricsRates(c: MetricsRateCounts): MetricsRates {
	return {
		deliveryRate: ratio(c.delivered, c.sent),
		bounceRate: ratio(c.bounced, c.sent),
		hardBounceRate: ratio(c.hardBounced, c.sent),
		softBounceRate: ratio(c.bounced - c.hardBounced, c.sent),
		openRate: ratio(c.uniqueOpens, c.delivered),
		humanOpenRate: ratio(c.humanUniqueOpens, c.delivered),
		clickThroughRate: ratio(c.humanUniqueClicks, c.humanUniqueOpens),
		clickRate: ratio(c.humanUniqueClicks, c.delivered),
		replyRate: ratio(c.replies, c.humanUniqueOpens),
		unsubscribeRate: ratio(c.unsubscribes, c.delivered),
		complaintRate: ratio(c.complaints, c.delivered),
		conversionRate: ratio(c.conversions, c.delivered),
		forwardRate: ratio(c.forwards, c.humanUniqueOpens),
	};
}

/**
 * Adds revenue, cost and ROI to a row. Cost: the cost field's sum (`sums.cost`) plus sent × costPerSend. Revenue: the
 * revenue field's sum (`sums.revenue`), else, when there is a cost, the row's conversionValue. ROI = (revenue − cost) /
 * cost, null for a cost of 0; no cost, no ROI.
 */
export function addMetricsMoney(row: MetricsRow, sums: { revenue?: number; cost?: number }, costPerSend = DEFAULT_COST_PER_SEND): MetricsRow {
	const withCost = sums.cost !== undefined || costPerSend > 0;
	const cost = withCost ? (sums.cost ?? 0) + (costPerSend > 0 ? row.sent * costPerSend : 0) : undefined;
	const revenue = sums.revenue ?? (withCost ? row.conversionValue : undefined);
	if (revenue !== undefined) row.revenue = revenue;
	if (cost !== undefined) row.cost = cost;
	if (revenue !== undefined && cost !== undefined) row.roi = ratio(revenue - cost, cost);
	return row;
}

/** The cost per send option: a number of zero or more. */
export function checkCostPerSend(value: unknown): number {
	if (value === undefined || value === null || value === '') return DEFAULT_COST_PER_SEND;
	const n = typeof value === 'string' ? Number(value) : value;
	if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
		throw new RangeError(`the cost per send must be a number of zero or more, got ${JSON.stringify(value)}`);
	return n;
}

function buildRow(groupBy: string[], table: GroupTable, g: number, withRevenue: boolean, withCost: boolean, costPerSend: number): MetricsRow {
	const c = table.counters;
	const at = g * COUNTERS_PER_GROUP;
	const sent = c[at + SENT];
	const bounced = c[at + U_BOUNCE];
	const hardBounced = c[at + U_HARD];
	const delivered = sent - bounced;
	const uniqueOpens = c[at + U_OPEN];
	const humanUniqueOpens = c[at + U_HUMAN_OPEN];
	const humanUniqueClicks = c[at + U_HUMAN_CLICK];
	const replies = c[at + U_REPLY];
	const unsubscribes = c[at + U_UNSUB];
	const complaints = c[at + U_COMPLAINT];
	const conversions = c[at + U_CONVERT];
	const forwards = c[at + U_FORWARD];
	const row = {} as MetricsRow;
	const keys = table.keys[g];
	for (let d = 0; d < groupBy.length; d++) row[groupBy[d]] = keys[d];
	Object.assign(row, {
		sent,
		failed: c[at + FAILED],
		skipped: c[at + SKIPPED],
		bounced,
		hardBounced,
		softBounced: bounced - hardBounced,
		delivered,
		delayed: c[at + DELAYED],
		opens: c[at + OPENED],
		uniqueOpens,
		humanUniqueOpens,
		clicks: c[at + CLICKED],
		uniqueClicks: c[at + U_CLICK],
		humanUniqueClicks,
		replies,
		autoReplies: c[at + U_AUTO],
		unsubscribes,
		complaints,
		inbound: c[at + INBOUND],
		conversions,
		forwards,
		...metricsRates({
			sent,
			bounced,
			hardBounced,
			delivered,
			uniqueOpens,
			humanUniqueOpens,
			humanUniqueClicks,
			replies,
			unsubscribes,
			complaints,
			conversions,
			forwards,
		}),
		conversionValue: table.conversionValue[g],
	} satisfies MetricsCounts & MetricsRates & { conversionValue: number });
	return addMetricsMoney(row, { revenue: withRevenue ? table.revenue[g] : undefined, cost: withCost ? table.cost[g] : undefined }, costPerSend);
}

/**
 * One row per group with delivery, engagement and list-risk figures. Events with the same `id` count once;
 * a message is its token (else Message-ID, else address + campaign + batch tag); a rate whose denominator is 0 is
 * null. Throws RangeError for an unknown time zone, or an event without a valid `at` when grouping by time.
 */
export function computeMetrics(events: ArrayLike<object>, options: MetricsOptions = {}): MetricsRow[] {
	return compute(events as ArrayLike<EventLike>, options, false).rows;
}
