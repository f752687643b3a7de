import { describe, expect, it } from 'vitest';
import { CadenceMetrics } from '../../nodes/CadenceMetrics/CadenceMetrics.node';
import { runNode } from '../helpers/n8n';
import type { IDataObject } from 'n8n-workflow';

const node = new CadenceMetrics();
const at = '2026-11-20T10:00:00.000Z';

// Campaign A: 4 sent (one replayed), 1 hard bounce given flat, 1 soft bounce as a JSON string; machine and human
// opens. Campaign B: 1 sent, 1 hard bounce with a literal "bounce.hard" key, as a table export would give it.
const events: IDataObject[] = [
	{ id: 1, type: 'sent', at, campaign: 'A', token: 'a1' },
	{ id: 1, type: 'sent', at, campaign: 'A', token: 'a1' }, // replay
	{ id: 2, type: 'sent', at, campaign: 'A', token: 'a2' },
	{ id: 3, type: 'sent', at, campaign: 'A', token: 'a3' },
	{ id: 4, type: 'sent', at, campaign: 'A', token: 'a4' },
	{ id: 5, type: 'bounced', at, campaign: 'A', token: 'a3', bounce_hard: 'true' },
	{ id: 6, type: 'bounced', at, campaign: 'A', token: 'a4', bounce: '{"hard":false,"status":"4.2.2"}' },
	{ id: 7, type: 'opened', at, campaign: 'A', token: 'a1', class: 'apple_mpp' },
	{ id: 8, type: 'opened', at, campaign: 'A', token: 'a2', class: 'image_proxy' },
	{ id: 9, type: 'clicked', at, campaign: 'A', token: 'a2', class: 'human' },
	{ id: 10, type: ' Sent ', at, campaign: 'B', token: 'b1' },
	{ id: 11, type: 'bounced', at, campaign: 'B', token: 'b1', 'bounce.hard': 1 },
];

