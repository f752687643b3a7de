/**
 * The metrics SQL (transport/metricsSql.ts) against a real PostgreSQL: every figure of every row equals what
 * computeMetrics gives for the same events, on generated events with duplicate ids, exact replays, machine-only opens,
 * messages without token (Message-ID, or address + campaign + batch tag with case and white space), unknown types,
 * groups whose rates have zero denominators, time zones with quarter-hour offsets and DST, and time ranges.
 */
import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { abDecisions, channelLeads, computeListHealth, computeMetrics, listHealthFromCounts, normalizeMetricsEvent } from '../../core/metrics';
import {
	listHealthSql,
	listHealthSqlParameter,
	metricsSql,
	metricsSqlParameter,
	METRICS_SQL_EVENT_COLUMNS_DDL,
	METRICS_SQL_TYPES,
	reportExtrasSql,
} from '../../transport/metricsSql';
import { CadenceMetrics } from '../../nodes/CadenceMetrics/CadenceMetrics.node';
import { runNode } from '../helpers/n8n';
import { pgpFormat, queryValues } from '../helpers/postgresTemplates';
import type { INode } from 'n8n-workflow';
import { postgresBinDir } from '../helpers/postgres';
import { usePostgresStore } from '../helpers/postgresStore';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const WORKFLOWS = join(__dirname, '..', '..', 'workflows');
const SCHEMA = readFileSync(join(WORKFLOWS, 'postgres', 'schema.sql'), 'utf8');
const templateNodes = (dir: string) => (JSON.parse(readFileSync(join(WORKFLOWS, dir, '6-daily-report.json'), 'utf8')) as { nodes: INode[] }).nodes;
const templateNode = (dir: string, name: string) => templateNodes(dir).find((n) => n.name === name)!;
const CI = Boolean(process.env.CI);
const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (skipReason && CI) throw new Error(`metrics SQL tests are mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[metrics SQL] SKIPPED: ${skipReason}`);

interface GenEvent {
	id: string;
	type: string;
	at: string;
	email: string;
	campaign: string;
	batchTag: string;
	variant: string;
	channel: string;
	token: string;
	messageId: string;
	class: string;
	bounce?: { hard: boolean };
	/** A conversion's value (quarters: their sums are exact in any order). */
	value?: number;
	forwarded?: boolean;
}

/** One event of address a@x.test, campaign c, batch tag T at 2026-03-28 10:00 UTC, the rest empty unless given. */
const fixedEvent = (id: string, type: string, extra: Partial<GenEvent> = {}): GenEvent => ({
	id,
	type,
	at: '2026-03-28T10:00:00Z',
	email: 'a@x.test',
	campaign: 'c',
	batchTag: 'T',
	variant: '',
	channel: '',
	token: '',
	messageId: '',
	class: '',
	...extra,
});

const START = Date.parse('2026-03-27T00:00:00Z'); // spans the European DST change of 29 March
const SPAN = 6 * 86_400_000;
const KNOWN = [...METRICS_SQL_TYPES];

const eventArb = fc.record({
	id: fc.integer({ min: 1, max: 40 }).map((n) => `e${n}`),
	type: fc.oneof(
		{ weight: 12, arbitrary: fc.constantFrom(...KNOWN, 'opened', 'opened', 'clicked', 'sent', 'converted') },
		{ weight: 1, arbitrary: fc.constantFrom('paused', 'read_receipt') },
	),
	ms: fc.integer({ min: 0, max: SPAN }),
	email: fc.constantFrom('a@x.test', ' A@X.test ', 'b@x.test', 'B@x.TEST\t', 'c@y.test\u00a0', ''),
	campaign: fc.constantFrom('', 'c1', 'c2'),
	batchTag: fc.constantFrom('', 'English-Dealers-Marketing01', 'English-Dealers-Marketing02'),
	variant: fc.constantFrom('', 'A', 'B'),
	channel: fc.constantFrom('', 'email', 'linkedin'),
	token: fc.constantFrom('', '', 't1', 't2', 't3', 't4'),
	messageId: fc.constantFrom('', '', '<m1@x>', '<m2@x>'),
	class: fc.constantFrom('', 'human', 'apple_mpp', 'image_proxy', 'scanner', 'bot'),
	hard: fc.boolean(),
	value: fc.option(fc.integer({ min: -400, max: 40_000 }).map((q) => q / 4)),
	forwarded: fc.boolean(),
});

