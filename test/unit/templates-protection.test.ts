/**
 * Sender protection as the shipped templates wire it, in both stores: the cadences compute the Sender Status from
 * the store before they send and record new pauses, every saved send names its mailbox, the import counts the
 * contacts already in the store, the report lists paused senders, and template 8 resumes one. Static checks on
 * the JSON, the report's expression run by n8n's expression engine, and the Postgres templates' SQL run against a
 * real PostgreSQL (schema.sql applied over the previous version's schema, then twice more), with the query
 * parameters built by n8n's expression engine from the items the nodes would get.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDataObject, INode } from 'n8n-workflow';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { node as nodeOf, reaches } from '../helpers/templates';
import { evaluateAfter } from '../helpers/templateExpressions';
import { DEFAULT_BREAKER_WINDOW_DAYS, SENDER_STATUS_EVENT_TYPES, senderStatus, type SenderStatus } from '../../core/senderProtection';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { ledgerTableSql } from '../../transport/postgresLedger';
// @ts-expect-error: plain ESM script without type declarations
import { DATA_TABLES } from '../../scripts/cadence-setup.mjs';
import { runNode } from '../helpers/n8n';
import { postgresBinDir, type PostgresServer } from '../helpers/postgres';
import { runTemplateQuery, usePostgresStore } from '../helpers/postgresStore';
import { pgpFormat, queryValues } from '../helpers/postgresTemplates';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ROOT = join(__dirname, '..', '..');
const WORKFLOWS = join(ROOT, 'workflows');
const PREFIX = 'n8n-nodes-mail-cadence.';
const SEND = `${PREFIX}cadenceSend`;
const STORES = ['', 'postgres'] as const;

const load = (dir: string, file: string): Json => JSON.parse(readFileSync(join(WORKFLOWS, dir, file), 'utf8'));
const files = (dir: string) =>
	readdirSync(join(WORKFLOWS, dir))
		.filter((f) => f.endsWith('.json'))
		.sort();
const operation = (n: Json) => n.parameters?.operation ?? 'send';
/** The nodes an output of `from` leads to (index: the output). */
const targets = (wf: Json, from: string, output = 0): Json[] => wf.connections[from]?.main?.[output] ?? [];
/** Whether a node saves events with their mailbox: a Data table insert into events mapping `mailbox`, or SQL inserting it. */
function savesEventsWithMailbox(n: Json): boolean {
	if (n.type === 'n8n-nodes-base.dataTable') {
		const cols = n.parameters.columns ?? {};
		return (
			n.parameters.operation === 'insert' &&
			n.parameters.dataTableId?.value === 'events' &&
			/\$json\.mailbox/.test(String(cols.value?.mailbox ?? '')) &&
			(cols.schema ?? []).some((c: Json) => c.id === 'mailbox')
		);
	}
	if (n.type === 'n8n-nodes-base.postgres') {
		const q = String(n.parameters.query);
		return /INSERT INTO events \([^)]*\bmailbox\b[^)]*\)/.test(q) && /jsonb_to_recordset\(\$1::jsonb\) AS e\([^)]*\bmailbox text/.test(q);
	}
	return false;
}

