/**
 * Inbound leads in template 5 (inbox attribution), both stores: mail to a substitute or visitor address is saved with
 * its subject, UTM fields and visitor id, counts as unique only for the sender's first lead per channel, and opens a
 * follow-up task (`lead from <channel>`) whose owner rules read the lead itself. Static checks on the JSON (the Lead
 * route, the task chain, both stores' Cadence nodes alike); the expressions run by n8n's expression engine and the
 * Cadence node in n8n's ExecuteContext; the Data-table nodes run as n8n's own DataTable node against an in-memory
 * table; the Postgres SQL (schema upgrade, Save event, Lead task, erasure) against a real PostgreSQL, with two
 * executions racing for one sender's first lead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecuteContext } from 'n8n-core';
import {
	Workflow,
	createRunExecutionData,
	type IDataObject,
	type IExecuteData,
	type INode,
	type INodeExecutionData,
	type INodeType,
	type IWorkflowExecuteAdditionalData,
} from 'n8n-workflow';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erasurePseudonym } from '../../core/erasure';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
// @ts-expect-error: plain ESM script without type declarations
import { DATA_TABLES } from '../../scripts/cadence-setup.mjs';
import { additionalDataFor, nodeTypesFor, runNode } from '../helpers/n8n';
import { baseNodesRequire } from '../helpers/n8nBaseNodes';
import { postgresBinDir, startPostgres, type PostgresServer } from '../helpers/postgres';
import { pgpFormat, queryValues } from '../helpers/postgresTemplates';
import { evaluateAfterNewMail as evaluate, resolveAfterNewMail as resolved } from '../helpers/templateExpressions';
import { cadenceNodes, node as nodeOf, stickyNotes } from '../helpers/templates';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ROOT = join(__dirname, '..', '..');
const WORKFLOWS = join(ROOT, 'workflows');
const PREFIX = 'n8n-nodes-mail-cadence.';
const STORES = ['', 'postgres'] as const;
const FILE = '5-inbox-attribution.json';
const ROUTE_OUTPUTS = ['Reply', 'Hard bounce', 'Complaint', 'Unsubscribe', 'Not interested', 'Read receipt', 'Lead'];
const LEAD_COLUMNS = ['subject', 'utmSource', 'utmMedium', 'utmCampaign', 'utmTerm', 'utmContent', 'visitorId'];

const load = (dir: string, file = FILE): Json => JSON.parse(readFileSync(join(WORKFLOWS, dir, file), 'utf8'));
const links = (wf: Json, from: string, output = 0): Array<[string, number]> =>
	(wf.connections[from]?.main?.[output] ?? []).map((c: Json) => [c.node, c.index]);

const AT = '2026-11-02T10:00:00.000Z';
const lead = (id: string, email: string, channel: string, extra: IDataObject = {}): IDataObject => ({
	id,
	type: 'inbound',
	kind: 'inbound',
	at: AT,
	email,
	channel,
	subject: 'Quote for 40 pumps',
	from: email,
	utm: { source: 'google', medium: 'cpc', campaign: 'spring-pumps', term: 'water pump', content: 'ad-b' },
	visitorId: 'ga-1234.5678',
	plusTag: channel,
	...extra,
});

// ------------------------------------------------------------------------------------------------------------------
// n8n's expression engine, with the trigger's (and Save event's) items in the run data

/** The Route output the event takes: the first rule that matches, as Switch v3 does by default. */
function route(wf: Json, event: IDataObject): string | null {
	const sw = nodeOf(wf, 'Route');
	for (const rule of sw.parameters.rules.values) {
		const ok = (rule.conditions.conditions as Json[]).every((c) => {
			const left = evaluate(wf, 'Route', c.leftValue, event);
			if (c.operator.type === 'boolean') return left === true;
			return c.operator.operation === 'equals' && left === c.rightValue;
		});
		if (ok) return rule.outputKey;
	}
	return null;
}

/** One task per lead (the template’s parameters, `override` on top) on the events: the items of its first output. */
async function leadTasks(dir: string, events: IDataObject[], tasks: IDataObject[] = [], override: IDataObject = {}): Promise<IDataObject[]> {
	const node = nodeOf(load(dir), 'One task per lead');
	const { outputs } = await runNode(new CadenceBatch(), { parameters: { ...node.parameters, ...override }, inputs: [events, tasks] });
	return outputs[0].map((i) => i.json);
}

// ------------------------------------------------------------------------------------------------------------------

