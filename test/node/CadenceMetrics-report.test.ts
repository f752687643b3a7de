/**
 * The complete report of Cadence Metrics as the daily-report templates configure it: per-variant rows with the A/B
 * table, roll-out decisions, list health rated against the list-size thresholds, leads per channel with cost per lead,
 * conversion and forward rates, and revenue, cost and ROI from the cost per send.
 */
import { describe, expect, it } from 'vitest';
import type { IDataObject } from 'n8n-workflow';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CadenceMetrics } from '../../nodes/CadenceMetrics/CadenceMetrics.node';
import { runNode } from '../helpers/n8n';
import { description } from '../../nodes/CadenceMetrics/actions/compute.operation';
import { DEFAULT_COST_PER_SEND, DEFAULT_REPORT_LEADS_BY_CHANNEL } from '../../core/metrics';

const node = new CadenceMetrics();
const at = '2026-11-20T10:00:00.000Z';

/** 120 sends per variant; B gets more human opens; conversions, a forward, leads and a decision. */
function sampleEvents(): IDataObject[] {
	const events: IDataObject[] = [];
	for (const [k, variant] of ['A', 'B'].entries())
		for (let i = 0; i < 120; i++) {
			const token = `${variant}${i}`;
			const email = `p${k}-${i}@x.test`;
			events.push({ id: `s-${token}`, type: 'sent', at, campaign: 'spring', batchTag: 'T', variant, token, email });
			if (i < (k ? 60 : 20))
				events.push({ id: `o-${token}`, type: 'opened', at, campaign: 'spring', batchTag: 'T', variant, token, email, class: 'human' });
		}
	events.push(
		{
			id: 'f1',
			type: 'opened',
			at,
			campaign: 'spring',
			batchTag: 'T',
			variant: 'B',
			token: 'B1',
			email: 'boss@x.test',
			class: 'human',
			forwarded: 'true',
		},
		{ id: 'v1', type: 'converted', at, campaign: 'spring', batchTag: 'T', variant: 'B', email: 'p1-1@x.test', value: '300' },
		{ id: 'i1', type: 'inbound', at, channel: 'Google Ads', email: 'lead@y.test', unique: true },
		{ id: 'i2', type: 'inbound', at, channel: 'Google Ads', email: 'lead@y.test', unique: false },
		{ id: 'd1', type: 'ab_decided', at, campaign: 'spring', variant: 'B', reason: 'B wins on humanOpenRate' },
	);
	return events;
}

const template = (dir: string) =>
	(
		JSON.parse(readFileSync(join(__dirname, '..', '..', 'workflows', dir, '6-daily-report.json'), 'utf8')) as {
			nodes: Array<{ name: string; parameters: IDataObject }>;
		}
	).nodes.find((n) => n.name === 'Metrics')!.parameters;