describe('Cadence Metrics node', () => {
	it("gives one row per group with exact figures, paired with the group's items", async () => {
		const { outputs, json } = await runNode(node, { parameters: { groupBy: ['campaign'] }, items: events });
		expect(outputs).toHaveLength(1);
		expect(json.map((r) => r.campaign)).toEqual(['A', 'B']);
		expect(json[0]).toMatchObject({
			sent: 4,
			bounced: 2,
			hardBounced: 1,
			softBounced: 1,
			delivered: 2,
			opens: 2,
			uniqueOpens: 2,
			humanUniqueOpens: 1,
			humanUniqueClicks: 1,
		});
		expect(json[0].deliveryRate).toBe(0.5);
		expect(json[0].openRate).toBe(1);
		expect(json[0].humanOpenRate).toBe(0.5);
		expect(json[0].clickThroughRate).toBe(1);
		expect(json[1]).toMatchObject({ sent: 1, bounced: 1, hardBounced: 1, delivered: 0, openRate: null, clickRate: null });
		expect(outputs[0][0].pairedItem).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((item) => ({ item })));
		expect(outputs[0][1].pairedItem).toEqual([{ item: 10 }, { item: 11 }]);
	});

	it('uses the workflow time zone for days unless told otherwise', async () => {
		const items = [
			{ id: 'x', type: 'sent', at: '2026-11-20T23:30:00Z', campaign: 'A' },
			{ id: 'y', type: 'sent', at: new Date('2026-11-20T22:30:00Z') as unknown as string, campaign: 'A' },
		];
		const tokyo = await runNode(node, { parameters: { groupBy: ['day'] }, items, timezone: 'Asia/Tokyo' });
		expect(tokyo.json.map((r) => [r.day, r.sent])).toEqual([['2026-11-21', 2]]);
		const utc = await runNode(node, { parameters: { groupBy: ['day'], options: { timeZone: 'UTC' } }, items, timezone: 'Asia/Tokyo' });
		expect(utc.json.map((r) => [r.day, r.sent])).toEqual([['2026-11-20', 2]]);
		await expect(runNode(node, { parameters: { groupBy: ['day'], options: { timeZone: 'Nowhere/Land' } }, items })).rejects.toThrow(
			/unknown time zone/,
		);
	});

	it('fails a bad item with its index, or outputs it as an error and counts the rest', async () => {
		const items = [...events, { id: 99, type: 'teleported', at, campaign: 'A' }, { id: 98, type: 'sent', at: 'last Tuesday', campaign: 'A' }];
		await expect(runNode(node, { parameters: { groupBy: ['campaign'] }, items })).rejects.toMatchObject({
			message: expect.stringMatching(/Item 12 is not a valid event: unknown event type "teleported"/),
			context: { itemIndex: 12 },
		});
		const { outputs } = await runNode(node, { parameters: { groupBy: ['month'] }, items, continueOnFail: true });
		const errors = outputs[0].filter((i) => i.json.error);
		expect(errors.map((e) => [e.json.error, e.pairedItem])).toEqual([
			[expect.stringMatching(/unknown event type "teleported"/), { item: 12 }],
			[expect.stringMatching(/no valid time in "at": "last Tuesday"/), { item: 13 }],
		]);
		expect(outputs[0][0].json).toMatchObject({ month: '2026-11', sent: 5 });
	});

	it('outputs only the chosen figures, and ROI with revenue and cost fields', async () => {
		const items = [
			{ id: 1, type: 'sent', at, campaign: 'A', token: 't', cost: 2 },
			{ id: 2, type: 'replied', at, campaign: 'A', token: 't', deal: '10' },
		];
		const { json } = await runNode(node, {
			parameters: { groupBy: ['campaign'], options: { figures: ['rates'], revenueField: 'deal', costField: 'cost' } },
			items,
		});
		expect(json[0]).toMatchObject({ campaign: 'A', replyRate: null, revenue: 10, cost: 2, roi: 4 });
		expect(json[0]).not.toHaveProperty('sent');
	});

	it('compares variants on a second output', async () => {
		const items: IDataObject[] = [];
		for (const [variant, opened] of [
			['A', 30],
			['B', 80],
		] as const)
			for (let i = 0; i < 200; i++) {
				items.push({ id: `s${variant}${i}`, type: 'sent', at, campaign: 'C', variant, token: `${variant}${i}` });
				if (i < opened) items.push({ id: `o${variant}${i}`, type: 'opened', at, campaign: 'C', variant, token: `${variant}${i}`, class: 'human' });
			}
		const { outputs } = await runNode(node, { parameters: { groupBy: ['campaign'], compareVariants: true }, items });
		expect(outputs).toHaveLength(2);
		expect(outputs[0]).toHaveLength(1); // metrics by campaign only
		const [ab] = outputs[1];
		expect(ab.json).toMatchObject({
			campaign: 'C',
			control: 'A',
			variant: 'B',
			controlSent: 200,
			variantSent: 200,
			winners: { openRate: 'B', humanOpenRate: 'B' },
		});
		expect((ab.pairedItem as unknown[]).length).toBe(items.length);
	});

	it('computes list health from a second input over a custom period', async () => {
		const contacts = [
			{ email: 'a@x.com', tags: 'English-D-Marketing01', createdAt: '2026-10-01' },
			{ email: 'b@x.com', tags: ['Risk-Unsubscribed'], createdAt: '2026-10-02' },
			{ email: 'c@x.com', tags: [], createdAt: '2026-11-05' },
			{ email: 'd@x.com', tags: [], createdAt: 'not a date' },
		];
		const evs = [{ id: 'u', type: 'unsubscribed', at: '2026-11-10T10:00:00Z', email: 'b@x.com', campaign: 'A' }];
		const parameters = { groupBy: [], listHealth: true, period: 'custom', periodStart: '2026-11-01T00:00:00', periodEnd: '2026-12-01T00:00:00' };
		await expect(runNode(node, { parameters, inputs: [evs, contacts] })).rejects.toMatchObject({
			message: expect.stringMatching(/Contact 3: "createdAt" is not a date/),
		});
		const { outputs } = await runNode(node, { parameters, inputs: [evs, contacts], continueOnFail: true });
		expect(outputs).toHaveLength(2);
		const [health, error] = outputs[1];
		expect(health.json).toMatchObject({
			contacts: 3,
			effective: 2,
			inRiskView: 1,
			base: 2,
			newContacts: 1,
			left: 1,
			leftUnsubscribed: 1,
			netGrowth: 0,
			growthRate: 0,
			churnRate: 0.5,
		});
		expect(health.pairedItem).toEqual([0, 1, 2].map((item) => ({ item, input: 1 })));
		expect(error.json.error).toMatch(/Contact 3/);
	});

	it('adds a report item with an HTML table and an SVG or PNG funnel chart', async () => {
		const svg = await runNode(node, {
			parameters: { groupBy: ['campaign'], report: true, reportTitle: 'Weekly', chartFormat: 'svg' },
			items: events,
		});
		expect(svg.outputs).toHaveLength(2);
		const [report] = svg.outputs[1];
		expect(report.json).toMatchObject({ title: 'Weekly', groups: 2, chartFormat: 'svg' });
		expect(report.json.html).toMatch(/^<div.*<h3[^>]*>Weekly<\/h3>.*<td[^>]*>A<\/td>/s);
		expect(report.binary?.chart).toMatchObject({ mimeType: 'image/svg+xml', fileExtension: 'svg', fileName: 'cadence-funnel.svg' });
		expect(Buffer.from(report.binary!.chart.data, 'base64').toString('utf8')).toMatch(/^<svg[\s\S]*Delivered/);

		// PNG by default: n8n's binary viewer shows it, and it needs no font on the host
		const png = await runNode(node, { parameters: { groupBy: ['campaign'], report: true, binaryPropertyName: 'image' }, items: events });
		const image = png.outputs[1][0].binary!.image;
		expect(image.mimeType).toBe('image/png');
		expect(Buffer.from(image.data, 'base64').subarray(1, 4).toString('latin1')).toBe('PNG');

		const noFont = await runNode(node, {
			parameters: { groupBy: ['campaign'], report: true, chartFormat: 'png', options: { fontFile: '/nope.ttf' } },
			items: events,
		});
		expect(noFont.outputs[1][0].json).toMatchObject({ chartFormat: 'svg', chartWarning: expect.stringMatching(/TrueType font file/) });
	});

	it('returns all outputs in order when everything is on', async () => {
		const { outputs } = await runNode(node, {
			parameters: { groupBy: ['campaign'], compareVariants: true, listHealth: true, period: 'last7Days', report: true },
			inputs: [events, []],
		});
		expect(outputs).toHaveLength(4);
		expect(outputs[2][0].json).toMatchObject({ contacts: 0, base: 0, growthRate: null });
		expect(outputs[3][0].json.html).toContain('List health');
	});
});
