import { describe, expect, it } from 'vitest';
import { compareVariants, computeListHealth, computeMetrics, computeMetricsDetailed, type MetricsRow } from '../../core/metrics';
import { isoEpochMinutes } from '../../core/metrics/timeKeys';
import { batchTagParts } from '../../core/metrics/batchTagParts';

type Ev = Record<string, unknown>;
const at = '2026-11-20T10:00:00.000Z';
const ev = (id: string, type: string, token: string | undefined, extra: Ev = {}): Ev => ({
	id,
	type,
	at,
	email: `${token}@x.com`,
	campaign: 'A',
	token,
	...extra,
});

// Campaign A: five messages t1..t5 (hand-counted in the comments)
const campaignA: Ev[] = [
	ev('s1', 'sent', 't1'),
	ev('s1', 'sent', 't1'), // replayed: same id, counts once
	ev('s2', 'sent', 't2'),
	ev('s3', 'sent', 't3'),
	ev('s4', 'sent', 't4'),
	ev('s5', 'sent', 't5'),
	ev('o1', 'opened', 't1', { class: 'human' }),
	ev('o2', 'opened', 't1', { class: 'human' }), // repeat open: opens+1, not unique
	ev('o1', 'opened', 't1', { class: 'human' }), // replay of o1
	ev('o3', 'opened', 't2', { class: 'apple_mpp' }), // machine: unique open, not human
	ev('o4', 'opened', 't3', { class: 'scanner' }),
	ev('c1', 'clicked', 't3', { class: 'human', url: 'https://a.example/' }), // a human click makes t3 a human open
	ev('c2', 'clicked', 't4', { class: 'scanner' }), // unique click, not human, no open
	ev('b1', 'bounced', 't5', { bounce: { hard: true, status: '5.1.1', reason: 'userunknown', diagnostic: '' } }),
	ev('b2', 'bounced', 't5', { bounce: { hard: false, status: '4.2.2', reason: 'mailboxfull', diagnostic: '' } }), // same message
	ev('o5', 'opened', 't2', { class: 'image_proxy' }), // proxy fetch = a person opened t2
	ev('r1', 'replied', 't1'),
	ev('r2', 'replied', 't1'), // second reply to t1: one replied message
	ev('a1', 'auto_replied', 't3'),
	ev('u1', 'unsubscribed', 't2'),
	ev('k1', 'complained', 't4'),
	ev('f1', 'failed', 't6'),
	ev('x1', 'skipped', 't7'),
	ev('i1', 'inbound', undefined, { channel: 'ads' }),
	ev('d1', 'delayed', 't4'),
	ev('w1', 'weird_type', 't1'), // unknown type: ignored
];

// Campaign B: machine-only opens
const campaignB: Ev[] = [
	ev('bs1', 'sent', 'u1', { campaign: 'B' }),
	ev('bs2', 'sent', 'u2', { campaign: 'B' }),
	ev('bo1', 'opened', 'u1', { campaign: 'B', class: 'apple_mpp' }),
	ev('bo2', 'opened', 'u2', { campaign: 'B', class: 'scanner' }),
	ev('bo3', 'opened', 'u2', { campaign: 'B', class: 'unknown' }),
];

// Campaign C: nothing sent, only inbound mail
const campaignC: Ev[] = [ev('ci1', 'inbound', undefined, { campaign: 'C' })];

function byCampaign(rows: MetricsRow[]) {
	return Object.fromEntries(rows.map((r) => [r.campaign as string, r]));
}

