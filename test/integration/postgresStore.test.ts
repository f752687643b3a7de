/**
 * The Postgres store of the templates (workflows/postgres/) against a real PostgreSQL: schema.sql runs twice, and the
 * templates' own queries — read out of the JSON, with their query parameters built by n8n's expression engine from
 * the items the node would get, and formatted as n8n's Postgres node formats them — return the right rows, are
 * idempotent on replays, and take today's batch out of 200,000 contacts with the GIN index.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import type { IDataObject, INode } from 'n8n-workflow';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { postgresBinDir, type PostgresServer } from '../helpers/postgres';
import { runTemplateQuery, usePostgresStore } from '../helpers/postgresStore';
import { pgpFormat, queryValues } from '../helpers/postgresTemplates';

const ROOT = join(__dirname, '..', '..');
const DIR = join(ROOT, 'workflows', 'postgres');
const SCHEMA = readFileSync(join(DIR, 'schema.sql'), 'utf8');

const CI = Boolean(process.env.CI);
const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (skipReason && CI) throw new Error(`Postgres store tests are mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[postgres store] SKIPPED: ${skipReason}`);

type Json = IDataObject;
type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A Postgres node of a shipped template, as shipped. */
function templateNode(file: string, name: string): INode {
	const wf = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { nodes: INode[] };
	const node = wf.nodes.find((n) => n.name === name);
	if (!node) throw new Error(`${file} has no node "${name}"`);
	if (node.type !== 'n8n-nodes-base.postgres') throw new Error(`${file}: "${name}" is not a Postgres node`);
	return node;
}

