import fc from 'fast-check';
import { NodeOperationError, type IDataObject } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TASK_WINDOW_DAYS } from '../../core/senderProtection';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import { runNode } from '../helpers/n8n';

const batch = new CadenceBatch();
const DAY = 86_400_000;
const T0 = Date.parse('2026-07-05T09:00:00Z');
const at = (days: number) => new Date(T0 + days * DAY).toISOString();

const rules = ['# owners by language, then segment', 'language = French => marie@acme.example', 'segment ~ Dealers => ben@acme.example'].join('\n');

function click(email: string, days = 0, contact: IDataObject = {}): IDataObject {
	return {
		id: `ev-${email}-${days}`,
		type: 'clicked',
		class: 'human',
		email,
		at: at(days),
		campaign: 'july',
		url: 'https://acme.example/catalogue',
		contact,
	};
}

async function followUp(events: IDataObject[], tasks?: IDataObject[], parameters: IDataObject = {}, continueOnFail = false) {
	return await runNode(batch, {
		parameters: { operation: 'followUp', ownerRules: rules, defaultOwner: 'sales@acme.example', contactField: 'contact', ...parameters },
		inputs: tasks ? [events, tasks] : [events],
		continueOnFail,
	});
}

describe('Cadence Batch: Follow-Up Task', () => {
	it('names the owner by the first matching rule, else the default owner, with the reason and detail', async () => {
		const { outputs } = await followUp([
			click('amelie@client.fr', 0, { language: 'French', segment: 'Equipment Dealers' }),
			click('bob@dealer.com', 0, { language: 'English', segment: 'Equipment Dealers' }),
			click('carl@other.com', 0, { language: 'English', segment: 'Rental' }),
			{ type: 'replied', email: 'Dora@Mail.com', at: at(0), subject: 'Price list?', contact: { segment: 'dealers north' } },
			{ type: 'inbound', channel: 'trade fair', email: 'eve@new.com', at: at(0), contact: {} },
		]);
		expect(outputs[1]).toEqual([]);
		expect(outputs[0].map((o) => [o.json.email, o.json.owner, o.json.reason, o.json.kind])).toEqual([
			['amelie@client.fr', 'marie@acme.example', 'clicked link', 'click'],
			['bob@dealer.com', 'ben@acme.example', 'clicked link', 'click'],
			['carl@other.com', 'sales@acme.example', 'clicked link', 'click'],
			['dora@mail.com', 'ben@acme.example', 'replied', 'reply'],
			['eve@new.com', 'sales@acme.example', 'lead from trade fair', 'lead'],
		]);
		expect(outputs[0][0].json).toMatchObject({ detail: 'Clicked https://acme.example/catalogue', campaign: 'july', id: 'ev-amelie@client.fr-0' });
		expect(outputs[0][3].json.detail).toBe('Replied: Price list?');
		expect(outputs[0].map((o) => o.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
	});

	it('reads the contact at the top level when no Contact Field is set', async () => {
		const { outputs } = await followUp([{ type: 'clicked', email: 'a@b.fr', at: at(0), language: 'french' }], undefined, { contactField: '' });
		expect(outputs[0][0].json.owner).toBe('marie@acme.example');
	});

	it('suppresses a second event of the contact inside the window and opens a task after it', async () => {
		const task = { id: 41, email: 'anna@customer.test', status: 'open', createdAt: at(0) };
		const inside = await followUp([click('Anna@Customer.test', DEFAULT_TASK_WINDOW_DAYS - 0.01)], [task]);
		expect(inside.outputs[0]).toEqual([]);
		expect(inside.outputs[1][0].json).toMatchObject({
			email: 'anna@customer.test',
			reason: 'clicked link',
			existingTask: { id: '41', createdAt: at(0) },
		});
		expect(inside.outputs[1][0].pairedItem).toEqual({ item: 0 });

		const after = await followUp([click('anna@customer.test', DEFAULT_TASK_WINDOW_DAYS + 0.01)], [task]);
		expect(after.outputs[0]).toHaveLength(1);
		expect(after.outputs[1]).toEqual([]);

		// the window is a parameter; Postgres rows name the time created_at
		const short = await followUp([click('anna@customer.test', 2)], [{ ...task, createdAt: undefined, created_at: at(0) }], { windowDays: 1 });
		expect(short.outputs[0]).toHaveLength(1);
	});

	it('a done task does not block, and tasks of other contacts do not either', async () => {
		const { outputs } = await followUp(
			[click('anna@customer.test', 1)],
			[
				{ id: 1, email: 'anna@customer.test', status: 'done', createdAt: at(0) },
				{ id: 2, email: 'bert@customer.test', status: 'open', createdAt: at(0) },
			],
		);
		expect(outputs[0]).toHaveLength(1);
		expect(outputs[1]).toEqual([]);
	});

	it('two events of one contact in one input open one task; the later ones are already open', async () => {
		const { outputs } = await followUp([
			click('anna@customer.test', 0),
			click('bert@customer.test', 0),
			{ type: 'replied', email: 'ANNA@customer.test', at: at(0.1), contact: {} },
		]);
		expect(outputs[0].map((o) => o.json.email)).toEqual(['anna@customer.test', 'bert@customer.test']);
		expect(outputs[1]).toHaveLength(1);
		expect(outputs[1][0].json).toMatchObject({ email: 'anna@customer.test', reason: 'replied', existingTask: { createdAt: at(0) } });
		expect(outputs[1][0].pairedItem).toEqual({ item: 2 });
	});

	it('property: whatever the events and stored tasks, no contact gets a task while one of its open tasks is inside the window', async () => {
		const emails = ['a@x.com', 'b@x.com', 'c@y.com'];
		const arbEvent = fc.record({
			who: fc.constantFrom(...emails),
			day: fc.integer({ min: 0, max: 30 }),
			type: fc.constantFrom('clicked', 'replied'),
		});
		const arbTask = fc.record({ who: fc.constantFrom(...emails), day: fc.integer({ min: -10, max: 30 }), status: fc.constantFrom('open', 'done') });
		await fc.assert(
			fc.asyncProperty(fc.array(arbEvent, { maxLength: 12 }), fc.array(arbTask, { maxLength: 4 }), async (evs, tks) => {
				const events = evs.sort((a, b) => a.day - b.day).map((e) => ({ type: e.type, email: e.who, at: at(e.day), contact: {} }));
				const tasks = tks.map((t, i) => ({ id: i, email: t.who, status: t.status, createdAt: at(t.day) }));
				const { outputs } = await followUp(events, tasks, { windowDays: 7 });
				expect(outputs[0].length + outputs[1].length).toBe(events.length);
				// every open task (stored or opened here) blocks the events of its contact in the 7 days after it
				const open = [...tasks.filter((t) => t.status === 'open').map((t) => ({ email: t.email, t: Date.parse(t.createdAt) }))];
				for (const out of outputs[0]) {
					const t = Date.parse(String(out.json.at));
					expect(open.some((o) => o.email === out.json.email && o.t > t - 7 * DAY)).toBe(false);
					open.push({ email: String(out.json.email), t });
				}
				for (const out of outputs[1]) {
					const t = Date.parse(String(out.json.at));
					expect(open.some((o) => o.email === out.json.email && o.t > t - 7 * DAY)).toBe(true);
				}
			}),
			{ numRuns: 60 },
		);
	});

	it('a malformed owner rule fails the node naming its line, and nothing is output', async () => {
		const error = await followUp([click('anna@customer.test')], undefined, {
			ownerRules: 'language = French => marie@acme.example\n\nsegment Dealers ben@acme.example',
		}).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as Error).message).toMatch(/line 3/);
		// Continue On Fail does not turn a broken rule set into tasks for the default owner
		const again = await followUp([click('anna@customer.test')], undefined, { ownerRules: '* => a\nlanguage = x => b' }, true).catch(
			(e: unknown) => e,
		);
		expect(again).toBeInstanceOf(NodeOperationError);
		expect((again as Error).message).toMatch(/line 2/);
	});

	it('a bad event fails the node with its item index, or becomes an error item under Continue On Fail', async () => {
		const events = [
			click('anna@customer.test'),
			{ type: 'clicked', at: at(0), note: 'no email' },
			{ type: 'clicked', email: 'b@x.com', at: 'yesterday-ish' },
		];
		const error = await followUp(events).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as NodeOperationError).context.itemIndex).toBe(1);
		expect((error as Error).message).toMatch(/no email/);

		const { outputs } = await followUp(events, undefined, {}, true);
		expect(outputs[0].map((o) => o.json.email)).toEqual(['anna@customer.test']);
		expect(outputs[1].map((o) => o.pairedItem)).toEqual([{ item: 1 }, { item: 2 }]);
		expect(outputs[1][0].json).toEqual({ type: 'clicked', at: at(0), note: 'no email', error: expect.stringMatching(/no email/) });
		expect(outputs[1][1].json.error).toMatch(/no valid time/);
	});

	it('an event without a time counts as now; the window default is the named constant', async () => {
		const recent = { id: 1, email: 'anna@customer.test', status: 'open', createdAt: new Date(Date.now() - DAY).toISOString() };
		const { outputs } = await followUp([{ type: 'replied', email: 'anna@customer.test', contact: {} }], [recent]);
		expect(outputs[1]).toHaveLength(1);
		expect(batch.description.properties.find((p) => p.name === 'windowDays')?.default).toBe(DEFAULT_TASK_WINDOW_DAYS);
	});

	it('a negative window fails the node', async () => {
		await expect(followUp([click('a@x.com')], undefined, { windowDays: -1 })).rejects.toThrow(/Window \(Days\)/);
	});
});