/** Events with duplicate ids (the id pool is small), exact replays appended, and unknown types with their own ids. */
const eventsArb = fc.tuple(fc.array(eventArb, { minLength: 0, maxLength: 60 }), fc.array(fc.nat(), { maxLength: 10 })).map(([raw, replays]) => {
	const events: GenEvent[] = raw.map((r, i) => ({
		// an unknown type is never counted, so it keeps its own id: the store's primary key would otherwise drop a later
		// counted event with its id, which computeMetrics counts
		id: KNOWN.includes(r.type) ? r.id : `u${i}`,
		type: r.type,
		at: new Date(START + r.ms).toISOString(),
		email: r.email,
		campaign: r.campaign,
		batchTag: r.batchTag,
		variant: r.variant,
		channel: r.channel,
		token: r.token,
		messageId: r.messageId,
		class: r.class,
		...(r.type === 'bounced' ? { bounce: { hard: r.hard } } : {}),
		...(r.type === 'converted' && r.value !== null ? { value: r.value } : {}),
		...(r.forwarded && (r.type === 'opened' || r.type === 'clicked') ? { forwarded: true } : {}),
	}));
	for (const k of replays) if (events.length) events.push({ ...events[k % events.length] });
	return events;
});

const COUNT_NAMES = [
	'sent',
	'failed',
	'skipped',
	'bounced',
	'delayed',
	'opens',
	'uniqueOpens',
	'clicks',
	'replies',
	'autoReplies',
	'unsubscribes',
	'complaints',
	'inbound',
	'conversions',
	'forwards',
];

const GROUPINGS: string[][] = [
	[],
	['campaign'],
	['campaign', 'batchTag'],
	['day'],
	['week', 'variant'],
	['month', 'channel'],
	['batchTag', 'class'],
	['email'],
	['day', 'campaign', 'variant'],
	['type'],
];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe'];

