import { describe, expect, it } from 'vitest';
import { computeMetrics, compareVariants, computeListHealth } from '../../core/metrics';
import { funnelChartOption, renderFunnelChart, renderMetricsHtml, DEFAULT_CHART_FONT } from '../../core/report';
import { existsSync } from 'node:fs';

const at = '2026-11-20T10:00:00Z';
const events = [
	{ id: '1', type: 'sent', at, campaign: 'Spring <promo>', token: 'a' },
	{ id: '2', type: 'sent', at, campaign: 'Spring <promo>', token: 'b' },
	{ id: '3', type: 'opened', at, campaign: 'Spring <promo>', token: 'a', class: 'human' },
	{ id: '4', type: 'complained', at, campaign: 'Spring <promo>', token: 'b' },
	{ id: '5', type: 'sent', at, campaign: 'Dealers', token: 'c' },
	{ id: '6', type: 'bounced', at, campaign: 'Dealers', token: 'c', bounce: { hard: true } },
];
const rows = computeMetrics(events, { groupBy: ['campaign'] });

describe('renderMetricsHtml', () => {
	const html = renderMetricsHtml(rows, { groupBy: ['campaign'], title: 'Week 47', caption: 'Europe/Berlin' });

	it('renders one escaped row per group with formatted figures', () => {
		expect(html).toContain('<h3 style="margin:0 0 4px">Week 47</h3>');
		expect(html).toContain('Spring &lt;promo&gt;');
		expect(html).not.toContain('<promo>');
		expect(html.match(/<tr>/g)).toHaveLength(3); // header + 2 groups
		// Dealers: 1 sent, 1 hard bounce, delivered 0 → rates over delivered are "—"
		const dealers = html.slice(html.indexOf('>Dealers<'), html.indexOf('Spring &lt;'));
		expect(dealers).toContain('0.0%'); // delivery
		expect(dealers).toContain('100.0% (1 / 0)'); // bounce (hard / soft)
		expect(dealers).toContain('— / —'); // open rates without deliveries
	});

	it('marks a complaint rate at or over 0.3 %', () => {
		// Spring: 1 complaint / 2 delivered = 50 %
		expect(html).toMatch(/background:#ffebe9;color:#cf222e;font-weight:600">50\.00%</);
		expect(html.match(/#ffebe9/g)).toHaveLength(1);
	});

	it('adds A/B and list health sections when given', () => {
		const ab = [...Array(2)].flatMap((_, k) =>
			Array.from({ length: 150 }, (_, i) => [
				{ id: `s${k}${i}`, type: 'sent', at, variant: k ? 'B' : 'A', token: `${k}-${i}` },
				...(i < (k ? 60 : 20) ? [{ id: `o${k}${i}`, type: 'opened', at, variant: k ? 'B' : 'A', token: `${k}-${i}`, class: 'human' }] : []),
			]).flat(),
		);
		const comparisons = compareVariants(ab, { rates: ['humanOpenRate'] });
		const listHealth = computeListHealth([{ email: 'a@x.com', createdAt: '2026-11-02' }], [], { periodStart: '2026-11-01', periodEnd: '2026-12-01' });
		const full = renderMetricsHtml([], { comparisons, listHealth });
		expect(full).toContain('No events');
		// one table line per rate: both rates, the difference, the p-value and the verdict
		expect(full).toMatch(
			/<td[^>]*>A<\/td><td[^>]*>B<\/td><td[^>]*>humanOpenRate<\/td><td[^>]*>13\.3%<\/td><td[^>]*>40\.0%<\/td><td[^>]*>\+26\.7 pts<\/td><td[^>]*>&lt; 0\.0001<\/td><td[^>]*>B wins<\/td>/,
		);
		expect(full).toContain('List health, 2026-11-01 to 2026-12-01');
		expect(full).toMatch(/New<\/th><td[^>]*>1</);
	});
});

describe('renderFunnelChart', () => {
	it('builds one funnel per group with the five stages in order, largest groups first', () => {
		const { option, shown, omitted } = funnelChartOption(rows, { groupBy: ['campaign'], maxGroups: 1 });
		expect(shown).toBe(1);
		expect(omitted).toBe(1);
		const series = option.series[0];
		expect(series.name).toBe('Spring <promo>');
		expect(series.data).toEqual([
			{ name: 'Sent', value: 2 },
			{ name: 'Delivered', value: 2 },
			{ name: 'Opened (people)', value: 1 },
			{ name: 'Clicked (people)', value: 0 },
			{ name: 'Replied', value: 0 },
		]);
		expect((option.title[0] as { subtext?: string }).subtext).toBe('1 more group(s) not shown');
	});

	it('renders SVG with ECharts: labels escaped, no scripts', async () => {
		const chart = await renderFunnelChart(rows, { groupBy: ['campaign'] });
		const svg = chart.data.toString('utf8');
		expect(chart.mimeType).toBe('image/svg+xml');
		expect(svg.startsWith('<svg')).toBe(true);
		expect(svg).toContain('Spring &lt;promo&gt;');
		expect(svg).toContain('Dealers');
		expect(svg).toContain('Opened (people)');
		expect(svg).not.toMatch(/<script/i);
		expect(svg).toContain(`width="${chart.width}"`);
	});

	it('renders PNG with the DejaVu font shipped with the package', async () => {
		expect(existsSync(DEFAULT_CHART_FONT)).toBe(true);
		const chart = await renderFunnelChart(rows, { groupBy: ['campaign'], format: 'png' });
		expect(chart.mimeType).toBe('image/png');
		expect(chart.data.subarray(1, 4).toString('latin1')).toBe('PNG');
		expect(chart.data.readUInt32BE(16)).toBe(chart.width); // IHDR width
		expect(chart.data.readUInt32BE(20)).toBe(chart.height);
	});

	it('says what to do when a named PNG font is missing', async () => {
		await expect(renderFunnelChart(rows, { format: 'png', fontFile: '/nonexistent/font.ttf' })).rejects.toThrow(/TrueType font file/);
	});
});
