/**
 * Data-table report bench: the daily report template (workflows/6-daily-report.json) on one n8n 2.8.4 with its Data
 * tables in n8n's SQLite database, counted two ways on the same events, each run in a fresh n8n process so that the
 * process's peak memory (VmHWM) belongs to that run alone:
 *
 *   parts    the template as shipped: the address book split into ranges of addresses (Parts of the address book),
 *            each counted in a sub-execution of the same workflow (Count each part), the counts added up by Metrics
 *   single   the same template rebuilt here in the shape it had before: one Data-table get of all 30 days → Event id →
 *            Metrics, and one get of every contact into Metrics' Contacts input (list health)
 *
 * For each size: execution wall time, n8n's peak RSS, its peak over the RSS it held idle after start, and whether
 * Metrics' rows (and A/B and list health outputs) of each way equal the single load's. The email step is left out.
 * The rows go straight into the Data tables' SQLite tables (`data_table_user_<id>`, with better-sqlite3, the
 * columns in n8n's own stored format: dates as `YYYY-MM-DD HH:MM:SS.sss` UTC, booleans 0/1) while n8n is stopped,
 * not through n8n's REST API (the slow path).
 * Env: BENCH_DT_EVENTS (50000,150000), BENCH_DT_CONTACTS (a third of each size: about 3 events per contact),
 * BENCH_DT_WAYS (parts,single), BENCH_DT_NODE_OPTIONS (NODE_OPTIONS of the measured n8n
 * processes, e.g. --max-old-space-size=1024: whether a run fits that heap; a run n8n does not survive is reported so).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { n8nAvailability } from '../helpers/n8nInstance';
import { template, withWebhookStart, type Json } from '../helpers/templates';
import { processMemory, sizesFromEnv, type ProcessMemory } from './shared';
// @ts-expect-error: plain ESM script without type declarations
import { ensureDataTables, ensureOwner } from '../../scripts/cadence-setup.mjs';
import {
	freePort,
	packPackage,
	prepareUserFolder,
	startN8n,
	USERS_DIR,
	webhookWorkflowIds,
	// @ts-expect-error: plain ESM script without type declarations
} from '../../scripts/n8n-runtime.mjs';

const SIZES = sizesFromEnv(process.env.BENCH_DT_EVENTS, '50000,150000');
const CONTACTS = Number(process.env.BENCH_DT_CONTACTS ?? 0);
/** NODE_OPTIONS for the measured n8n processes, e.g. --max-old-space-size=1024 to see whether a run fits a heap. */
const NODE_OPTIONS = process.env.BENCH_DT_NODE_OPTIONS ?? '';
const WAY_NAMES = ['parts', 'single'] as const;
type WayName = (typeof WAY_NAMES)[number];
const WAYS = (process.env.BENCH_DT_WAYS ?? 'parts,single').split(',').map((s) => s.trim()) as WayName[];
for (const w of WAYS) if (!WAY_NAMES.includes(w)) throw new Error(`BENCH_DT_WAYS: "${w}" is not one of ${WAY_NAMES.join(', ')}`);
const ROOT = join(__dirname, '..', '..');
const GB_MB = 1024;
/** How long n8n idles after start before its baseline is read: start-up work (activation, pruning) settles. */
const SETTLE_MS = 5_000;
const RUN_TIMEOUT_MS = 1_800_000;
const DAY_MS = 86_400_000;

interface Way {
	name: WayName;
	id: string;
	path: string;
	workflow: Json;
}

/** The report as shipped, with a webhook start beside its schedule and no email step. */
function partsWorkflow(id: string, path: string): Json {
	const wf = withWebhookStart(template('', '6-daily-report.json', id), 'Every morning', path);
	wf.nodes = wf.nodes.filter((n: Json) => n.name !== 'Email the report');
	wf.connections['Add paused senders'] = { main: [[]] };
	return wf;
}

/** The sub path and the parts' nodes of the shipped template, replaced by one load of every event of the range. */
const PARTS_NODES = [
	'Parts of the address book',
	'Count each part',
	'When the report counts a part',
	"Part's events",
	"Part's contacts",
	'Count the part',
	'Decisions and leads',
	"Part's counts",
	'List health?',
];

/**
 * The report in its earlier shape, built from the current template: Sender status → "Last 30 days of events" (the
 * template's Part's events with only its time condition) → Event id → Metrics, and Sender status → "Contacts" (Part's
 * contacts with no condition) → Metrics' Contacts input. Everything else is the template's.
 */
