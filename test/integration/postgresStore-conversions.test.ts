/**
 * Template 4's Postgres store for conversions and forwards, against a real PostgreSQL: schema.sql adds the columns,
 * Save event stores a conversion's value, currency and order once per event id, and Earlier readers gives the
 * token's readers oldest first, which the Forwarded? node (run as written in the template) turns into `forwarded`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, INode } from 'n8n-workflow';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { postgresBinDir } from '../helpers/postgres';
import { runTemplateQuery, usePostgresStore } from '../helpers/postgresStore';

const DIR = join(__dirname, '..', '..', 'workflows', 'postgres');
const SCHEMA = readFileSync(join(DIR, 'schema.sql'), 'utf8');
const TEMPLATE = JSON.parse(readFileSync(join(DIR, '4-tracking-events.json'), 'utf8')) as { nodes: INode[] };
const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed';
if (skipReason && process.env.CI) throw new Error(`Postgres store tests are mandatory under CI: ${skipReason}`);

type Json = IDataObject;
const node = (name: string) => TEMPLATE.nodes.find((n) => n.name === name) as INode;

/** The Forwarded? Code node as written, with n8n's `$input` and `$()`. */
function forwardedNode(hit: Json, rows: Json[]): Json {
	const run = new Function('$input', '$', String(node('Forwarded?').parameters.jsCode)) as (i: unknown, d: unknown) => Array<{ json: Json }>;
	return run({ all: () => rows.map((json) => ({ json })) }, () => ({ first: () => ({ json: hit }) }))[0].json;
}

describe.skipIf(Boolean(skipReason))('template 4 (Postgres): conversions and forwards', () => {
	let db: pg.Pool;
	usePostgresStore('cadence_conversions', 2, (store) => {
		db = store.db;
	});

	const run = (name: string, items: Json[]): Promise<Json[]> => runTemplateQuery(db, node(name), items);

	/** One hit through the template's first three nodes: Earlier readers → Forwarded? → Save event. */
	async function store(hit: Json): Promise<Json> {
		const earlier = await run('Earlier readers', [hit]);
		const event = forwardedNode(hit, earlier.length > 0 ? earlier : [{}]);
		await run('Save event', [event]);
		return event;
	}

	beforeEach(async () => {
		await db.query(SCHEMA);
		await db.query(SCHEMA);
		await db.query('TRUNCATE events');
	});

	it('stores a conversion with its value, currency and order once; one without a value has none', async () => {
		const converted = {
			id: 'cv-1',
			type: 'converted',
			at: '2026-03-05T10:00:00.000Z',
			email: 'Ana@X.test',
			token: 'tok',
			value: 1234.5,
			currency: 'eur',
			orderId: 'A-1',
		};
		await store(converted);
		await store(converted);
		await store({ ...converted, id: 'cv-2', value: undefined, valueIgnored: 'unsigned', orderId: 'A-2' });
		const rows = (await db.query('SELECT event_id, type, email, value::text AS value, currency, order_id, forwarded FROM events ORDER BY event_id'))
			.rows;
		expect(rows).toEqual([
			{ event_id: 'cv-1', type: 'converted', email: 'ana@x.test', value: '1234.5', currency: 'EUR', order_id: 'A-1', forwarded: false },
			{ event_id: 'cv-2', type: 'converted', email: 'ana@x.test', value: null, currency: 'EUR', order_id: 'A-2', forwarded: false },
		]);
	});

	it("marks a third reader of one token, sharing nothing with the recipient's first two, as a forward", async () => {
		const open = (id: string, minute: number, readerNetwork: string, readerAgent: string, token = 'tok') => ({
			id,
			type: 'opened',
			class: 'human',
			at: new Date(Date.UTC(2026, 2, 5, 9, minute)).toISOString(),
			email: 'ana@x.test',
			token,
			readerNetwork,
			readerAgent,
		});
		expect((await store(open('o1', 0, '100.64.1.0/24', 'applemail/ios'))).forwarded).toBe(false);
		expect((await store(open('o2', 5, '198.51.100.0/24', 'outlook/windows'))).forwarded).toBe(false);
		// the recipient again, from home on the same laptop software
		expect((await store(open('o3', 9, '203.0.113.0/24', 'outlook/windows'))).forwarded).toBe(false);
		// another token's readers never count for this one
		expect((await store(open('x1', 10, '192.0.2.0/24', 'thunderbird/linux', 'other'))).forwarded).toBe(false);
		expect((await store(open('o4', 20, '192.0.2.0/24', 'thunderbird/linux'))).forwarded).toBe(true);
		// a machine hit carries no reader: no look-up rows, never a forward
		expect(
			(await store({ id: 'm1', type: 'opened', class: 'apple_mpp', at: '2026-03-05T09:30:00.000Z', email: 'ana@x.test', token: 'tok' })).forwarded,
		).toBe(false);
		const rows = (await db.query("SELECT event_id, forwarded, reader_network FROM events WHERE token = 'tok' ORDER BY at")).rows;
		expect(rows.map((r) => [r.event_id, r.forwarded])).toEqual([
			['o1', false],
			['o2', false],
			['o3', false],
			['o4', true],
			['m1', false],
		]);
		expect(rows[4].reader_network).toBe('');
	});
});
