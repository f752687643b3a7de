import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelLeads, UNKNOWN_CHANNEL } from '../../core/metrics';
import { renderChannelLeadsHtml } from '../../core/report';

const lead = (id: string, email: string, channel: string | undefined, at: string, unique?: unknown) => ({
	id,
	type: 'inbound',
	email,
	at,
	...(channel === undefined ? {} : { channel }),
	...(unique === undefined ? {} : { unique }),
});

describe('channelLeads', () => {
	it('counts leads, unique leads and cost per lead by channel', () => {
		const events = [
			lead('1', 'a@x.example', 'Google Ads', '2026-05-01T10:00:00Z', true),
			lead('2', 'a@x.example', 'Google Ads', '2026-05-02T10:00:00Z', false),
			lead('3', 'b@x.example', 'Google Ads', '2026-05-02T11:00:00Z', true),
			lead('4', 'c@x.example', 'Fair', '2026-05-03T10:00:00Z', true),
			lead('4', 'c@x.example', 'Fair', '2026-05-03T10:00:00Z', true), // replayed event
			{ id: '5', type: 'replied', email: 'd@x.example', at: '2026-05-03T10:00:00Z', channel: 'Fair' },
			lead('6', 'e@x.example', undefined, '2026-05-03T12:00:00Z', true),
		];
		const rows = channelLeads(events, { costPerChannel: { 'google ads': 1500, Fair: '200', Radio: 900 } });
		expect(rows).toEqual([
			{ channel: 'Google Ads', leads: 3, uniqueLeads: 2, cost: 1500, costPerLead: 500, costPerUniqueLead: 750 },
			{ channel: UNKNOWN_CHANNEL, leads: 1, uniqueLeads: 1, cost: null, costPerLead: null, costPerUniqueLead: null },
			{ channel: 'Fair', leads: 1, uniqueLeads: 1, cost: 200, costPerLead: 200, costPerUniqueLead: 200 },
			{ channel: 'Radio', leads: 0, uniqueLeads: 0, cost: 900, costPerLead: null, costPerUniqueLead: null },
		]);
	});

	it('zero cost, missing cost and no events', () => {
		expect(channelLeads([lead('1', 'a@x.example', 'Seo', '2026-05-01T10:00:00Z')], { costPerChannel: { Seo: 0 } })).toEqual([
			{ channel: 'Seo', leads: 1, uniqueLeads: 1, cost: 0, costPerLead: 0, costPerUniqueLead: 0 },
		]);
		expect(channelLeads([lead('1', 'a@x.example', 'Seo', '2026-05-01T10:00:00Z')])[0]).toMatchObject({ cost: null, costPerLead: null });
		expect(channelLeads([])).toEqual([]);
		expect(channelLeads(null as unknown as unknown[])).toEqual([]);
		expect(channelLeads([null, 'x', 7, { type: 'inbound' }])).toEqual([
			{ channel: UNKNOWN_CHANNEL, leads: 1, uniqueLeads: 1, cost: null, costPerLead: null, costPerUniqueLead: null },
		]);
	});

	it('without a stored flag, the earliest lead per sender and channel is the unique one', () => {
		const rows = channelLeads([
			lead('1', 'a@x.example', 'Seo', '2026-05-02T10:00:00Z'),
			lead('2', 'A@x.example', 'Seo', '2026-05-01T10:00:00Z'),
			lead('3', 'a@x.example', 'Ads', '2026-05-03T10:00:00Z'),
			lead('4', 'b@x.example', 'Seo', '2026-05-03T10:00:00Z', 'false'),
			lead('5', 'c@x.example', 'Seo', '2026-05-03T10:00:00Z', 't'),
		]);
		expect(rows).toEqual([
			expect.objectContaining({ channel: 'Seo', leads: 4, uniqueLeads: 2 }),
			expect.objectContaining({ channel: 'Ads', leads: 1, uniqueLeads: 1 }),
		]);
	});

	it('refuses a cost that is not a number of zero or more', () => {
		expect(() => channelLeads([], { costPerChannel: { Ads: -1 } })).toThrow(/cost of "Ads" must be a number of zero or more, got -1/);
		expect(() => channelLeads([], { costPerChannel: { Ads: 'ten' } })).toThrow(/cost of "Ads"/);
		expect(() => channelLeads([], { costPerChannel: { Ads: NaN } })).toThrow(/cost of "Ads"/);
	});

	it('holds its invariants on any events', () => {
		const event = fc.record({
			id: fc.string({ maxLength: 3 }),
			type: fc.constantFrom('inbound', 'replied', 'sent'),
			email: fc.constantFrom('a@x.example', 'b@x.example', ''),
			channel: fc.option(fc.constantFrom('Ads', 'ads', 'Seo', ' '), { nil: undefined }),
			at: fc.constantFrom('2026-05-01T10:00:00Z', '2026-05-02T10:00:00Z', 'garbage'),
			unique: fc.option(fc.boolean(), { nil: undefined }),
		});
		fc.assert(
			fc.property(fc.array(event, { maxLength: 40 }), fc.option(fc.nat(10_000), { nil: undefined }), (events, cost) => {
				const rows = channelLeads(events, cost === undefined ? {} : { costPerChannel: { ads: cost } });
				const ids = new Set<string>();
				let inbound = 0;
				for (const e of events) {
					if (e.type !== 'inbound') continue;
					if (e.id && ids.has(e.id)) continue;
					if (e.id) ids.add(e.id);
					inbound++;
				}
				expect(rows.reduce((n, r) => n + r.leads, 0)).toBe(inbound);
				for (const r of rows) {
					expect(r.uniqueLeads).toBeLessThanOrEqual(r.leads);
					if (r.cost !== null && r.leads > 0) expect(r.costPerLead).toBeCloseTo(r.cost / r.leads);
					else expect(r.costPerLead).toBeNull();
				}
				for (let i = 1; i < rows.length; i++) expect(rows[i - 1].leads).toBeGreaterThanOrEqual(rows[i].leads);
			}),
			{ numRuns: 100 },
		);
	});

	it('adds rows a store already counted to the events', () => {
		const rows = channelLeads(
			[
				{ channel: 'Google Ads', leads: '12', uniqueLeads: 9 },
				{ channel: '', leads: 2, uniqueLeads: 5 },
				lead('1', 'a@x.example', 'google ads', '2026-05-01T10:00:00Z', true),
				{ channel: 'Bad', leads: -3 },
			],
			{ costPerChannel: { 'Google Ads': 650 } },
		);
		expect(rows).toEqual([
			{ channel: 'Google Ads', leads: 13, uniqueLeads: 10, cost: 650, costPerLead: 50, costPerUniqueLead: 65 },
			{ channel: UNKNOWN_CHANNEL, leads: 2, uniqueLeads: 2, cost: null, costPerLead: null, costPerUniqueLead: null },
		]);
	});

	it('renders the table for the report, escaped, with a dash where there is no figure', () => {
		const html = renderChannelLeadsHtml(
			channelLeads([lead('1', 'a@x.example', '<b>Fair</b>', '2026-05-01T10:00:00Z')], { costPerChannel: { Radio: 900, '<b>Fair</b>': 100 } }),
		);
		expect(html).toContain('<h3>Leads by channel</h3>');
		expect(html).toContain('&lt;b&gt;Fair&lt;/b&gt;');
		expect(html).not.toContain('<b>Fair');
		expect(html).toMatch(/Radio<\/td><td[^>]*>0<\/td><td[^>]*>0<\/td><td[^>]*>900\.00<\/td><td[^>]*>—<\/td>/);
		expect(html).toMatch(/100\.00<\/td><td[^>]*>100\.00<\/td>/);
		expect(renderChannelLeadsHtml([])).toContain('No leads');
		expect(() => renderChannelLeadsHtml([], { costDigits: 1.5 })).toThrow(/cost digits must be a whole number from 0 to 6, got 1.5/);
	});
});