function singleWorkflow(id: string, path: string): Json {
	const wf = partsWorkflow(id, path);
	const byName = (name: string) => {
		const n = wf.nodes.find((x: Json) => x.name === name);
		if (!n) throw new Error(`the template has no node "${name}": rebuild the single-load variant`);
		return structuredClone(n) as Json;
	};
	const events = byName("Part's events");
	const timeCondition = events.parameters.filters.conditions.filter((c: Json) => c.keyName === 'at');
	if (timeCondition.length !== 1) throw new Error(`"Part's events" has ${timeCondition.length} conditions on "at", expected 1`);
	Object.assign(events, { name: 'Last 30 days of events', id: 'bench-last-30-days' });
	events.parameters.filters = { conditions: timeCondition };
	const contacts = byName("Part's contacts");
	Object.assign(contacts, { name: 'Contacts', id: 'bench-contacts' });
	contacts.parameters.filters = {};
	wf.nodes = wf.nodes.filter((n: Json) => !PARTS_NODES.includes(n.name)).concat([events, contacts]);
	for (const name of PARTS_NODES) delete wf.connections[name];
	const to = (node: string, index = 0) => ({ node, type: 'main', index });
	wf.connections['Sender status'].main[0] = [to('Last 30 days of events'), to('Contacts')];
	wf.connections['Last 30 days of events'] = { main: [[to('Event id')]] };
	wf.connections['Event id'] = { main: [[to('Metrics')]] };
	wf.connections.Contacts = { main: [[to('Metrics', 1)]] };
	return wf;
}

// ---- the data --------------------------------------------------------------------------------------------------

/** Local parts spread over the alphabet (and two starting with a digit), as a B2B address book's are. */
const LOCAL_PARTS = [
	'anna',
	'alex',
	'admin',
	'brian',
	'buyer',
	'ceo',
	'contact',
	'chris',
	'daniel',
	'david',
	'elena',
	'export',
	'frank',
	'finance',
	'george',
	'hr',
	'hans',
	'info',
	'ivan',
	'james',
	'john',
	'kevin',
	'laura',
	'lisa',
	'maria',
	'marketing',
	'michael',
	'nina',
	'office',
	'olga',
	'peter',
	'purchasing',
	'quentin',
	'robert',
	'sales',
	'sergey',
	'sophie',
	'support',
	'thomas',
	'ulrich',
	'victor',
	'walter',
	'xavier',
	'yuri',
	'zoe',
	'1c-admin',
	'24service',
];
const MAILBOXES = ['anna@mail-a.test', 'ben@mail-b.test', 'carl@mail-c.test'];
const READER_AGENTS = ['Chrome', 'Safari', 'Outlook', 'Firefox', 'Thunderbird'];

const nn = (n: number) => String(n).padStart(2, '0');
/** n8n's stored form of a date column on SQLite (its formatDateForDatabase). */
const sqliteDate = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
/** A deterministic 0..m-1 from a number and a salt. */
const hash = (n: number, salt: string, m: number) => createHash('md5').update(`${salt}${n}`).digest().readUInt32BE(0) % m;
/** A deterministic token of the tracking kind's length (base64url, 86 characters). */
const tokenOf = (s: number) => createHash('sha512').update(`token${s}`).digest('base64url');

function emailOf(g: number): string {
	return `${LOCAL_PARTS[g % LOCAL_PARTS.length]}${g}@company${(g * 7919) % 50_000}.com`;
}

type Row = Record<string, string | number | null>;

/**
 * `total` events of the last 29 days for `contacts` contacts, by send: each send s (to contact s mod contacts) is
 * followed by opens 80 % (a second for 60 %, a third for 20 %; classes human, Apple MPP, image proxy, scanner), clicks
 * 30 % (a second for 5 %), bounces 2.5 % (1.25 % hard), replies 3.3 %, auto-replies 1.1 %, unsubscribes 0.7 %,
 * complaints 0.05 %, inbound leads 0.2 % and conversions 0.1 %, until `total`.
 */