describe.skipIf(Boolean(skipReason))('the Postgres store of the templates', () => {
	let server: PostgresServer;
	let db: pg.Pool;
	usePostgresStore('cadence_store', 4, (store) => {
		({ server, db } = store);
	});

	const run = (file: string, name: string, items: Json[] = [{}], timezone = 'UTC'): Promise<Json[]> =>
		runTemplateQuery(db, templateNode(file, name), items, timezone);
	const one = async (sql: string, values: unknown[] = []) => (await db.query(sql, values)).rows[0] as Row;
	const contact = async (email: string) => await one('SELECT email, tags, tag_list, last_sent_at FROM contacts WHERE email = $1', [email]);

	beforeEach(async () => {
		await db.query(SCHEMA);
		await db.query('TRUNCATE contacts, events, follow_up_tasks');
	});

	it('schema.sql runs twice, by psql as users run it and again, and derives tag_list from tags', async () => {
		server.psql(SCHEMA);
		server.psql(SCHEMA);
		await db.query(SCHEMA);
		await db.query(
			`INSERT INTO contacts (email, tags) VALUES ('a@x.test', ' English-Dealers-Marketing05 ,Read-Other,, Intent-Replied '), ('b@x.test', ''), ('c@x.test', DEFAULT)`,
		);
		expect((await contact('a@x.test')).tag_list).toEqual(['English-Dealers-Marketing05', 'Read-Other', 'Intent-Replied']);
		expect((await contact('b@x.test')).tag_list).toEqual([]);
		expect((await contact('c@x.test')).tag_list).toEqual([]);
		await expect(db.query(`INSERT INTO contacts (email) VALUES ('Upper@X.test')`)).rejects.toThrow(/check constraint/);
		const indexes = (await db.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`)).rows.map((r) => r.indexname);
		expect(indexes).toEqual(expect.arrayContaining(['contacts_tag_list_idx', 'events_at_idx', 'events_email_idx', 'follow_up_tasks_event_id_key']));
	});

	it('due contacts: exactly the due tag, and only those not mailed today in the workflow’s time zone', async () => {
		const tag = 'English-Equipment Dealers-Marketing05';
		const now = DateTime.now();
		// Instants around midnight of today in two zones 24 h apart: one zone calls them today, the other yesterday.
		const kiritimati = now.setZone('Pacific/Kiritimati').startOf('day'); // UTC+14
		const samoa = now.setZone('Pacific/Pago_Pago').startOf('day'); // UTC−11
		const sent = {
			'never@x.test': null,
			'today-k@x.test': kiritimati.plus({ minutes: 1 }),
			'yesterday-k@x.test': kiritimati.minus({ minutes: 1 }),
			'today-s@x.test': samoa.plus({ minutes: 1 }),
			'yesterday-s@x.test': samoa.minus({ minutes: 1 }),
			'last-week@x.test': now.minus({ days: 7 }),
		} as Record<string, DateTime | null>;
		for (const [email, at] of Object.entries(sent)) {
			await db.query('INSERT INTO contacts (email, tags, language, segment, company, last_sent_at) VALUES ($1, $2, $3, $4, $5, $6)', [
				email,
				`${tag}, Read-Other`,
				'English',
				'Equipment Dealers',
				'Co',
				at && at <= now ? at.toJSDate() : null,
			]);
		}
		// the same marker with another number, a prefix of the tag, and a tag that only contains it
		await db.query(`INSERT INTO contacts (email, tags) VALUES ('other@x.test', 'English-Equipment Dealers-Marketing050'),
			('prefix@x.test', 'English-Equipment Dealers-Marketing0'), ('inside@x.test', 'Old ${tag} list')`);

		for (const zone of ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'UTC']) {
			const today = now.setZone(zone).toISODate();
			const expected = Object.entries(sent)
				.filter(([, at]) => !at || at > now || at.setZone(zone).toISODate()! < today!)
				.map(([email]) => email)
				.sort();
			const rows = await run('2-silent-cadence.json', 'Due contacts', [{ tag, language: 'English', segment: 'Equipment Dealers' }], zone);
			expect(rows.map((r) => r.email).sort(), zone).toEqual(expected);
			expect(rows[0]).toMatchObject({ tags: `${tag}, Read-Other`, language: 'English', segment: 'Equipment Dealers', company: 'Co' });
			expect(Object.keys(rows[0]).sort()).toEqual(['company', 'email', 'language', 'lastSentAt', 'segment', 'tags']);
		}
		// the zone decides: Kiritimati's "today" and Samoa's differ for the same instants
		const k = (await run('2-silent-cadence.json', 'Due contacts', [{ tag }], 'Pacific/Kiritimati')).map((r) => r.email).sort();
		const s = (await run('2-silent-cadence.json', 'Due contacts', [{ tag }], 'Pacific/Pago_Pago')).map((r) => r.email).sort();
		expect(k).not.toEqual(s);
		// the read cadence runs the same query
		expect(templateNode('3-read-cadence.json', 'Due contacts').parameters.query).toBe(
			templateNode('2-silent-cadence.json', 'Due contacts').parameters.query,
		);
		// one query per due tag: two tags, two result sets
		await db.query(`INSERT INTO contacts (email, tags) VALUES ('other-tag@x.test', 'English-Equipment Dealers-Marketing28')`);
		const both = await run('2-silent-cadence.json', 'Due contacts', [{ tag }, { tag: 'English-Equipment Dealers-Marketing28' }], 'UTC');
		expect(both.map((r) => r.email)).toContain('other-tag@x.test');
	});

	it('events of a send: one statement inserts them and sets last_sent_at; a replay changes nothing', async () => {
		const node = templateNode('2-silent-cadence.json', 'Save events and lastSentAt');
		expect(node.executeOnce, 'one statement per run, not one per item').toBe(true);
		await db.query(
			`INSERT INTO contacts (email, tags, last_sent_at) VALUES ('anna@x.test', 'T', '2026-01-01T09:00:00Z'), ('boris@x.test', 'T', NULL), ('nobody@x.test', 'T', NULL)`,
		);
		const events: Json[] = [
			{
				id: 'ev-1',
				type: 'sent',
				at: '2026-03-05T09:00:01.000Z',
				email: 'Anna@X.test',
				campaign: 'cadence-2026-03',
				batchTag: 'T',
				variant: 'A',
				messageId: '<m1@x>',
				token: 't1',
				contact: { email: 'anna@x.test', tags: 'T' },
			},
			{
				id: 'ev-2',
				type: 'sent',
				at: '2026-03-05T09:00:02.000Z',
				email: 'boris@x.test',
				campaign: 'cadence-2026-03',
				batchTag: 'T',
				messageId: '<m2@x>',
				token: 't2',
			},
			{
				id: 'ev-3',
				type: 'failed',
				at: '2026-03-05T09:00:03.000Z',
				email: 'nobody@x.test',
				campaign: 'cadence-2026-03',
				reason: 'rejected',
				bounce: { hard: true, status: '5.1.1', reason: 'User unknown' },
			},
		];
		await run('2-silent-cadence.json', 'Save events and lastSentAt', events);
		const saved = (await db.query('SELECT * FROM events ORDER BY event_id')).rows;
		expect(saved).toHaveLength(3);
		expect(saved[0]).toMatchObject({
			event_id: 'ev-1',
			type: 'sent',
			email: 'anna@x.test',
			variant: 'A',
			message_id: '<m1@x>',
			token: 't1',
			bounce_hard: false,
		});
		expect(saved[2]).toMatchObject({ event_id: 'ev-3', type: 'failed', reason: 'rejected', bounce_hard: true, bounce_status: '5.1.1' });
		expect((await contact('anna@x.test')).last_sent_at.toISOString()).toBe('2026-03-05T09:00:01.000Z');
		expect((await contact('boris@x.test')).last_sent_at.toISOString()).toBe('2026-03-05T09:00:02.000Z');
		expect((await contact('nobody@x.test')).last_sent_at, 'a failed send is not a send').toBeNull();

		// the send ledger re-emits the events of a run cut short: same ids, nothing counts twice
		await run('2-silent-cadence.json', 'Save events and lastSentAt', events);
		expect((await one('SELECT count(*)::int AS n FROM events')).n).toBe(3);
		// an older event never moves last_sent_at back
		await run('3-read-cadence.json', 'Save events and lastSentAt', [
			{ id: 'ev-0', type: 'sent', at: '2026-03-01T09:00:00.000Z', email: 'anna@x.test' },
		]);
		expect((await contact('anna@x.test')).last_sent_at.toISOString()).toBe('2026-03-05T09:00:01.000Z');
	});

	it('tracking and inbox events: a replayed event is saved once and opens one task', async () => {
		const click = {
			id: 'click-1',
			type: 'clicked',
			at: '2026-03-05T10:00:00.000Z',
			email: 'anna@x.test',
			class: 'human',
			url: 'https://acme.example/catalogue',
			campaign: 'c1',
			unique: true,
		};
		expect(await run('4-tracking-events.json', 'Save event', [click])).toEqual([{ eventId: 'click-1' }]);
		expect(await run('4-tracking-events.json', 'Save event', [click])).toEqual([]);
		// What the One task per contact node adds to the event: the task's kind, detail, owner, reason and window.
		const clickTask = {
			...click,
			kind: 'click',
			detail: 'Clicked https://acme.example/catalogue',
			owner: 'sales@acme.example',
			reason: 'clicked link',
			windowDays: 7,
		};
		expect(await run('4-tracking-events.json', 'Follow-up task', [clickTask])).toHaveLength(1);
		expect(await run('4-tracking-events.json', 'Follow-up task', [clickTask])).toHaveLength(0);
		const reply = {
			id: 'reply-1',
			type: 'replied',
			at: '2026-03-05T11:00:00.000Z',
			email: 'Bert@X.test',
			campaign: 'c1',
			subject: 'Re: prices',
			channel: 'email',
		};
		expect(await run('5-inbox-attribution.json', 'Save event', [reply])).toEqual([{ eventId: 'reply-1', unique: false }]);
		expect(await run('5-inbox-attribution.json', 'Save event', [reply])).toEqual([]);
		const replyTask = { ...reply, kind: 'reply', detail: 'Replied: Re: prices', owner: '', reason: 'replied', windowDays: 7 };
		await run('5-inbox-attribution.json', 'Follow-up task', [replyTask]);
		await run('5-inbox-attribution.json', 'Follow-up task', [replyTask]);
		// A second event of a contact with an open task inside the window opens none.
		await run('5-inbox-attribution.json', 'Follow-up task', [{ ...replyTask, id: 'reply-2', email: 'anna@x.test' }]);
		const tasks = (await db.query('SELECT event_id, email, kind, campaign, detail, status, owner, reason FROM follow_up_tasks ORDER BY event_id'))
			.rows;
		expect(tasks).toEqual([
			{
				event_id: 'click-1',
				email: 'anna@x.test',
				kind: 'click',
				campaign: 'c1',
				detail: 'Clicked https://acme.example/catalogue',
				status: 'open',
				owner: 'sales@acme.example',
				reason: 'clicked link',
			},
			{
				event_id: 'reply-1',
				email: 'bert@x.test',
				kind: 'reply',
				campaign: 'c1',
				detail: 'Replied: Re: prices',
				status: 'open',
				owner: '',
				reason: 'replied',
			},
		]);
		const bounce = {
			id: 'bounce-1',
			type: 'bounced',
			at: '2026-03-05T12:00:00.000Z',
			email: 'nobody@x.test',
			bounce: { hard: true, status: '5.1.1', reason: 'user unknown' },
		};
		await run('5-inbox-attribution.json', 'Save event', [bounce]);
		expect(await one(`SELECT reason, bounce_hard, bounce_status FROM events WHERE event_id = 'bounce-1'`)).toEqual({
			reason: 'user unknown',
			bounce_hard: true,
			bounce_status: '5.1.1',
		});
	});

	it('tags: the contact look-up finds it by any case; saving adds tags to the row as it is now, so concurrent taggers both keep theirs', async () => {
		await db.query(`INSERT INTO contacts (email, tags, last_sent_at) VALUES ('anna@x.test', 'English-Dealers-Marketing05', '2026-03-05T09:00:00Z')`);
		const [found] = await run('4-tracking-events.json', 'Reader', [{ email: 'ANNA@x.test' }]);
		expect(found).toMatchObject({ email: 'anna@x.test', tags: 'English-Dealers-Marketing05' });
		expect(new Date(String(found.lastSentAt)).toISOString()).toBe('2026-03-05T09:00:00.000Z');
		// a human open and a reply read the contact at the same moment; each adds its tag to what it read
		await run('4-tracking-events.json', 'Save read tag', [{ email: 'anna@x.test', tags: 'English-Dealers-Marketing05, English-Dealers-Read05' }]);
		const [saved] = await run('5-inbox-attribution.json', 'Save tags (Replied)', [
			{ email: 'anna@x.test', tags: ['English-Dealers-Marketing05', 'Intent-Replied'] },
		]);
		expect(saved).toEqual({ email: 'anna@x.test', tags: 'English-Dealers-Marketing05, English-Dealers-Read05, Intent-Replied' });
		// the same tags again change nothing
		await run('4-tracking-events.json', 'Save risk tag', [{ email: 'anna@x.test', tags: 'Intent-Replied,English-Dealers-Marketing05' }]);
		expect((await contact('anna@x.test')).tag_list).toEqual(['English-Dealers-Marketing05', 'English-Dealers-Read05', 'Intent-Replied']);
		// every tag-saving node of templates 4 and 5 runs the same statement
		const saveNodes = [
			['4-tracking-events.json', 'Save read tag'],
			['4-tracking-events.json', 'Save risk tag'],
			...['Replied', 'Hard bounce', 'Complained', 'Unsubscribed'].map((k) => ['5-inbox-attribution.json', `Save tags (${k})`]),
		];
		expect(new Set(saveNodes.map(([f, n]) => templateNode(f, n).parameters.query)).size).toBe(1);
		// a contact without tags gets exactly the new one
		await db.query(`INSERT INTO contacts (email) VALUES ('empty@x.test')`);
		await run('5-inbox-attribution.json', 'Save tags (Hard bounce)', [{ email: 'empty@x.test', tags: 'Risk-Hard bounce' }]);
		expect((await contact('empty@x.test')).tags).toBe('Risk-Hard bounce');
	});

	it('the report counts the last 30 days in the database, one row per campaign and batch', async () => {
		await db.query(`INSERT INTO events (event_id, type, at, email, batch_tag, bounce_hard, is_unique) VALUES
			('new', 'bounced', now() - interval '1 day', 'a@x.test', 'T', true, false),
			('old', 'sent', now() - interval '31 days', 'a@x.test', 'T', false, false)`);
		const rows = await run('6-daily-report.json', 'Count the last 30 days');
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ campaign: null, batchTag: 'T', bounced: 1, hardBounced: 1, sent: 0 });
	});

	it('import: only new addresses (case-insensitive, duplicates once), saved once however often the file comes', async () => {
		await db.query(`INSERT INTO contacts (email, tags) VALUES ('known@x.test', 'T')`);
		const csv = [
			{ email: ' Known@X.test ' },
			{ email: 'new@x.test', company: 'New' },
			{ email: 'NEW@x.test' },
			{ email: '' },
			{ email: 'second@y.test', language: 'German' },
		];
		const fresh = await run('1-import-contacts.json', 'Only new addresses', csv);
		expect(fresh.map((r) => r.email).sort()).toEqual(['new@x.test', 'second@y.test']);
		const assigned = [
			{
				email: 'new@x.test',
				tags: ['English-Equipment Dealers-Marketing05'],
				batchTag: 'English-Equipment Dealers-Marketing05',
				segment: 'Equipment Dealers',
				company: 'New',
			},
			{
				email: 'second@y.test',
				tags: 'German-Equipment Dealers-Marketing05',
				batchTag: 'German-Equipment Dealers-Marketing05',
				segment: 'Equipment Dealers',
			},
		];
		await run('1-import-contacts.json', 'Save contacts', assigned);
		await run('1-import-contacts.json', 'Save contacts', assigned);
		const rows = (await db.query(`SELECT email, tags, language, segment, company FROM contacts WHERE email <> 'known@x.test' ORDER BY email`)).rows;
		expect(rows).toEqual([
			{ email: 'new@x.test', tags: 'English-Equipment Dealers-Marketing05', language: 'English', segment: 'Equipment Dealers', company: 'New' },
			{ email: 'second@y.test', tags: 'German-Equipment Dealers-Marketing05', language: 'German', segment: 'Equipment Dealers', company: '' },
		]);
		expect(await run('1-import-contacts.json', 'Only new addresses', csv)).toEqual([]);
	});

	it('moving a base from the Data tables keeps tags, lastSentAt and event ids, and a second run adds nothing', async () => {
		const dataTableContacts = [
			{
				id: 1,
				email: 'Anna@x.test',
				tags: 'English-Dealers-Marketing05, English-Dealers-Read05',
				language: 'English',
				segment: 'Dealers',
				company: 'A',
				lastSentAt: '2026-03-05T09:00:00.000Z',
				createdAt: '2026-03-01T00:00:00.000Z',
			},
			{ id: 2, email: 'boris@x.test', tags: 'English-Dealers-Marketing06', language: 'English', segment: 'Dealers', company: 'B', lastSentAt: null },
		];
		const dataTableEvents = [
			{
				id: 7,
				eventId: 'ev-1',
				type: 'sent',
				at: '2026-03-05T09:00:00.000Z',
				email: 'anna@x.test',
				campaign: 'c',
				batchTag: 'English-Dealers-Marketing05',
				bounceHard: false,
				unique: false,
			},
			{ id: 8, eventId: 'ev-2', type: 'bounced', at: '2026-03-05T09:05:00.000Z', email: 'boris@x.test', bounceHard: true, bounceStatus: '5.1.1' },
		];
		const dataTableTasks = [
			{ id: 3, email: 'anna@x.test', kind: 'reply', campaign: 'c', detail: 'Replied', status: 'open', createdAt: '2026-03-05T10:00:00.000Z' },
		];
		for (let pass = 0; pass < 2; pass++) {
			await run('7-move-data-tables-to-postgres.json', 'Postgres contacts', dataTableContacts);
			await run('7-move-data-tables-to-postgres.json', 'Postgres events', dataTableEvents);
			await run('7-move-data-tables-to-postgres.json', 'Postgres follow_up_tasks', dataTableTasks);
		}
		expect((await contact('anna@x.test')).tag_list).toEqual(['English-Dealers-Marketing05', 'English-Dealers-Read05']);
		expect((await contact('anna@x.test')).last_sent_at.toISOString()).toBe('2026-03-05T09:00:00.000Z');
		expect((await contact('boris@x.test')).last_sent_at).toBeNull();
		expect((await db.query('SELECT event_id, bounce_hard FROM events ORDER BY event_id')).rows).toEqual([
			{ event_id: 'ev-1', bounce_hard: false },
			{ event_id: 'ev-2', bounce_hard: true },
		]);
		expect((await one('SELECT count(*)::int AS n FROM follow_up_tasks')).n).toBe(1);
		// the moved contacts are due in Postgres exactly as they were
		expect((await run('2-silent-cadence.json', 'Due contacts', [{ tag: 'English-Dealers-Read05' }])).map((r) => r.email)).toEqual(['anna@x.test']);
	});

	it('today’s batch out of 200,000 contacts is a GIN index scan; a contact by address uses the primary key', async () => {
		// 30 marketing batches, a tenth of them readers too, some intent and risk tags
		await db.query(`INSERT INTO contacts (email, tags, language, segment, last_sent_at)
			SELECT 'c' || i || '@d' || (i % 997) || '.test',
			       'English-Equipment Dealers-Marketing' || lpad(((i % 30) + 1)::text, 2, '0')
			       || CASE WHEN i % 10 = 0 THEN ', English-Equipment Dealers-Read' || lpad(((i % 10) + 1)::text, 2, '0') ELSE '' END
			       || CASE WHEN i % 97 = 0 THEN ', Intent-Replied' WHEN i % 89 = 0 THEN ', Risk-Hard bounce' ELSE '' END,
			       'English', 'Equipment Dealers', CASE WHEN i % 7 = 0 THEN now() - interval '30 days' END
			FROM generate_series(1, 200000) AS i`);
		await db.query('ANALYZE contacts');
		const node = templateNode('2-silent-cadence.json', 'Due contacts');
		const [values] = queryValues(node, [{ tag: 'English-Equipment Dealers-Marketing09' }], 'Europe/Berlin');
		const query = String(node.parameters.query);
		const explain = async (sql: string, v: unknown[]) => {
			const res = pgpFormat ? await db.query(`EXPLAIN (FORMAT JSON) ${pgpFormat(sql, v)}`) : await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, v);
			return JSON.stringify(res.rows[0]['QUERY PLAN']);
		};
		const plan = await explain(query, values);
		expect(plan, plan).toMatch(/"Index Name":"contacts_tag_list_idx"/);
		expect(plan).not.toMatch(/"Node Type":"Seq Scan"/);
		const rows = await run('2-silent-cadence.json', 'Due contacts', [{ tag: 'English-Equipment Dealers-Marketing09' }], 'Europe/Berlin');
		const expected = (await one(`SELECT count(*)::int AS n FROM contacts WHERE tags LIKE '%Marketing09%'`)).n;
		expect(rows.length).toBe(expected); // mailed 30 days ago: all due again
		const lookup = templateNode('4-tracking-events.json', 'Reader');
		const [lv] = queryValues(lookup, [{ email: 'C42@d42.test' }]);
		expect(await explain(String(lookup.parameters.query), lv)).toMatch(/"Index Name":"contacts_pkey"/);
	}, 120_000);
});
