import { DateTime } from 'luxon';
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type IPairedItemData } from 'n8n-workflow';
import {
	computeListHealth,
	DEFAULT_LIST_HEALTH_CREATED_AT_FIELD,
	DEFAULT_LIST_HEALTH_EMAIL_FIELD,
	DEFAULT_LIST_HEALTH_PERIOD,
	DEFAULT_LIST_HEALTH_RISK_PREFIXES,
	DEFAULT_LIST_HEALTH_RISK_TAGGED_AT_FIELD,
	DEFAULT_LIST_HEALTH_TAGS_DELIMITER,
	DEFAULT_LIST_HEALTH_TAGS_FIELD,
	isCountedListHealth,
	listHealthFromCounts,
	metricsInstant,
	sumCountedListHealth,
	type ListHealth,
	type ListHealthContact,
	type ListHealthOptions,
} from '../../../../core/metrics';
import { valueAtPath } from '../../../../core/paths';
import { splitList } from '../../../../core/tags';
import { forEachItem } from '../../../shared/perItem';
import type { ReadEvents } from './readEvents';

/** The input the contacts come from when List Health is on. */
const CONTACTS_INPUT = 1;

/** [start, end) of the chosen period, in the time zone. */
export function periodBounds(
	period: string,
	timeZone: string,
	now: DateTime,
	custom: { start: unknown; end: unknown },
): { start: unknown; end: unknown } {
	const today = now.setZone(timeZone).startOf('day');
	switch (period) {
		case 'last7Days':
			return { start: today.minus({ days: 6 }).toMillis(), end: today.plus({ days: 1 }).toMillis() };
		case 'last30Days':
			return { start: today.minus({ days: 29 }).toMillis(), end: today.plus({ days: 1 }).toMillis() };
		case 'thisMonth':
			return { start: today.startOf('month').toMillis(), end: today.startOf('month').plus({ months: 1 }).toMillis() };
		case 'lastMonth':
			return { start: today.startOf('month').minus({ months: 1 }).toMillis(), end: today.startOf('month').toMillis() };
		default:
			return custom;
	}
}

/** Where each contact field is read from (dot paths allowed). */
interface ContactFieldNames {
	email: string;
	tags: string;
	createdAt: string;
	riskTaggedAt: string;
}

function contactFieldNames(f: IDataObject): ContactFieldNames {
	return {
		email: String(f.emailField || DEFAULT_LIST_HEALTH_EMAIL_FIELD),
		tags: String(f.tagsField || DEFAULT_LIST_HEALTH_TAGS_FIELD),
		createdAt: String(f.createdAtField || DEFAULT_LIST_HEALTH_CREATED_AT_FIELD),
		riskTaggedAt: String(f.riskTaggedAtField || DEFAULT_LIST_HEALTH_RISK_TAGGED_AT_FIELD),
	};
}

/** What is wrong with a contact read from its item, or null. */
function contactProblem(contact: ListHealthContact, fields: ContactFieldNames, timeZone: string): string | null {
	if (typeof contact.email !== 'string' || !contact.email.trim()) return `no email address in "${fields.email}"`;
	let problem: string | null = null;
	for (const [name, value] of [
		[fields.createdAt, contact.createdAt],
		[fields.riskTaggedAt, contact.riskTaggedAt],
	] as const) {
		const ms = metricsInstant(value, timeZone);
		if (ms !== null && Number.isNaN(ms)) problem = `"${name}" is not a date: ${JSON.stringify(value)}`;
	}
	return problem;
}

/** The items of the Contacts input; none when it is not connected. */
function contactInput(ctx: IExecuteFunctions): INodeExecutionData[] {
	try {
		return ctx.getInputData(CONTACTS_INPUT) ?? [];
	} catch {
		return [];
	}
}