function generateEvents(total: number, contacts: number, now: number): Row[] {
	const rows: Row[] = [];
	const base = {
		messageId: '',
		token: '',
		class: '',
		url: '',
		reason: '',
		bounceHard: 0,
		bounceStatus: '',
		channel: '',
		unique: 0,
		mailbox: '',
		readerNetwork: '',
		readerAgent: '',
		forwarded: 0,
		value: null,
		currency: '',
		orderId: '',
	};
	for (let s = 0; rows.length < total; s++) {
		const g = s % contacts;
		const sentAt = now - ((s * 2591) % (29 * 86_400)) * 1000 - 3_600_000;
		const h = hash(s, 'h', 1000);
		const h2 = hash(s, 'h2', 10_000);
		const token = tokenOf(s);
		const common = {
			email: emailOf(g),
			campaign: `bench-${s % 4}`,
			batchTag: `English-Equipment Dealers-Marketing${nn(1 + (g % 30))}`,
			variant: s % 2 === 0 ? 'A' : 'B',
		};
		const ev = (kind: string, type: string, offsetMs: number, extra: Row = {}) => {
			const at = sentAt + offsetMs;
			rows.push({
				...base,
				...common,
				eventId: `${kind}${s}`,
				type,
				at: sqliteDate(at),
				createdAt: sqliteDate(at),
				updatedAt: sqliteDate(at),
				...extra,
			});
		};
		const reader = (k: number) => ({ readerNetwork: `203.0.${k % 250}.0/24`, readerAgent: READER_AGENTS[k % READER_AGENTS.length] });
		ev('s', 'sent', 0, { messageId: `<${token}@mail-${'abc'[s % 3]}.test>`, token, mailbox: MAILBOXES[s % 3] });
		if (h < 800) ev('o1-', 'opened', 3_600_000, { token, class: ['human', 'apple_mpp', 'image_proxy', 'scanner', 'human'][h % 5], ...reader(s) });
		if (h < 600)
			ev('o2-', 'opened', 5 * 3_600_000, { token, class: h % 3 === 0 ? 'apple_mpp' : 'human', ...reader(s + 1), forwarded: h % 17 === 0 ? 1 : 0 });
		if (h < 200) ev('o3-', 'opened', DAY_MS, { token, class: 'human', ...reader(s) });
		if (h < 300)
			ev('c1-', 'clicked', 2 * 3_600_000, {
				token,
				class: h % 3 === 0 ? 'scanner' : 'human',
				url: `https://example.com/catalogue?p=${s % 7}`,
				...reader(s),
			});
		if (h < 50) ev('c2-', 'clicked', 3 * 3_600_000, { token, class: 'human', url: 'https://example.com/prices', ...reader(s) });
		if (h2 < 250)
			ev('b', 'bounced', 600_000, {
				messageId: `<${token}@mail-${'abc'[s % 3]}.test>`,
				bounceHard: h2 < 125 ? 1 : 0,
				bounceStatus: h2 < 125 ? '5.1.1' : '4.2.2',
				reason: h2 < 125 ? 'user unknown' : 'mailbox full',
			});
		else if (h2 < 580) ev('r', 'replied', 6 * 3_600_000, { token });
		else if (h2 < 690) ev('a', 'auto_replied', 1_200_000, { token });
		else if (h2 < 760) ev('u', 'unsubscribed', 7 * 3_600_000, { token });
		else if (h2 < 765) ev('x', 'complained', 8 * 3_600_000, { token });
		else if (h2 < 785) ev('l', 'inbound', 9 * 3_600_000, { channel: ['web', 'LinkedIn', 'phone'][s % 3], unique: h2 % 2 === 0 ? 1 : 0 });
		else if (h2 < 795) ev('v', 'converted', 10 * 3_600_000, { token, value: 100 + (s % 900), currency: 'EUR', orderId: `order-${s}` });
	}
	rows.length = total;
	return rows;
}

/** The contacts: created over the last 120 days (some inside the list-health period), one in 40 tagged as a risk. */
function generateContacts(count: number, now: number): Row[] {
	const rows: Row[] = [];
	for (let g = 0; g < count; g++) {
		const created = sqliteDate(now - (g % 120) * DAY_MS - (g % 86_400) * 1000);
		const batch = `English-Equipment Dealers-Marketing${nn(1 + (g % 30))}`;
		rows.push({
			email: emailOf(g),
			tags: g % 40 === 0 ? `${batch}, Risk-Unsubscribed` : batch,
			language: 'English',
			segment: 'Equipment Dealers',
			company: `Company ${(g * 7919) % 50_000}`,
			lastSentAt: sqliteDate(now - (g % 29) * DAY_MS),
			createdAt: created,
			updatedAt: created,
		});
	}
	return rows;
}

