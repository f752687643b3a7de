/**
 * Leads per channel, for the report's channel table: inbound leads (mail to a substitute address), unique leads
 * (first lead from a sender for that channel) and, when the channel's spend is given, cost per lead. Input: inbound
 * events, or rows a store already counted ({ channel, leads, uniqueLeads }), or both.
 */
import { normalizeEmail } from '../address';

/** The channel shown for leads whose substitute address had no known channel. */
export const UNKNOWN_CHANNEL = '(unknown)';

export interface ChannelLeadsOptions {
	/** Spend per channel over the report's period, e.g. { 'Google Ads': 1500 }; channel names match case-insensitively. */
	costPerChannel?: Record<string, unknown>;
}

export interface ChannelLeadsRow {
	channel: string;
	leads: number;
	uniqueLeads: number;
	/** The channel's spend, or null when none was given. */
	cost: number | null;
	/** cost / leads; null without a cost or without leads. */
	costPerLead: number | null;
	/** cost / uniqueLeads; null without a cost or without unique leads. */
	costPerUniqueLead: number | null;
}

interface Lead {
	email: string;
	at: number;
	unique: boolean | undefined;
}

/** A stored flag: booleans, and the text or numbers stores turn them into. */
function flagOf(value: unknown): boolean | undefined {
	if (typeof value === 'boolean') return value;
	if (value === 1 || value === 'true' || value === '1' || value === 't') return true;
	if (value === 0 || value === 'false' || value === '0' || value === 'f') return false;
	return undefined;
}

function costOf(channel: string, value: unknown): number {
	const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
		throw new Error(`Cost per channel: the cost of "${channel}" must be a number of zero or more, got ${JSON.stringify(value)}`);
	}
	return n;
}

interface ChannelGroup {
	name: string;
	leads: Lead[];
	/** Leads and unique leads a store counted. */
	counted: number;
	countedUnique: number;
}

/** A count a store returned (a number or numeric text), or null when the item is not a counted row. */
function countOf(value: unknown): number | null {
	const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : null;
}

function groupOf(groups: Map<string, ChannelGroup>, channel: unknown): ChannelGroup {
	const name = typeof channel === 'string' && channel.trim() ? channel.trim() : UNKNOWN_CHANNEL;
	const key = name.toLowerCase();
	let group = groups.get(key);
	if (!group) groups.set(key, (group = { name, leads: [], counted: 0, countedUnique: 0 }));
	return group;
}

/** Inbound events and counted rows grouped by channel (case-insensitive), replayed ids once; the name is the first spelling. */
function leadsByChannel(items: unknown[]): Map<string, ChannelGroup> {
	const groups = new Map<string, ChannelGroup>();
	const seenIds = new Set<string>();
	for (const item of items) {
		if (!item || typeof item !== 'object') continue;
		const e = item as Record<string, unknown>;
		// a counted row has no type (a store's null column is no type either)
		const counted = (e.type === undefined || e.type === null) && (e.kind === undefined || e.kind === null) ? countOf(e.leads) : null;
		if (counted !== null) {
			const group = groupOf(groups, e.channel);
			group.counted += counted;
			group.countedUnique += Math.min(counted, countOf(e.uniqueLeads) ?? 0);
			continue;
		}
		if (e.type !== 'inbound' && e.kind !== 'inbound') continue;
		const id = typeof e.id === 'string' && e.id ? e.id : typeof e.eventId === 'string' && e.eventId ? e.eventId : '';
		if (id) {
			if (seenIds.has(id)) continue;
			seenIds.add(id);
		}
		const at = Date.parse(String(e.at ?? ''));
		groupOf(groups, e.channel).leads.push({
			email: normalizeEmail(e.email),
			at: Number.isNaN(at) ? Infinity : at,
			unique: flagOf(e.unique ?? e.isUnique),
		});
	}
	return groups;
}

/**
 * Unique leads: a lead whose event says `unique` (the store decided it against all earlier leads) counts by that flag;
 * a lead without the flag is unique when it is the earliest from its sender for the channel among these events.
 */
function uniqueCount(leads: Lead[]): number {
	const firstAt = new Map<string, Lead>();
	for (const lead of leads) {
		const first = firstAt.get(lead.email);
		if (!first || lead.at < first.at) firstAt.set(lead.email, lead);
	}
	let n = 0;
	for (const lead of leads) {
		if (lead.unique !== undefined) n += lead.unique ? 1 : 0;
		else if (lead.email === '' || firstAt.get(lead.email) === lead) n += 1;
	}
	return n;
}

function ratio(cost: number | null, count: number): number | null {
	return cost === null || count === 0 ? null : cost / count;
}

/**
 * One row per channel with leads or a given cost, most leads first (then by name). Events of other types are
 * ignored. Throws a readable error for a cost that is not a number of zero or more.
 */
export function channelLeads(events: unknown[], options: ChannelLeadsOptions = {}): ChannelLeadsRow[] {
	const groups = leadsByChannel(Array.isArray(events) ? events : []);
	const costs = new Map<string, number>();
	for (const [name, value] of Object.entries(options.costPerChannel ?? {})) {
		const group = groupOf(groups, name);
		const key = group.name.toLowerCase();
		costs.set(key, (costs.get(key) ?? 0) + costOf(group.name, value));
	}
	const rows: ChannelLeadsRow[] = [];
	for (const [key, group] of groups) {
		const cost = costs.has(key) ? (costs.get(key) as number) : null;
		const leads = group.leads.length + group.counted;
		const uniqueLeads = uniqueCount(group.leads) + group.countedUnique;
		rows.push({ channel: group.name, leads, uniqueLeads, cost, costPerLead: ratio(cost, leads), costPerUniqueLead: ratio(cost, uniqueLeads) });
	}
	return rows.sort((a, b) => b.leads - a.leads || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
}