describe('computeMetrics: hand-computed figures', () => {
	const result = computeMetricsDetailed([...campaignA, ...campaignB, ...campaignC], { groupBy: ['campaign'] });
	const rows = byCampaign(result.rows);

	it('counts campaign A exactly (duplicates, repeats, machine opens, human clicks)', () => {
		expect(rows.A).toMatchObject({
			campaign: 'A',
			sent: 5,
			failed: 1,
			skipped: 1,
			bounced: 1,
			hardBounced: 1,
			softBounced: 0,
			delivered: 4,
			delayed: 1,
			opens: 5,
			uniqueOpens: 3,
			humanUniqueOpens: 3,
			clicks: 2,
			uniqueClicks: 2,
			humanUniqueClicks: 1,
			replies: 1,
			autoReplies: 1,
			unsubscribes: 1,
			complaints: 1,
			inbound: 1,
		});
	});

	it('computes campaign A rates from those counts', () => {
		const a = rows.A;
		expect(a.deliveryRate).toBe(4 / 5);
		expect(a.bounceRate).toBe(1 / 5);
		expect(a.hardBounceRate).toBe(1 / 5);
		expect(a.softBounceRate).toBe(0);
		expect(a.openRate).toBe(3 / 4);
		expect(a.humanOpenRate).toBe(3 / 4);
		expect(a.clickThroughRate).toBe(1 / 3);
		expect(a.clickRate).toBe(1 / 4);
		expect(a.replyRate).toBe(1 / 3);
		expect(a.unsubscribeRate).toBe(1 / 4);
		expect(a.complaintRate).toBe(1 / 4);
		expect(a).not.toHaveProperty('roi');
	});

	it('keeps machine-only opens out of the human figures', () => {
		expect(rows.B).toMatchObject({ sent: 2, delivered: 2, opens: 3, uniqueOpens: 2, humanUniqueOpens: 0, humanUniqueClicks: 0 });
		expect(rows.B.openRate).toBe(1);
		expect(rows.B.humanOpenRate).toBe(0);
		expect(rows.B.clickThroughRate).toBeNull(); // 0 human opens
		expect(rows.B.replyRate).toBeNull();
	});

	it('gives null, never NaN or Infinity, for zero denominators', () => {
		const c = rows.C;
		expect(c).toMatchObject({ sent: 0, delivered: 0, inbound: 1 });
		for (const rate of [
			'deliveryRate',
			'bounceRate',
			'openRate',
			'humanOpenRate',
			'clickThroughRate',
			'clickRate',
			'replyRate',
			'unsubscribeRate',
			'complaintRate',
		])
			expect(c[rate], rate).toBeNull();
	});

	it('reports duplicates and ignored events, and maps each event to its row', () => {
		expect(result.duplicates).toBe(2);
		expect(result.ignored).toBe(1);
		expect(result.rows.map((r) => r.campaign)).toEqual(['A', 'B', 'C']);
		expect(result.rowOfEvent[0]).toBe(0);
		expect(result.rowOfEvent[campaignA.length - 1]).toBe(-1); // the unknown type
		expect(result.rowOfEvent[campaignA.length]).toBe(1);
		expect(result.rowOfEvent[campaignA.length + campaignB.length]).toBe(2);
	});

	it('gives one total row without group keys', () => {
		const [total] = computeMetrics([...campaignA, ...campaignB]);
		expect(total).toMatchObject({ sent: 7, opens: 8, uniqueOpens: 5, humanUniqueOpens: 3 });
		expect(computeMetrics([])).toEqual([]);
	});
});

