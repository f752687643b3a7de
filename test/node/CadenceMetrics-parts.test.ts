/**
 * The Data-table report counts its events in parts by address and adds the parts up: the figures must equal one
 * count over all events, whatever the events. Runs the template's own part boundaries (its Code node) with the Data
 * table's filter semantics, its "Count the part" parameters on each part, and its Metrics parameters on the sums.
 */
import fc from 'fast-check';
import type { IDataObject } from 'n8n-workflow';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CadenceMetrics } from '../../nodes/CadenceMetrics/CadenceMetrics.node';
import { runNode } from '../helpers/n8n';

interface TemplateNode {
	name: string;
	parameters: IDataObject;
}
const template = JSON.parse(readFileSync(join(__dirname, '..', '..', 'workflows', '6-daily-report.json'), 'utf8')) as { nodes: TemplateNode[] };
const parameters = (name: string) => template.nodes.find((n) => n.name === name)!.parameters;
const node = new CadenceMetrics();

interface Part {
	fromCondition: string;
	from: string;
	toCondition: string;
	to: string;
}
const parts = (new Function(String(parameters('Parts of the address book').jsCode))() as Array<{ json: Part }>).map((p) => p.json);

/** A Data table condition on the email column, as n8n applies it (isEmpty is "is null"). */
function holds(condition: string, value: string, email: unknown): boolean {
	if (condition === 'isEmpty') return email === null || email === undefined;
	if (email === null || email === undefined) return false;
	const e = String(email);
	if (condition === 'gte') return e >= value;
	if (condition === 'lt') return e < value;
	throw new Error(`condition ${condition} not modelled`);
}
const inPart = (p: Part, e: IDataObject) => holds(p.fromCondition, p.from, e.email) && holds(p.toCondition, p.to, e.email);

const at = '2026-11-20T10:00:00.000Z';
const emailArb = fc.oneof(
	fc.constantFrom('info@a.example', 'sales@b.example', 'zoe@c.example', '0815@d.example', '李@e.example', '_x@f.example', 'z@g.example', ''),
	fc.stringMatching(/^[a-z0-9]{1,6}@[a-c]\.example$/),
	fc.constant(null),
);
const eventArb = fc.record({
	n: fc.integer({ min: 0, max: 40 }),
	type: fc.constantFrom('sent', 'sent', 'opened', 'clicked', 'bounced', 'replied', 'unsubscribed', 'converted', 'inbound', 'ab_decided'),
	email: emailArb,
	variant: fc.constantFrom('A', 'B'),
	batchTag: fc.constantFrom('English-Dealers-Marketing05', 'English-Dealers-Read05'),
	human: fc.boolean(),
	hard: fc.boolean(),
	forwarded: fc.boolean(),
	value: fc.integer({ min: 0, max: 500 }),
	duplicate: fc.boolean(),
});

/**
 * Events as the events table holds them. Every event of a message carries its recipient, as every template writes
 * them: message n goes to recipients[n] (an address, or none for the events that have no message).
 */
function events(raw: IDataObject[], recipients: Array<string | null>): IDataObject[] {
	const out: IDataObject[] = [];
	raw.forEach((r, i) => {
		const messageless = r.type === 'inbound' || r.type === 'ab_decided';
		const recipient = recipients[Number(r.n) % recipients.length];
		const token = messageless || recipient === null ? '' : `tok-${r.n}`;
		const email = messageless ? r.email : recipient;
		const e: IDataObject = {
			id: `ev-${i}`,
			type: r.type,
			at,
			email,
			campaign: r.type === 'inbound' ? '' : 'spring',
			batchTag: r.type === 'inbound' ? '' : r.batchTag,
			variant: r.type === 'inbound' ? '' : r.variant,
			token,
		};
		if (r.type === 'opened' || r.type === 'clicked') Object.assign(e, { class: r.human ? 'human' : 'apple_mpp', forwarded: r.forwarded && r.human });
		if (r.type === 'bounced') Object.assign(e, { bounceHard: r.hard, bounceStatus: r.hard ? '5.1.1' : '4.2.2' });
		if (r.type === 'converted') e.value = r.value;
		if (r.type === 'inbound') Object.assign(e, { channel: r.hard ? 'Google Ads' : 'Fair', unique: r.human });
		if (r.type === 'ab_decided') Object.assign(e, { campaign: 'spring', variant: 'B', reason: 'B wins' });
		out.push(e);
		if (r.duplicate) out.push({ ...e });
	});
	return out;
}

const figures = (json: IDataObject[]) => json.map((r) => JSON.parse(JSON.stringify(r)) as IDataObject);

describe('the Data-table report in parts', () => {
	it('its parts cover every address exactly once', () => {
		fc.assert(
			fc.property(fc.oneof(emailArb, fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 })), (email) => {
				expect(parts.filter((p) => inPart(p, { email })).length).toBe(1);
			}),
			{ numRuns: 300 },
		);
	});

	it('the parts added up give the figures, A/B tests, list health and report of one count over all events', async () => {
		const main = parameters('Metrics');
		const countPart = parameters('Count the part');
		await fc.assert(
			fc.asyncProperty(
				fc.array(eventArb, { minLength: 1, maxLength: 120 }),
				fc.uniqueArray(emailArb, { maxLength: 12 }),
				fc.array(emailArb, { minLength: 1, maxLength: 15 }),
				async (raw, addresses, recipients) => {
					const all = events(raw as unknown as IDataObject[], recipients);
					const contacts = addresses
						.filter((email): email is string => typeof email === 'string' && email !== '')
						.map((email, i) => ({
							email,
							createdAt: i % 2 ? '2026-09-01T00:00:00Z' : at,
							tags: i % 3 ? 'English-Dealers-Marketing05' : 'Risk-Unsubscribed',
						}));
					const whole = await runNode(node, { parameters: main, inputs: [all, contacts] });
					const counted: IDataObject[] = [];
					const health: IDataObject[] = [];
					for (const p of parts) {
						const mine = all.filter((e) => inPart(p, e));
						const people = contacts.filter((c) => inPart(p, c));
						if (mine.length === 0 && people.length === 0) continue;
						const run = await runNode(node, { parameters: countPart, inputs: [mine, people] });
						counted.push(...run.json, ...mine.filter((e) => e.type === 'ab_decided' || e.type === 'inbound'));
						health.push(...run.outputs[1].map((i) => i.json));
					}
					const summed = await runNode(node, { parameters: main, inputs: [counted, health] });
					expect(figures(summed.json)).toEqual(figures(whole.json));
					// A/B tests (output 1), list health (output 2) and the report's HTML (output 3) come from the same figures.
					for (const output of [1, 2])
						expect(figures(summed.outputs[output].map((i) => i.json))).toEqual(figures(whole.outputs[output].map((i) => i.json)));
					expect(summed.outputs[3][0].json.html).toBe(whole.outputs[3][0].json.html);
				},
			),
			{ numRuns: 40 },
		);
	}, 180_000);
});
