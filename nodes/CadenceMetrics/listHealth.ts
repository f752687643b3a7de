import { DateTime } from 'luxon';
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type IDataObject } from 'n8n-workflow';
import { computeListHealth, metricsInstant, type ListHealth, type ListHealthContact } from '../core/metrics';
import type { ReadEvents } from './readEvents';

function field(json: IDataObject, path: string): unknown {
	if (path in json) return json[path];
	let v: unknown = json;
	for (const key of path.split('.')) {
		if (v === null || typeof v !== 'object') return undefined;
		v = (v as IDataObject)[key];
	}
	return v;
}

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

/** The List Health output: one item, or error items for bad contacts (with Continue On Fail). */
export function listHealthItems(ctx: IExecuteFunctions, read: ReadEvents, timeZone: string): { items: INodeExecutionData[]; health?: ListHealth } {
	let contactItems: INodeExecutionData[];
	try {
		contactItems = ctx.getInputData(1) ?? [];
	} catch {
		contactItems = []; // the Contacts input is not connected
	}
	const f = ctx.getNodeParameter('contactFields', 0, {}) as IDataObject;
	const emailField = String(f.emailField || 'email');
	const tagsField = String(f.tagsField || 'tags');
	const createdAtField = String(f.createdAtField || 'createdAt');
	const riskTaggedAtField = String(f.riskTaggedAtField || 'riskTaggedAt');
	const period = String(ctx.getNodeParameter('period', 0, 'last30Days'));
	const bounds = periodBounds(period, timeZone, DateTime.now(), {
		start: ctx.getNodeParameter('periodStart', 0, ''),
		end: ctx.getNodeParameter('periodEnd', 0, ''),
	});
	const errors: INodeExecutionData[] = [];
	const contacts: ListHealthContact[] = [];
	const paired: Array<{ item: number; input: number }> = [];
	contactItems.forEach((item, i) => {
		const json = item.json;
		const contact = { email: field(json, emailField), tags: field(json, tagsField), createdAt: field(json, createdAtField), riskTaggedAt: field(json, riskTaggedAtField) };
		let problem: string | null = null;
		if (typeof contact.email !== 'string' || !contact.email.trim()) problem = `no email address in "${emailField}"`;
		else
			for (const [name, value] of [[createdAtField, contact.createdAt], [riskTaggedAtField, contact.riskTaggedAt]] as const) {
				const ms = metricsInstant(value, timeZone);
				if (ms !== null && Number.isNaN(ms)) problem = `"${name}" is not a date: ${JSON.stringify(value)}`;
			}
		if (problem) {
			const message = `Contact ${i}: ${problem}`;
			if (ctx.continueOnFail()) errors.push({ json: { error: message }, pairedItem: { item: i, input: 1 } });
			else throw new NodeOperationError(ctx.getNode(), message, { itemIndex: i });
			return;
		}
		contacts.push(contact);
		paired.push({ item: i, input: 1 });
	});
	let health: ListHealth;
	try {
		health = computeListHealth(contacts, read.events, {
			periodStart: bounds.start,
			periodEnd: bounds.end,
			timeZone,
			riskPrefix: f.riskPrefix === undefined ? 'Risk-' : String(f.riskPrefix),
			riskTags: String(f.riskTags ?? '')
				.split(',')
				.map((t) => t.trim())
				.filter(Boolean),
			tagsDelimiter: f.tagsDelimiter ? String(f.tagsDelimiter) : ',',
		});
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the period (a custom period needs a start and an end)' });
	}
	return { items: [{ json: health as unknown as IDataObject, pairedItem: paired }, ...errors], health };
}