describe('computeMetrics: what a message is', () => {
	it('falls back to the Message-ID, then address + campaign + batch tag', () => {
		const rows = computeMetrics([
			{ id: '1', type: 'sent', at, email: 'a@x.com', campaign: 'K', messageId: '<m1@x>' },
			{ id: '2', type: 'opened', at, email: 'a@x.com', campaign: 'K', messageId: '<m1@x>', class: 'human' },
			{ id: '3', type: 'opened', at, email: 'a@x.com', campaign: 'K', messageId: '<m1@x>', class: 'human' },
			{ id: '4', type: 'opened', at, email: 'B@x.com', campaign: 'K', batchTag: 'English-D-Marketing01', class: 'human' },
			{ id: '5', type: 'opened', at, email: 'b@x.com ', campaign: 'K', batchTag: 'English-D-Marketing01', class: 'human' },
			{ id: '6', type: 'opened', at, email: 'b@x.com', campaign: 'K', batchTag: 'English-D-Marketing02', class: 'human' },
		]);
		expect(rows[0]).toMatchObject({ opens: 5, uniqueOpens: 3, humanUniqueOpens: 3 });
	});

	it('counts events without an id each time (nothing to deduplicate on)', () => {
		const rows = computeMetrics([
			{ type: 'sent', at, token: 'a' },
			{ type: 'sent', at, token: 'a' },
		]);
		expect(rows[0].sent).toBe(2);
	});

	it('treats a numeric id and its string as the same id', () => {
		expect(
			computeMetrics([
				{ id: 5, type: 'sent', at },
				{ id: '5', type: 'sent', at },
				{ id: 6, type: 'sent', at },
			])[0].sent,
		).toBe(2);
	});

	it('keeps per-message facts apart per group: the same token in two groups counts in each', () => {
		const rows = computeMetrics(
			[
				{ id: '1', type: 'opened', at: '2026-11-20T10:00:00Z', token: 't', class: 'human' },
				{ id: '2', type: 'opened', at: '2026-11-21T10:00:00Z', token: 't', class: 'human' },
				{ id: '3', type: 'opened', at: '2026-11-21T11:00:00Z', token: 't', class: 'human' },
			],
			{ groupBy: ['day'] },
		);
		expect(rows.map((r) => [r.day, r.opens, r.uniqueOpens])).toEqual([
			['2026-11-20', 1, 1],
			['2026-11-21', 2, 1],
		]);
	});
});

describe('the library takes events typed by its callers', () => {
	// A Code node or script types its events with an interface, which has no index signature; `npm run typecheck`
	// (in CI) fails if the entry points stop accepting them.
	interface StoredEvent {
		id: string;
		type: 'sent' | 'opened' | 'unsubscribed';
		at: string;
		email: string;
		token: string;
		variant: string;
		class?: string;
	}
	const stored: StoredEvent[] = [
		{ id: 'e1', type: 'sent', at: '2026-11-20T10:00:00Z', email: 'a@x.com', token: 'ta', variant: 'A' },
		{ id: 'e2', type: 'opened', at: '2026-11-20T11:00:00Z', email: 'a@x.com', token: 'ta', variant: 'A', class: 'human' },
		{ id: 'e3', type: 'sent', at: '2026-11-20T10:00:00Z', email: 'b@x.com', token: 'tb', variant: 'B' },
		{ id: 'e4', type: 'unsubscribed', at: '2026-11-20T12:00:00Z', email: 'b@x.com', token: 'tb', variant: 'B' },
	];

	it('computeMetrics, computeMetricsDetailed, compareVariants and computeListHealth accept them', () => {
		expect(computeMetrics(stored)[0]).toMatchObject({ sent: 2, humanUniqueOpens: 1, unsubscribes: 1 });
		expect(computeMetricsDetailed(stored, { groupBy: ['variant'] }).rows.map((r) => [r.variant, r.sent])).toEqual([
			['A', 1],
			['B', 1],
		]);
		expect(compareVariants(stored, { minSample: 1 }).length).toBeGreaterThan(0);
		const health = computeListHealth([{ email: 'a@x.com' }, { email: 'b@x.com' }], stored, {
			periodStart: '2026-11-01T00:00:00Z',
			periodEnd: '2026-12-01T00:00:00Z',
		});
		expect(health).toMatchObject({ left: 1 });
	});
});