describe('sender protection in the templates (static)', () => {
	for (const dir of STORES) {
		const label = dir || 'data tables';
		const sending = files(dir).filter((f) => load(dir, f).nodes.some((n: Json) => n.type === SEND && operation(n) === 'send'));

		it(`${label}: both cadences send, and every sending template computes the Sender status first`, () => {
			expect(sending).toEqual(['11-ab-rollout.json', '2-silent-cadence.json', '3-read-cadence.json']);
			for (const file of sending) {
				const wf = load(dir, file);
				const status = nodeOf(wf, 'Sender status');
				expect(status.type).toBe(SEND);
				expect(operation(status)).toBe('senderStatus');
				const history = nodeOf(wf, 'Sender history');
				expect(targets(wf, 'Sender history').map((c) => c.node)).toEqual(['Sender status']);
				// an empty store still yields one status, or nothing would ever be sent
				expect(history.alwaysOutputData, `${file}: Sender history`).toBe(true);
				expect(reaches(wf, 'Every morning', 'Sender history')).toBe(true);
				for (const send of wf.nodes.filter((n: Json) => n.type === SEND && operation(n) === 'send')) {
					expect(reaches(wf, 'Sender status', send.name, 0), `${file}: ${send.name} after output 1 of Sender status`).toBe(true);
					expect(send.parameters.senderStatus).toBe("={{ $('Sender status').first().json }}");
					expect(send.parameters.options ?? {}).not.toHaveProperty('domainCap');
				}
				// output 2 (new pauses) is recorded in events, with the mailbox, and leads to no send
				const paused = targets(wf, 'Sender status', 1).map((c) => nodeOf(wf, c.node));
				expect(paused.map((n) => n.name)).toEqual(['Save paused events']);
				expect(savesEventsWithMailbox(paused[0]), `${file}: Save paused events`).toBe(true);
				// n8n (execution order v1) runs the upper branch first: the pause is saved before anything is sent
				expect(paused[0].position[1]).toBeLessThan(nodeOf(wf, targets(wf, 'Sender status', 0)[0].node).position[1]);
				expect(wf.nodes.some((n: Json) => n.type === SEND && operation(n) === 'send' && reaches(wf, 'Save paused events', n.name))).toBe(false);
				// the views keep their first cut of 20 per company; the Send node is the gate counted from the store
				expect(nodeOf(wf, 'Views').parameters.domainCap).toBe(20);
			}
		});

		it(`${label}: what the cadences send is saved with its mailbox`, () => {
			for (const file of sending) {
				const wf = load(dir, file);
				const save = nodeOf(wf, dir ? 'Save events and lastSentAt' : 'Save events');
				for (const send of wf.nodes.filter((n: Json) => n.type === SEND && operation(n) === 'send')) {
					expect(targets(wf, send.name).map((c) => c.node)).toEqual([file.startsWith('11-') ? 'Not held back' : save.name]);
					expect(reaches(wf, send.name, save.name)).toBe(true);
				}
				expect(savesEventsWithMailbox(save), `${file}: ${save.name}`).toBe(true);
			}
		});

		it(`${label}: the import feeds the contacts already in the store into the second input of Assign batches`, () => {
			const wf = load(dir, '1-import-contacts.json');
			const existing = nodeOf(wf, 'Existing contacts');
			expect(existing.executeOnce, 'one look-up per import, not one per CSV row').toBe(true);
			expect(targets(wf, 'Read CSV').map((c) => c.node)).toEqual(expect.arrayContaining(['Pseudonym', 'Existing contacts']));
			expect(targets(wf, 'Existing contacts')).toEqual([{ node: 'Assign batches', type: 'main', index: 1 }]);
			expect(targets(wf, 'Only new addresses')).toEqual([{ node: 'Verify addresses', type: 'main', index: 0 }]);
			expect(targets(wf, 'Verify addresses', 0)).toEqual([{ node: 'Assign batches', type: 'main', index: 0 }]);
			expect(targets(wf, 'Verify addresses', 1)).toEqual([{ node: 'Skipped', type: 'main', index: 0 }]);
			if (!dir) expect(existing.parameters).toMatchObject({ operation: 'get', dataTableId: { value: 'contacts' }, returnAll: true });
		});

		it(`${label}: the report runs the Sender status and adds the paused senders to the emailed report`, () => {
			const wf = load(dir, '6-daily-report.json');
			expect(operation(nodeOf(wf, 'Sender status'))).toBe('senderStatus');
			expect(nodeOf(wf, 'Sender history').alwaysOutputData).toBe(true);
			expect(reaches(wf, 'Sender status', 'Metrics', 0)).toBe(true);
			expect(targets(wf, 'Metrics', 3).map((c) => c.node)).toEqual(['Add paused senders']);
			expect(targets(wf, 'Add paused senders').map((c) => c.node)).toEqual(['Email the report']);
			expect(savesEventsWithMailbox(nodeOf(wf, targets(wf, 'Sender status', 1)[0].node))).toBe(true);
		});

		it(`${label}: template 8 resumes from a form and saves the resumed event`, () => {
			const wf = load(dir, '8-resume-sending.json');
			expect(targets(wf, 'Resume form').map((c) => c.node)).toEqual(['Resume sending']);
			expect(operation(nodeOf(wf, 'Resume sending'))).toBe('resumeSending');
			expect(targets(wf, 'Resume sending').map((c) => c.node)).toEqual(['Save resumed event']);
			const labels = nodeOf(wf, 'Resume form').parameters.formFields.values.map((f: Json) => f.fieldLabel);
			for (const field of ['Mailbox or domain', 'Scope', 'Resumed by and why']) expect(labels).toContain(field);
		});

		it(`${label}: the Cadence nodes of a Postgres template are its Data-table twin's (Send adds only the ledger)`, () => {
			if (!dir) return;
			// The Data-table report counts its events in parts (Postgres counts them in SQL): that counting node is its own.
			const dataTablesOnly = new Set(['Count the part']);
			const cadence = (wf: Json) =>
				Object.fromEntries(
					wf.nodes
						.filter((n: Json) => n.type.startsWith(PREFIX) && !dataTablesOnly.has(n.name))
						.map((n: Json) => {
							const parameters = { ...n.parameters };
							const credentials = { ...n.credentials };
							if (n.type === SEND) {
								for (const p of ['sendLedger', 'ledgerTable', 'idempotencyKey']) delete parameters[p];
								delete credentials.cadencePostgresApi;
							}
							return [n.name, { type: n.type, typeVersion: n.typeVersion, parameters, credentials }];
						}),
				);
			for (const file of ['1-import-contacts.json', '2-silent-cadence.json', '3-read-cadence.json', '6-daily-report.json', '8-resume-sending.json'])
				expect(cadence(load('postgres', file)), file).toEqual(cadence(load('', file)));
		});
	}

	it('data tables: Sender history fetches only the event types Sender Status reads, in its window, and every pause ever', () => {
		const DAY = 86_400_000;
		const today = Date.UTC(2026, 11, 5);
		for (const file of ['2-silent-cadence.json', '3-read-cadence.json', '6-daily-report.json', '11-ab-rollout.json']) {
			const wf = load('', file);
			const history = nodeOf(wf, 'Sender history');
			expect(history.parameters.matchType, file).toBe('allConditions');
			expect(history.parameters.filters.conditions, file).toEqual([
				{ keyName: 'at', condition: 'gte', keyValue: '={{ $json.since }}' },
				{ keyName: 'type', condition: 'eq', keyValue: '={{ $json.type }}' },
			]);
			const feeding = Object.keys(wf.connections).filter((from) => targets(wf, from).some((t) => t.node === 'Sender history'));
			expect(feeding, file).toEqual(['Event types the status reads']);
			const code = nodeOf(wf, feeding[0]).parameters.jsCode as string;
			const $today = { minus: ({ days }: { days: number }) => ({ toISO: () => new Date(today - days * DAY).toISOString() }) };
			const items = (new Function('$today', code)($today) as Array<{ json: { type: string; since: string } }>).map((i) => i.json);
			expect(items.map((i) => i.type).sort(), file).toEqual([...SENDER_STATUS_EVENT_TYPES].sort());
			for (const { type, since } of items) {
				const days = (today - Date.parse(since)) / DAY;
				if (type === 'paused' || type === 'resumed') expect(days, `${file} ${type}`).toBeGreaterThan(10_000);
				else expect(days, `${file} ${type}`).toBe(DEFAULT_BREAKER_WINDOW_DAYS);
			}
		}
	});

	it('data tables: every column a template writes or filters on is one the set-up creates', () => {
		const tables = DATA_TABLES as Record<string, Array<[string, string]>>;
		const system = ['id', 'createdAt', 'updatedAt'];
		for (const file of files('')) {
			for (const n of load('', file).nodes.filter((x: Json) => x.type === 'n8n-nodes-base.dataTable')) {
				const table = n.parameters.dataTableId.value as string;
				expect(Object.keys(tables), `${file}: ${n.name}`).toContain(table);
				const known = [...system, ...tables[table].map(([c]) => c)];
				const used = [...Object.keys(n.parameters.columns?.value ?? {}), ...(n.parameters.filters?.conditions ?? []).map((c: Json) => c.keyName)];
				for (const c of used) expect(known, `${file}: ${n.name} uses ${table}.${c}`).toContain(c);
			}
		}
		expect(tables.events.map(([c]) => c)).toContain('mailbox');
		expect(tables.follow_up_tasks.map(([c]) => c)).toEqual(expect.arrayContaining(['owner', 'reason']));
	});

	it('data tables: the cadences say why executions must run one at a time, and keep their schedules', () => {
		for (const file of ['2-silent-cadence.json', '3-read-cadence.json']) {
			const notes = load('', file)
				.nodes.filter((n: Json) => n.type === 'n8n-nodes-base.stickyNote')
				.map((n: Json) => n.parameters.content)
				.join('\n');
			expect(notes).toContain('N8N_CONCURRENCY_PRODUCTION_LIMIT=1');
			expect(notes).toMatch(/by hand/);
			expect(notes).toMatch(/atomic/);
		}
		const hour = (file: string) => nodeOf(load('', file), 'Every morning').parameters.rule.interval[0].triggerAtHour;
		expect(hour('3-read-cadence.json')).toBeGreaterThan(hour('2-silent-cadence.json'));
	});
});