/** The contacts of the Contacts input with their pairings; a bad one is an error item (Continue On Fail) or throws. */
async function readContacts(ctx: IExecuteFunctions, fields: ContactFieldNames, timeZone: string) {
	const contacts: ListHealthContact[] = [];
	const paired: IPairedItemData[] = [];
	const errors = await forEachItem(
		ctx,
		contactInput(ctx),
		({ json }, i) => {
			const contact = {
				email: valueAtPath(json, fields.email),
				tags: valueAtPath(json, fields.tags),
				createdAt: valueAtPath(json, fields.createdAt),
				riskTaggedAt: valueAtPath(json, fields.riskTaggedAt),
			};
			const problem = contactProblem(contact, fields, timeZone);
			if (problem) throw new NodeOperationError(ctx.getNode(), `Contact ${i}: ${problem}`, { itemIndex: i });
			contacts.push(contact);
			paired.push({ item: i, input: CONTACTS_INPUT });
		},
		{ input: CONTACTS_INPUT },
	);
	return { contacts, paired, errors };
}

/** The list-health options from the parameters: the period's bounds and how risk tags are recognised. */
function listHealthOptions(ctx: IExecuteFunctions, f: IDataObject, timeZone: string): ListHealthOptions {
	const period = String(ctx.getNodeParameter('period', 0, DEFAULT_LIST_HEALTH_PERIOD));
	const bounds = periodBounds(period, timeZone, DateTime.now(), {
		start: ctx.getNodeParameter('periodStart', 0, ''),
		end: ctx.getNodeParameter('periodEnd', 0, ''),
	});
	return {
		periodStart: bounds.start,
		periodEnd: bounds.end,
		timeZone,
		riskPrefix: f.riskPrefix === undefined ? DEFAULT_LIST_HEALTH_RISK_PREFIXES : String(f.riskPrefix),
		riskTags: splitList(f.riskTags ?? '', ','),
		tagsDelimiter: f.tagsDelimiter ? String(f.tagsDelimiter) : DEFAULT_LIST_HEALTH_TAGS_DELIMITER,
	};
}

/**
 * List health a store counted: the Contacts input is one item with every count of a ListHealth, or one such item per
 * part of a list counted in parts (added up).
 */
function countedHealth(ctx: IExecuteFunctions): { items: INodeExecutionData[]; health: ListHealth } | undefined {
	const input = contactInput(ctx);
	if (input.length === 0 || !input.every((i) => isCountedListHealth(i.json))) return undefined;
	try {
		const health = listHealthFromCounts(input.length === 1 ? input[0].json : sumCountedListHealth(input.map((i) => i.json)));
		return { items: [{ json: health as unknown as IDataObject, pairedItem: input.map((_, item) => ({ item, input: CONTACTS_INPUT })) }], health };
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Contacts input: ${(error as Error).message}`, {
			description: 'Give the Contacts input the contacts, or one item with the list-health counts of the store',
		});
	}
}

/**
 * The List Health output: one item, then error items for bad contacts (with Continue On Fail). The Contacts input
 * carries the contacts, or one item of list health a store counted; without events (`read` undefined: the Events input
 * carried counted rows) only the latter works.
 */
export async function listHealthItems(
	ctx: IExecuteFunctions,
	read: ReadEvents | undefined,
	timeZone: string,
): Promise<{ items: INodeExecutionData[]; health?: ListHealth }> {
	const counted = countedHealth(ctx);
	if (counted) return counted;
	if (!read)
		throw new NodeOperationError(ctx.getNode(), 'List Health from counted rows needs the list-health counts of the store on the Contacts input', {
			description: 'Give the Contacts input one item with the list-health counts (as the Postgres report counts them), or give the node the events',
		});
	const f = ctx.getNodeParameter('contactFields', 0, {}) as IDataObject;
	const options = listHealthOptions(ctx, f, timeZone);
	const { contacts, paired, errors } = await readContacts(ctx, contactFieldNames(f), timeZone);
	let health: ListHealth;
	try {
		health = computeListHealth(contacts, read.events, options);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the period (a custom period needs a start and an end)' });
	}
	return { items: [{ json: health as unknown as IDataObject, pairedItem: paired }, ...errors], health };
}