describe('computeMetrics: group keys', () => {
	it('puts day, week and month in the time zone, not UTC', () => {
		const events = [
			{ id: '1', type: 'sent', at: '2026-11-29T23:30:00Z', token: 'a' }, // Berlin: Mon 30 Nov 00:30
			{ id: '2', type: 'sent', at: '2026-11-29T22:59:59.999Z', token: 'b' }, // Berlin: Sun 29 Nov 23:59
			{ id: '3', type: 'sent', at: new Date('2026-11-30T23:00:00Z'), token: 'c' }, // Berlin: Tue 1 Dec 00:00
			{ id: '4', type: 'sent', at: '2026-11-30T01:30:00+02:00', token: 'd' }, // = 29 Nov 23:30Z = Berlin 30 Nov 00:30
			{ id: '5', type: 'sent', at: '2026-11-30 00:10', token: 'e' }, // no offset: Berlin wall time
		];
		const days = computeMetrics(events, { groupBy: ['day'], timeZone: 'Europe/Berlin' });
		expect(days.map((r) => [r.day, r.sent])).toEqual([
			['2026-11-29', 1],
			['2026-11-30', 3],
			['2026-12-01', 1],
		]);
		const weeks = computeMetrics(events, { groupBy: ['week'], timeZone: 'Europe/Berlin' });
		expect(weeks.map((r) => [r.week, r.sent])).toEqual([
			['2026-W48', 1],
			['2026-W49', 4],
		]);
		const months = computeMetrics(events, { groupBy: ['month'], timeZone: 'Europe/Berlin' });
		expect(months.map((r) => [r.month, r.sent])).toEqual([
			['2026-11', 4],
			['2026-12', 1],
		]);
		const utc = computeMetrics(events, { groupBy: ['day'] });
		expect(utc.map((r) => [r.day, r.sent])).toEqual([
			['2026-11-29', 3],
			['2026-11-30', 2],
		]);
	});

	it('handles half- and quarter-hour zones and DST changes', () => {
		const events = [
			{ id: '1', type: 'sent', at: '2026-11-21T18:29:00Z' }, // Kolkata 23:59
			{ id: '2', type: 'sent', at: '2026-11-21T18:30:00Z' }, // Kolkata 00:00 next day
			{ id: '3', type: 'sent', at: '2026-11-21T18:14:00Z' }, // Kathmandu (+05:45) 23:59
			{ id: '4', type: 'sent', at: '2026-11-21T18:15:00Z' }, // Kathmandu 00:00
		];
		expect(computeMetrics(events.slice(0, 2), { groupBy: ['day'], timeZone: 'Asia/Kolkata' }).map((r) => r.day)).toEqual([
			'2026-11-21',
			'2026-11-22',
		]);
		expect(computeMetrics(events.slice(2), { groupBy: ['day'], timeZone: 'Asia/Kathmandu' }).map((r) => r.day)).toEqual(['2026-11-21', '2026-11-22']);
		// New York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-03-09T03:59Z is 23:59 EDT on the 8th
		const ny = computeMetrics(
			[
				{ id: 'n', type: 'sent', at: '2026-03-09T03:59:00Z' },
				{ id: 'm', type: 'sent', at: '2026-03-08T04:59:00Z' },
			],
			{ groupBy: ['day'], timeZone: 'America/New_York' },
		);
		expect(ny.map((r) => r.day)).toEqual(['2026-03-07', '2026-03-08']);
	});

	it('reads language and segment from the batch tag, and any field by dot path', () => {
		const rows = computeMetrics(
			[
				{ id: '1', type: 'sent', at, batchTag: 'English-Equipment Dealers-Marketing05', utm: { source: 'google' } },
				{ id: '2', type: 'sent', at, batchTag: 'English-Equipment Dealers-Read05', utm: { source: 'google' } },
				{ id: '3', type: 'sent', at, batchTag: 'Russian-Importers-Marketing01' },
				{ id: '4', type: 'sent', at, batchTag: 'not a batch tag' },
			],
			{ groupBy: ['language', 'segment', 'utm.source'] },
		);
		expect(rows.map((r) => [r.language, r.segment, r['utm.source'], r.sent])).toEqual([
			['English', 'Equipment Dealers', 'google', 2],
			['Russian', 'Importers', null, 1],
			[null, null, null, 1],
		]);
		expect(batchTagParts('ES|Dealers|Mail07', { separator: '|', markers: ['Mail'] })).toEqual({ language: 'ES', segment: 'Dealers' });
		expect(batchTagParts('English-Dealers-Marketing5')).toBeNull();
	});

	it('groups by campaign and variant together, ordered by keys with missing values last', () => {
		const rows = computeMetrics(
			[
				{ id: '1', type: 'sent', at, campaign: 'Z', variant: 'b' },
				{ id: '2', type: 'sent', at, campaign: 'Z', variant: 'a' },
				{ id: '3', type: 'sent', at, campaign: 'Y' },
				{ id: '4', type: 'sent', at, campaign: 'Z', variant: 'a' },
			],
			{ groupBy: ['campaign', 'variant'] },
		);
		expect(rows.map((r) => [r.campaign, r.variant, r.sent])).toEqual([
			['Y', null, 1],
			['Z', 'a', 2],
			['Z', 'b', 1],
		]);
	});

	it('sums revenue and cost and gives ROI, null when there is no cost', () => {
		const rows = computeMetrics(
			[
				{ id: '1', type: 'sent', at, campaign: 'A', cost: 0.5 },
				{ id: '2', type: 'sent', at, campaign: 'A', cost: '1.5' },
				{ id: '2', type: 'sent', at, campaign: 'A', cost: '1.5' }, // duplicate: not summed twice
				{ id: '3', type: 'replied', at, campaign: 'A', token: 'x', deal: { value: 10 } },
				{ id: '4', type: 'replied', at, campaign: 'B', token: 'y', deal: { value: 3 } },
			],
			{ groupBy: ['campaign'], revenueField: 'deal.value', costField: 'cost' },
		);
		expect(rows[0]).toMatchObject({ revenue: 10, cost: 2, roi: 4 });
		expect(rows[1]).toMatchObject({ revenue: 3, cost: 0, roi: null });
	});

	it('rejects an unknown time zone and an event without a valid time when grouping by time', () => {
		expect(() => computeMetrics([], { groupBy: ['day'], timeZone: 'Mars/Olympus' })).toThrow(/unknown time zone "Mars\/Olympus"/);
		expect(() => computeMetrics([{ id: 'e9', type: 'sent', at: '2026-02-30T10:00:00Z' }], { groupBy: ['day'] })).toThrow(
			/event "e9" has no valid time/,
		);
		expect(() => computeMetrics([{ id: 'e8', type: 'sent' }], { groupBy: ['month'] })).toThrow(/event "e8"/);
		// without a time key the time is not needed
		expect(computeMetrics([{ id: 'e8', type: 'sent' }], { groupBy: ['campaign'] })[0].sent).toBe(1);
	});
});