describe('Cadence Metrics: the complete report', () => {
	const contacts = [
		{ email: 'old@x.test', createdAt: '2026-09-01T00:00:00Z', tags: 'Marketing01' },
		{ email: 'new@x.test', createdAt: '2026-11-18T00:00:00Z', tags: 'Marketing01' },
	];

	it('with the template’s parameters: four outputs, and a report with every section', async () => {
		const parameters = {
			...template(''),
			reportTitle: 'Daily',
			chartFormat: 'svg',
			period: 'custom',
			periodStart: '2026-11-01',
			periodEnd: '2026-12-01',
		};
		const run = await runNode(node, {
			parameters: { ...parameters, channelCosts: { cost: [{ channel: 'Google Ads', cost: 50 }] }, options: { costPerSend: 0.5 } },
			inputs: [sampleEvents(), contacts],
		});
		expect(run.outputs).toHaveLength(4);
		// Metrics: one row per campaign, batch and variant, plus the inbound leads' and the decision's own group
		const spring = run.json.filter((r) => r.campaign === 'spring');
		expect(spring.map((r) => r.variant)).toEqual(['A', 'B']);
		expect(spring[1]).toMatchObject({ sent: 120, humanUniqueOpens: 60, forwards: 1, forwardRate: 1 / 60, conversions: 1, conversionValue: 300 });
		expect(spring[1]).toMatchObject({ revenue: 300, cost: 60, roi: 4 });
		// A/B Tests: B against A, with a winner on the human open rate
		const ab = run.outputs[1].map((i) => i.json);
		expect(ab).toHaveLength(1);
		expect(ab[0]).toMatchObject({ campaign: 'spring', batchTag: 'T', control: 'A', variant: 'B', winners: { humanOpenRate: 'B' } });
		// List Health
		expect(run.outputs[2][0].json).toMatchObject({ contacts: 2, effective: 2, newContacts: 1 });
		const html = String(run.outputs[3][0].json.html);
		for (const section of ['A/B tests', 'A/B roll-out decisions', 'List health', 'Leads by channel']) expect(html, section).toContain(`${section}`);
		expect(html).toMatch(
			/humanOpenRate<\/td><td[^>]*>16\.7%<\/td><td[^>]*>50\.0%<\/td><td[^>]*>\+33\.3 pts<\/td><td[^>]*>&lt; 0\.0001<\/td><td[^>]*>B wins<\/td>/,
		);
		expect(html).toContain('B wins on humanOpenRate');
		expect(html).toContain('2 (below 500: too small for reliable rates');
		expect(html).toMatch(/>Google Ads<\/td><td[^>]*>2<\/td><td[^>]*>1<\/td><td[^>]*>50\.00<\/td><td[^>]*>25\.00<\/td><td[^>]*>50\.00<\/td>/);
		expect(html).toContain('>ROI</th>');
		expect(html).toContain('>400.0%</td>');
	});

	it('the template leaves ROI out (no cost), and counted lead rows among the events go to the channel table', async () => {
		const parameters = { ...template(''), chartFormat: 'svg' };
		const items = [...sampleEvents().filter((e) => e.type !== 'inbound'), { channel: 'Trade fair', leads: 4, uniqueLeads: 3 }];
		const run = await runNode(node, { parameters, inputs: [items, contacts] });
		const html = String(run.outputs[3][0].json.html);
		expect(html).not.toContain('ROI');
		expect(html).toMatch(/>Trade fair<\/td><td[^>]*>4<\/td><td[^>]*>3<\/td>/);
		expect(run.json.every((r) => r.roi === undefined)).toBe(true);
	});

	it('both templates configure the Metrics node alike, with every section of the report on', () => {
		expect(template('postgres')).toEqual(template(''));
		expect(template('')).toMatchObject({ compareVariants: true, listHealth: true, report: true, leadsByChannel: true });
		expect(template('').groupBy).toContain('variant');
	});

	it('both templates send the Report output (the fourth, after A/B Tests and List Health) to the paused senders, and feed the Contacts input', () => {
		// Data tables: the list health of each part counted, routed by "List health?"; Postgres: counted in SQL.
		for (const [dir, contacts] of [
			['', 'List health?'],
			['postgres', 'List health'],
		]) {
			const wf = JSON.parse(readFileSync(join(__dirname, '..', '..', 'workflows', dir, '6-daily-report.json'), 'utf8')) as {
				connections: Record<string, { main: Array<Array<{ node: string; index: number }>> }>;
			};
			expect(wf.connections.Metrics.main.map((targets) => targets.map((t) => t.node))).toEqual([[], [], [], ['Add paused senders']]);
			expect(wf.connections[contacts].main[0]).toEqual([{ node: 'Metrics', type: 'main', index: 1 }]);
		}
	});

	it('the parameters’ defaults are the named constants', () => {
		const param = (name: string) => description.find((p) => p.name === name)!;
		expect(param('leadsByChannel').default).toBe(DEFAULT_REPORT_LEADS_BY_CHANNEL);
		const options = param('options').options as Array<{ name: string; default: unknown }>;
		expect(options.find((o) => o.name === 'costPerSend')!.default).toBe(DEFAULT_COST_PER_SEND);
	});

	it('refuses a bad channel cost or cost per send with a clear error', async () => {
		const parameters = { groupBy: ['campaign'], report: true, chartFormat: 'svg', leadsByChannel: true };
		await expect(
			runNode(node, { parameters: { ...parameters, channelCosts: { cost: [{ channel: 'Ads', cost: -5 }] } }, items: sampleEvents() }),
		).rejects.toThrow(/Channel Costs: the cost of "Ads" must be a number of zero or more/);
		await expect(runNode(node, { parameters: { ...parameters, options: { costPerSend: -1 } }, items: sampleEvents() })).rejects.toThrow(
			/cost per send must be a number of zero or more/,
		);
	});

	it('counted rows: the A/B Tests need the variant in Group By, and pair each comparison with both rows', async () => {
		const rows = (await runNode(node, { parameters: { groupBy: ['campaign', 'variant'] }, items: sampleEvents() })).json;
		const run = await runNode(node, {
			parameters: { input: 'auto', groupBy: ['campaign', 'variant'], compareVariants: true },
			items: [...rows, { id: 'd1', type: 'ab_decided', at, campaign: 'spring', variant: 'B', reason: 'why' }],
		});
		const ab = run.outputs[1];
		expect(ab.map((i) => i.json.variant)).toEqual(['B']);
		const index = (v: string) => rows.findIndex((r) => r.campaign === 'spring' && r.variant === v);
		expect(ab[0].pairedItem).toEqual([{ item: index('A') }, { item: index('B') }]);
		await expect(runNode(node, { parameters: { input: 'rows', groupBy: ['campaign'], compareVariants: true }, items: rows })).rejects.toThrow(
			/needs "variant" in Group By/,
		);
	});
});