/** Evaluates an expression parameter of a template node as n8n would, with `Sender status` having produced `status`. */
const evaluateWithStatus = (wf: Json, nodeName: string, value: string, input: IDataObject, status: SenderStatus): unknown =>
	evaluateAfter(wf, { name: 'Sender status', type: SEND, json: status as unknown as IDataObject }, nodeName, value, input);

describe('the report’s paused senders, through n8n’s expression engine', () => {
	const html = '<div style="font-family:Arial"><h3>Mail cadence</h3><table></table></div>';
	const now = new Date('2026-03-20T08:00:00Z');
	const sends = (mailbox: string, n: number, bounces: number) => [
		...Array.from({ length: n }, (_, i) => ({
			type: 'sent',
			at: '2026-03-10T09:00:00Z',
			mailbox,
			email: `c${i}@x${i}.test`,
			messageId: `<${mailbox}-${i}>`,
		})),
		...Array.from({ length: bounces }, (_, i) => ({ type: 'bounced', at: '2026-03-11T09:00:00Z', bounceHard: true, messageId: `<${mailbox}-${i}>` })),
	];

	for (const dir of STORES) {
		it(`${dir || 'data tables'}: a paused mailbox with its reason and figures; "none" when nothing is paused`, () => {
			const wf = load(dir, '6-daily-report.json');
			const value = nodeOf(wf, 'Add paused senders').parameters.assignments.assignments[0].value as string;
			const { status } = senderStatus([...sends('anna@sales.test', 200, 6), ...sends('ben@other.test', 200, 1)], { now });
			expect(status.mailboxes['anna@sales.test'].paused).toBe(true);
			const out = String(evaluateWithStatus(wf, 'Add paused senders', value, { html }, status));
			expect(out.startsWith('<div style="font-family:Arial"><h3>Mail cadence</h3><table></table>')).toBe(true);
			expect(out.endsWith('</div>')).toBe(true);
			expect(out).toContain('Paused senders');
			expect(out).toContain('<td style="padding:4px 8px;border:1px solid #d0d7de;text-align:left">anna@sales.test</td>');
			expect(out).toContain(status.mailboxes['anna@sales.test'].reason!.replace(/</g, '&lt;'));
			expect(out).toContain('200 sends since 2026-02-20: 6 hard bounces (3 %), 0 complaints (0 %)');
			expect(out).not.toContain('ben@other.test');
			// the sending domain sales.test tripped too: it is listed as a domain
			expect(out).toContain('Sending domain');

			const quiet = senderStatus(sends('ben@other.test', 200, 1), { now }).status;
			const none = String(evaluateWithStatus(wf, 'Add paused senders', value, { html }, quiet));
			expect(none).toContain('Paused senders</h4><p style="margin:0">none</p></div>');
			// a hostile reason is escaped
			const hostile = { ...quiet, mailboxes: { x: { ...quiet.mailboxes['ben@other.test'], mailbox: '<b>x</b>', paused: true, reason: '<script>' } } };
			const escaped = String(evaluateWithStatus(wf, 'Add paused senders', value, { html }, hostile as SenderStatus));
			expect(escaped).toContain('&lt;script&gt;');
			expect(escaped).not.toContain('<script>');
		});
	}
});