describe('isoEpochMinutes', () => {
	it('reads the instant of common ISO shapes and refuses others', () => {
		const m = (s: string) => Math.floor(Date.parse(s) / 60_000);
		for (const s of [
			'2026-11-22T07:30:00.000Z',
			'2026-11-22T07:30Z',
			'2026-11-22T07:30:59+05:30',
			'2026-11-22T07:30:00.123456-0800',
			'2026-11-22 07:30:00Z',
			'1969-12-31T23:59:00Z',
		])
			expect(isoEpochMinutes(s), s).toBe(m(s.replace(' ', 'T').replace(/(\d{2})(\d{2})$/, '$1:$2')));
		for (const s of [
			'2026-11-22',
			'2026-11-22T07:30:00',
			'2026-13-01T00:00:00Z',
			'2026-02-29T00:00:00Z',
			'2026-11-22T07:30:00.Z',
			'x026-11-22T07:30:00Z',
		])
			expect(isoEpochMinutes(s), s).toBeNaN();
	});
});

/** A plain reference implementation (Sets and Maps), to check the partitioned tables on a big random input. */
function reference(events: Ev[]) {
	const seen = new Set<string>();
	const groups = new Map<
		string,
		{
			sent: number;
			opens: number;
			bounced: Set<string>;
			hard: Set<string>;
			open: Set<string>;
			human: Set<string>;
			click: Set<string>;
			humanClick: Set<string>;
			reply: Set<string>;
		}
	>();
	for (const e of events) {
		if (seen.has(e.id as string)) continue;
		seen.add(e.id as string);
		const key = `${e.campaign}|${e.day}`;
		let g = groups.get(key);
		if (!g)
			groups.set(
				key,
				(g = {
					sent: 0,
					opens: 0,
					bounced: new Set(),
					hard: new Set(),
					open: new Set(),
					human: new Set(),
					click: new Set(),
					humanClick: new Set(),
					reply: new Set(),
				}),
			);
		const t = e.token as string;
		if (e.type === 'sent') g.sent++;
		if (e.type === 'opened') {
			g.opens++;
			g.open.add(t);
			if (e.class === 'human' || e.class === 'image_proxy') g.human.add(t);
		}
		if (e.type === 'clicked') {
			g.click.add(t);
			if (e.class === 'human') {
				g.humanClick.add(t);
				g.human.add(t);
			}
		}
		if (e.type === 'bounced') {
			g.bounced.add(t);
			if ((e.bounce as { hard: boolean }).hard) g.hard.add(t);
		}
		if (e.type === 'replied') g.reply.add(t);
	}
	return new Map(
		[...groups].map(([k, g]) => [
			k,
			{
				sent: g.sent,
				opens: g.opens,
				bounced: g.bounced.size,
				hardBounced: g.hard.size,
				uniqueOpens: g.open.size,
				humanUniqueOpens: g.human.size,
				uniqueClicks: g.click.size,
				humanUniqueClicks: g.humanClick.size,
				replies: g.reply.size,
			},
		]),
	);
}

