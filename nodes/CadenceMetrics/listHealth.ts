import { DateTime } from 'luxon';
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type IDataObject } from 'n8n-workflow';
import {
	computeListHealth,
	DEFAULT_LIST_HEALTH_CREATED_AT_FIELD,
	DEFAULT_LIST_HEALTH_EMAIL_FIELD,
	DEFAULT_LIST_HEALTH_PERIOD,
	DEFAULT_LIST_HEALTH_RISK_PREFIXES,
	DEFAULT_LIST_HEALTH_RISK_TAGGED_AT_FIELD,
	DEFAULT_LIST_HEALTH_TAGS_DELIMITER,
	DEFAULT_LIST_HEALTH_TAGS_FIELD,
	metricsInstant,
	type ListHealth,
	type ListHealthContact,
} from '../../core/metrics';
import { valueAtPath } from '../../core/paths';
import type { ReadEvents } from './readEvents';

/** [start, end) of the chosen period, in the time zone. */
export function periodBounds(period: string, timeZone: string, now: DateTime, custom: { start: unknown; end: unknown }): { start: unknown; end: unknown } {
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

/** What is wrong with a contact read from its item, or null. */
function contactProblem(contact: ListHealthContact, fields: ContactFieldNames, timeZone: string): string | null {
	if (typeof contact.email !== 'string' || !contact.email.trim()) return `no email address in "${fields.email}"`;
	let problem: string | null = null;
	for (const [name, value] of [[fields.createdAt, contact.createdAt], [fields.riskTaggedAt, contact.riskTaggedAt]] as const) {
		const ms = metricsInstant(value, timeZone);
		if (ms !== null && Number.isNaN(ms)) problem = `"${name}" is not a date: ${JSON.stringify(value)}`;
	}
	return problem;
}

/** The contacts of the Contacts input with their pairings; a bad one is an error item (Continue On Fail) or throws. */
function readContacts(ctx: IExecuteFunctions, contactItems: INodeExecutionData[], fields: ContactFieldNames, timeZone: string) {
	const errors: INodeExecutionData[] = [];
	const contacts: ListHealthContact[] = [];
	const paired: Array<{ item: number; input: number }> = [];
	contactItems.forEach((item, i) => {
		const json = item.json;
		const contact = { email: valueAtPath(json, fields.email), tags: valueAtPath(json, fields.tags), createdAt: valueAtPath(json, fields.createdAt), riskTaggedAt: valueAtPath(json, fields.riskTaggedAt) };
		const problem = contactProblem(contact, fields, timeZone);
		if (problem) {
			const message = `Contact ${i}: ${problem}`;
			if (ctx.continueOnFail()) errors.push({ json: { error: message }, pairedItem: { item: i, input: 1 } });
			else throw new NodeOperationError(ctx.getNode(), message, { itemIndex: i });
			return;
		}
		contacts.push(contact);
		paired.push({ item: i, input: 1 });
	});
	return { contacts, paired, errors };
}

/** The List Health output: one item, or error items for bad contacts (with Continue On Fail). */
export function listHealthItems(ctx: IExecuteFunctions, read: ReadEvents, timeZone: string): { items: INodeExecutionData[]; health?: ListHealth } {
	let contactItems: INodeExecutionData[];
	try {
		contactItems = ctx.getInputData(1) ?? [];
	} catch {
		contactItems = []; // the Contacts input is not connected
	}
	const f = ctx.getNodeParameter('contactFields', 0, {}) as IDataObject;
	const fields: ContactFieldNames = {
		email: String(f.emailField || DEFAULT_LIST_HEALTH_EMAIL_FIELD),
		tags: String(f.tagsField || DEFAULT_LIST_HEALTH_TAGS_FIELD),
		createdAt: String(f.createdAtField || DEFAULT_LIST_HEALTH_CREATED_AT_FIELD),
		riskTaggedAt: String(f.riskTaggedAtField || DEFAULT_LIST_HEALTH_RISK_TAGGED_AT_FIELD),
	};
	const period = String(ctx.getNodeParameter('period', 0, DEFAULT_LIST_HEALTH_PERIOD));
	const bounds = periodBounds(period, timeZone, DateTime.now(), {
		start: ctx.getNodeParameter('periodStart', 0, ''),
		end: ctx.getNodeParameter('periodEnd', 0, ''),
	});
	const { contacts, paired, errors } = readContacts(ctx, contactItems, fields, timeZone);
	let health: ListHealth;
	try {
		health = computeListHealth(contacts, read.events, {
			periodStart: bounds.start,
			periodEnd: bounds.end,
			timeZone,
			riskPrefix: f.riskPrefix === undefined ? DEFAULT_LIST_HEALTH_RISK_PREFIXES : String(f.riskPrefix),
			riskTags: String(f.riskTags ?? '')
				.split(',')
				.map((t) => t.trim())
				.filter(Boolean),
			tagsDelimiter: f.tagsDelimiter ? String(f.tagsDelimiter) : DEFAULT_LIST_HEALTH_TAGS_DELIMITER,
		});
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the period (a custom period needs a start and an end)' });
	}
	return { items: [{ json: health as unknown as IDataObject, pairedItem: paired }, ...errors], health };
}