describe.skipIf(Boolean(skipReason))('metrics computed by the store', () => {
	let db: pg.Pool;
	usePostgresStore('cadence_store', 2, async (store) => {
		db = store.db;
		await db.query(SCHEMA);
		// the columns conversions and forwards are read from (IF NOT EXISTS: the schema may already have them)
		await db.query(METRICS_SQL_EVENT_COLUMNS_DDL);
	});

	/** Stores the events in order; a later event with an id already stored is dropped, as the templates insert. */
	async function store(events: GenEvent[]): Promise<void> {
		await db.query('TRUNCATE events');
		if (!events.length) return;
		const col = (f: (e: GenEvent) => unknown) => events.map(f);
		await db.query(
			`INSERT INTO events (event_id, type, at, email, campaign, batch_tag, variant, channel, token, message_id, class, bounce_hard, value, forwarded)
			 SELECT id, type, at, email, campaign, batch_tag, variant, channel, token, message_id, class, hard, value, forwarded
			 FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[],
			             $13::float8[], $14::boolean[])
			      WITH ORDINALITY AS u(id, type, at, email, campaign, batch_tag, variant, channel, token, message_id, class, hard, value, forwarded, n)
			 ORDER BY n
			 ON CONFLICT (event_id) DO NOTHING`,
			[
				col((e) => e.id),
				col((e) => e.type),
				col((e) => e.at),
				col((e) => e.email),
				col((e) => e.campaign),
				col((e) => e.batchTag),
				col((e) => e.variant),
				col((e) => e.channel),
				col((e) => e.token),
				col((e) => e.messageId),
				col((e) => e.class),
				col((e) => e.bounce?.hard === true),
				col((e) => e.value ?? null),
				col((e) => e.forwarded === true),
			],
		);
	}

	const sqlRows = async (groupBy: string[], range: { from?: string; to?: string; zone?: string }) =>
		(await db.query(metricsSql({ groupBy }), [metricsSqlParameter(range)])).rows as Array<Record<string, unknown>>;

	it('every figure of every row equals computeMetrics on the same events (and on the events read back)', async () => {
		await fc.assert(
			fc.asyncProperty(
				eventsArb,
				fc.constantFrom(...GROUPINGS),
				fc.constantFrom(...ZONES),
				fc.option(fc.tuple(fc.integer({ min: 0, max: SPAN }), fc.integer({ min: 0, max: SPAN }))),
				async (events, groupBy, zone, bounds) => {
					await store(events);
					const range = bounds
						? { from: new Date(START + Math.min(...bounds)).toISOString(), to: new Date(START + Math.max(...bounds)).toISOString() }
						: {};
					// the store keeps the first event of each id (in order), then the range applies
					const stored = events.filter((e, i) => events.findIndex((x) => x.id === e.id) === i);
					const inRange = bounds ? stored.filter((e) => e.at >= range.from! && e.at < range.to!) : stored;
					const actual = await sqlRows(groupBy, { ...range, zone });
					expect(actual).toEqual(computeMetrics(inRange, { groupBy, timeZone: zone }));
					// computeMetrics given the duplicates itself drops them to the same figures; a dropped duplicate of a group
					// no kept event has leaves that group as a row of zeros there, which the store never sees
					if (!bounds) {
						const keyOf = (r: Record<string, unknown>) => JSON.stringify(groupBy.map((k) => r[k]));
						const inStore = new Set(actual.map(keyOf));
						const withDuplicates = computeMetrics(events, { groupBy, timeZone: zone });
						const phantoms = withDuplicates.filter((r) => !inStore.has(keyOf(r)));
						for (const r of phantoms) expect(COUNT_NAMES.every((k) => r[k] === 0)).toBe(true);
						expect(withDuplicates.filter((r) => inStore.has(keyOf(r)))).toEqual(actual);
					}
					// the same figures as the report computed before, from the events it read out of the store
					const readBack = (
						await db.query(
							`SELECT event_id AS id, type, at, email, campaign, batch_tag AS "batchTag", variant, message_id AS "messageId", token, class,
							        bounce_hard AS "bounceHard", channel, value, forwarded FROM events`,
						)
					).rows.map((r) => normalizeMetricsEvent(r));
					const fromStore = readBack.filter((e) => !bounds || ((e.at as Date) >= new Date(range.from!) && (e.at as Date) < new Date(range.to!)));
					expect(actual).toEqual(computeMetrics(fromStore, { groupBy, timeZone: zone }));
				},
			),
			{ numRuns: 120 },
		);
	}, 120_000);

	it('counts messages, not events: machine-only opens, human clicks without an open, replays and zero denominators', async () => {
		const e = fixedEvent;
		const events = [
			e('s1', 'sent', { token: 't1' }),
			e('s2', 'sent', { token: 't2' }),
			e('s3', 'sent', { messageId: '<m3>' }),
			e('o1', 'opened', { token: 't1', class: 'apple_mpp' }),
			e('o2', 'opened', { token: 't1', class: 'scanner' }),
			e('o2', 'opened', { token: 't1', class: 'human' }), // same id: dropped
			e('c1', 'clicked', { token: 't2', class: 'human' }), // a human click is a human open
			e('c2', 'clicked', { token: 't2', class: 'human' }),
			e('b1', 'bounced', { messageId: '<m3>', bounce: { hard: true } }),
			e('b2', 'bounced', { messageId: '<m3>', bounce: { hard: false } }),
			e('r1', 'replied', { email: ' A@X.test ' }), // no token, no Message-ID: address + campaign + batch tag
			e('r2', 'replied', { email: 'a@x.test' }),
			e('x1', 'opened', { campaign: 'only-opens', token: 't9', class: 'human' }),
		];
		await store(events);
		const rows = await sqlRows(['campaign'], {});
		expect(rows).toEqual(computeMetrics(events, { groupBy: ['campaign'] }));
		expect(rows[0]).toMatchObject({
			campaign: 'c',
			sent: 3,
			bounced: 1,
			hardBounced: 1,
			delivered: 2,
			opens: 2,
			uniqueOpens: 1,
			humanUniqueOpens: 1,
			clicks: 2,
			uniqueClicks: 1,
			humanUniqueClicks: 1,
			replies: 1,
			clickThroughRate: 1,
			openRate: 0.5,
		});
		// no sends: every rate over sent or delivered is null
		expect(rows[1]).toMatchObject({ campaign: 'only-opens', sent: 0, uniqueOpens: 1, deliveryRate: null, openRate: null, clickThroughRate: 0 });
		// no events, no rows, with or without group keys
		await store([]);
		expect(await sqlRows([], {})).toEqual([]);
		expect(await sqlRows(['campaign'], {})).toEqual([]);
	});

	it('conversions and forwards count contacts, the conversions sum their value, and zero denominators give null', async () => {
		const e = fixedEvent;
		const events = [
			e('s1', 'sent', { token: 't1' }),
			e('s2', 'sent', { token: 't2', email: 'b@x.test' }),
			e('o1', 'opened', { token: 't1', class: 'human' }),
			e('o2', 'opened', { token: 't1', class: 'human', email: 'fwd@y.test', forwarded: true }),
			e('o3', 'clicked', { token: 't1', class: 'human', email: ' FWD@y.test', forwarded: true }), // the same contact
			e('v1', 'converted', { value: 120.5 }),
			e('v2', 'converted', { email: ' A@X.test ', value: 30 }), // the same contact: counted once, both values summed
			e('v3', 'converted', { email: 'b@x.test' }), // no value: 0
			e('v4', 'converted', { email: '', token: 't9', value: 1.25 }), // no address: its message is the contact
			e('z1', 'converted', { campaign: 'no-sends', value: 10 }), // nothing delivered: conversion rate null
			e('z2', 'opened', { campaign: 'no-sends', token: 'tz', class: 'apple_mpp', forwarded: true }), // no human open: forward rate null
		];
		await store(events);
		const rows = await sqlRows(['campaign'], {});
		expect(rows).toEqual(computeMetrics(events, { groupBy: ['campaign'] }));
		expect(rows[0]).toMatchObject({ campaign: 'c', conversions: 3, conversionValue: 151.75, conversionRate: 1.5, forwards: 1, forwardRate: 1 });
		expect(rows[1]).toMatchObject({
			campaign: 'no-sends',
			conversions: 1,
			conversionValue: 10,
			conversionRate: null,
			forwards: 1,
			forwardRate: null,
		});
		expect(await sqlRows([], {})).toEqual(computeMetrics(events));
		// with a cost per send the node adds revenue (the conversions' value), cost and ROI to the counted rows
		const node = new CadenceMetrics();
		const parameters = { input: 'auto', groupBy: ['campaign'], options: { costPerSend: 25 } };
		const fromRows = await runNode(node, { parameters, items: rows });
		expect(fromRows.json).toEqual((await runNode(node, { parameters, items: events })).json);
		expect(fromRows.json[0]).toMatchObject({ revenue: 151.75, cost: 50, roi: (151.75 - 50) / 50 });
		expect(fromRows.json[1]).toMatchObject({ revenue: 10, cost: 0, roi: null });
	});

	it('list health counted by the store equals computeListHealth on the same contacts and events', async () => {
		const PERIOD = { from: '2026-03-01T00:00:00.000Z', to: '2026-03-31T00:00:00.000Z' };
		const t0 = Date.parse(PERIOD.from);
		const contactArb = fc.record({
			email: fc.constantFrom('a@x.test', 'b@x.test', 'c@x.test', 'd@y.test', 'e@y.test', 'f@z.test'),
			tags: fc.subarray(
				['Marketing01', 'Risk-Bounced', ' RISK-hard ', '风险-不感兴趣', 'Ｒisk-wide', 'Riskless', 'vip', 'VIP_a', 'vipxa', '50%off', '500ff'],
				{
					maxLength: 3,
				},
			),
			createdDays: fc.integer({ min: -20, max: 40 }),
		});
		const leaveArb = fc.record({
			email: fc.constantFrom('a@x.test', ' B@x.test', 'c@x.test', 'gone@q.test', ''),
			type: fc.constantFrom('unsubscribed', 'complained', 'bounced', 'opened'),
			hard: fc.boolean(),
			days: fc.integer({ min: -5, max: 35 }),
		});
		await fc.assert(
			fc.asyncProperty(
				fc.uniqueArray(contactArb, { selector: (c) => c.email, maxLength: 6 }),
				fc.array(leaveArb, { maxLength: 12 }),
				fc.boolean(),
				fc.constantFrom(undefined, ['vip_'], ['50%', 'Risk-']),
				async (contacts, leaves, vipRisk, riskPrefixes) => {
					await db.query('TRUNCATE contacts');
					const rows = contacts.map((c) => ({ email: c.email, tags: c.tags.join(','), createdAt: new Date(t0 + c.createdDays * 86_400_000) }));
					for (const c of rows) await db.query('INSERT INTO contacts (email, tags, created_at) VALUES ($1, $2, $3)', [c.email, c.tags, c.createdAt]);
					const events: GenEvent[] = leaves.map((l, i) => ({
						id: `l${i}`,
						type: l.type,
						at: new Date(t0 + l.days * 86_400_000).toISOString(),
						email: l.email,
						campaign: '',
						batchTag: '',
						variant: '',
						channel: '',
						token: '',
						messageId: '',
						class: '',
						...(l.type === 'bounced' ? { bounce: { hard: l.hard } } : {}),
					}));
					await store(events);
					const riskTags = vipRisk ? ['VIP'] : undefined;
					// LIKE's wildcards in a prefix are plain characters: `vip_` matches VIP_a, not vipxa
					const parameter = listHealthSqlParameter({ ...PERIOD, riskTags, riskPrefixes });
					const [counted] = (await db.query(listHealthSql(), [parameter])).rows as Array<Record<string, unknown>>;
					const options = { periodStart: PERIOD.from, periodEnd: PERIOD.to, tagsDelimiter: ',', riskTags, riskPrefix: riskPrefixes };
					expect(listHealthFromCounts(counted)).toEqual(computeListHealth(rows, events, options));
				},
			),
			{ numRuns: 60 },
		);
		// the node takes the counted row on its Contacts input, with counted metrics rows on the Events input
		const [counted] = (await db.query(listHealthSql(), [listHealthSqlParameter(PERIOD)])).rows;
		const run = await runNode(new CadenceMetrics(), {
			parameters: { input: 'auto', groupBy: ['campaign'], listHealth: true, report: true, chartFormat: 'svg' },
			inputs: [await sqlRows(['campaign'], {}), [counted]],
		});
		expect(run.outputs[1][0].json).toEqual(listHealthFromCounts(counted));
		expect(run.outputs[2][0].json.html).toContain('Effective contacts');
		expect(() => listHealthSqlParameter({ from: PERIOD.to, to: PERIOD.from })).toThrow(/end must be after its start/);
		expect(() => listHealthSql({ contacts: 'x; DROP TABLE y' })).toThrow(/is not a table name/);
		await db.query('TRUNCATE contacts');
	}, 120_000);

	it('leads per channel and A/B decisions counted by the store give the report the same tables as the events', async () => {
		const leadArb = fc.record({
			channel: fc.constantFrom('', 'Google Ads', 'LinkedIn', 'Trade fair'),
			email: fc.constantFrom('l1@x.test', 'l2@x.test', 'l3@y.test'),
			unique: fc.boolean(),
			ms: fc.integer({ min: 0, max: SPAN }),
			decision: fc.boolean(),
			variant: fc.constantFrom('', 'A', 'B'),
		});
		await fc.assert(
			fc.asyncProperty(
				fc.array(leadArb, { maxLength: 30 }),
				fc.option(fc.tuple(fc.integer({ min: 0, max: SPAN }), fc.integer({ min: 0, max: SPAN }))),
				async (raw, bounds) => {
					const events: Array<Record<string, string | boolean | undefined> & { id: string; type: string; at: string }> = raw.map((r, i) => ({
						...(r.decision
							? { id: `d${i}`, type: 'ab_decided', campaign: `c${i % 3}`, variant: r.variant, reason: `why ${i}` }
							: { id: `i${i}`, type: 'inbound', channel: r.channel, email: r.email, unique: r.unique }),
						at: new Date(START + r.ms).toISOString(),
					}));
					await db.query('TRUNCATE events');
					for (const e of events)
						await db.query(
							`INSERT INTO events (event_id, type, at, email, channel, is_unique, campaign, variant, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
							[e.id, e.type, e.at, e.email ?? '', e.channel ?? '', e.unique === true, e.campaign ?? '', e.variant ?? '', e.reason ?? ''],
						);
					const range = bounds
						? { from: new Date(START + Math.min(...bounds)).toISOString(), to: new Date(START + Math.max(...bounds)).toISOString() }
						: {};
					const inRange = events.filter((e) => !bounds || (e.at >= range.from! && e.at < range.to!));
					const extras = (await db.query(reportExtrasSql(), [metricsSqlParameter(range)])).rows as Array<Record<string, unknown>>;
					// a store's empty channel is null: the channel table names both "(unknown)"
					expect(channelLeads(extras)).toEqual(channelLeads(inRange.map((e) => ({ ...e, channel: e.channel || undefined }))));
					expect(abDecisions(extras)).toEqual(abDecisions(inRange));
				},
			),
			{ numRuns: 50 },
		);
		expect(() => reportExtrasSql({ table: 'events e; --' })).toThrow(/is not a table name/);
	}, 120_000);

	it('Cadence Metrics renders the same rows and report from the counted rows as from the events (Input: Events or Counted Rows)', async () => {
		const events = fc.sample(eventsArb, { numRuns: 1, seed: 7 })[0].concat(
			fc
				.sample(eventsArb, { numRuns: 3, seed: 11 })
				.flat()
				.map((e, i) => ({ ...e, id: `x${i}` })),
		);
		await store(events);
		const groupBy = ['campaign', 'batchTag'];
		const parameters = { input: 'auto', groupBy, report: true, chartFormat: 'svg', reportTitle: 'Daily', options: { timeZone: 'Europe/Berlin' } };
		const rows = await sqlRows(groupBy, { zone: 'Europe/Berlin' });
		expect(rows.length).toBeGreaterThan(1);
		const stored = (
			await db.query(
				`SELECT event_id AS id, type, at, email, campaign, batch_tag AS "batchTag", variant, message_id AS "messageId", token, class,
				        bounce_hard AS "bounceHard", channel, value, forwarded FROM events`,
			)
		).rows;
		const node = new CadenceMetrics();
		// the rows arrive in another order: the node orders them as computeMetrics does
		const fromRows = await runNode(node, { parameters, items: [...rows].reverse() });
		const fromEvents = await runNode(node, { parameters, items: stored });
		expect(fromRows.json).toEqual(fromEvents.json);
		expect(fromRows.outputs[1][0].json.html).toBe(fromEvents.outputs[1][0].json.html);
		expect(fromRows.outputs[0].map((i) => i.pairedItem)).toEqual(
			fromRows.json.map((r) => ({ item: rows.length - 1 - rows.findIndex((x) => x.campaign === r.campaign && x.batchTag === r.batchTag) })),
		);
		// mixed input, a bad count, and what needs events fail the node with a clear error
		await expect(runNode(node, { parameters, items: [rows[0], stored[0]] })).rejects.toThrow(/1 of 2 input items are counted metrics rows/);
		await expect(runNode(node, { parameters: { ...parameters, input: 'rows' }, items: [{ ...rows[0], sent: -1 }] })).rejects.toThrow(
			/Item 0 is not a counted metrics row: "sent" is not a whole number/,
		);
		await expect(
			runNode(node, { parameters: { ...parameters, input: 'rows' }, items: [{ ...rows[0], delivered: Number(rows[0].delivered) + 1 }] }),
		).rejects.toThrow(/"delivered" must be sent − bounced/);
		await expect(runNode(node, { parameters: { ...parameters, compareVariants: true }, items: rows })).rejects.toThrow(
			/Compare Variants with counted rows needs "variant" in Group By/,
		);
		await expect(runNode(node, { parameters: { ...parameters, listHealth: true }, items: rows })).rejects.toThrow(
			/List Health from counted rows needs the list-health counts of the store on the Contacts input/,
		);
		// grouped by the variant too, the counted rows give the same A/B comparisons and report as the events; decision
		// events that come with the rows go to the report
		const abParameters = { ...parameters, groupBy: ['campaign', 'variant'], compareVariants: true, minSample: 1 };
		const abRows = await sqlRows(['campaign', 'variant'], { zone: 'Europe/Berlin' });
		const decision = { id: 'ab1', type: 'ab_decided', at: '2026-03-30T08:00:00Z', campaign: 'c1', variant: 'B', reason: 'B wins <on> replies' };
		const abFromRows = await runNode(node, { parameters: abParameters, items: [...abRows, decision] });
		const abFromEvents = await runNode(node, { parameters: abParameters, items: [...stored, decision] });
		expect(abFromRows.outputs[1].map((i) => i.json)).toEqual(abFromEvents.outputs[1].map((i) => i.json));
		expect(abFromRows.outputs[1].length).toBeGreaterThan(0);
		expect(abFromRows.outputs[2][0].json.html).toBe(abFromEvents.outputs[2][0].json.html);
		expect(abFromRows.outputs[2][0].json.html).toContain('B wins &lt;on&gt; replies');
	});

	it('the Postgres report counts in the store with the SQL of its Metrics grouping, and both twins read counted rows or events', async () => {
		const counting = templateNode('postgres', 'Count the last 30 days');
		const metrics = templateNode('postgres', 'Metrics');
		expect(counting.parameters.query).toBe(metricsSql({ groupBy: metrics.parameters.groupBy as string[] }));
		expect(metrics.parameters).toEqual(templateNode('', 'Metrics').parameters);
		expect(metrics.parameters.input).toBe('auto');
		// the node's query, with its parameter built by n8n's expression engine and formatted as n8n's Postgres node does
		const day = 86_400_000;
		const now = Date.now();
		const ev = (id: string, type: string, ms: number, extra: Partial<GenEvent> = {}): GenEvent => ({
			id,
			type,
			at: new Date(ms).toISOString(),
			email: 'a@x.test',
			campaign: 'c',
			batchTag: 'English-Dealers-Marketing01',
			variant: '',
			channel: '',
			token: `t-${id}`,
			messageId: '',
			class: '',
			...extra,
		});
		const events = [
			ev('old', 'sent', now - 32 * day),
			ev('s1', 'sent', now - 2 * day),
			ev('s2', 'sent', now - day, { campaign: 'd' }),
			ev('o1', 'opened', now - day, { token: 't-s1', class: 'apple_mpp' }),
			ev('o2', 'opened', now - 3600_000, { token: 't-s1', class: 'human' }),
		];
		await store(events);
		await db.query(`INSERT INTO events (event_id, type, at, email, channel, is_unique, campaign, variant, reason) VALUES
			('lead1', 'inbound', now() - interval '2 days', 'l@x.test', 'Google Ads', true, '', '', ''),
			('lead2', 'inbound', now() - interval '1 day', 'l@x.test', 'Google Ads', false, '', '', ''),
			('ab1', 'ab_decided', now() - interval '1 day', '', '', false, 'c', 'B', 'B wins on replyRate'),
			('ab0', 'ab_decided', now() - interval '40 days', '', '', false, 'c', 'A', 'too old for the report')`);
		await db.query(`INSERT INTO contacts (email, tags, created_at) VALUES ('a@x.test', 'Marketing01', now() - interval '60 days'),
			('n@x.test', 'Marketing01', now() - interval '3 days'), ('r@x.test', 'Risk-Bounced', now() - interval '90 days')`);
		/** A template node's query run with its parameter built by n8n's expression engine. */
		const runQuery = async (node: INode) => {
			const [values] = queryValues(node, [{}], 'Europe/Berlin');
			const query = String(node.parameters.query);
			return { rows: (await db.query(pgpFormat ? pgpFormat(query, values) : query, pgpFormat ? [] : values)).rows, values };
		};
		const { rows, values } = await runQuery(counting);
		const from = JSON.parse(String(values[0])).from as string;
		const groupBy = metrics.parameters.groupBy as string[];
		const counted = events.filter((e) => e.at >= new Date(from).toISOString());
		const withLeads = [...counted, ...(await db.query(`SELECT event_id AS id, type, at, channel, email FROM events WHERE type = 'inbound'`)).rows];
		expect(rows).toEqual(computeMetrics(withLeads, { groupBy, timeZone: 'Europe/Berlin' }));
		expect(rows.map((r) => [r.campaign, r.sent, r.humanUniqueOpens])).toEqual([
			['c', 1, 1],
			['d', 1, 0],
			[null, 0, 0],
		]);
		// the report's other queries are the transport's SQL, over the same 30 days and the List Health period
		const extrasNode = templateNode('postgres', 'Leads and A/B decisions');
		const healthNode = templateNode('postgres', 'List health');
		expect(extrasNode.parameters.query).toBe(reportExtrasSql());
		expect(healthNode.parameters.query).toBe(listHealthSql());
		expect((extrasNode.parameters.options as { queryReplacement: string }).queryReplacement).toBe(
			(counting.parameters.options as { queryReplacement: string }).queryReplacement,
		);
		const extras = (await runQuery(extrasNode)).rows;
		expect(channelLeads(extras)).toEqual([
			{ channel: 'Google Ads', leads: 2, uniqueLeads: 1, cost: null, costPerLead: null, costPerUniqueLead: null },
		]);
		expect(abDecisions(extras).map((d) => d.reason)).toEqual(['B wins on replyRate']);
		const [health] = (await runQuery(healthNode)).rows;
		expect(listHealthFromCounts(health)).toMatchObject({ contacts: 3, effective: 2, inRiskView: 1, base: 1, newContacts: 1, left: 0 });
		// the Metrics node of the template, given what the queries return as the Merge and List health nodes hand it
		const run = await runNode(new CadenceMetrics(), {
			parameters: { ...metrics.parameters, reportTitle: 'Daily', chartFormat: 'svg', channelCosts: { cost: [{ channel: 'google ads', cost: 30 }] } },
			inputs: [[...rows, ...extras], [health]],
			timezone: 'Europe/Berlin',
		});
		expect(run.outputs).toHaveLength(4);
		expect(run.json).toHaveLength(3);
		expect(run.outputs[2][0].json).toEqual(listHealthFromCounts(health));
		const html = String(run.outputs[3][0].json.html);
		expect(html).toContain('B wins on replyRate');
		expect(html).not.toContain('too old for the report');
		expect(html).toContain('2 (below 500: too small for reliable rates');
		expect(html).toMatch(/>Google Ads<\/td><td[^>]*>2<\/td><td[^>]*>1<\/td><td[^>]*>30\.00<\/td><td[^>]*>15\.00<\/td><td[^>]*>30\.00<\/td>/);
		expect(html).not.toContain('ROI'); // no cost per send in the template
		await db.query('TRUNCATE contacts');
	});

	it('refuses what it cannot compute, with a clear error', () => {
		expect(() => metricsSql({ groupBy: ['language'] })).toThrow(/cannot group metrics by "language"/);
		expect(() => metricsSql({ groupBy: ['utm.source'] })).toThrow(/cannot group metrics by "utm.source"/);
		expect(() => metricsSql({ table: 'events; DROP TABLE contacts' })).toThrow(/not a table name/);
		expect(() => metricsSqlParameter({ zone: 'Mars/Olympus' })).toThrow(/unknown time zone/);
		expect(() => metricsSqlParameter({ from: 'yesterday' })).toThrow(/"from" is not a time/);
	});
});
