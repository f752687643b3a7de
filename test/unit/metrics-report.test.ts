/**
 * The complete daily report: conversions and forwards (per contact), conversion value, revenue, cost and ROI, the list
 * size thresholds, list health counted by a store, A/B roll-out decisions, and the report's sections.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	abDecisions,
	addMetricsMoney,
	channelLeads,
	compareVariants,
	computeListHealth,
	computeMetrics,
	isCountedListHealth,
	LIST_SIZE_STRONG_FROM,
	LIST_SIZE_USEFUL_FROM,
	listHealthFromCounts,
	listSizeAssessment,
	MAX_REPORT_AB_DECISIONS,
	normalizeMetricsEvent,
	type MetricsRow,
} from '../../core/metrics';
import { formatPValue, renderMetricsHtml } from '../../core/report';

const at = '2026-11-20T10:00:00Z';

describe('conversions and forwards', () => {
	it('count contacts (address, else message), sum the value of kept conversions, and give rates over D and O', () => {
		const events = [
			{ id: 's1', type: 'sent', at, campaign: 'c', token: 't1', email: 'a@x.test' },
			{ id: 's2', type: 'sent', at, campaign: 'c', token: 't2', email: 'b@x.test' },
			{ id: 's3', type: 'sent', at, campaign: 'c', token: 't3', email: 'c@x.test' },
			{ id: 's4', type: 'sent', at, campaign: 'c', token: 't4', email: 'd@x.test' },
			{ id: 'o1', type: 'opened', at, campaign: 'c', token: 't1', class: 'human', email: 'a@x.test' },
			{ id: 'o2', type: 'opened', at, campaign: 'c', token: 't2', class: 'human', email: 'b@x.test' },
			{ id: 'f1', type: 'opened', at, campaign: 'c', token: 't1', class: 'human', email: 'boss@x.test', forwarded: true },
			{ id: 'f2', type: 'clicked', at, campaign: 'c', token: 't1', class: 'human', email: ' BOSS@x.test', forwarded: true },
			{ id: 'f3', type: 'opened', at, campaign: 'c', token: 't2', class: 'scanner', email: 'peer@x.test', forwarded: true },
			{ id: 'v1', type: 'converted', at, campaign: 'c', email: 'a@x.test', value: 100 },
			{ id: 'v1', type: 'converted', at, campaign: 'c', email: 'a@x.test', value: 100 }, // a replay: counted once
			{ id: 'v2', type: 'converted', at, campaign: 'c', email: 'A@X.test ', value: 50.5 }, // same contact, another order
			{ id: 'v3', type: 'converted', at, campaign: 'c', token: 't3' }, // no address: its message; no value
		];
		const [row] = computeMetrics(events, { groupBy: ['campaign'] });
		expect(row).toMatchObject({ sent: 4, delivered: 4, humanUniqueOpens: 2, conversions: 2, forwards: 2, conversionValue: 150.5 });
		expect(row.conversionRate).toBe(2 / 4);
		expect(row.forwardRate).toBe(2 / 2);
		expect(row.revenue).toBeUndefined();
		expect(row.roi).toBeUndefined();
		// zero denominators give null
		const [lone] = computeMetrics([{ id: 'x', type: 'converted', at, email: 'z@x.test', value: 3 }]);
		expect(lone).toMatchObject({ conversions: 1, conversionRate: null, forwards: 0, forwardRate: null, conversionValue: 3 });
	});

	it('equal a reference count of distinct contacts per group (property)', () => {
		const eventArb = fc.record({
			id: fc.integer({ min: 1, max: 30 }).map((n) => `e${n}`),
			type: fc.constantFrom('sent', 'opened', 'clicked', 'converted', 'replied'),
			campaign: fc.constantFrom('c1', 'c2'),
			email: fc.constantFrom('', 'a@x.test', ' A@x.test', 'b@x.test'),
			token: fc.constantFrom('', 't1', 't2'),
			forwarded: fc.boolean(),
			value: fc.integer({ min: 0, max: 1000 }),
		});
		fc.assert(
			fc.property(fc.array(eventArb, { maxLength: 40 }), (raw) => {
				const events = raw.map((e) => ({ ...e, at }));
				const kept = events.filter((e, i) => events.findIndex((x) => x.id === e.id) === i);
				const contact = (e: (typeof events)[number]) => (e.email.trim().toLowerCase() || `m:${e.token || `${e.campaign}`}`).toString();
				for (const row of computeMetrics(events, { groupBy: ['campaign'] })) {
					const mine = kept.filter((e) => e.campaign === row.campaign);
					const conv = mine.filter((e) => e.type === 'converted');
					const fwd = mine.filter((e) => (e.type === 'opened' || e.type === 'clicked') && e.forwarded);
					expect(row.conversions).toBe(new Set(conv.map(contact)).size);
					expect(row.forwards).toBe(new Set(fwd.map(contact)).size);
					expect(row.conversionValue).toBe(conv.reduce((a, e) => a + e.value, 0));
				}
			}),
			{ numRuns: 150 },
		);
	});

	it('normalizes converted events: numeric text values, a bad value named, forward flags from text', () => {
		expect(normalizeMetricsEvent({ type: 'converted', value: ' 12.5 ' }).value).toBe(12.5);
		expect('value' in normalizeMetricsEvent({ type: 'converted', value: '' })).toBe(false);
		expect(() => normalizeMetricsEvent({ type: 'converted', value: 'lots' })).toThrow(/"value" must be a number, got "lots"/);
		expect(normalizeMetricsEvent({ type: 'opened', forwarded: 'true' }).forwarded).toBe(true);
		expect(normalizeMetricsEvent({ type: 'opened', forwarded: 0 }).forwarded).toBe(false);
	});
});

describe('revenue, cost and ROI', () => {
	const events = [
		...Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, type: 'sent', at, campaign: 'c', token: `t${i}`, email: `p${i}@x.test`, spend: 1 })),
		{ id: 'v', type: 'converted', at, campaign: 'c', email: 'p1@x.test', value: 80, won: 200 },
	];

	it('with a cost per send: revenue is the conversions value, cost is sent × cost, ROI = (revenue − cost) / cost', () => {
		const [row] = computeMetrics(events, { groupBy: ['campaign'], costPerSend: 2 });
		expect(row).toMatchObject({ revenue: 80, cost: 20, roi: 3 });
	});

	it('a revenue field wins over the conversions value; a cost field adds to the cost per send', () => {
		const [row] = computeMetrics(events, { groupBy: ['campaign'], revenueField: 'won', costField: 'spend', costPerSend: 0.5 });
		expect(row).toMatchObject({ revenue: 200, cost: 10 + 5, roi: (200 - 15) / 15 });
	});

	it('no cost: no ROI; a cost of 0 gives a null ROI; a bad cost per send is refused', () => {
		const [plain] = computeMetrics(events, { groupBy: ['campaign'], revenueField: 'won' });
		expect(plain.revenue).toBe(200);
		expect('roi' in plain).toBe(false);
		expect('cost' in plain).toBe(false);
		const row = addMetricsMoney({ sent: 0, conversionValue: 5 } as MetricsRow, { cost: 0 });
		expect(row).toMatchObject({ revenue: 5, cost: 0, roi: null });
		expect(() => computeMetrics(events, { costPerSend: -1 })).toThrow(/cost per send must be a number of zero or more/);
	});

	it('the report shows revenue, cost and ROI only when a cost was given', () => {
		const withCost = renderMetricsHtml(computeMetrics(events, { groupBy: ['campaign'], costPerSend: 2 }), { groupBy: ['campaign'] });
		expect(withCost).toContain('>ROI</th>');
		expect(withCost).toMatch(/>80\.00<\/td><td[^>]*>20\.00<\/td><td[^>]*>300\.0%<\/td>/);
		const without = renderMetricsHtml(computeMetrics(events, { groupBy: ['campaign'] }), { groupBy: ['campaign'] });
		expect(without).not.toContain('ROI');
		expect(without).toContain('>Conversion rate</th>');
		expect(without).toContain('>10.00%</td>'); // 1 conversion / 10 delivered
	});
});

describe('list size and list health', () => {
	it('rates the effective contacts against the guide’s 500 and 5,000', () => {
		expect(LIST_SIZE_USEFUL_FROM).toBe(500);
		expect(LIST_SIZE_STRONG_FROM).toBe(5000);
		expect(listSizeAssessment(0).level).toBe('small');
		expect(listSizeAssessment(499)).toEqual({ level: 'small', note: expect.stringMatching(/^below 500: too small for reliable rates/) });
		expect(listSizeAssessment(500).level).toBe('useful');
		expect(listSizeAssessment(4999).note).toMatch(/^500 to 5,000/);
		expect(listSizeAssessment(5000)).toEqual({ level: 'strong', note: expect.stringMatching(/^5,000\+/) });
	});

	it('list health a store counted gives the same figures as the contacts', () => {
		const contacts = [
			{ email: 'a@x.test', createdAt: '2026-10-01' },
			{ email: 'b@x.test', createdAt: '2026-11-05' },
			{ email: 'c@x.test', createdAt: '2026-10-01', tags: 'Risk-Bounced' },
			{ email: 'd@x.test', createdAt: '2026-10-01' },
		];
		const leaving = [{ type: 'unsubscribed', at: '2026-11-10T00:00:00Z', email: 'd@x.test' }];
		const options = { periodStart: '2026-11-01', periodEnd: '2026-12-01' };
		const health = computeListHealth(contacts, leaving, options);
		const { netGrowth: _n, growthRate: _g, churnRate: _c, ...counts } = health;
		const asText = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, String(v)]));
		expect(isCountedListHealth(asText)).toBe(true);
		expect(isCountedListHealth(contacts[0])).toBe(false);
		expect(listHealthFromCounts(asText)).toEqual(health);
		expect(() => listHealthFromCounts({ ...asText, left: '-1' })).toThrow(/"left" is not a whole number of 0 or more/);
		expect(() => listHealthFromCounts({ ...asText, periodEnd: 'soon' })).toThrow(/"periodEnd" is not a time/);
		const html = renderMetricsHtml([], { listHealth: health });
		expect(html).toContain('3 (below 500: too small for reliable rates');
		expect(html).toMatch(/Churn rate<\/th><td[^>]*>50\.0%/); // 1 left / base 2 (a and d)
	});
});

describe('A/B in the report', () => {
	it('lists roll-out decisions newest first, a replay once, at most the limit', () => {
		const events = [
			{ id: 'd1', type: 'ab_decided', at: '2026-11-18T09:00:00Z', campaign: 'spring', variant: 'B', reason: 'B wins on replyRate' },
			{ id: 'd2', type: 'ab_decided', at: '2026-11-19T09:00:00Z', campaign: 'autumn', variant: '', reason: 'No winner yet' },
			{ id: 'd1', type: 'ab_decided', at: '2026-11-18T09:00:00Z', campaign: 'spring', variant: 'B', reason: 'B wins on replyRate' },
			{ id: 's', type: 'sent', at },
		];
		expect(abDecisions(events)).toEqual([
			{ at: '2026-11-19T09:00:00.000Z', campaign: 'autumn', winner: '', reason: 'No winner yet' },
			{ at: '2026-11-18T09:00:00.000Z', campaign: 'spring', winner: 'B', reason: 'B wins on replyRate' },
		]);
		const many = Array.from({ length: MAX_REPORT_AB_DECISIONS + 5 }, (_, i) => ({ id: `x${i}`, type: 'ab_decided', at, campaign: `c${i}` }));
		expect(abDecisions(many)).toHaveLength(MAX_REPORT_AB_DECISIONS);
		const html = renderMetricsHtml([], { decisions: abDecisions(events) });
		expect(html).toContain('A/B roll-out decisions');
		expect(html).toMatch(/>2026-11-18 09:00<\/td><td[^>]*>spring<\/td><td[^>]*>B<\/td><td[^>]*>B wins on replyRate<\/td>/);
		expect(html).toContain('>none yet</td>');
	});

	it('shows every tested rate with its p-value, and why there is no winner', () => {
		const ab = ['A', 'B'].flatMap((v, k) =>
			Array.from({ length: 40 }, (_, i) => [
				{ id: `s${k}${i}`, type: 'sent', at, variant: v, token: `${k}-${i}`, campaign: '<c>' },
				...(i < 10 + k ? [{ id: `o${k}${i}`, type: 'opened', at, variant: v, token: `${k}-${i}`, class: 'human', campaign: '<c>' }] : []),
			]).flat(),
		);
		const comparisons = compareVariants(ab, { groupBy: ['campaign'], rates: ['humanOpenRate', 'replyRate'] });
		const html = renderMetricsHtml([], { groupBy: ['campaign', 'variant'], comparisons });
		expect(html).toContain('>&lt;c&gt;</td>');
		expect(html).toContain(`>${formatPValue(comparisons[0].comparisons[0].pValue)}</td>`);
		expect(html).toContain('sample too small: each arm needs at least 100 trials (have 40 and 40)');
		expect(formatPValue(null)).toBe('—');
		expect(formatPValue(0.04321)).toBe('0.043');
		expect(formatPValue(1e-9)).toBe('< 0.0001');
	});

	it('adds the channel table when given, escaped', () => {
		const rows = channelLeads([{ type: 'inbound', channel: '<Ads>', email: 'l@x.test', at }], { costPerChannel: { '<ads>': 30 } });
		const html = renderMetricsHtml([], { channelLeads: rows });
		expect(html).toContain('<h4 style="margin:12px 0 4px">Leads by channel</h4>');
		expect(html).toContain('&lt;Ads&gt;');
		expect(html).not.toContain('<Ads>');
		expect(html).toContain('>30.00</td>');
		expect(renderMetricsHtml([], {})).not.toContain('Leads by channel');
	});
});
