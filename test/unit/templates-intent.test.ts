/**
 * Template 5 (inbox attribution) acting on what a reply says, in both stores: interested → Intent-Replied and
 * Intent-Interested + task; neutral → Intent-Replied + task; wrong person → Intent-Replied + a task to update the
 * contact with the referral; not interested → Risk-NotInterested and no task; a read receipt → the read tag. Static
 * checks on the JSON (routing, twins, SQL with parameters only), the Route's and the task's expressions run by n8n's
 * expression engine, and the template's Cadence nodes run in n8n's real ExecuteContext with those parameters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { cadenceNodes, node as nodeOf, reaches } from '../helpers/templates';
import { evaluateAfterNewMail as evaluate, resolveAfterNewMail as resolved } from '../helpers/templateExpressions';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import * as attribution from '../../nodes/shared/inbox/attribution';
import { runNode } from '../helpers/n8n';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const WORKFLOWS = join(__dirname, '..', '..', 'workflows');
const PREFIX = 'n8n-nodes-mail-cadence.';
const STORES = ['', 'postgres'] as const;
const FILE = '5-inbox-attribution.json';

const load = (dir: string): Json => JSON.parse(readFileSync(join(WORKFLOWS, dir, FILE), 'utf8'));
const targets = (wf: Json, from: string, output = 0): string[] => (wf.connections[from]?.main?.[output] ?? []).map((c: Json) => c.node);

/** The Route output (its outputKey) the event takes: the first rule that matches, as Switch v3 does by default. */
function route(wf: Json, event: IDataObject): string | null {
	const sw = nodeOf(wf, 'Route');
	expect(sw.parameters.options?.allMatchingOutputs ?? false).toBe(false);
	for (const rule of sw.parameters.rules.values) {
		const conditions = rule.conditions.conditions as Json[];
		const ok = conditions.every((c) => {
			const left = evaluate(wf, 'Route', c.leftValue, event);
			if (c.operator.type === 'boolean') return left === true;
			return c.operator.operation === 'equals' && left === c.rightValue;
		});
		if (ok) return rule.outputKey;
	}
	return null;
}
const outputIndex = (wf: Json, key: string): number => nodeOf(wf, 'Route').parameters.rules.values.findIndex((r: Json) => r.outputKey === key);

const replyEvent = (replyIntent: string, extra: IDataObject = {}): IDataObject => ({
	id: `ev-${replyIntent}`,
	type: 'replied',
	kind: 'reply',
	at: '2026-11-02T10:00:00.000Z',
	email: 'li.wei@dealer.example',
	campaign: 'spring',
	subject: 'Re: Spare parts',
	replyIntent,
	...extra,
});

const EN = ['English-Equipment Dealers-Marketing05'];
const ZH = ['法语-工程设备经销商-营销05'];

/** Runs a template's Cadence Batch node on one contact, its expressions resolved for `event`. */
async function runBatch(wf: Json, name: string, event: IDataObject, contact: IDataObject): Promise<IDataObject> {
	const node = nodeOf(wf, name);
	expect(node.type).toBe(`${PREFIX}cadenceBatch`);
	const parameters = resolved(wf, name, node.parameters, event, contact) as IDataObject;
	const { json } = await runNode(new CadenceBatch(), { parameters, items: [contact], continueOnFail: node.onError === 'continueRegularOutput' });
	return json[0];
}