/** The row a Data table insert node writes for one input item: its column expressions evaluated by n8n. */
function dataTableRow(wf: Json, node: Json, json: IDataObject, status: SenderStatus): Json {
	return Object.fromEntries(
		Object.entries(node.parameters.columns.value as Record<string, string>).map(([column, value]) => [
			column,
			evaluateWithStatus(wf, node.name, value, json, status),
		]),
	);
}

describe('data tables: pauses and resumes saved by the templates read back as such', () => {
	it('a tripped mailbox and its sending domain stay paused through the events table until template 8 resumes them', async () => {
		const now = new Date();
		const at = new Date(now.getTime() - 86_400_000).toISOString();
		const sent = Array.from({ length: 100 }, (_, i) => ({
			type: 'sent',
			at,
			mailbox: 'anna@s1.test',
			email: `p${i}@c${i}.test`,
			messageId: `<m${i}>`,
		}));
		const bounces = [0, 1].map((i) => ({ type: 'bounced', at, bounceHard: true, messageId: `<m${i}>`, email: `p${i}@c${i}.test` }));
		const first = senderStatus([...sent, ...bounces], { now });
		expect(first.paused.map((p) => [p.mailbox, p.scope]).sort()).toEqual([
			['anna@s1.test', 'mailbox'],
			['s1.test', 'domain'],
		]);
		const cadence = load('', '2-silent-cadence.json');
		const save = nodeOf(cadence, 'Save paused events');
		// rows as the Data table holds them (its own row id, the event id in eventId)
		let rowId = 1000;
		const table: Json[] = [...sent, ...bounces].map((e) => ({ id: rowId++, ...e }));
		for (const p of first.paused) table.push({ id: rowId++, ...dataTableRow(cadence, save, p as unknown as IDataObject, first.status) });
		// weeks later, without a send in the window, both are still paused
		const later = new Date(now.getTime() + 40 * 86_400_000);
		const paused = senderStatus(table, { now: later }).status;
		expect([paused.mailboxes['anna@s1.test'].paused, paused.domains['s1.test'].paused]).toEqual([true, true]);
		expect(paused.mailboxes['anna@s1.test'].reason).toMatch(/hard-bounce rate 2 %/);

		// template 8 as a person fills in its form, twice
		const resume = load('', '8-resume-sending.json');
		const saveResumed = nodeOf(resume, 'Save resumed event');
		for (const form of [
			{ 'Mailbox or domain': 'anna@s1.test', Scope: 'Mailbox', 'Resumed by and why': 'Anna' },
			{ 'Mailbox or domain': 's1.test', Scope: 'Sending domain', 'Resumed by and why': 'Anna' },
		]) {
			const { json } = await runNode(new CadenceSend(), { parameters: nodeOf(resume, 'Resume sending').parameters, items: [form] });
			table.push({ id: rowId++, ...dataTableRow(resume, saveResumed, json[0], first.status) });
		}
		const resumed = senderStatus(table, { now: later }).status;
		expect([resumed.mailboxes['anna@s1.test'].paused, resumed.domains['s1.test'].paused]).toEqual([false, false]);
		expect(table.at(-1)).toMatchObject({ type: 'resumed', mailbox: 's1.test', scope: 'domain', reason: 'Anna', email: '' });
	});
});

// ------------------------------------------------------------------------------------------------------------------
// The Postgres templates' SQL against a real PostgreSQL

const CI = Boolean(process.env.CI);
const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (skipReason && CI) throw new Error(`template SQL tests are mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[templates protection] SKIPPED the Postgres part: ${skipReason}`);

const SCHEMA = readFileSync(join(WORKFLOWS, 'postgres', 'schema.sql'), 'utf8');
// The schema as the previous release shipped it: the upgrade path starts there.
const OLD_SCHEMA = readFileSync(join(ROOT, 'test', 'fixtures', 'schema-before-sender-protection.sql'), 'utf8');

