/**
 * Continue On Fail in Cadence Metrics: a bad event or a bad contact becomes one error item of the shape every Cadence
 * node uses (the input item's fields plus `error`, and `description` when there is one), paired with its input item;
 * without Continue On Fail the node fails with that item's index.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import { CadenceMetrics } from '../../nodes/CadenceMetrics/CadenceMetrics.node';
import { runNode } from '../helpers/n8n';

const node = new CadenceMetrics();
const at = '2026-11-20T10:00:00.000Z';
const listHealth = { groupBy: [], listHealth: true, period: 'custom', periodStart: '2026-11-01T00:00:00', periodEnd: '2026-12-01T00:00:00' };

describe('Cadence Metrics error items', () => {
	it('a bad event keeps its fields next to the error and the hint, after the metrics rows', async () => {
		const items = [
			{ id: 1, type: 'sent', at, campaign: 'A' },
			{ id: 2, type: 'teleported', at, campaign: 'A', note: 'keep me' },
		];
		const { outputs } = await runNode(node, { parameters: { groupBy: ['campaign'] }, items, continueOnFail: true });
		expect(outputs[0]).toHaveLength(2);
		expect(outputs[0][0].json).toMatchObject({ campaign: 'A', sent: 1 });
		expect(outputs[0][1]).toEqual({
			json: {
				...items[1],
				error: expect.stringMatching(/^Item 1 is not a valid event: unknown event type "teleported"/),
				description: expect.stringMatching(/known "type"/),
			},
			pairedItem: { item: 1 },
		});
		await expect(runNode(node, { parameters: { groupBy: ['campaign'] }, items })).rejects.toMatchObject({
			context: { itemIndex: 1 },
			description: expect.stringMatching(/known "type"/),
		});
	});

	it('a bad contact keeps its fields and is paired with the Contacts input', async () => {
		const contacts = [{ email: 'a@x.com', createdAt: '2026-10-01' }, { email: 'b@x.com', createdAt: 'not a date', crm: 7 }, { name: 'no address' }];
		const { outputs } = await runNode(node, { parameters: listHealth, inputs: [[], contacts], continueOnFail: true });
		const [health, ...errors] = outputs[1];
		expect(health.json).toMatchObject({ contacts: 1 });
		expect(health.pairedItem).toEqual([{ item: 0, input: 1 }]);
		expect(errors).toEqual([
			{ json: { ...contacts[1], error: 'Contact 1: "createdAt" is not a date: "not a date"' }, pairedItem: { item: 1, input: 1 } },
			{ json: { ...contacts[2], error: 'Contact 2: no email address in "email"' }, pairedItem: { item: 2, input: 1 } },
		]);
		await expect(runNode(node, { parameters: listHealth, inputs: [[], contacts] })).rejects.toMatchObject({
			message: 'Contact 1: "createdAt" is not a date: "not a date"',
			context: { itemIndex: 1 },
		});
	});

	it('List Health without a connected Contacts input counts no contacts', async () => {
		const { outputs } = await runNode(node, { parameters: listHealth, items: [{ id: 1, type: 'sent', at }] });
		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].json).toMatchObject({ contacts: 0 });
	});

	it('with any mix of good and bad events, the error items are exactly the bad ones, in input order', async () => {
		const event = fc.oneof(
			fc.record({ ok: fc.constant(true), type: fc.constantFrom('sent', 'opened', ' Sent ') }),
			fc.record({ ok: fc.constant(false), type: fc.constantFrom('teleported', '', 'sent?') }),
		);
		await fc.assert(
			fc.asyncProperty(fc.array(event, { maxLength: 12 }), async (spec) => {
				const items: IDataObject[] = spec.map((e, i) => ({ id: i, type: e.type, at, campaign: 'A', n: i }));
				const { outputs } = await runNode(node, { parameters: { groupBy: [] }, items, continueOnFail: true });
				const errors = outputs[0].filter((o) => 'error' in o.json);
				const bad = spec.flatMap((e, i) => (e.ok ? [] : [i]));
				expect(errors.map((o) => o.pairedItem)).toEqual(bad.map((item) => ({ item })));
				expect(errors.map((o) => o.json.n)).toEqual(bad);
				// one total row when any event is valid, counting the valid sent events
				const sent = spec.filter((e) => e.ok && e.type !== 'opened').length;
				const rows = spec.some((e) => e.ok) ? [sent] : [];
				expect(outputs[0].filter((o) => !('error' in o.json)).map((o) => o.json.sent)).toEqual(rows);
			}),
			{ numRuns: 60 },
		);
	});
});
