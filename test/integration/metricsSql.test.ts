/**
 * The metrics SQL (transport/metricsSql.ts) against a real PostgreSQL: every figure of every row equals what
 * computeMetrics gives for the same events, on generated events with duplicate ids, exact replays, machine-only opens,
 * messages without token (Message-ID, or address + campaign + batch tag with case and white space), unknown types,
 * groups whose rates have zero denominators, time zones with quarter-hour offsets and DST, and time ranges.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeMetrics, normalizeMetricsEvent } from '../../core/metrics';
import { metricsSql, metricsSqlParameter, METRICS_SQL_TYPES } from '../../transport/metricsSql';
import { CadenceMetrics } from '../../nodes/CadenceMetrics/CadenceMetrics.node';
import { runNode } from '../helpers/n8n';
import { pgpFormat, queryValues } from '../helpers/postgresTemplates';
import type { INode } from 'n8n-workflow';
import { postgresBinDir, startPostgres, type PostgresServer } from '../helpers/postgres';
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
}

const START = Date.parse('2026-03-27T00:00:00Z'); // spans the European DST change of 29 March
const SPAN = 6 * 86_400_000;
const KNOWN = [...METRICS_SQL_TYPES];

const eventArb = fc.record({
	id: fc.integer({ min: 1, max: 40 }).map((n) => `e${n}`),
	type: fc.oneof(
		{ weight: 12, arbitrary: fc.constantFrom(...KNOWN, 'opened', 'opened', 'clicked', 'sent') },
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
	let server: PostgresServer;
	let db: pg.Pool;

	beforeAll(async () => {
		server = await startPostgres({ database: 'cadence_store' });
		db = new pg.Pool({ connectionString: server.url, max: 2 });
		await db.query(SCHEMA);
	}, 120_000);

	afterAll(async () => {
		await db?.end();
		await server?.stop();
	});

	/** Stores the events in order; a later event with an id already stored is dropped, as the templates insert. */
	async function store(events: GenEvent[]): Promise<void> {
		await db.query('TRUNCATE events');
		if (!events.length) return;
		const col = (f: (e: GenEvent) => unknown) => events.map(f);
		await db.query(
			`INSERT INTO events (event_id, type, at, email, campaign, batch_tag, variant, channel, token, message_id, class, bounce_hard)
			 SELECT id, type, at, email, campaign, batch_tag, variant, channel, token, message_id, class, hard
			 FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[])
			      WITH ORDINALITY AS u(id, type, at, email, campaign, batch_tag, variant, channel, token, message_id, class, hard, n)
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
							        bounce_hard AS "bounceHard", channel FROM events`,
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
		const at = '2026-03-28T10:00:00Z';
		const e = (id: string, type: string, extra: Partial<GenEvent> = {}): GenEvent => ({
			id,
			type,
			at,
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
				        bounce_hard AS "bounceHard", channel FROM events`,
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
			/Compare Variants need events/,
		);
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
		const [values] = queryValues(counting, [{}], 'Europe/Berlin');
		const query = String(counting.parameters.query);
		const rows = (await db.query(pgpFormat ? pgpFormat(query, values) : query, pgpFormat ? [] : values)).rows;
		const from = JSON.parse(String(values[0])).from as string;
		expect(rows).toEqual(
			computeMetrics(
				events.filter((e) => e.at >= new Date(from).toISOString()),
				{ groupBy: ['campaign', 'batchTag'], timeZone: 'Europe/Berlin' },
			),
		);
		expect(rows.map((r) => [r.campaign, r.sent, r.humanUniqueOpens])).toEqual([
			['c', 1, 1],
			['d', 1, 0],
		]);
	});

	it('refuses what it cannot compute, with a clear error', () => {
		expect(() => metricsSql({ groupBy: ['language'] })).toThrow(/cannot group metrics by "language"/);
		expect(() => metricsSql({ groupBy: ['utm.source'] })).toThrow(/cannot group metrics by "utm.source"/);
		expect(() => metricsSql({ table: 'events; DROP TABLE contacts' })).toThrow(/not a table name/);
		expect(() => metricsSqlParameter({ zone: 'Mars/Olympus' })).toThrow(/unknown time zone/);
		expect(() => metricsSqlParameter({ from: 'yesterday' })).toThrow(/"from" is not a time/);
	});
});