describe.skipIf(Boolean(skipReason))('the Postgres templates’ SQL on a real PostgreSQL', () => {
	let server: PostgresServer;
	let db: pg.Pool;
	const ZONE = 'Europe/Berlin';
	usePostgresStore('cadence_templates', 3, async (store) => {
		({ server, db } = store);
		// a fresh database takes schema.sql twice, by psql as users run it and by the driver
		server.psql(SCHEMA, 'cadence_templates');
		await db.query(SCHEMA);
	});

	async function run(file: string, name: string, items: IDataObject[] = [{}], timezone = ZONE): Promise<Json[]> {
		const node = nodeOf(load('postgres', file), name);
		expect(node.type).toBe('n8n-nodes-base.postgres');
		return runTemplateQuery(db, node as INode, items, timezone);
	}
	const all = async (sql: string, values: unknown[] = []) => (await db.query(sql, values)).rows as Json[];

	it('upgrade: the previous schema with data, then schema.sql twice: new columns, indexes, one open task per contact', async () => {
		server.createDatabase('cadence_upgrade');
		const db = new pg.Pool({ connectionString: server.url.replace(/\/cadence_templates$/, '/cadence_upgrade'), max: 1 });
		const all = async (sql: string, values: unknown[] = []) => (await db.query(sql, values)).rows as Json[];
		try {
			await db.query(OLD_SCHEMA);
			await db.query(
				`INSERT INTO events (event_id, type, at, email, message_id) VALUES ('old-1', 'sent', now() - interval '1 day', 'a@x.test', '<m1>')`,
			);
			await db.query(`INSERT INTO follow_up_tasks (event_id, email, kind, status, created_at) VALUES
			('t1', 'anna@x.test', 'click', 'open', now() - interval '3 days'),
			('t2', 'Anna@x.test', 'reply', 'open', now() - interval '1 day'),
			('t3', 'anna@x.test', 'click', 'done', now() - interval '5 days'),
			('t4', 'boris@x.test', 'click', 'open', now())`);
			await db.query(`INSERT INTO cadence_send_ledger (key, status, email) VALUES ('k1', 'sent', 'a@x.test')`);
			await db.query(SCHEMA);
			server.psql(SCHEMA, 'cadence_upgrade');
			await db.query(SCHEMA);

			const columns = async (table: string) =>
				(await all(`SELECT column_name FROM information_schema.columns WHERE table_name = $1`, [table])).map((r) => r.column_name);
			expect(await columns('events')).toContain('mailbox');
			expect(await columns('follow_up_tasks')).toEqual(expect.arrayContaining(['owner', 'reason']));
			expect(await columns('cadence_send_ledger')).toEqual(expect.arrayContaining(['day', 'company', 'mailbox']));
			expect(await all(`SELECT mailbox FROM events WHERE event_id = 'old-1'`)).toEqual([{ mailbox: '' }]);
			expect(await all('SELECT event_id, status FROM follow_up_tasks ORDER BY event_id')).toEqual([
				{ event_id: 't1', status: 'closed' },
				{ event_id: 't2', status: 'open' },
				{ event_id: 't3', status: 'done' },
				{ event_id: 't4', status: 'open' },
			]);
			await expect(db.query(`INSERT INTO follow_up_tasks (event_id, email, kind) VALUES ('t5', 'ANNA@x.test', 'click')`)).rejects.toThrow(
				/one_open_idx/,
			);
			const indexes = (await all(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`)).map((r) => r.indexname);
			expect(indexes).toEqual(
				expect.arrayContaining(['events_type_at_idx', 'events_sent_message_idx', 'contacts_site_idx', 'follow_up_tasks_one_open_idx']),
			);
			// the ledger's own DDL finds nothing missing: schema.sql creates what the node would
			const before = indexes.filter((i) => i.startsWith('cadence_send_ledger')).sort();
			await db.query(ledgerTableSql());
			const after = (await all(`SELECT indexname FROM pg_indexes WHERE tablename = 'cadence_send_ledger'`)).map((r) => r.indexname).sort();
			expect(after).toEqual(before);
			expect(before).toHaveLength(4);
		} finally {
			await db.end();
		}
	}, 60_000);

	it('Sender history: sends per mailbox and hour, bounces and complaints with their mailbox, every pause; the same status as the raw events', async () => {
		await db.query('TRUNCATE events');
		const now = Date.now();
		const ago = (minutes: number) => new Date(now - minutes * 60_000).toISOString();
		const hourStart = (iso: string) => {
			// the hour in the workflow's zone (Berlin: whole-hour offsets, so the UTC hour)
			const d = new Date(iso);
			d.setUTCMinutes(0, 0, 0);
			return d.getTime();
		};
		const events: Json[] = [];
		const add = (e: Json) => events.push({ campaign: 'c1', message_id: '', email: '', reason: '', bounce_hard: false, mailbox: '', ...e });
		// anna@s1.test: 3 sends 10 days ago in one hour, 2 in another; ben@s1.test: 1 send; one unconfirmed
		for (let i = 0; i < 3; i++)
			add({ event_id: `a${i}`, type: 'sent', at: ago(10 * 1440 + i), email: `p${i}@c1.test`, mailbox: 'anna@s1.test', message_id: `<a${i}>` });
		for (let i = 3; i < 5; i++)
			add({ event_id: `a${i}`, type: 'sent', at: ago(10 * 1440 - 120 + i), email: `p${i}@c2.test`, mailbox: 'anna@s1.test', message_id: `<a${i}>` });
		add({ event_id: 'a5', type: 'sent', at: ago(1), email: 'p5@c2.test', mailbox: 'anna@s1.test', message_id: '<a5>' });
		add({ event_id: 'b0', type: 'sent', at: ago(5 * 1440), email: 'q0@c3.test', mailbox: 'ben@s1.test', message_id: '<b0>' });
		add({ event_id: 'u0', type: 'failed', reason: 'unconfirmed', at: ago(5 * 1440), email: 'q1@c3.test', mailbox: 'ben@s1.test' });
		add({ event_id: 'f0', type: 'failed', reason: 'rejected', at: ago(5 * 1440), email: 'q2@c3.test', mailbox: 'ben@s1.test' });
		// a hard bounce naming anna's message; a complaint with only the address of ben's send; a soft bounce; one with its own mailbox
		add({ event_id: 'hb', type: 'bounced', bounce_hard: true, at: ago(9 * 1440), email: 'p1@c1.test', message_id: '<a1>' });
		add({ event_id: 'co', type: 'complained', at: ago(4 * 1440), email: 'q0@c3.test' });
		add({ event_id: 'sb', type: 'bounced', bounce_hard: false, at: ago(9 * 1440), email: 'p2@c1.test', message_id: '<a2>' });
		add({ event_id: 'own', type: 'bounced', bounce_hard: true, at: ago(3 * 1440), email: 'x@c9.test', mailbox: 'cleo@s2.test' });
		// outside the window: a send, and a bounce; but an old pause still counts, and so do resumes
		add({ event_id: 'old', type: 'sent', at: ago(40 * 1440), email: 'p0@c1.test', mailbox: 'anna@s1.test' });
		add({ event_id: 'oldb', type: 'bounced', bounce_hard: true, at: ago(40 * 1440), email: 'p0@c1.test' });
		add({ event_id: 'pz', type: 'paused', at: ago(60 * 1440), mailbox: 'dora@s3.test', reason: 'hard-bounce rate 3 %' });
		add({ event_id: 'pd', type: 'paused', at: ago(50 * 1440), mailbox: 's4.test', reason: 'complaint rate 0.5 %' });
		add({ event_id: 'rd', type: 'resumed', at: ago(2 * 1440), mailbox: 's4.test' });
		// not sender history
		add({ event_id: 'op', type: 'opened', at: ago(60), email: 'p0@c1.test' });
		await db.query(
			`INSERT INTO events (event_id, type, at, email, campaign, message_id, reason, bounce_hard, mailbox)
			 SELECT event_id, type, at::timestamptz, email, campaign, message_id, reason, bounce_hard, mailbox
			 FROM jsonb_to_recordset($1::jsonb) AS e(event_id text, type text, at text, email text, campaign text, message_id text, reason text, bounce_hard boolean, mailbox text)`,
			[JSON.stringify(events)],
		);
		const history = await run('2-silent-cadence.json', 'Sender history');
		expect(await run('3-read-cadence.json', 'Sender history')).toEqual(history);
		expect(await run('6-daily-report.json', 'Sender history')).toEqual(history);

		// expected: the window's sends and unconfirmed ones, grouped by type, mailbox and hour
		const since = now - 28 * 86_400_000;
		const expected = new Map<string, Json>();
		for (const e of events) {
			const message = e.type === 'sent' || (e.type === 'failed' && e.reason === 'unconfirmed');
			if (!message || !e.mailbox || Date.parse(e.at) < since) continue;
			const key = `${e.type}|${e.mailbox}|${hourStart(e.at)}`;
			const row = expected.get(key) ?? { type: e.type, mailbox: e.mailbox, at: hourStart(e.at), count: 0, reason: e.reason };
			row.count++;
			expected.set(key, row);
		}
		const order = (a: Json, b: Json) => a.mailbox.localeCompare(b.mailbox) || a.at - b.at || a.type.localeCompare(b.type);
		const sentRows = history
			.filter((r) => r.type === 'sent' || r.type === 'failed')
			.map((r) => ({ type: r.type, mailbox: r.mailbox, at: new Date(r.at).getTime(), count: r.count, reason: r.reason }))
			.sort(order);
		expect(sentRows).toEqual([...expected.values()].sort(order));
		expect(sentRows.filter((r) => r.mailbox === 'anna@s1.test').reduce((n, r) => n + r.count, 0)).toBe(6);
		expect(sentRows.length, 'aggregated: fewer rows than sends').toBeLessThan(7);
		const others = history
			.filter((r) => r.type !== 'sent' && r.type !== 'failed')
			.map((r) => ({ id: r.id, type: r.type, mailbox: r.mailbox, scope: r.scope, bounceHard: r.bounceHard, count: r.count }))
			.sort((a, b) => a.id.localeCompare(b.id));
		expect(others).toEqual([
			{ id: 'co', type: 'complained', mailbox: 'ben@s1.test', scope: '', bounceHard: false, count: 1 },
			{ id: 'hb', type: 'bounced', mailbox: 'anna@s1.test', scope: '', bounceHard: true, count: 1 },
			{ id: 'own', type: 'bounced', mailbox: 'cleo@s2.test', scope: '', bounceHard: true, count: 1 },
			{ id: 'pd', type: 'paused', mailbox: 's4.test', scope: 'domain', bounceHard: false, count: 1 },
			{ id: 'pz', type: 'paused', mailbox: 'dora@s3.test', scope: 'mailbox', bounceHard: false, count: 1 },
			{ id: 'rd', type: 'resumed', mailbox: 's4.test', scope: 'domain', bounceHard: false, count: 1 },
		]);

		// the Sender status node reads the aggregated rows as the raw events: same mailboxes, counts and breakers
		const options = { now: new Date(now), timeZone: ZONE, minSends: 1, hardBouncePausePercent: 30, complaintPausePercent: 10 };
		const raw = events.map((e) => ({
			id: e.event_id,
			type: e.type,
			at: e.at,
			email: e.email,
			campaign: e.campaign,
			messageId: e.message_id,
			reason: e.reason,
			bounceHard: e.bounce_hard,
			mailbox: e.mailbox,
			...(e.type === 'paused' || e.type === 'resumed' ? { scope: e.mailbox.includes('@') ? 'mailbox' : 'domain' } : {}),
		}));
		const fromRaw = senderStatus(raw, options).status;
		const { outputs } = await runNode(new CadenceSend(), {
			parameters: { operation: 'senderStatus', breaker: { minSends: 1, hardBouncePausePercent: 30, complaintPausePercent: 10 } },
			items: history,
			timezone: ZONE,
		});
		const fromHistory = outputs[0][0].json as unknown as SenderStatus;
		const view = (s: SenderStatus) =>
			Object.fromEntries(
				[...Object.values(s.mailboxes), ...Object.values(s.domains)].map((m) => [
					m.mailbox,
					{ sentToday: m.sentToday, paused: m.paused, sends: m.window.sends, hardBounces: m.window.hardBounces, complaints: m.window.complaints },
				]),
			);
		expect(view(fromHistory)).toEqual(view(fromRaw));
		expect(view(fromHistory)['anna@s1.test']).toMatchObject({ sentToday: 1, sends: 6, hardBounces: 1, paused: false });
		expect(view(fromHistory)['ben@s1.test']).toMatchObject({ sentToday: 0, sends: 1, complaints: 1, paused: true });
		expect(view(fromHistory)['s1.test']).toMatchObject({ sends: 7, hardBounces: 1, complaints: 1, paused: true });
		expect(view(fromHistory)['dora@s3.test']).toMatchObject({ paused: true });
		expect(view(fromHistory)['s4.test']).toMatchObject({ paused: false });

		// the new pauses (output 2) are saved by the template and read back as pauses, with their scope
		const paused = outputs[1].map((i) => i.json);
		expect(paused.map((p) => p.mailbox).sort()).toEqual(['ben@s1.test', 's1.test']);
		await run('2-silent-cadence.json', 'Save paused events', paused);
		await run('6-daily-report.json', 'Save paused events', paused);
		const again = (await run('2-silent-cadence.json', 'Sender history')).filter((r) => r.type === 'paused');
		expect(again.map((r) => [r.mailbox, r.scope]).sort()).toEqual([
			['ben@s1.test', 'mailbox'],
			['dora@s3.test', 'mailbox'],
			['s1.test', 'domain'],
			['s4.test', 'domain'],
		]);
		expect(again.find((r) => r.mailbox === 'ben@s1.test')!.reason).toMatch(/complaint rate/);
	}, 60_000);

	it('Sender history reads sends by the (type, at) index, and a bounce finds its send by Message-ID', async () => {
		await db.query(`INSERT INTO events (event_id, type, at, email, mailbox, message_id)
			SELECT 'bulk' || i, CASE WHEN i % 5 = 0 THEN 'sent' ELSE 'opened' END, now() - (i || ' minutes')::interval, 'p' || i || '@c.test', 'anna@s1.test', '<bulk' || i || '>'
			FROM generate_series(1, 20000) AS i`);
		await db.query('ANALYZE events');
		const node = nodeOf(load('postgres', '2-silent-cadence.json'), 'Sender history');
		const [values] = queryValues(node as unknown as INode, [{}], ZONE);
		const client = await db.connect();
		try {
			await client.query('SET enable_seqscan = off');
			const sql = pgpFormat ? `EXPLAIN (FORMAT JSON) ${pgpFormat(node.parameters.query, values)}` : `EXPLAIN (FORMAT JSON) ${node.parameters.query}`;
			const plan = JSON.stringify((await client.query(sql, pgpFormat ? [] : values)).rows[0]['QUERY PLAN']);
			expect(plan).toMatch(/"Index Name":"events_type_at_idx"/);
			expect(plan).toMatch(/"Index Name":"events_sent_message_idx"/);
			expect(plan).not.toMatch(/"Node Type":"Seq Scan"/);
		} finally {
			client.release();
		}
		await db.query(`DELETE FROM events WHERE event_id LIKE 'bulk%'`);
	}, 60_000);

	it('import: Existing contacts returns every contact that may share a company with the CSV, by its index', async () => {
		await db.query('TRUNCATE contacts');
		await db.query(`INSERT INTO contacts (email, tags) VALUES
			('a@one.example.co.uk', 'English-Dealers-Marketing05'), ('b@two.example.co.uk', 'English-Dealers-Marketing05'),
			('c@example.com', 'English-Dealers-Marketing06'), ('d@mail.example.com', 'T'), ('e@other.com', 'T'),
			('f@x.github.io', 'T'), ('g@localhost', 'T'), ('h@anexample.com', 'T')`);
		const csv = [
			{ email: ' New@Three.Example.co.uk ' },
			{ email: 'z@EXAMPLE.com' },
			{ email: 'y@localhost' },
			{ email: '' },
			{ email: 'not-an-address' },
		];
		const rows = await run('1-import-contacts.json', 'Existing contacts', csv);
		expect(rows.map((r) => r.email).sort()).toEqual([
			'a@one.example.co.uk',
			'b@two.example.co.uk',
			'c@example.com',
			'd@mail.example.com',
			'g@localhost',
		]);
		expect(rows[0]).toHaveProperty('tags');
		// x.github.io and y.github.io are two companies, but share github.io: a superset is fine, the node counts by company
		expect((await run('1-import-contacts.json', 'Existing contacts', [{ email: 'y@y.github.io' }])).map((r) => r.email)).toEqual(['f@x.github.io']);
		expect(await run('1-import-contacts.json', 'Existing contacts', [{ email: '' }])).toEqual([]);

		await db.query(`INSERT INTO contacts (email, tags) SELECT 'c' || i || '@d' || (i % 5000) || '.test', 'T' FROM generate_series(1, 50000) AS i`);
		await db.query('ANALYZE contacts');
		const node = nodeOf(load('postgres', '1-import-contacts.json'), 'Existing contacts');
		const [values] = queryValues(node as unknown as INode, csv, ZONE);
		const sql = pgpFormat ? `EXPLAIN (FORMAT JSON) ${pgpFormat(node.parameters.query, values)}` : `EXPLAIN (FORMAT JSON) ${node.parameters.query}`;
		const plan = JSON.stringify((await db.query(sql, pgpFormat ? [] : values)).rows[0]['QUERY PLAN']);
		expect(plan).toMatch(/"Index Name":"contacts_site_idx"/);
		await db.query('TRUNCATE contacts');
	}, 60_000);

	it('template 8: the Resume sending node’s event, from the form’s fields, is saved and ends the pause', async () => {
		await db.query('TRUNCATE events');
		const at = new Date(Date.now() - 3_600_000).toISOString();
		const figures = { since: at, sends: 100, hardBounces: 0, complaints: 1, hardBounceRate: 0, complaintRate: 0.01 };
		await run('2-silent-cadence.json', 'Save paused events', [
			{ id: 'p-ben', type: 'paused', at, email: '', mailbox: 'ben@s1.test', scope: 'mailbox', reason: 'complaint rate 1 %', figures },
			{ id: 'p-dom', type: 'paused', at, email: '', mailbox: 's2.test', scope: 'domain', reason: 'complaint rate 1 %', figures },
		]);
		const resume = nodeOf(load('postgres', '8-resume-sending.json'), 'Resume sending');
		const status = async () => {
			const history = await run('2-silent-cadence.json', 'Sender history');
			const { outputs } = await runNode(new CadenceSend(), { parameters: { operation: 'senderStatus' }, items: history, timezone: ZONE });
			return { history, status: outputs[0][0].json as unknown as SenderStatus };
		};
		const before = (await status()).status;
		expect([before.mailboxes['ben@s1.test'].paused, before.domains['s2.test'].paused]).toEqual([true, true]);

		// the sending domain, as a person fills in the form
		const form = { 'Mailbox or domain': ' S2.test ', Scope: 'Sending domain', 'Resumed by and why': 'Anna: list cleaned' };
		const { json } = await runNode(new CadenceSend(), { parameters: resume.parameters, items: [form], timezone: ZONE });
		expect(json[0]).toMatchObject({ type: 'resumed', mailbox: 's2.test', scope: 'domain', by: 'Anna: list cleaned' });
		const saved = await run('8-resume-sending.json', 'Save resumed event', json);
		expect(saved).toEqual([expect.objectContaining({ type: 'resumed', mailbox: 's2.test', reason: 'Anna: list cleaned' })]);
		expect(await run('8-resume-sending.json', 'Save resumed event', json), 'saved once').toEqual([]);
		const mid = await status();
		expect(mid.history.filter((r) => r.type === 'resumed').map((r) => [r.mailbox, r.scope])).toEqual([['s2.test', 'domain']]);
		expect(mid.status.domains['s2.test'].paused).toBe(false);
		expect(mid.status.mailboxes['ben@s1.test'].paused, 'another domain’s mailbox stays paused').toBe(true);

		// a mailbox, by its From address
		const box = await runNode(new CadenceSend(), {
			parameters: resume.parameters,
			items: [{ 'Mailbox or domain': 'Ben <BEN@s1.test>', Scope: 'Mailbox', 'Resumed by and why': 'Ben' }],
			timezone: ZONE,
		});
		expect(box.json[0]).toMatchObject({ mailbox: 'ben@s1.test', scope: 'mailbox' });
		await run('8-resume-sending.json', 'Save resumed event', box.json);
		expect((await status()).status.mailboxes['ben@s1.test'].paused).toBe(false);
	}, 60_000);

	it('every Postgres node of the templates runs on the schema with sample items', async () => {
		const at = new Date().toISOString();
		const event = {
			id: 'sample-1',
			type: 'sent',
			at,
			email: 'Sample@X.test',
			campaign: 'c',
			batchTag: 'T',
			messageId: '<s1>',
			token: 't',
			class: 'human',
			url: 'https://x.test/',
			unique: true,
			channel: 'email',
			subject: 'Re: hello',
			mailbox: 'anna@s1.test',
			bounce: { hard: true, status: '5.1.1', reason: 'unknown' },
			tag: 'T',
			tags: 'T, Read-Other',
			batch: 5,
		};
		const samples: Record<string, IDataObject[]> = {
			'7-move-data-tables-to-postgres.json/Postgres contacts': [{ id: 1, email: 'M@x.test', tags: 'T', lastSentAt: at }],
			'7-move-data-tables-to-postgres.json/Postgres events': [
				{ id: 2, eventId: 'moved-1', type: 'sent', at, email: 'm@x.test', mailbox: 'anna@s1.test' },
			],
			'7-move-data-tables-to-postgres.json/Postgres follow_up_tasks': [
				{ id: 3, email: 'm@x.test', kind: 'click', status: 'open', createdAt: '2026-01-01T00:00:00Z', owner: 'anna', reason: 'clicked' },
				{ id: 4, email: 'M@x.test', kind: 'reply', status: 'open', createdAt: '2026-01-02T00:00:00Z' },
			],
			'8-resume-sending.json/Save resumed event': [{ id: 'r-1', type: 'resumed', at, mailbox: 'anna@s1.test', scope: 'mailbox', by: 'x' }],
		};
		const ran: string[] = [];
		for (const file of files('postgres')) {
			for (const n of load('postgres', file).nodes.filter((x: Json) => x.type === 'n8n-nodes-base.postgres')) {
				const items = samples[`${file}/${n.name}`] ?? [event];
				await expect(run(file, n.name, items), `${file}: ${n.name}`).resolves.toBeDefined();
				ran.push(`${file}/${n.name}`);
			}
		}
		expect(ran.length).toBeGreaterThan(15);
		// the moved tasks keep one open per contact: the newest
		expect(await all(`SELECT event_id, status, owner, reason FROM follow_up_tasks WHERE event_id LIKE 'datatable-%' ORDER BY event_id`)).toEqual([
			{ event_id: 'datatable-3', status: 'closed', owner: 'anna', reason: 'clicked' },
			{ event_id: 'datatable-4', status: 'open', owner: '', reason: '' },
		]);
		expect(await all(`SELECT mailbox FROM events WHERE event_id = 'moved-1'`)).toEqual([{ mailbox: 'anna@s1.test' }]);
		expect(await all(`SELECT mailbox FROM events WHERE event_id = 'sample-1'`)).toEqual([{ mailbox: 'anna@s1.test' }]);
	}, 120_000);
});