describe('template 5: inbound leads (static)', () => {
	it('both stores have the same Cadence nodes (the gulpfile twin check), among them One task per lead', () => {
		const [dt, pgWf] = STORES.map((d) => cadenceNodes(load(d)));
		expect(pgWf).toEqual(dt);
		expect(Object.keys(dt)).toContain('One task per lead');
	});

	for (const dir of STORES) {
		const label = dir || 'data tables';
		const wf = load(dir);

		it(`${label}: Route gets a Lead output after the existing ones, so their numbers stay`, () => {
			const rules = nodeOf(wf, 'Route').parameters.rules.values as Json[];
			expect(rules.map((r) => r.outputKey)).toEqual(ROUTE_OUTPUTS);
			expect(rules.at(-1)!.conditions.conditions).toMatchObject([
				{ leftValue: "={{ $('New mail').item.json.type }}", rightValue: 'inbound', operator: { type: 'string', operation: 'equals' } },
			]);
			expect(wf.connections.Route.main).toHaveLength(ROUTE_OUTPUTS.length);
			expect(links(wf, 'Route', 0).map(([n]) => n)).toEqual(['Contact (Replied)', 'Open tasks (reply)']);
			expect(links(wf, 'Route', 5).map(([n]) => n)).toEqual(['Contact (Read receipt)']);
		});

		it(`${label}: the Lead output feeds One task per lead (the lead, and the sender's open tasks) and Lead task`, () => {
			const expected: Array<[string, number]> = [
				['Lead', 0],
				['Open tasks (lead)', 0],
			];
			if (!dir) expected.push(['First in this poll?', 0]);
			expect(links(wf, 'Route', 6)).toEqual(expected);
			expect(nodeOf(wf, 'Lead').parameters).toMatchObject({ mode: 'raw', jsonOutput: "={{ { ...$('New mail').item.json } }}" });
			expect(links(wf, 'Lead')).toEqual([['One task per lead', 0]]);
			expect(links(wf, 'Open tasks (lead)')).toEqual([['One task per lead', 1]]);
			expect(links(wf, 'One task per lead', 0)).toEqual([['Lead task', 0]]);
			expect(links(wf, 'One task per lead', 1)).toEqual([]);
			const follow = nodeOf(wf, 'One task per lead');
			expect(follow).toMatchObject({ type: `${PREFIX}cadenceBatch`, parameters: { operation: 'followUp', contactField: '' } });
			// the open-task look-up and the task are the reply chain's, so one contact keeps one open task either way
			const [openLead, openReply] = ['Open tasks (lead)', 'Open tasks (reply)'].map((n) => nodeOf(wf, n));
			expect(openLead.parameters).toEqual(openReply.parameters);
			if (dir) expect(nodeOf(wf, 'Lead task').parameters.query).toBe(nodeOf(wf, 'Follow-up task').parameters.query);
			else expect(nodeOf(wf, 'Lead task').parameters.filters).toEqual(nodeOf(wf, 'Follow-up task').parameters.filters);
		});

		it(`${label}: the sticky note says what a lead does${dir ? '' : ', and that Data tables cannot decide uniqueness atomically'}`, () => {
			expect(stickyNotes(wf)).toMatch(/\*\*inbound lead\*\*.*lead from <channel>/);
			if (!dir) expect(stickyNotes(wf)).toMatch(/First lead\?.*cannot decide this atomically.*may both count it/);
		});
	}

	it('postgres: Save event writes the lead columns and decides uniqueness through inbound_leads; SQL takes values only as parameters', () => {
		const wf = load('postgres');
		const save = nodeOf(wf, 'Save event');
		expect(save.parameters.options.queryReplacement).toBe('={{ JSON.stringify([$json]) }}');
		expect(save.parameters.query).toContain('INSERT INTO inbound_leads');
		expect(save.parameters.query).toContain('visitor_id');
		for (const n of wf.nodes.filter((x: Json) => x.type === 'n8n-nodes-base.postgres')) {
			expect(n.parameters.query, n.name).not.toContain('{{');
			expect(n.credentials.postgres.name).toBe('Cadence store');
		}
	});

	it('data tables: Save event maps the lead columns, First lead? looks for an earlier lead, Mark unique lead sets unique; all columns exist', () => {
		const wf = load('');
		const columns = nodeOf(wf, 'Save event').parameters.columns;
		for (const c of LEAD_COLUMNS) {
			expect(columns.value[c], c).toMatch(/^=\{\{/);
			expect(columns.schema.map((s: Json) => s.id)).toContain(c);
		}
		expect(nodeOf(wf, 'First lead?').parameters).toMatchObject({
			operation: 'rowNotExists',
			matchType: 'allConditions',
			dataTableId: { value: 'events' },
		});
		expect(nodeOf(wf, 'First lead?').parameters.filters.conditions.map((c: Json) => `${c.keyName} ${c.condition}`)).toEqual([
			'type eq',
			'email eq',
			'channel eq',
			'unique eq',
		]);
		expect(nodeOf(wf, 'First in this poll?').type).toBe('n8n-nodes-base.filter');
		expect(links(wf, 'First in this poll?')).toEqual([['First lead?', 0]]);
		expect(links(wf, 'First lead?')).toEqual([['Mark unique lead', 0]]);
		expect(nodeOf(wf, 'Mark unique lead').parameters).toMatchObject({ operation: 'update', columns: { value: { unique: '={{ true }}' } } });
		const tables = DATA_TABLES as Record<string, Array<[string, string]>>;
		expect(tables.events).toEqual(expect.arrayContaining(LEAD_COLUMNS.map((c) => [c, 'string'])));
		for (const n of wf.nodes.filter((x: Json) => x.type === 'n8n-nodes-base.dataTable')) {
			const known = ['id', 'createdAt', 'updatedAt', ...tables[n.parameters.dataTableId.value].map(([c]) => c)];
			const used = [...Object.keys(n.parameters.columns?.value ?? {}), ...(n.parameters.filters?.conditions ?? []).map((c: Json) => c.keyName)];
			for (const c of used) expect(known, `${n.name} uses ${c}`).toContain(c);
		}
	});
});

describe('template 5: a lead’s route and task, through n8n’s expression engine and the Cadence node', () => {
	for (const dir of STORES) {
		const label = dir || 'data tables';
		const wf = load(dir);

		it(`${label}: an inbound lead takes the Lead output; a reply and a read receipt keep theirs`, () => {
			expect(route(wf, lead('l1', 'anna@dealer.example', 'ads'))).toBe('Lead');
			expect(route(wf, { type: 'replied', replyIntent: 'neutral' })).toBe('Reply');
			expect(route(wf, { type: 'read_receipt' })).toBe('Read receipt');
			expect(route(wf, { type: 'auto_replied' })).toBeNull();
		});

		it(`${label}: the task says "lead from <channel>" with the subject, campaign from UTM; a second lead within the window opens none`, async () => {
			const event = evaluate(wf, 'Lead', nodeOf(wf, 'Lead').parameters.jsonOutput, lead('l1', 'Anna@Dealer.example', 'ads')) as IDataObject;
			const [created] = await leadTasks(dir, [event]);
			const save = nodeOf(wf, 'Lead task');
			const task = dir
				? JSON.parse(evaluate(wf, 'Lead task', save.parameters.options.queryReplacement, event, created) as string)
				: (resolved(wf, 'Lead task', save.parameters.columns.value, event, created) as Json);
			expect(task).toMatchObject({
				email: 'anna@dealer.example',
				kind: 'lead',
				reason: 'lead from ads',
				detail: 'Lead from ads: Quote for 40 pumps',
				campaign: 'spring-pumps',
			});
			if (!dir) expect(task.status).toBe('open');
			const open = [{ id: 't1', email: 'anna@dealer.example', status: 'open', createdAt: '2026-11-01T10:00:00.000Z' }];
			expect(await leadTasks(dir, [event], open)).toEqual([]);
		});
	}

	it('owner rules read the lead itself (Contact Field empty): its channel and UTM fields', async () => {
		const rules = {
			ownerRules: 'channel = ads => ben@acme.example\nutm.source = linkedin => marie@acme.example',
			defaultOwner: 'sales@acme.example',
		};
		const owners = await leadTasks(
			'',
			[lead('l1', 'a@x.example', 'ads'), lead('l2', 'b@x.example', 'web', { utm: { source: 'linkedin' } }), lead('l3', 'c@x.example', 'web')],
			[],
			rules,
		);
		expect(owners.map((t) => t.owner)).toEqual(['ben@acme.example', 'marie@acme.example', 'sales@acme.example']);
	});

	it('data tables: Save event maps subject, UTM fields and visitor id; an inbound event is saved not unique until First lead? says so', () => {
		const wf = load('');
		const value = nodeOf(wf, 'Save event').parameters.columns.value;
		const row = resolved(wf, 'Save event', value, lead('l1', 'anna@dealer.example', 'ads', { unique: true })) as Json;
		expect(row).toMatchObject({
			type: 'inbound',
			channel: 'ads',
			unique: false,
			subject: 'Quote for 40 pumps',
			utmSource: 'google',
			utmMedium: 'cpc',
			utmCampaign: 'spring-pumps',
			utmTerm: 'water pump',
			utmContent: 'ad-b',
			visitorId: 'ga-1234.5678',
		});
		const click = resolved(wf, 'Save event', value, { id: 'c1', type: 'clicked', at: AT, email: 'a@x.example', unique: true }) as Json;
		expect(click).toMatchObject({ unique: true, subject: '', utmSource: '', visitorId: '' });
		const long = resolved(wf, 'Save event', value, lead('l2', 'a@x.example', '', { subject: 'x'.repeat(2000) })) as Json;
		expect(long.subject).toHaveLength(998);
	});
});

// ------------------------------------------------------------------------------------------------------------------
// Data tables: n8n's own DataTable node (the pinned runtime) against an in-memory events table

const runtimeRequire = baseNodesRequire();
const DataTableNode = runtimeRequire('./dist/nodes/DataTable/DataTable.node.js').DataTable as new () => INodeType;
const FILTER = (() => {
	const Filter = runtimeRequire('./dist/nodes/Filter/Filter.node.js').Filter;
	return new Filter().nodeVersions[2.2] as INodeType;
})();

type Filter = { type: 'and' | 'or'; filters: Array<{ columnName: string; condition: string; value: unknown }> };

/** A Data table as n8n's API answers: system columns id (growing in insert order), createdAt, updatedAt. */
class MemoryTable {
	rows: Json[] = [];
	private next = 1;
	constructor(private readonly columns: Array<[string, string]>) {}

	private static cmp(a: unknown, b: unknown): number {
		const v = (x: unknown) => (x instanceof Date ? x.getTime() : x);
		const [x, y] = [v(a), v(b)] as [number | string, number | string];
		return x < y ? -1 : x > y ? 1 : 0;
	}
	private matches(row: Json, filter: Filter): boolean {
		const test = ({ columnName, condition, value }: Filter['filters'][number]) => {
			const have = row[columnName] ?? null;
			if (condition === 'eq') return value === null ? have === null : have !== null && MemoryTable.cmp(have, value) === 0;
			if (condition === 'neq') return value === null ? have !== null : have === null || MemoryTable.cmp(have, value) !== 0;
			if (have === null) return false;
			const c = MemoryTable.cmp(have, value);
			return { lt: c < 0, lte: c <= 0, gt: c > 0, gte: c >= 0 }[condition] ?? false;
		};
		return filter.type === 'and' ? filter.filters.every(test) : filter.filters.some(test);
	}

	/** Every filter the nodes asked for, to check what n8n's node really sends. */
	readonly filters: Filter[] = [];

	readonly proxy = {
		getColumns: async () => this.columns.map(([name, type], index) => ({ id: name, name, type, index })),
		insertRows: async (rows: Json[], returnType: string) => {
			const now = new Date();
			const added = rows.map((r) => ({ id: this.next++, ...r, createdAt: now, updatedAt: now }));
			this.rows.push(...added);
			return returnType === 'count' ? added.length : added.map((r) => ({ ...r }));
		},
		getManyRowsAndCount: async ({ skip = 0, take = 1000, filter }: { skip?: number; take?: number; filter: Filter }) => {
			this.filters.push(filter);
			const hits = this.rows.filter((r) => this.matches(r, filter));
			return { data: hits.slice(skip, skip + take).map((r) => ({ ...r })), count: hits.length };
		},
		updateRows: async ({ data, filter }: { data: Json; filter: Filter }) => {
			this.filters.push(filter);
			const hits = this.rows.filter((r) => this.matches(r, filter));
			for (const r of hits) Object.assign(r, data, { updatedAt: new Date() });
			return hits.map((r) => ({ ...r }));
		},
	};
}

/**
 * Runs a node of the Data-table template 5 as n8n runs it: New mail → Save event → the node, with the earlier nodes'
 * items in the run data so `$('New mail').item` and `$('Save event').item` resolve through the paired items.
 */
async function runTemplateNode(
	name: string,
	input: INodeExecutionData[],
	table: MemoryTable,
	runData: { newMail: INodeExecutionData[]; saveEvent?: INodeExecutionData[] },
): Promise<INodeExecutionData[]> {
	const template = nodeOf(load(''), name);
	const nodeType = template.type === 'n8n-nodes-base.filter' ? FILTER : new DataTableNode();
	const node: INode = { id: 'n', name, type: template.type, typeVersion: template.typeVersion, position: [400, 0], parameters: template.parameters };
	const upstream = name === 'Save event' ? 'New mail' : 'Save event';
	const nodes: INode[] = [
		{ id: 'm', name: 'New mail', type: `${PREFIX}cadenceInboxTrigger`, typeVersion: 1, position: [0, 0], parameters: {} },
		node,
	];
	if (upstream === 'Save event')
		nodes.splice(1, 0, { id: 's', name: 'Save event', type: 'n8n-nodes-base.dataTable', typeVersion: 1.1, position: [200, 0], parameters: {} });
	const connections: Json = { 'New mail': { main: [[{ node: upstream === 'New mail' ? name : 'Save event', type: 'main', index: 0 }]] } };
	if (upstream === 'Save event') connections['Save event'] = { main: [[{ node: name, type: 'main', index: 0 }]] };
	const workflow = new Workflow({ id: 'wf', name: 'leads', nodes, connections, active: false, nodeTypes: nodeTypesFor(nodeType), settings: {} });
	const task = (items: INodeExecutionData[], source: Json[]) => ({
		startTime: 0,
		executionTime: 0,
		executionIndex: 0,
		source,
		data: { main: [items] },
	});
	const run: Json = { 'New mail': [task(runData.newMail, [])] };
	if (runData.saveEvent) run['Save event'] = [task(runData.saveEvent, [{ previousNode: 'New mail' }])];
	const runExecutionData = createRunExecutionData({ resultData: { runData: run } });
	const additionalData = {
		...additionalDataFor(),
		'data-table': {
			dataTableProxyProvider: {
				getDataTableAggregateProxy: async () => ({ getManyAndCount: async () => ({ data: [{ id: 'events' }], count: 1 }) }),
				getDataTableProxy: async () => table.proxy,
			},
		},
	} as unknown as IWorkflowExecuteAdditionalData;
	const inputData = { main: [input] };
	const executeData: IExecuteData = {
		node: workflow.getNode(name)!,
		data: inputData,
		source: { main: [{ previousNode: upstream, previousNodeOutput: 0, previousNodeRun: 0 }] },
	};
	const context = new ExecuteContext(
		workflow,
		workflow.getNode(name)!,
		additionalData,
		'manual',
		runExecutionData,
		0,
		input,
		inputData,
		executeData,
		[],
		new AbortController().signal,
	);
	const outputs = (await nodeType.execute!.call(context)) as INodeExecutionData[][];
	return outputs[0] ?? [];
}

/**
 * One execution of the Data-table template 5 on a poll's events: Save event, then for the leads First in this poll?,
 * First lead? and Mark unique lead. `between` runs after Save event, `beforeMark` after First lead? (another
 * execution's steps).
 */
async function dataTablePoll(
	table: MemoryTable,
	events: IDataObject[],
	hooks: { between?: () => Promise<void>; beforeMark?: () => Promise<void> } = {},
): Promise<void> {
	const newMail: INodeExecutionData[] = events.map((json) => ({ json }));
	const saved = await runTemplateNode('Save event', newMail, table, { newMail });
	expect(saved).toHaveLength(events.length);
	await hooks.between?.();
	const wf = load('');
	// Route passes Save event's items on, each still paired with its Save event item
	const leads = saved.map((item, i) => ({ json: item.json, pairedItem: { item: i } })).filter((_, i) => route(wf, events[i]) === 'Lead');
	const runData = { newMail, saveEvent: saved };
	// n8n's Filter and DataTable nodes pass an input item on with its own paired item (here: its Save event item)
	const inPoll = await runTemplateNode('First in this poll?', leads, table, runData);
	const first = await runTemplateNode('First lead?', inPoll, table, runData);
	await hooks.beforeMark?.();
	if (first.length > 0) await runTemplateNode('Mark unique lead', first, table, runData);
}

describe('data tables: n8n’s DataTable and Filter nodes decide a lead’s uniqueness as the template runs them', () => {
	const columns = (DATA_TABLES as Record<string, Array<[string, string]>>).events;
	const unique = (table: MemoryTable) => Object.fromEntries(table.rows.map((r) => [r.eventId, r.unique]));

	it('the first lead per sender and channel is unique, a repeat is not, another channel is; lead columns are stored', async () => {
		const table = new MemoryTable(columns);
		await dataTablePoll(table, [lead('a1', 'anna@dealer.example', 'ads')]);
		await dataTablePoll(table, [
			lead('a2', 'anna@dealer.example', 'ads'),
			{ id: 'c1', type: 'clicked', at: AT, email: 'anna@dealer.example', unique: true },
		]);
		await dataTablePoll(table, [lead('a3', 'anna@dealer.example', 'website'), lead('b1', 'ben@other.example', 'ads')]);
		// a replayed first lead (saved again) is not unique a second time
		await dataTablePoll(table, [lead('a1', 'anna@dealer.example', 'ads')]);
		expect(table.rows.map((r) => [r.eventId, r.unique])).toEqual([
			['a1', true],
			['a2', false],
			['c1', true],
			['a3', true],
			['b1', true],
			['a1', false],
		]);
		expect(table.rows[0]).toMatchObject({
			subject: 'Quote for 40 pumps',
			utmSource: 'google',
			utmCampaign: 'spring-pumps',
			visitorId: 'ga-1234.5678',
		});
		// what n8n's node asks the table: the sender's unique leads of the channel; the update names the saved row
		expect(table.filters[0]).toEqual({
			type: 'and',
			filters: [
				{ columnName: 'type', condition: 'eq', value: 'inbound' },
				{ columnName: 'email', condition: 'eq', value: 'anna@dealer.example' },
				{ columnName: 'channel', condition: 'eq', value: 'ads' },
				{ columnName: 'unique', condition: 'eq', value: true },
			],
		});
		expect(table.filters[1]).toEqual({ type: 'and', filters: [{ columnName: 'id', condition: 'eq', value: 1 }] });
	});

	it('several leads of one sender in one poll: only the first is unique (First in this poll?)', async () => {
		const table = new MemoryTable(columns);
		await dataTablePoll(table, [
			lead('a1', 'anna@dealer.example', 'ads'),
			lead('a2', 'anna@dealer.example', 'ads'),
			lead('a3', 'anna@dealer.example', ''),
			lead('a4', 'anna@dealer.example', 'ads'),
		]);
		expect(unique(table)).toEqual({ a1: true, a2: false, a3: true, a4: false });
	});

	it('two executions one after the other’s check: exactly one unique; both checking before either marks: both (the documented limit)', async () => {
		const table = new MemoryTable(columns);
		await dataTablePoll(table, [lead('a1', 'anna@dealer.example', 'ads')], {
			between: () => dataTablePoll(table, [lead('a2', 'anna@dealer.example', 'ads')]),
		});
		expect(Object.values(unique(table)).filter(Boolean)).toHaveLength(1);

		const racing = new MemoryTable(columns);
		await dataTablePoll(racing, [lead('b1', 'ben@other.example', 'ads')], {
			beforeMark: () => dataTablePoll(racing, [lead('b2', 'ben@other.example', 'ads')]),
		});
		expect(unique(racing)).toEqual({ b1: true, b2: true });
		expect(stickyNotes(load(''))).toMatch(/cannot decide this atomically/);
	});
});

// ------------------------------------------------------------------------------------------------------------------
// The Postgres SQL against a real PostgreSQL

const CI = Boolean(process.env.CI);
const skipReason = postgresBinDir() ? null : 'PostgreSQL is not installed (scripts/install-system-deps.sh installs it)';
if (skipReason && CI) throw new Error(`template SQL tests are mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[templates leads] SKIPPED the Postgres part: ${skipReason}`);

const SCHEMA = readFileSync(join(WORKFLOWS, 'postgres', 'schema.sql'), 'utf8');
const OLD_SCHEMA = readFileSync(join(ROOT, 'test', 'fixtures', 'schema-before-sender-protection.sql'), 'utf8');
const SECRET = 'test-erasure-secret-0123456789';

describe.skipIf(Boolean(skipReason))('template 5’s leads on a real PostgreSQL', () => {
	let server: PostgresServer;
	let db: pg.Pool;
	let url: string;

	/** The template node's query text and parameters for these items, as n8n's Postgres node sends them. */
	function statements(file: string, name: string, items: IDataObject[]): Array<{ text: string; values: unknown[] }> {
		const node = nodeOf(load('postgres', file), name);
		const query = String(node.parameters.query);
		return queryValues(node as unknown as INode, items).map((values) =>
			pgpFormat ? { text: pgpFormat(query, values), values: [] } : { text: query, values },
		);
	}
	async function run(client: pg.Pool | pg.Client, file: string, name: string, items: IDataObject[]): Promise<Json[]> {
		const rows: Json[] = [];
		for (const s of statements(file, name, items)) {
			const res = await client.query(s.text, s.values);
			for (const r of Array.isArray(res) ? res : [res]) rows.push(...(r.rows as Json[]));
		}
		return rows;
	}
	const save = (client: pg.Pool | pg.Client, event: IDataObject) => run(client, FILE, 'Save event', [event]);
	const all = async (sql: string, values: unknown[] = []) => (await db.query(sql, values)).rows as Json[];

	beforeAll(async () => {
		server = await startPostgres({ database: 'cadence_leads' });
		server.createDatabase('cadence_leads_upgrade');
		url = server.url.replace(/\/cadence_leads$/, '/cadence_leads_upgrade');
		db = new pg.Pool({ connectionString: url, max: 3 });
		// the upgrade path: the previous release's schema with inbound events, then schema.sql twice
		await db.query(OLD_SCHEMA);
		await db.query(`INSERT INTO events (event_id, type, at, email, channel, is_unique) VALUES
			('old-2', 'inbound', '2026-01-02T00:00:00Z', 'anna@dealer.example', 'ads', false),
			('old-1', 'inbound', '2026-01-01T00:00:00Z', 'anna@dealer.example', 'ads', false),
			('old-3', 'inbound', '2026-01-03T00:00:00Z', 'anna@dealer.example', '', false),
			('old-4', 'inbound', '2026-01-04T00:00:00Z', 'erased-0123456789abcdef01234567', 'ads', false),
			('old-5', 'clicked', '2026-01-05T00:00:00Z', 'anna@dealer.example', '', false)`);
		await db.query(SCHEMA);
		server.psql(SCHEMA, 'cadence_leads_upgrade');
		await db.query(SCHEMA);
	}, 120_000);

	afterAll(async () => {
		await db?.end();
		await server?.stop();
	});

	it('upgrade: the new columns exist; the earliest stored lead per sender and channel is taken over and marked unique, an erased one not', async () => {
		const columns = (await all(`SELECT column_name FROM information_schema.columns WHERE table_name = 'events'`)).map((r) => r.column_name);
		expect(columns).toEqual(expect.arrayContaining(['subject', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'visitor_id']));
		expect(await all('SELECT email, channel, first_event_id FROM inbound_leads ORDER BY email, channel')).toEqual([
			{ email: 'anna@dealer.example', channel: '', first_event_id: 'old-3' },
			{ email: 'anna@dealer.example', channel: 'ads', first_event_id: 'old-1' },
		]);
		expect(await all(`SELECT event_id, is_unique FROM events WHERE event_id LIKE 'old-%' ORDER BY event_id`)).toEqual([
			{ event_id: 'old-1', is_unique: true },
			{ event_id: 'old-2', is_unique: false },
			{ event_id: 'old-3', is_unique: true },
			{ event_id: 'old-4', is_unique: false },
			{ event_id: 'old-5', is_unique: false },
		]);
	});

	it('Save event stores subject, UTM fields and visitor id; first lead per sender and channel unique, repeat not, replay ignored', async () => {
		expect(await save(db, lead('n-1', 'Ben@Other.example', 'ads'))).toEqual([{ eventId: 'n-1', unique: true }]);
		expect(await all(`SELECT * FROM events WHERE event_id = 'n-1'`)).toMatchObject([
			{
				type: 'inbound',
				email: 'ben@other.example',
				channel: 'ads',
				is_unique: true,
				subject: 'Quote for 40 pumps',
				utm_source: 'google',
				utm_medium: 'cpc',
				utm_campaign: 'spring-pumps',
				utm_term: 'water pump',
				utm_content: 'ad-b',
				visitor_id: 'ga-1234.5678',
				campaign: '',
			},
		]);
		// the same sender and channel again (the address in another case): counted, not unique
		expect(await save(db, lead('n-2', 'ben@other.example', 'ads', { unique: true }))).toEqual([{ eventId: 'n-2', unique: false }]);
		// another channel, and no channel: unique again
		expect(await save(db, lead('n-3', 'ben@other.example', 'website'))).toEqual([{ eventId: 'n-3', unique: true }]);
		expect(await save(db, lead('n-4', 'ben@other.example', '', { channel: undefined, utm: undefined, visitorId: undefined }))).toEqual([
			{ eventId: 'n-4', unique: true },
		]);
		// a sender whose leads were stored before the upgrade: not unique
		expect(await save(db, lead('n-5', 'anna@dealer.example', 'ads'))).toEqual([{ eventId: 'n-5', unique: false }]);
		// a replayed event (another poll, a retried run) is neither stored again nor made the first lead
		expect(await save(db, lead('n-1', 'ben@other.example', 'ads'))).toEqual([]);
		expect(await save(db, lead('n-2', 'ben@other.example', 'ads'))).toEqual([]);
		expect(await all(`SELECT count(*)::int AS n FROM events WHERE event_id IN ('n-1', 'n-2')`)).toEqual([{ n: 2 }]);
		expect(await all(`SELECT channel, first_event_id FROM inbound_leads WHERE email = 'ben@other.example' ORDER BY channel`)).toEqual([
			{ channel: '', first_event_id: 'n-4' },
			{ channel: 'ads', first_event_id: 'n-1' },
			{ channel: 'website', first_event_id: 'n-3' },
		]);
		expect(await all(`SELECT utm_source, visitor_id FROM events WHERE event_id = 'n-4'`)).toEqual([{ utm_source: '', visitor_id: '' }]);
		// other events keep the flag they come with, and take no lead row
		expect(await save(db, { id: 'n-6', type: 'clicked', at: AT, email: 'carl@x.example', unique: true, class: 'human' })).toEqual([
			{ eventId: 'n-6', unique: true },
		]);
		expect(await save(db, { id: 'n-7', type: 'replied', at: AT, email: 'carl@x.example', subject: 'Re: offer' })).toEqual([
			{ eventId: 'n-7', unique: false },
		]);
		expect(await all(`SELECT subject FROM events WHERE event_id = 'n-7'`)).toEqual([{ subject: 'Re: offer' }]);
		expect(await all(`SELECT count(*)::int AS n FROM inbound_leads WHERE email = 'carl@x.example'`)).toEqual([{ n: 0 }]);
		// a subject is kept to the line length mail allows
		await save(db, lead('n-8', 'dora@x.example', 'ads', { subject: 'y'.repeat(5000) }));
		expect(await all(`SELECT length(subject)::int AS n FROM events WHERE event_id = 'n-8'`)).toEqual([{ n: 998 }]);
	});

	/** Waits (bounded) until the backend `pid` waits for a lock, so the race below really overlaps. */
	async function waitsForLock(pid: number): Promise<void> {
		for (let i = 0; i < 200; i++) {
			const [row] = await all(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
			if (row?.wait_event_type === 'Lock') return;
			await new Promise((r) => setTimeout(r, 50));
		}
		throw new Error(`backend ${pid} never waited for a lock`);
	}
	async function race(first: IDataObject, second: IDataObject, end: 'COMMIT' | 'ROLLBACK'): Promise<[Json[], Json[]]> {
		const [a, b] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
		await Promise.all([a.connect(), b.connect()]);
		try {
			await a.query('BEGIN');
			await b.query('BEGIN');
			const ra = await save(a, first);
			const pending = save(b, second);
			await waitsForLock((b as unknown as { processID: number }).processID);
			await a.query(end);
			const rb = await pending;
			await b.query('COMMIT');
			return [ra, rb];
		} finally {
			await Promise.all([a.end(), b.end()]);
		}
	}

	it('two executions saving one sender’s first lead at once: exactly one is unique; if the first rolls back, the second is', async () => {
		const [ra, rb] = await race(lead('r-1', 'eva@race.example', 'ads'), lead('r-2', 'eva@race.example', 'ads'), 'COMMIT');
		expect([ra, rb]).toEqual([[{ eventId: 'r-1', unique: true }], [{ eventId: 'r-2', unique: false }]]);
		expect(await all(`SELECT event_id FROM events WHERE email = 'eva@race.example' AND is_unique`)).toEqual([{ event_id: 'r-1' }]);

		const [rc, rd] = await race(lead('r-3', 'finn@race.example', 'ads'), lead('r-4', 'finn@race.example', 'ads'), 'ROLLBACK');
		expect([rc, rd]).toEqual([[{ eventId: 'r-3', unique: true }], [{ eventId: 'r-4', unique: true }]]);
		expect(await all(`SELECT event_id, is_unique FROM events WHERE email = 'finn@race.example'`)).toEqual([{ event_id: 'r-4', is_unique: true }]);

		// the same event saved by two executions at once (two triggers on one mailbox): stored once, unique once
		const [re, rf] = await race(lead('r-5', 'gus@race.example', 'ads'), lead('r-5', 'gus@race.example', 'ads'), 'COMMIT');
		expect([re, rf]).toEqual([[{ eventId: 'r-5', unique: true }], []]);
		expect(await all(`SELECT count(*)::int AS n FROM events WHERE event_id = 'r-5' AND is_unique`)).toEqual([{ n: 1 }]);
	}, 60_000);

	it('Lead task opens one task per lead with its channel as the reason; the owner rule reads the channel', async () => {
		const event = lead('t-1', 'hana@lead.example', 'ads');
		await save(db, event);
		const rules = { ownerRules: 'channel = ads => ben@acme.example', defaultOwner: 'sales@acme.example' };
		const created = await leadTasks('postgres', [event], await run(db, FILE, 'Open tasks (lead)', [event]), rules);
		expect(created).toHaveLength(1);
		expect(await run(db, FILE, 'Lead task', created)).toMatchObject([
			{ email: 'hana@lead.example', owner: 'ben@acme.example', reason: 'lead from ads', created: true },
		]);
		expect(await all(`SELECT kind, campaign, detail, status FROM follow_up_tasks WHERE email = 'hana@lead.example'`)).toEqual([
			{ kind: 'lead', campaign: 'spring-pumps', detail: 'Lead from ads: Quote for 40 pumps', status: 'open' },
		]);
		// a second lead of the contact finds the open task and opens none
		const again = lead('t-2', 'hana@lead.example', 'website');
		expect(await leadTasks('postgres', [again], await run(db, FILE, 'Open tasks (lead)', [again]), rules)).toEqual([]);
	});

	it('template 10 deletes the person’s first-lead rows and empties subject and visitor id; schema.sql run again does not bring them back', async () => {
		const email = 'ben@other.example';
		const pseudonym = erasurePseudonym(email, SECRET);
		const person = { email: 'Ben@Other.example ', pseudonym, auditId: `${pseudonym}@1`, at: AT, by: 'DPO', reference: 'DSR-1' };
		const [result] = await run(db, '10-erase-person.json', 'Erase', [person]);
		expect(result).toMatchObject({ pseudonym, leadsDeleted: 3, auditLines: 1 });
		expect(await all(`SELECT count(*)::int AS n FROM inbound_leads WHERE email = $1 OR email = $2`, [email, pseudonym])).toEqual([{ n: 0 }]);
		const events = await all(
			`SELECT DISTINCT subject, visitor_id, utm_source FROM events WHERE email = $1 AND type = 'inbound' ORDER BY utm_source`,
			[pseudonym],
		);
		expect(events).toEqual([
			{ subject: '', visitor_id: '', utm_source: '' },
			{ subject: '', visitor_id: '', utm_source: 'google' },
		]);
		// the other senders' lead rows stay
		expect(await all(`SELECT count(*)::int AS n FROM inbound_leads WHERE email = 'anna@dealer.example'`)).toEqual([{ n: 2 }]);
		await db.query(SCHEMA);
		expect(await all(`SELECT count(*)::int AS n FROM inbound_leads WHERE email = $1 OR email = $2`, [email, pseudonym])).toEqual([{ n: 0 }]);
	});
});