describe('template 5 acts on reply intent and read receipts (static)', () => {
	const [dataTables, postgres] = STORES.map(load);

	it('both stores have the same Cadence nodes (the gulpfile twin check)', () => {
		expect(cadenceNodes(postgres)).toEqual(cadenceNodes(dataTables));
		expect(Object.keys(cadenceNodes(dataTables))).toEqual(
			expect.arrayContaining(['New mail', 'Tag replied', 'Tag not interested', 'Add read tag', 'One task per contact']),
		);
	});

	it('the inbox trigger verifies tracking tokens', () => {
		for (const wf of [dataTables, postgres]) {
			const value = nodeOf(wf, 'New mail').parameters.verifyTokens;
			const on = (attribution as Record<string, unknown>).verifyTokensOn as ((v: unknown) => boolean) | undefined;
			if (on) expect(on(value)).toBe(true);
			else expect(value).toBe(true);
			expect(nodeOf(wf, 'New mail').credentials.cadenceTrackingApi.name).toBe('Cadence Tracking');
		}
	});

	for (const dir of STORES) {
		const label = dir || 'data tables';
		const wf = load(dir);

		it(`${label}: SQL takes values only as query parameters`, () => {
			for (const n of wf.nodes.filter((x: Json) => x.type === 'n8n-nodes-base.postgres')) {
				expect(n.parameters.query, n.name).not.toMatch(/\{\{/);
				expect(String(n.parameters.query).startsWith('=')).toBe(false);
				expect(String(n.parameters.options?.queryReplacement ?? '=')).toMatch(/^=/);
				expect(n.credentials.postgres.name).toBe('Cadence store');
			}
			if (dir) expect(wf.nodes.some((n: Json) => n.type === 'n8n-nodes-base.dataTable')).toBe(false);
		});

		it(`${label}: every reply intent and a read receipt take their own branch`, () => {
			expect(route(wf, replyEvent('interested'))).toBe('Reply');
			expect(route(wf, replyEvent('neutral'))).toBe('Reply');
			expect(route(wf, replyEvent('wrong_person', { referral: 'zhang.san@dealer.example' }))).toBe('Reply');
			// a reply classified before reply intent existed (no field) is handled as today
			expect(route(wf, { ...replyEvent('neutral'), replyIntent: undefined })).toBe('Reply');
			expect(route(wf, replyEvent('not_interested'))).toBe('Not interested');
			expect(route(wf, { type: 'read_receipt', kind: 'read_receipt', email: 'li.wei@dealer.example' })).toBe('Read receipt');
			expect(route(wf, { type: 'other', kind: 'other', disposition: 'deleted', email: 'li.wei@dealer.example' })).toBeNull();
			expect(route(wf, { type: 'bounced', bounce: { hard: true }, email: 'x@y.example' })).toBe('Hard bounce');
			expect(route(wf, { type: 'unsubscribed', email: 'x@y.example' })).toBe('Unsubscribe');
		});

		it(`${label}: not interested gets the risk tag and no task; a read receipt gets the read tag`, () => {
			const notInterested = outputIndex(wf, 'Not interested');
			expect(targets(wf, 'Route', notInterested)).toEqual(['Contact (Not interested)']);
			expect(targets(wf, 'Contact (Not interested)')).toEqual(['Tag not interested']);
			expect(targets(wf, 'Tag not interested')).toEqual(['Save tags (Not interested)']);
			expect(reaches(wf, 'Route', 'One task per contact', notInterested)).toBe(false);
			expect(reaches(wf, 'Route', 'Follow-up task', notInterested)).toBe(false);
			expect(nodeOf(wf, 'Tag not interested').parameters.stateTags.tag).toEqual([{ group: 'risk', state: 'NotInterested' }]);

			const read = outputIndex(wf, 'Read receipt');
			expect(targets(wf, 'Route', read)).toEqual(['Contact (Read receipt)']);
			expect(targets(wf, 'Contact (Read receipt)')).toEqual(['Add read tag']);
			expect(targets(wf, 'Add read tag')).toEqual(['Save read tag']);
			expect(nodeOf(wf, 'Add read tag').parameters.operation).toBe('tagReaders');
			// a contact without a marketing tag fails as an item, not the execution (as in template 4)
			expect(nodeOf(wf, 'Add read tag').onError).toBe('continueRegularOutput');
			expect(reaches(wf, 'Route', 'Follow-up task', read)).toBe(false);

			const reply = outputIndex(wf, 'Reply');
			expect(targets(wf, 'Route', reply)).toEqual(['Contact (Replied)', 'Open tasks (reply)']);
			expect(reaches(wf, 'Route', 'Follow-up task', reply)).toBe(true);
		});

		it(`${label}: the saved tags and contacts of the new branches are looked up and written like the others`, () => {
			for (const [contact, save, like] of [
				['Contact (Not interested)', 'Save tags (Not interested)', 'Save tags (Unsubscribed)'],
				['Contact (Read receipt)', 'Save read tag', 'Save tags (Unsubscribed)'],
			]) {
				expect(nodeOf(wf, contact).parameters).toEqual(nodeOf(wf, 'Contact (Unsubscribed)').parameters);
				expect(nodeOf(wf, save).parameters).toEqual(nodeOf(wf, like).parameters);
				expect(nodeOf(wf, save).type).toBe(nodeOf(wf, like).type);
			}
		});
	}
});

describe('template 5’s Cadence nodes in n8n’s ExecuteContext, by intent and tag language', () => {
	const wf = load('');

	it.each([
		['interested', EN, ['Intent-Replied', 'Intent-Interested']],
		['interested', ZH, ['意向-已回复', '意向-感兴趣']],
		['neutral', EN, ['Intent-Replied']],
		['wrong_person', EN, ['Intent-Replied']],
		['neutral', ZH, ['意向-已回复']],
	])('%s reply, contact tagged %s → adds %s', async (intent, tags, added) => {
		const out = await runBatch(wf, 'Tag replied', replyEvent(intent), { email: 'li.wei@dealer.example', tags: tags.join(', ') });
		expect(out.tagsAdded).toEqual(added);
	});

	it.each([
		[EN, 'Risk-NotInterested'],
		[ZH, '风险-不感兴趣'],
	])('not interested, contact tagged %s → %s', async (tags, tag) => {
		const out = await runBatch(wf, 'Tag not interested', replyEvent('not_interested'), { email: 'li.wei@dealer.example', tags: tags.join(', ') });
		expect(out.tagsAdded).toEqual([tag]);
	});

	it.each([
		[EN, 'English-Equipment Dealers-Read05'],
		[ZH, '法语-工程设备经销商-阅读05'],
	])('read receipt, contact tagged %s → %s', async (tags, tag) => {
		const event = { type: 'read_receipt', kind: 'read_receipt', email: 'li.wei@dealer.example' };
		const out = await runBatch(wf, 'Add read tag', event, { email: 'li.wei@dealer.example', tags: tags.join(', ') });
		expect(out.readTag).toBe(tag);
		expect(out.readTagAdded).toBe(true);
		expect(String(out.tags)).toContain(tag);
	});

	it('a read receipt for a contact without a marketing tag fails as an item only', async () => {
		const out = await runBatch(wf, 'Add read tag', { type: 'read_receipt' }, { email: 'x@y.example', tags: 'VIP' });
		expect(String(out.error)).toMatch(/no marketing tag/);
	});
});

describe('the follow-up task of a reply, by intent (both stores)', () => {
	/** The One task per contact output for an event, then the task columns the store node writes. */
	async function task(dir: string, event: IDataObject): Promise<Json> {
		const wf = load(dir);
		const contact = { email: event.email, tags: EN.join(', '), language: 'English' };
		const followUp = nodeOf(wf, 'One task per contact');
		const { outputs } = await runNode(new CadenceBatch(), { parameters: followUp.parameters, inputs: [[{ ...event, contact }], []] });
		expect(outputs[0]).toHaveLength(1);
		const created = outputs[0][0].json;
		const save = nodeOf(wf, 'Follow-up task');
		if (dir) return JSON.parse(evaluate(wf, 'Follow-up task', save.parameters.options.queryReplacement, event, created) as string);
		return resolved(wf, 'Follow-up task', save.parameters.columns.value, event, created) as Json;
	}

	for (const dir of STORES) {
		const label = dir || 'data tables';

		it(`${label}: wrong person → a task to update the contact, naming the referral`, async () => {
			const t = await task(dir, replyEvent('wrong_person', { referral: 'zhang.san@dealer.example' }));
			expect(t).toMatchObject({ email: 'li.wei@dealer.example', kind: 'reply', reason: 'wrong person' });
			expect(t.detail).toBe('Update the contact: wrong person, refers to zhang.san@dealer.example (Re: Spare parts)');
		});

		it(`${label}: wrong person without a referral, interested and neutral replies`, async () => {
			expect((await task(dir, replyEvent('wrong_person'))).detail).toBe('Update the contact: wrong person (Re: Spare parts)');
			for (const intent of ['interested', 'neutral']) {
				const t = await task(dir, replyEvent(intent));
				expect(t).toMatchObject({ kind: 'reply', reason: 'replied', detail: 'Replied: Re: Spare parts' });
			}
		});
	}
});