describe('computeMetrics on 120,000 random events (partitioned tables)', () => {
	it('matches a plain Set/Map reference', () => {
		let seed = 7;
		const rand = () => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
		const types = ['sent', 'sent', 'opened', 'opened', 'clicked', 'bounced', 'replied'];
		const classes = ['human', 'apple_mpp', 'image_proxy', 'scanner', 'unknown'];
		const events: Ev[] = [];
		for (let i = 0; i < 120_000; i++) {
			const day = 1 + Math.floor(rand() * 5);
			const e: Ev = {
				id: rand() < 0.05 && i > 0 ? String(events[Math.floor(rand() * i)].id) : `e${i}`,
				type: types[Math.floor(rand() * types.length)],
				at: `2026-11-0${day}T12:00:00Z`,
				day: `2026-11-0${day}`,
				campaign: `c${Math.floor(rand() * 4)}`,
				token: `t${Math.floor(rand() * 20_000)}`,
				class: classes[Math.floor(rand() * classes.length)],
				bounce: { hard: rand() < 0.5 },
			};
			if (String(e.id) !== `e${i}`)
				Object.assign(
					e,
					events.find((x) => x.id === e.id),
				); // a true replay
			events.push(e);
		}
		const expected = reference(events);
		const rows = computeMetrics(events, { groupBy: ['campaign', 'day'] });
		expect(rows.length).toBe(expected.size);
		for (const r of rows) {
			const x = expected.get(`${r.campaign}|${r.day}`)!;
			expect({
				sent: r.sent,
				opens: r.opens,
				bounced: r.bounced,
				hardBounced: r.hardBounced,
				uniqueOpens: r.uniqueOpens,
				humanUniqueOpens: r.humanUniqueOpens,
				uniqueClicks: r.uniqueClicks,
				humanUniqueClicks: r.humanUniqueClicks,
				replies: r.replies,
			}).toEqual(x);
		}
	});
});