/** Replaces a Data table's rows in n8n's SQLite database (n8n must be stopped). */
function fillTable(dbPath: string, tableId: string, rows: Row[]): void {
	const db = new Database(dbPath);
	try {
		const table = `data_table_user_${tableId}`;
		const columns = Object.keys(rows[0]);
		const insert = db.prepare(
			`INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
		);
		db.transaction(() => {
			db.prepare(`DELETE FROM "${table}"`).run();
			for (const row of rows) insert.run(row);
		})();
		db.pragma('wal_checkpoint(TRUNCATE)');
	} finally {
		db.close();
	}
}

/** Events of the report's range per part of the shipped template (its boundaries), to know the largest part. */
function partSizes(dbPath: string, tableId: string, boundaries: string[], from: number): number[] {
	const db = new Database(dbPath, { readonly: true });
	try {
		const table = `"data_table_user_${tableId}"`;
		const at = sqliteDate(from);
		const count = (where: string, ...params: string[]) =>
			(db.prepare(`SELECT count(*) AS n FROM ${table} WHERE at >= ? AND ${where}`).get(at, ...params) as { n: number }).n;
		const sizes = [count('email IS NULL')];
		let lower = '';
		for (const upper of boundaries) {
			sizes.push(count('email >= ? AND email < ?', lower, upper));
			lower = upper;
		}
		sizes.push(count('email >= ?', lower));
		return sizes;
	} finally {
		db.close();
	}
}

/** The boundaries the template's Code node splits the address book at (read from its code, not copied). */
function templateBoundaries(wf: Json): string[] {
	const code = String(wf.nodes.find((n: Json) => n.name === 'Parts of the address book')?.parameters?.jsCode ?? '');
	const m = /const boundaries = (\[[^\]]*\])/.exec(code);
	if (!m) throw new Error('no `const boundaries = [...]` in "Parts of the address book"');
	return JSON.parse(m[1].replace(/'/g, '"')) as string[];
}

// ---- n8n's process and execution records -------------------------------------------------------------------------

/** The other processes of n8n's process group (its task runner): their summed peak RSS. */
function groupOthersPeakMB(pid: number): number {
	let sum = 0;
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (Number(fields[2]) === pid) sum += processMemory(Number(entry)).peakMB;
		} catch {
			// the process ended meanwhile
		}
	}
	return sum;
}

interface ExecutionRow {
	id: string;
	status: string;
	mode: string;
	startedAt: string;
	stoppedAt: string | null;
}

function executionRows(dbPath: string, workflowId: string, sinceId: number): ExecutionRow[] {
	const db = new Database(dbPath, { readonly: true });
	try {
		return db
			.prepare(
				`SELECT id, status, mode, startedAt, stoppedAt FROM execution_entity WHERE workflowId = ? AND CAST(id AS INTEGER) > ? ORDER BY CAST(id AS INTEGER)`,
			)
			.all(workflowId, sinceId) as ExecutionRow[];
	} finally {
		db.close();
	}
}

/**
 * From one execution's stored run data (n8n's flatted format): each node's first run time, and the items of the
 * outputs of `node`. Only what is asked for is revived: the single load's data holds every event twice.
 */
function readRun(dbPath: string, executionId: string, node: string): { nodeMs: Record<string, number>; outputs: Json[][]; dataMB: number } {
	const db = new Database(dbPath, { readonly: true });
	let text: string;
	try {
		text = (db.prepare('SELECT data FROM execution_data WHERE executionId = ?').get(executionId) as { data: string }).data;
	} finally {
		db.close();
	}
	const dataMB = Math.round(text.length / 1048576);
	const table = JSON.parse(text) as unknown[];
	text = '';
	// In flatted's table every string in an object or array is the index of the entry that holds the value.
	const at = (value: unknown, key: string | number): unknown => {
		const v = (value as Record<string | number, unknown>)?.[key];
		return typeof v === 'string' ? table[Number(v)] : v;
	};
	const revive = (value: unknown): unknown => {
		if (Array.isArray(value)) return value.map((_, i) => revive(at(value, i)));
		if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).map((k) => [k, revive(at(value, k))]));
		return value;
	};
	const runData = at(at(table[0], 'resultData'), 'runData') as Record<string, unknown>;
	const nodeMs: Record<string, number> = {};
	for (const name of Object.keys(runData)) nodeMs[name] = Number(at(at(at(runData, name), 0), 'executionTime'));
	const main = at(at(at(at(runData, node), 0), 'data'), 'main') as unknown[] | undefined;
	const outputs = (main ?? []).map((_, i) => ((revive(at(main, i)) as Array<{ json: Json }> | null) ?? []).map((item) => item.json));
	return { nodeMs, outputs, dataMB };
}

/** An execution record's time as n8n stores it on SQLite (UTC, `YYYY-MM-DD HH:MM:SS.sss`). */
const sqliteTime = (v: string | null) => Date.parse(`${String(v).replace(' ', 'T')}Z`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface RunResult {
	way: string;
	events: number;
	status: string;
	wallMs: number;
	execMs: number;
	subExecutions: number;
	subExecutionsOk: boolean;
	idle: ProcessMemory;
	after: ProcessMemory;
	peakMB: number;
	growthMB: number;
	newPeak: boolean;
	runnerPeakMB: number;
	executionDataMB: number;
	nodeMs: Record<string, number>;
	metrics: Json[][];
}

async function runWay(way: Way, opts: { userFolder: string; dbPath: string; events: number; workflows: Json[] }): Promise<RunResult> {
	const port: number = await freePort();
	const brokerPort: number = await freePort();
	const n8n = await startN8n({
		userFolder: opts.userFolder,
		port,
		brokerPort,
		log: () => {},
		webhookWorkflows: webhookWorkflowIds(opts.workflows),
		env: NODE_OPTIONS ? { NODE_OPTIONS } : {},
	});
	try {
		await sleep(SETTLE_MS);
		const idle = processMemory(n8n.pid);
		const since = Number(executionRows(opts.dbPath, way.id, 0).at(-1)?.id ?? 0);
		const t = Date.now();
		// sampled during the run: a process the kernel or V8 ends for want of memory has no /proc entry afterwards
		let sampled = idle;
		const sampler = setInterval(() => {
			const m = processMemory(n8n.pid);
			if (m.peakMB) sampled = m;
		}, 250);
		let parent: ExecutionRow | undefined;
		try {
			await (await fetch(`${n8n.baseUrl}/webhook/${way.path}`, { method: 'POST', signal: AbortSignal.timeout(RUN_TIMEOUT_MS) })).text();
		} catch {
			// n8n ended during the run: reported below
		}
		for (const deadline = Date.now() + RUN_TIMEOUT_MS; !n8n.exited(); await sleep(100)) {
			parent = executionRows(opts.dbPath, way.id, since).find((e) => e.mode !== 'integrated' && e.stoppedAt);
			if (parent) break;
			if (Date.now() > deadline) throw new Error(`${way.name}: no finished execution after ${RUN_TIMEOUT_MS / 1000} s`);
		}
		clearInterval(sampler);
		if (!parent) {
			const exit = n8n.exited() as { code: number | null; signal: string | null };
			const why = /heap out of memory|Reached heap limit[^\n]*/.exec(n8n.logs())?.[0] ?? `exit ${exit.code ?? exit.signal}`;
			return {
				way: way.name,
				events: opts.events,
				status: `n8n ended: ${why}`,
				wallMs: Date.now() - t,
				execMs: 0,
				subExecutions: 0,
				subExecutionsOk: false,
				idle,
				after: sampled,
				peakMB: sampled.peakMB,
				growthMB: sampled.peakMB - idle.rssMB,
				newPeak: sampled.peakMB > idle.peakMB,
				runnerPeakMB: 0,
				executionDataMB: 0,
				nodeMs: {},
				metrics: [],
			};
		}
		const wallMs = Date.now() - t;
		const after = processMemory(n8n.pid);
		const runnerPeakMB = groupOthersPeakMB(n8n.pid);
		const subs = executionRows(opts.dbPath, way.id, since).filter((e) => e.mode === 'integrated');
		const run = readRun(opts.dbPath, parent.id, 'Metrics');
		const execMs = sqliteTime(parent.stoppedAt) - sqliteTime(parent.startedAt);
		return {
			way: way.name,
			events: opts.events,
			status: parent.status,
			wallMs,
			execMs,
			subExecutions: subs.length,
			subExecutionsOk: subs.every((e) => e.status === 'success'),
			idle,
			after,
			peakMB: after.peakMB,
			growthMB: after.peakMB - idle.rssMB,
			newPeak: after.peakMB > idle.peakMB,
			runnerPeakMB,
			executionDataMB: run.dataMB,
			nodeMs: run.nodeMs,
			metrics: run.outputs,
		};
	} finally {
		await n8n.stop();
	}
}

/** Memory per event (KB) from the growth of the two largest sizes, and the events where the process reaches 1 GB. */
function slope(runs: RunResult[]): { perEventKB: number | null; ceilingEvents: number | null } {
	const ok = runs.filter((r) => r.status === 'success' && r.newPeak);
	if (ok.length < 2) return { perEventKB: null, ceilingEvents: null };
	const [a, b] = ok.slice(-2);
	if (b.growthMB <= a.growthMB) return { perEventKB: null, ceilingEvents: null };
	const perEventKB = ((b.growthMB - a.growthMB) * 1024) / (b.events - a.events);
	return { perEventKB: +perEventKB.toFixed(2), ceilingEvents: Math.round(b.events + ((GB_MB - b.peakMB) * 1024) / perEventKB) };
}

async function main() {
	const availability = n8nAvailability();
	if (!availability.ok) {
		console.log(`reportDatatables bench skipped: ${availability.reason}`);
		return;
	}
	const build = { parts: partsWorkflow, single: singleWorkflow };
	const ways: Way[] = WAYS.map((name) => {
		const id = `benchDt${name[0].toUpperCase()}${name.slice(1)}`;
		const path = `bench-dt-${name}`;
		return { name, id, path, workflow: build[name](id, path) };
	});
	const workflows = ways.map((w) => w.workflow);
	const boundaries = templateBoundaries(partsWorkflow('x', 'x'));
	const userFolder = join(USERS_DIR as string, 'bench-report-datatables');
	const dbPath = join(userFolder, '.n8n', 'database.sqlite');
	const log = (m: string) => console.log(`[n8n] ${m}`);

	// A fresh database with both workflows published, the owner and the Data tables; then n8n stops.
	const port: number = await freePort();
	const brokerPort: number = await freePort();
	prepareUserFolder({ userFolder, tgz: packPackage({ log }), workflows, fresh: true, log, port, brokerPort });
	const setup = await startN8n({ userFolder, port, brokerPort, log: () => {}, webhookWorkflows: webhookWorkflowIds(workflows) });
	let tables: { ids: Record<string, string> };
	try {
		tables = await ensureDataTables(await ensureOwner(setup.baseUrl));
	} finally {
		await setup.stop();
	}

	const runs: RunResult[] = [];
	const sizes: Array<Record<string, unknown>> = [];
	for (const events of SIZES) {
		const now = Date.now();
		const contacts = CONTACTS > 0 ? CONTACTS : Math.max(1, Math.round(events / 3));
		let t = Date.now();
		const eventRows = generateEvents(events, contacts, now);
		const contactRows = generateContacts(contacts, now);
		const genMs = Date.now() - t;
		t = Date.now();
		fillTable(dbPath, tables.ids.events, eventRows);
		fillTable(dbPath, tables.ids.contacts, contactRows);
		const loadMs = Date.now() - t;
		const byType: Record<string, number> = {};
		for (const r of eventRows) byType[String(r.type)] = (byType[String(r.type)] ?? 0) + 1;
		// the report's range starts at the start of the day 30 days ago in n8n's zone: 31 days back covers it
		const parts = partSizes(dbPath, tables.ids.events, boundaries, now - 31 * DAY_MS);
		const largestPart = Math.max(...parts);
		console.log(
			`\n${events.toLocaleString()} events, ${contacts.toLocaleString()} contacts: generated in ${genMs} ms, written to SQLite in ${loadMs} ms; ` +
				`${parts.length} parts, the largest ${largestPart.toLocaleString()} events (${((largestPart / events) * 100).toFixed(1)} %)`,
		);
		console.log(`  ${JSON.stringify(byType)}`);
		const bySize: RunResult[] = [];
		for (const way of ways) {
			const r = await runWay(way, { userFolder, dbPath, events, workflows });
			bySize.push(r);
			runs.push(r);
			console.log(
				`  ${way.name}: ${r.status}, wall ${(r.wallMs / 1000).toFixed(1)} s (execution ${(r.execMs / 1000).toFixed(1)} s${r.subExecutions ? `, ${r.subExecutions} sub-executions${r.subExecutionsOk ? '' : ' NOT ALL SUCCESSFUL'}` : ''}), ` +
					`n8n peak ${r.peakMB} MB, idle RSS ${r.idle.rssMB} MB (idle peak ${r.idle.peakMB} MB) → +${r.growthMB} MB${r.newPeak ? '' : ' (no new peak)'}; ` +
					`task runner peak ${r.runnerPeakMB} MB; execution data ${r.executionDataMB} MB`,
			);
			console.log(`    node times (ms): ${JSON.stringify(r.nodeMs)}`);
		}
		// every way's Metrics outputs against the single load's (or the first way's when single is not run)
		const done = bySize.filter((r) => r.status === 'success');
		const reference = done.find((r) => r.way === 'single') ?? done[0] ?? bySize[0];
		const equal: Record<string, { rows: boolean; abTests: boolean; listHealth: boolean }> = {};
		const timeRatio: Record<string, number> = {};
		for (const r of bySize) {
			if (r === reference || r.status !== 'success') continue;
			equal[r.way] = {
				rows: isDeepStrictEqual(r.metrics[0], reference.metrics[0]),
				abTests: isDeepStrictEqual(r.metrics[1], reference.metrics[1]),
				listHealth: isDeepStrictEqual(r.metrics[2], reference.metrics[2]),
			};
			timeRatio[r.way] = +(r.wallMs / reference.wallMs).toFixed(2);
			console.log(
				`  ${r.way} vs ${reference.way}: Metrics rows equal ${equal[r.way].rows} (${reference.metrics[0]?.length ?? 0} rows), A/B ${equal[r.way].abTests}, list health ${equal[r.way].listHealth}; wall time ${timeRatio[r.way]}×`,
			);
			if (!equal[r.way].rows) {
				const mine = new Set((r.metrics[0] ?? []).map((row) => JSON.stringify(row)));
				const missing = (reference.metrics[0] ?? []).filter((row) => !mine.has(JSON.stringify(row))).slice(0, 2);
				console.log(`    ${reference.way}'s rows not in ${r.way}'s (first 2): ${JSON.stringify(missing).slice(0, 1500)}`);
				console.log(`    ${r.way}'s first row: ${JSON.stringify(r.metrics[0]?.[0]).slice(0, 1500)}`);
			}
		}
		const rowsCount = reference.metrics[0]?.length ?? 0;
		sizes.push({
			events,
			contacts,
			byType,
			parts,
			largestPart,
			genMs,
			loadMs,
			equal,
			metricsRows: rowsCount,
			timeRatio,
		});
	}

	const strip = (r: RunResult) => ({ ...r, metrics: undefined, metricsRows: r.metrics[0]?.length ?? 0 });
	const perEvent = Object.fromEntries(WAYS.map((w) => [w, slope(runs.filter((r) => r.way === w))]));
	console.log('\n| events | way | wall s | exec s | n8n peak MB | idle RSS MB | peak − idle MB | Metrics equal to the reference |');
	console.log('|---|---|---|---|---|---|---|---|');
	for (const r of runs) {
		const size = sizes.find((x) => x.events === r.events) as { equal: Record<string, { rows: boolean; abTests: boolean; listHealth: boolean }> };
		const eq = size.equal[r.way];
		console.log(
			`| ${r.events.toLocaleString()} | ${r.way} | ${(r.wallMs / 1000).toFixed(1)} | ${(r.execMs / 1000).toFixed(1)} | ${r.peakMB} | ${r.idle.rssMB} | ${r.growthMB}${r.newPeak ? '' : '*'} | ${eq ? eq.rows && eq.abTests && eq.listHealth : r.status === 'success' ? 'reference' : '—'} |`,
		);
	}
	console.log('(* no new peak: the run stayed under the start-up peak; reference: the single load, else the first way that finished)');
	for (const r of runs) if (r.status !== 'success') console.log(`${r.events.toLocaleString()} ${r.way}: ${r.status}`);
	for (const w of WAYS) {
		const s = perEvent[w];
		console.log(
			`${w}: ${s.perEventKB ?? '?'} KB of n8n peak per event${s.ceilingEvents ? `; 1 GB near ${s.ceilingEvents.toLocaleString()} events` : ''}`,
		);
	}
	writeFileSync(join(ROOT, 'bench-results', 'reportDatatables.json'), JSON.stringify({ sizes, runs: runs.map(strip), perEvent }, null, 2));
}

main().then(
	() => process.exit(0),
	(error) => {
		console.error(error);
		process.exit(1);
	},
);
