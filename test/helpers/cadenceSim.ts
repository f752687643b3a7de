/**
 * A simulated cadence deployment for month-long tests: the real Cadence nodes run in n8n-core's real
 * ExecuteContext (runNode), in the order of the shipped Postgres templates (2-silent-cadence, 3-read-cadence), with
 * the templates' own node parameters and SQL, against a store (the Postgres schema, or n8n Data tables), sending
 * through a mailbox pool to an SMTP sink.
 *
 * The clock is the process's `Date` (a test fakes it per simulated hour); the database has its own clock, so every
 * template query's `now()` becomes the simulated instant, passed with the query's JSON parameter.
 *
 * Bounces come back the way they do in production: a delivery status notification (Postfix's shape, as in the
 * shared corpus's lhost-postfix files) naming the recipient and carrying the original message's headers, classified
 * by the Cadence Inbox node and saved with template 5's query.
 */
import { DateTime } from 'luxon';
import type pg from 'pg';
import type { ICredentialDataDecryptedObject, IDataObject, INodeParameters } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PER_DOMAIN_CAP } from '../../core/assign';
import { companyOf } from '../../core/company';
import { localDay } from '../../core/sendLedger';
import {
	DEFAULT_BREAKER_MIN_SENDS,
	DEFAULT_COMPANY_DAILY_CAP,
	DEFAULT_HARD_BOUNCE_PAUSE_PERCENT,
	mailboxCapOn,
	SENDER_STATUS_EVENT_TYPES,
} from '../../core/senderProtection';
import { TagClassifier, parseTagList } from '../../core/tags';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import { CadenceInbox } from '../../nodes/CadenceInbox/CadenceInbox.node';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { CadenceViews } from '../../nodes/CadenceViews/CadenceViews.node';
import { runNode } from './n8n';
import { startSmtpSink, type ReceivedMessage, type SmtpSink } from './smtpSink';
import { node as templateNode, template, type Json } from './templates';

export type Cadence = 'silent' | 'read';

const nodes = { batch: new CadenceBatch(), send: new CadenceSend(), views: new CadenceViews(), inbox: new CadenceInbox() };

/** The contact row the templates read: email, tags (comma-separated text) and the fields they carry along. */
export interface ContactRow {
	email: string;
	tags: string;
	language?: string;
	segment?: string;
	company?: string;
}

/** An event as the store holds it, with the fields the month's checks read. */
export interface StoredEvent {
	type: string;
	/** ISO instant. */
	at: string;
	email: string;
	mailbox: string;
	messageId: string;
	reason: string;
}

/** Where contacts and events live. The Postgres store runs the templates' SQL; the Data-table store n8n's REST API. */
export interface CadenceStore {
	allContacts(): Promise<ContactRow[]>;
	insertContacts(rows: ContactRow[]): Promise<void>;
	setTags(rows: Array<{ email: string; tags: string }>): Promise<void>;
	/** The template's Due contacts query for one due tag (contacts not mailed today in `zone`). */
	dueContacts(tag: string, now: Date, zone: string): Promise<IDataObject[]>;
	/** The template's Sender history: the events the Sender Status reads. */
	senderHistory(now: Date, zone: string): Promise<IDataObject[]>;
	/** The template's Save events and lastSentAt (replayed events count once). */
	saveEvents(events: IDataObject[]): Promise<void>;
	/** Template 5's Save event: one inbox event. */
	saveInboxEvent(event: IDataObject): Promise<void>;
	/** Every event stored. */
	events(): Promise<StoredEvent[]>;
}

/** Every template query's `now()` read from the query's JSON parameter `now` instead of the database clock. */
export function withSimulatedNow(sql: string): string {
	if (!sql.includes('$1::jsonb')) throw new Error('the query has no JSON parameter $1 to carry the simulated clock');
	return sql.replaceAll('now()', `($1::jsonb->>'now')::timestamptz`);
}

const POSTGRES_TEMPLATES = { silent: '2-silent-cadence.json', read: '3-read-cadence.json' } as const;

/** A shipped Postgres template's nodes, by cadence. */
export function postgresTemplate(cadence: Cadence): Json {
	return template('postgres', POSTGRES_TEMPLATES[cadence], `sim-${cadence}`);
}

const toJson = (row: Record<string, unknown>): IDataObject =>
	Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])) as IDataObject;

/** The Postgres store of workflows/postgres/schema.sql, through the templates' own queries. */
export function postgresStore(db: pg.Pool): CadenceStore {
	const silent = postgresTemplate('silent');
	const inbox = template('postgres', '5-inbox-attribution.json', 'sim-inbox');
	const history = withSimulatedNow(templateNode(silent, 'Sender history').parameters.query);
	const due = withSimulatedNow(templateNode(silent, 'Due contacts').parameters.query);
	const save = templateNode(silent, 'Save events and lastSentAt').parameters.query as string;
	const saveInbox = templateNode(inbox, 'Save event').parameters.query as string;
	return {
		async allContacts() {
			return (await db.query(`SELECT email, tags, language, segment, company FROM contacts ORDER BY created_at, email`)).rows;
		},
		async insertContacts(rows) {
			if (rows.length === 0) return;
			await db.query(
				`INSERT INTO contacts (email, tags, language, segment, company, created_at)
				 SELECT r.email, r.tags, coalesce(r.language, ''), coalesce(r.segment, ''), coalesce(r.company, ''), $2::timestamptz
				 FROM jsonb_to_recordset($1::jsonb) AS r(email text, tags text, language text, segment text, company text)
				 ON CONFLICT (email) DO NOTHING`,
				[JSON.stringify(rows), new Date().toISOString()],
			);
		},
		async setTags(rows) {
			if (rows.length === 0) return;
			await db.query(`UPDATE contacts c SET tags = r.tags FROM jsonb_to_recordset($1::jsonb) AS r(email text, tags text) WHERE c.email = r.email`, [
				JSON.stringify(rows),
			]);
		},
		async dueContacts(tag, now, zone) {
			return (await db.query(due, [JSON.stringify({ tag, zone, now: now.toISOString() })])).rows.map(toJson);
		},
		async senderHistory(now, zone) {
			return (await db.query(history, [JSON.stringify({ days: 28, zone, now: now.toISOString() })])).rows.map(toJson);
		},
		async saveEvents(events) {
			if (events.length > 0) await db.query(save, [JSON.stringify(events)]);
		},
		async saveInboxEvent(event) {
			await db.query(saveInbox, [JSON.stringify([event])]);
		},
		async events() {
			const { rows } = await db.query(`SELECT type, at, email, mailbox, message_id AS "messageId", reason FROM events`);
			return rows.map((r) => ({ ...r, at: (r.at as Date).toISOString() }));
		},
	};
}

/** The REST client of scripts/cadence-setup.mjs (restClient): JSON in, the response's `data` out. */
export interface RestApi {
	get(path: string): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
	post(path: string, body: unknown): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
	patch(path: string, body: unknown): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Rows per page of n8n's data-table REST API (its MAX_ITEMS_PER_PAGE). */
const DATA_TABLE_PAGE = 250;

type DataTableFilter = { type: 'and' | 'or'; filters: Array<{ columnName: string; condition: string; value: unknown }> };

/**
 * A Data-table template node's column mapping applied to an item, as the node would: each `={{ … }}` value is a
 * JavaScript expression over `$json` (the templates' mappings use nothing else), anything else is a literal.
 */
export function mapColumns(mapping: Record<string, string>, json: IDataObject): IDataObject {
	const out: IDataObject = {};
	for (const [column, value] of Object.entries(mapping)) {
		const m = /^=\{\{([\s\S]*)\}\}$/.exec(value);
		out[column] = m ? (new Function('$json', `return (${m[1]});`)(json) as IDataObject[string]) : value;
	}
	return out;
}

/**
 * The Data-table store (scripts/cadence-setup.mjs's tables) over n8n's REST API, with the Data-table templates'
 * filters and column mappings: Sender history (sends, failures, bounces and complaints since the start of the day 28
 * days ago, and every pause and resume), Due contacts (tags contain the due tag) and Not mailed today, Save events, Set lastSentAt, template 5's
 * Save event.
 */
export function dataTableStore(api: RestApi, projectId: string, ids: Record<'contacts' | 'events', string>): CadenceStore {
	const silent = template('', '2-silent-cadence.json', 'sim-dt-silent');
	const inbox = template('', '5-inbox-attribution.json', 'sim-dt-inbox');
	const mapping = (wf: Json, name: string) => templateNode(wf, name).parameters.columns.value as Record<string, string>;
	const saveEvent = mapping(silent, 'Save events');
	const savePaused = mapping(silent, 'Save paused events');
	// template 8 (Resume sending) saves the resumed event
	const saveInbox = mapping(inbox, 'Save event');
	const saveResumed = mapping(template('', '8-resume-sending.json', 'sim-dt-resume'), 'Save resumed event');
	const base = (table: 'contacts' | 'events') => `/projects/${projectId}/data-tables/${ids[table]}`;
	async function rows(table: 'contacts' | 'events', filter?: DataTableFilter): Promise<IDataObject[]> {
		const out: IDataObject[] = [];
		for (;;) {
			const query = `take=${DATA_TABLE_PAGE}&skip=${out.length}${filter ? `&filter=${encodeURIComponent(JSON.stringify(filter))}` : ''}`;
			const page = await api.get(`${base(table)}/rows?${query}`);
			const data = (page.data ?? []) as IDataObject[];
			out.push(...data);
			if (data.length < DATA_TABLE_PAGE || out.length >= Number(page.count ?? 0)) return out;
		}
	}
	const insert = (table: 'contacts' | 'events', data: IDataObject[]) =>
		data.length ? api.post(`${base(table)}/insert`, { data, returnType: 'count' }) : Promise.resolve();
	const updateContact = (email: string, data: IDataObject) =>
		api.patch(`${base('contacts')}/rows`, { filter: { type: 'and', filters: [{ columnName: 'email', condition: 'eq', value: email }] }, data });
	const isoOf = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : '');
	return {
		async allContacts() {
			return (await rows('contacts')).map((r) => ({ email: String(r.email), tags: String(r.tags ?? '') }));
		},
		async insertContacts(list) {
			await insert(
				'contacts',
				list.map((c) => ({ email: c.email, tags: c.tags, language: c.language ?? '', segment: c.segment ?? '', company: c.company ?? '' })),
			);
		},
		async setTags(list) {
			for (const c of list) await updateContact(c.email, { tags: c.tags });
		},
		async dueContacts(tag, now, zone) {
			const today = DateTime.fromJSDate(now).setZone(zone).toISODate();
			const found = await rows('contacts', { type: 'and', filters: [{ columnName: 'tags', condition: 'like', value: tag }] });
			// the template's "Not mailed today" filter
			return found.filter((c) => !c.lastSentAt || DateTime.fromISO(isoOf(c.lastSentAt)).setZone(zone).toISODate() !== today);
		},
		async senderHistory(now, zone) {
			// the template's "Event types the status reads" and Sender history: each type since its window's start
			const since = DateTime.fromJSDate(now).setZone(zone).startOf('day').minus({ days: 28 }).toISO()!;
			const out: IDataObject[] = [];
			for (const type of SENDER_STATUS_EVENT_TYPES) {
				const from = type === 'paused' || type === 'resumed' ? '1970-01-01T00:00:00.000Z' : since;
				const filters = [
					{ columnName: 'at', condition: 'gte', value: from },
					{ columnName: 'type', condition: 'eq', value: type },
				];
				out.push(...(await rows('events', { type: 'and', filters })));
			}
			return out;
		},
		async saveEvents(events) {
			const others = events.filter((e) => e.type !== 'paused' && e.type !== 'resumed');
			await insert(
				'events',
				events.map((e) => mapColumns(e.type === 'paused' ? savePaused : e.type === 'resumed' ? saveResumed : saveEvent, e)),
			);
			// the template's "Sent?" and "Set lastSentAt"
			for (const e of others) if (e.type === 'sent') await updateContact(String(e.email), { lastSentAt: e.at });
		},
		async saveInboxEvent(event) {
			await insert('events', [mapColumns(saveInbox, event)]);
		},
		async events() {
			return (await rows('events')).map((r) => ({
				type: String(r.type ?? ''),
				at: new Date(isoOf(r.at)).toISOString(),
				email: String(r.email ?? ''),
				mailbox: String(r.mailbox ?? ''),
				messageId: String(r.messageId ?? ''),
				reason: String(r.reason ?? ''),
			}));
		},
	};
}

export interface SimOptions {
	store: CadenceStore;
	sink: SmtpSink;
	/** The workflow's time zone. */
	zone: string;
	/** The Cadence Sender Pool credential (mailboxes as a list; host and port of the sink are filled in). */
	mailboxes: IDataObject[];
	/** The Cadence Postgres credential for the send ledger; absent: no ledger (Data tables). */
	ledger?: ICredentialDataDecryptedObject;
	/** Assign Batches' Language and Segment (the templates' segment). */
	language: string;
	segment: string;
}

/** What one run of a cadence did. */
export interface CadenceRun {
	cadence: Cadence;
	at: string;
	status: IDataObject & { mailboxes: Record<string, IDataObject & { paused: boolean; window: IDataObject }>; day: string };
	/** The `paused` events the Sender Status emitted (saved before the batch). */
	paused: IDataObject[];
	/** Contacts due by tag, then kept by the views: what the Send node got. */
	toSend: IDataObject[];
	excluded: IDataObject[];
	/** The Send node's events, in input order. */
	events: IDataObject[];
	/** The messages the sink received during this run. */
	messages: ReceivedMessage[];
}

const TRACKING = { baseUrl: 'https://track.sim.example/webhook/sim/t', secrets: 'cadence-sim-secret-0123456789abcdef', maxAgeDays: 0 };

/** The nodes of one cadence template, as the simulation runs them. */
function cadenceNodes(cadence: Cadence) {
	const wf = postgresTemplate(cadence);
	const params = (name: string) => structuredClone(templateNode(wf, name).parameters) as INodeParameters;
	return { dueTags: params('Due tags'), exactlyDue: params('Exactly due'), views: params('Views'), send: params('Send') };
}

export function createCadenceSim(opts: SimOptions) {
	const { store, sink, zone } = opts;
	const templates = { silent: cadenceNodes('silent'), read: cadenceNodes('read') };
	const credentials: Record<string, ICredentialDataDecryptedObject> = {
		cadenceSenderPoolApi: {
			mailboxes: JSON.stringify(opts.mailboxes),
			host: sink.host,
			port: sink.port,
			tls: 'none',
			user: '',
			password: '',
			poolSize: 2,
			maxPerSecond: 0,
		},
		cadenceTrackingApi: TRACKING,
		...(opts.ledger ? { cadencePostgresApi: opts.ledger } : {}),
	};
	const run = (node: keyof typeof nodes, parameters: IDataObject, inputs: IDataObject[][], withCredentials = false) =>
		runNode(nodes[node], { parameters, inputs, timezone: zone, ...(withCredentials ? { credentials } : {}) });

	/** Template 1's order: the new addresses through Assign Batches with every existing contact on input 2, then saved. */
	async function importContacts(emails: string[]): Promise<{ assigned: IDataObject[]; skipped: IDataObject[] }> {
		const existing = await store.allContacts();
		const { outputs } = await run('batch', { operation: 'assignBatches', language: opts.language, segment: opts.segment }, [
			emails.map((email) => ({ email, tags: '' })),
			existing.map((c) => ({ email: c.email, tags: c.tags })),
		]);
		const [assigned, skipped] = outputs.map((o) => o.map((i) => i.json));
		await store.insertContacts(
			assigned.map((a) => ({ email: String(a.email), tags: String(a.tags), language: opts.language, segment: opts.segment, company: '' })),
		);
		return { assigned, skipped };
	}

	/** Tag Readers on these contacts (as if they opened), saved back. */
	async function tagReaders(emails: ReadonlySet<string>): Promise<IDataObject[]> {
		const rows = (await store.allContacts()).filter((c) => emails.has(c.email));
		if (rows.length === 0) return [];
		const { json } = await run('batch', { operation: 'tagReaders' }, [rows.map((r) => ({ email: r.email, tags: r.tags }))]);
		await store.setTags(json.map((j) => ({ email: String(j.email), tags: String(j.tags) })));
		return json;
	}

	/** One scheduled run of a cadence template, node by node, at the current (simulated) time. */
	async function runCadence(cadence: Cadence): Promise<CadenceRun> {
		const now = new Date();
		const t = templates[cadence];
		const history = await store.senderHistory(now, zone);
		const statusRun = await run('send', { operation: 'senderStatus' }, [history]);
		const status = statusRun.outputs[0][0].json as CadenceRun['status'];
		const paused = (statusRun.outputs[1] ?? []).map((i) => i.json);
		await store.saveEvents(paused);
		const dueTags = (await run('batch', t.dueTags, [[{}]])).json;
		const rows: IDataObject[] = [];
		for (const tag of dueTags) rows.push(...(await store.dueContacts(String(tag.tag), now, zone)));
		const exactlyDue = rows.length ? (await run('batch', t.exactlyDue, [rows])).json : [];
		const views = exactlyDue.length ? (await run('views', t.views, [exactlyDue])).outputs : [[], []];
		const [toSend, excluded] = views.map((o) => o.map((i) => i.json));
		const before = sink.messages.length;
		const events = toSend.length
			? (
					await run(
						'send',
						{
							...t.send,
							senders: 'pool',
							senderStatus: status,
							sendLedger: opts.ledger ? 'postgres' : 'none',
							options: { ...(t.send.options as IDataObject), maxRetries: 0, retryDelay: 0 },
						},
						[toSend],
						true,
					)
				).json
			: [];
		await store.saveEvents(events);
		return { cadence, at: now.toISOString(), status, paused, toSend, excluded, events, messages: sink.messages.slice(before) };
	}

	/** DSNs through Cadence Inbox's Classify Message, each event saved with template 5's query. */
	async function receiveBounces(raws: string[]): Promise<IDataObject[]> {
		if (raws.length === 0) return [];
		const { json } = await run('inbox', { operation: 'classifyMessage', source: 'field', rawField: 'raw' }, [raws.map((raw) => ({ raw }))]);
		for (const e of json) await store.saveInboxEvent(e);
		return json;
	}

	/** Template 8's step: a person resumes a mailbox or sending domain; the event is saved in the store. */
	async function resume(mailbox: string, scope: 'mailbox' | 'domain', by: string): Promise<IDataObject> {
		const { json } = await run('send', { operation: 'resumeSending', scope, mailbox, resumedBy: by }, [[{}]]);
		await store.saveEvents(json);
		return json[0];
	}

	return { importContacts, tagReaders, runCadence, receiveBounces, resume };
}

export type CadenceSim = ReturnType<typeof createCadenceSim>;

/** RFC 5322 date of an instant, in UTC. */
function mailDate(at: Date): string {
	return at.toUTCString().replace('GMT', '+0000');
}

/** The header block of a raw message (up to the first empty line). */
export function headerBlock(raw: Buffer | string): string {
	const text = typeof raw === 'string' ? raw : raw.toString('utf8');
	const end = text.search(/\r?\n\r?\n/);
	return end < 0 ? text : text.slice(0, end);
}

/** A header's value in a raw message (unfolded), or ''. */
export function headerOf(raw: Buffer | string, name: string): string {
	const block = headerBlock(raw).replace(/\r?\n[ \t]+/g, ' ');
	const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(block);
	return m ? m[1].trim() : '';
}

/** The address in a From-style header value. */
export function addressOf(value: string): string {
	const m = /<([^<>]+)>/.exec(value);
	return (m ? m[1] : value).trim().toLowerCase();
}

/**
 * A hard-bounce DSN for a message the sink received, in Postfix's multipart/report shape: 550 5.1.1 user unknown for
 * its recipient, the original's headers (Message-ID, tracking token) attached as text/rfc822-headers.
 */
export function hardBounceDsn(original: ReceivedMessage, at: Date, n: number): string {
	const rcpt = original.rcptTo[0];
	const host = `mx.${rcpt.slice(rcpt.indexOf('@') + 1)}`;
	const boundary = `${String(n).padStart(8, '0')}.${at.getTime()}/${host}`;
	const returnTo = original.mailFrom || addressOf(headerOf(original.raw, 'From'));
	const diagnostic = `550 5.1.1 <${rcpt}>: Recipient address rejected: User unknown in virtual mailbox table`;
	return [
		'Return-Path: <>',
		`Date: ${mailDate(at)}`,
		`From: MAILER-DAEMON@${host} (Mail Delivery System)`,
		'Subject: Undelivered Mail Returned to Sender',
		`To: ${returnTo}`,
		'Auto-Submitted: auto-replied',
		'MIME-Version: 1.0',
		`Content-Type: multipart/report; report-type=delivery-status;`,
		`\tboundary="${boundary}"`,
		`Message-Id: <dsn-${n}-${at.getTime()}@${host}>`,
		'',
		'This is a MIME-encapsulated message.',
		'',
		`--${boundary}`,
		'Content-Description: Notification',
		'Content-Type: text/plain; charset=us-ascii',
		'',
		`This is the mail system at host ${host}.`,
		'',
		"I'm sorry to have to inform you that your message could not",
		"be delivered to one or more recipients. It's attached below.",
		'',
		'                   The mail system',
		'',
		`<${rcpt}>: host ${host}[192.0.2.25] said: ${diagnostic} (in reply to RCPT TO command)`,
		'',
		`--${boundary}`,
		'Content-Description: Delivery report',
		'Content-Type: message/delivery-status',
		'',
		`Reporting-MTA: dns; ${host}`,
		`X-Postfix-Queue-ID: ${n.toString(16).toUpperCase().padStart(8, '0')}`,
		`X-Postfix-Sender: rfc822; ${returnTo}`,
		`Arrival-Date: ${mailDate(at)}`,
		'',
		`Final-Recipient: rfc822; ${rcpt}`,
		`Original-Recipient: rfc822;${rcpt}`,
		'Action: failed',
		'Status: 5.1.1',
		`Remote-MTA: dns; ${host}`,
		`Diagnostic-Code: smtp; ${diagnostic}`,
		'',
		`--${boundary}`,
		'Content-Description: Undelivered Message Headers',
		'Content-Type: text/rfc822-headers',
		'',
		headerBlock(original.raw).replace(/\r?\n/g, '\r\n'),
		'',
		`--${boundary}--`,
		'',
	].join('\r\n');
}

/*
 * The simulated month: three sender mailboxes on the sink (an established one, a new one warming up from day 1, one
 * whose messages start bouncing), daily imports, both cadences at 09:00, 10:00 and 11:00 in Europe/Berlin, readers
 * tagged after the runs, DSNs at 12:00; a person resumes the bouncing mailbox some days after it was paused.
 */

const ZONE = 'Europe/Berlin';
/** March 2027: 31 days (the 31st is outside the 30-day round), and the switch to summer time on the 28th. */
const YEAR = 2027;
const MONTH = 3;
const RUN_HOURS = [9, 10, 11];
const CAP_REASONS = new Set(['company-cap', 'contact-cap', 'mailbox-cap', 'paused']);

const dayOf = (d: number) => `${YEAR}-${String(MONTH).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
/** The instant of a wall-clock time in the workflow's zone. */
function zoned(d: number, hour: number, minute = 0): Date {
	const guess = Date.UTC(YEAR, MONTH - 1, d, hour, minute);
	const offset = (t: number) => {
		const parts = new Intl.DateTimeFormat('en-US', {
			timeZone: ZONE,
			hourCycle: 'h23',
			year: 'numeric',
			month: 'numeric',
			day: 'numeric',
			hour: 'numeric',
			minute: 'numeric',
		})
			.formatToParts(new Date(t))
			.reduce<Record<string, number>>((acc, p) => (p.type === 'literal' ? acc : { ...acc, [p.type]: Number(p.value) }), {});
		return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute) - t;
	};
	return new Date(guess - offset(guess - offset(guess)));
}

const ANNA = 'anna@mail-a.test';
const BEN = 'ben@mail-b.test';
const CARL = 'carl@mail-c.test';
const MAILBOXES = [
	{ from: `Anna <${ANNA}>`, dailyCap: 60 },
	{ from: `Ben <${BEN}>`, dailyCap: 50, warmupStart: dayOf(1) },
	{ from: `Carl <${CARL}>`, dailyCap: 40 },
];
const LIMITS: Record<string, { dailyCap: number; warmupStart?: string }> = Object.fromEntries(
	MAILBOXES.map((m) => [addressOf(m.from), { dailyCap: m.dailyCap, warmupStart: m.warmupStart }]),
);

/** A small deterministic generator, so every run simulates the same month. */
function random(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/**
 * The day's new addresses: one company with 26 addresses over three host names on days 1, 11 and 21 (its readers
 * make both cadences meet it on the same days), companies under a private suffix (x.github.io and y.github.io are
 * two), mid-sized companies that come back day after day, single addresses; plus an existing address, a repeat and
 * an invalid one, which Assign Batches skips.
 */
function dailyImport(d: number, rnd: () => number, known: string[], busy: boolean): { first: string[]; second: string[] } {
	const first: string[] = [];
	if (d % 10 === 1) for (let i = 0; i < 26; i++) first.push(`p${d}-${i}@${['a.big.co.uk', 'b.big.co.uk', 'big.co.uk'][i % 3]}`);
	const mids = 3 + Math.floor(rnd() * 3);
	for (let k = 0; k < mids; k++) {
		const company = `mid${Math.floor(rnd() * 6)}.de`;
		const n = 2 + Math.floor(rnd() * 4);
		for (let i = 0; i < n; i++) first.push(`m${d}-${k}-${i}@${i % 2 ? 'sales.' : ''}${company}`);
	}
	first.push(`g${d}@x.github.io`, `g${d}@y.github.io`);
	const target = busy ? 130 : 32;
	for (let i = 0; i < 4 || first.length < target; i++) first.push(`s${d}-${i}@firm${d}x${i}.${['fr', 'com.au', 'de', 'nl'][i % 4]}`);
	if (known.length) first.push(known[Math.floor(rnd() * known.length)].toUpperCase());
	first.push(first[first.length - 2], 'not-an-address');
	// a second import later the same day: more addresses of the big company and a few others
	const second: string[] = [];
	if (d % 2 === 0) {
		for (let i = 0; i < 6; i++) second.push(`q${d}-${i}@${i % 2 ? 'a.' : ''}big.co.uk`);
		for (let i = 0; i < 6; i++) second.push(`r${d}-${i}@late${d}x${i}.fr`);
	}
	return { first, second };
}

interface MessageRecord {
	day: number;
	run: string;
	at: string;
	rcpt: string;
	from: string;
	messageId: string;
	message: ReceivedMessage;
}

interface BounceRecord {
	at: number;
	mailbox: string;
	email: string;
	event: IDataObject;
}

interface DayRecord {
	day: number;
	date: string;
	runs: CadenceRun[];
	imports: Array<{ assigned: IDataObject[]; skipped: IDataObject[] }>;
	/** Every contact's tags at the end of the day. */
	contacts: Array<{ email: string; tags: string }>;
	/** Sent events the store holds for the day (by the day's bounds in the workflow's zone). */
	storeSent: StoredEvent[];
	/** Addresses the store holds a skipped event with a cap reason for, up to the end of the day. */
	storeCapSkipped: Set<string>;
	bounces: BounceRecord[];
	resumed: IDataObject[];
}

/** The breaker as the issue states it, computed here from what the simulation did (not from the package). */
interface Expectation {
	at: string;
	sends: number;
	hardBounces: number;
	trips: boolean;
}

export interface MonthPlan {
	days: number;
	/** From this day on, one in `bounceEvery` of the bouncing mailbox's messages comes back as a hard bounce. */
	bounceFromDay: number;
	bounceEvery: number;
	/** After the breaker trips: a day with a large import while the mailbox is paused, then a person resumes it. */
	busyDayAfterTrip: number;
	resumeDayAfterTrip: number;
}

/** The issue's month: 30 days; bounces (4 %) from day 6. */
export const MONTH_PLAN: MonthPlan = { days: 30, bounceFromDay: 6, bounceEvery: 25, busyDayAfterTrip: 2, resumeDayAfterTrip: 4 };

export interface MonthSetup {
	name: string;
	/** Starts the store (and the ledger's database, if any). */
	start(): Promise<{ store: CadenceStore; ledger?: ICredentialDataDecryptedObject; stop(): Promise<void> }>;
}

/**
 * The simulated month as a vitest suite: the whole month runs in beforeAll (the test process's `Date` faked, one
 * value per step), then each rule is checked for every day.
 */
export function describeSimulatedMonth(title: string, month: MonthSetup, plan: MonthPlan = MONTH_PLAN, skip = false): void {
	describe.skipIf(skip)(title, () => {
		let sink: SmtpSink;
		let store: CadenceStore;
		let stop: () => Promise<void> = async () => {};
		let sim: CadenceSim;
		const days: DayRecord[] = [];
		const messages: MessageRecord[] = [];
		const bounces: BounceRecord[] = [];
		/** For each Sender Status of the simulation: the bouncing mailbox's window as the test computes it. */
		const expectations: Array<{ run: CadenceRun; expected: Expectation; pausedBefore: boolean }> = [];
		let tripDay: number | null = null;
		let resumedAt: number | null = null;
		let resumeDay: number | null = null;
		let busyDay: number | null = null;
		let runtimeMs = 0;

		const sendsOf = (mailbox: string, from: number, to: number) =>
			messages.filter((m) => m.from === mailbox && Date.parse(m.at) >= from && Date.parse(m.at) <= to).length;
		function expectationAt(now: number): Expectation {
			const since = Math.max(now - 28 * 86_400_000, resumedAt ?? -Infinity);
			const sends = sendsOf(CARL, since, now);
			const hardBounces = bounces.filter((b) => b.mailbox === CARL && b.at >= since && b.at <= now).length;
			const trips = sends >= DEFAULT_BREAKER_MIN_SENDS && hardBounces / sends >= DEFAULT_HARD_BOUNCE_PAUSE_PERCENT / 100;
			return { at: new Date(now).toISOString(), sends, hardBounces, trips };
		}

		beforeAll(async () => {
			const started = performance.now();
			sink = await startSmtpSink();
			const setup = await month.start();
			({ store, stop } = setup);
			sim = createCadenceSim({
				store,
				sink,
				zone: ZONE,
				mailboxes: MAILBOXES,
				ledger: setup.ledger,
				language: 'English',
				segment: 'Equipment Dealers',
			});

			vi.useFakeTimers({ toFake: ['Date'] });
			try {
				const rnd = random(20270301);
				let carlSinceBounceStart = 0;
				let paused = false;
				for (let d = 1; d <= plan.days; d++) {
					const record: DayRecord = {
						day: d,
						date: dayOf(d),
						runs: [],
						imports: [],
						contacts: [],
						storeSent: [],
						storeCapSkipped: new Set(),
						bounces: [],
						resumed: [],
					};
					days.push(record);
					if (resumeDay === d) {
						vi.setSystemTime(zoned(d, 8, 0));
						record.resumed.push(await sim.resume(CARL, 'mailbox', 'Lena: list cleaned, bounces explained'));
						record.resumed.push(await sim.resume('mail-c.test', 'domain', 'Lena: list cleaned, bounces explained'));
						resumedAt = Date.now();
						paused = false;
					}
					vi.setSystemTime(zoned(d, 8, 30));
					const known = (await store.allContacts()).map((c) => c.email).sort();
					const batch = dailyImport(d, rnd, known, busyDay === d);
					record.imports.push(await sim.importContacts(batch.first));
					for (const hour of RUN_HOURS) {
						if (hour === 11 && batch.second.length) {
							vi.setSystemTime(zoned(d, 10, 30));
							record.imports.push(await sim.importContacts(batch.second));
						}
						for (const cadence of ['silent', 'read'] as const) {
							vi.setSystemTime(zoned(d, hour, cadence === 'silent' ? 0 : 5));
							const expected = expectationAt(Date.now());
							const run = await sim.runCadence(cadence);
							record.runs.push(run);
							expectations.push({ run, expected, pausedBefore: paused });
							if (run.paused.some((e) => e.mailbox === CARL)) {
								paused = true;
								tripDay ??= d;
								busyDay = d + plan.busyDayAfterTrip;
								resumeDay = d + plan.resumeDayAfterTrip;
							}
							for (const m of run.messages)
								messages.push({
									day: d,
									run: `${dayOf(d)} ${hour}:00 ${cadence}`,
									at: run.at,
									rcpt: m.rcptTo[0],
									from: addressOf(headerOf(m.raw, 'From')),
									messageId: headerOf(m.raw, 'Message-ID'),
									message: m,
								});
						}
					}
					// readers: everyone of the big company mailed today by the silent cadence, and about 3 in 10 of the others
					vi.setSystemTime(zoned(d, 11, 30));
					const bounced = new Set(bounces.map((b) => b.email));
					const readers = new Set(
						record.runs
							.filter((r) => r.cadence === 'silent')
							.flatMap((r) => r.events)
							.filter((e) => e.type === 'sent' && !bounced.has(String(e.email)))
							.map((e) => String(e.email))
							.filter((email) => companyOf(email) === 'big.co.uk' || [...email].reduce((h, c) => h * 31 + c.charCodeAt(0), 7) % 10 < 3),
					);
					await sim.tagReaders(readers);
					// hard bounces for the bouncing mailbox, until it is paused; none after a person resumed it (list cleaned)
					if (d >= plan.bounceFromDay && !paused && resumedAt === null) {
						const at = zoned(d, 12, 0);
						vi.setSystemTime(at);
						const raws: string[] = [];
						const owners: MessageRecord[] = [];
						for (const m of messages.filter((x) => x.day === d && x.from === CARL)) {
							if (carlSinceBounceStart++ % plan.bounceEvery !== plan.bounceEvery - 1) continue;
							raws.push(hardBounceDsn(m.message, at, bounces.length + raws.length));
							owners.push(m);
						}
						const events = await sim.receiveBounces(raws);
						expect(events.map((e) => [e.type, e.email, (e.bounce as IDataObject)?.hard])).toEqual(owners.map((o) => ['bounced', o.rcpt, true]));
						for (const [i, e] of events.entries()) {
							const b = { at: at.getTime(), mailbox: owners[i].from, email: owners[i].rcpt, event: e };
							bounces.push(b);
							record.bounces.push(b);
						}
					}
					vi.setSystemTime(zoned(d, 23, 0));
					record.contacts = (await store.allContacts()).map(({ email, tags }) => ({ email, tags }));
					const [dayStart, dayEnd] = [zoned(d, 0, 0).getTime(), zoned(d + 1, 0, 0).getTime()];
					const stored = await store.events();
					record.storeSent = stored.filter((e) => e.type === 'sent' && Date.parse(e.at) >= dayStart && Date.parse(e.at) < dayEnd);
					record.storeCapSkipped = new Set(
						stored.filter((e) => e.type === 'skipped' && CAP_REASONS.has(e.reason) && Date.parse(e.at) < dayEnd).map((e) => e.email),
					);
				}
			} finally {
				vi.useRealTimers();
				runtimeMs = performance.now() - started;
			}
		}, 600_000);

		afterAll(async () => {
			vi.useRealTimers();
			await stop();
			await sink?.close();
		});

		const reasonCounts = () => {
			const counts: Record<string, number> = {};
			for (const d of days)
				for (const r of d.runs) for (const e of r.events) if (e.type !== 'sent') counts[String(e.reason)] = (counts[String(e.reason)] ?? 0) + 1;
			return counts;
		};

		it('reports the month’s figures', () => {
			const skipped = reasonCounts();
			const perMailbox = Object.fromEntries([ANNA, BEN, CARL].map((m) => [m, messages.filter((x) => x.from === m).length]));
			const trip = expectations.find((x) => x.run.paused.some((e) => e.mailbox === CARL));
			const excludedByCap = days
				.flatMap((d) => d.runs.flatMap((r) => r.excluded))
				.filter((e) => JSON.stringify(e.excludedBy).includes('domainCap')).length;
			console.log(
				`[sender month: ${month.name}] ${plan.days} days, ${messages.length} messages sent (${JSON.stringify(perMailbox)}), skipped by reason ${JSON.stringify(skipped)}, ` +
					`excluded by the views' company cut ${excludedByCap}, ${bounces.length} hard bounces injected, breaker tripped on day ${tripDay} ` +
					`(${trip?.run.at}, ${trip?.expected.hardBounces} of ${trip?.expected.sends} sends), resumed on day ${resumeDay}, runtime ${(runtimeMs / 1000).toFixed(1)} s`,
			);
			expect(days).toHaveLength(plan.days);
			expect(messages.length).toBeGreaterThan(plan.days * 20);
			// the caps were exercised, not just never reached
			// from the 21st the big company's readers of two earlier imports meet its new batch: more than 20 are due
			if (plan.days >= 22) expect(skipped['company-cap'] ?? 0).toBeGreaterThan(0);
			expect(skipped['mailbox-cap'] ?? 0).toBeGreaterThan(0);
		});

		it('every message the server received is a sent event in the store, and the other way round, day by day', () => {
			for (const d of days) {
				const received = messages.filter((m) => m.day === d.day);
				expect(d.storeSent.length, d.date).toBe(received.length);
				expect(new Set(d.storeSent.map((e) => e.messageId)), d.date).toEqual(new Set(received.map((m) => m.messageId)));
				for (const e of d.storeSent) expect(e.mailbox, `${d.date} ${e.email}`).toBe(received.find((m) => m.messageId === e.messageId)!.from);
			}
		});

		it('no company gets more than 20 messages on any day, counted over its host names and both cadences', () => {
			let busiest = 0;
			for (const d of days) {
				const perCompany = new Map<string, number>();
				for (const m of messages.filter((x) => x.day === d.day)) perCompany.set(companyOf(m.rcpt), (perCompany.get(companyOf(m.rcpt)) ?? 0) + 1);
				for (const [company, n] of perCompany) expect(n, `${d.date} ${company}`).toBeLessThanOrEqual(DEFAULT_COMPANY_DAILY_CAP);
				busiest = Math.max(busiest, ...perCompany.values());
				// where the cap held someone back, the company had its 20
				for (const r of d.runs)
					for (const e of r.events.filter((x) => x.reason === 'company-cap'))
						expect(perCompany.get(companyOf(String(e.email))), `${d.date} ${e.email}`).toBe(DEFAULT_COMPANY_DAILY_CAP);
			}
			expect(busiest).toBe(DEFAULT_COMPANY_DAILY_CAP);
			// both cadences mailed the big company on one day: the cap is shared
			const shared = days.filter((d) => {
				const cadences = new Set(
					d.runs.filter((r) => r.events.some((e) => e.type === 'sent' && companyOf(String(e.email)) === 'big.co.uk')).map((r) => r.cadence),
				);
				return cadences.size === 2;
			});
			expect(shared.length).toBeGreaterThan(0);
		});

		it('no mailbox sends above its daily cap or warm-up ramp on any day', () => {
			for (const d of days) {
				for (const mailbox of [ANNA, BEN, CARL]) {
					const n = messages.filter((m) => m.day === d.day && m.from === mailbox).length;
					expect(n, `${d.date} ${mailbox}`).toBeLessThanOrEqual(mailboxCapOn(LIMITS[mailbox], d.date));
				}
			}
			// the new mailbox follows its ramp: 10 on day 1, and it was full on the first days
			expect(messages.filter((m) => m.day === 1 && m.from === BEN)).toHaveLength(mailboxCapOn(LIMITS[BEN], dayOf(1)));
			expect(mailboxCapOn(LIMITS[BEN], dayOf(2))).toBe(12);
		});

		it('no contact gets two messages on one day', () => {
			for (const d of days) {
				const seen = new Map<string, number>();
				for (const m of messages.filter((x) => x.day === d.day)) seen.set(m.rcpt, (seen.get(m.rcpt) ?? 0) + 1);
				for (const [email, n] of seen) expect(n, `${d.date} ${email}`).toBe(1);
			}
		});

		it('no marketing batch holds more than 10 addresses of one company, across imports', () => {
			const tags = new TagClassifier();
			for (const d of days) {
				const perBatch = new Map<string, number>();
				for (const c of d.contacts) {
					const batches = parseTagList(c.tags)
						.tags.map((t) => tags.info(t).batch)
						.filter((b) => b?.group === 'marketing');
					expect(batches, `${d.date} ${c.email} has one marketing tag`).toHaveLength(1);
					const key = `${companyOf(c.email)} ${batches[0]!.batch}`;
					perBatch.set(key, (perBatch.get(key) ?? 0) + 1);
				}
				for (const [key, n] of perBatch) expect(n, `${d.date} ${key}`).toBeLessThanOrEqual(DEFAULT_PER_DOMAIN_CAP);
			}
			// Assign Batches skipped what was not new, with the reason
			for (const d of days) {
				const reasons = new Set(d.imports.flatMap((i) => i.skipped.map((x) => x.reason)));
				expect(reasons, d.date).toEqual(new Set(d.day === 1 ? ['duplicate', 'invalid-address'] : ['existing', 'duplicate', 'invalid-address']));
			}
			// the big company filled its batches (and a second import on the same day did not overfill them)
			const last = days[days.length - 1].contacts.filter((c) => companyOf(c.email) === 'big.co.uk');
			expect(last.length).toBeGreaterThan(60);
		});

		it('every contact handed to Send is sent or skipped with a cap reason; nothing fails or vanishes', () => {
			for (const d of days) {
				for (const r of d.runs) {
					expect(r.events, `${r.cadence} ${r.at}`).toHaveLength(r.toSend.length);
					r.toSend.forEach((c, i) => {
						const e = r.events[i];
						expect(e.email, `${r.at}`).toBe(c.email);
						if (e.type !== 'sent') expect(CAP_REASONS.has(String(e.reason)), `${r.at} ${c.email}: ${e.type} ${e.reason} ${e.error}`).toBe(true);
					});
					const sentNow = r.events.filter((e) => e.type === 'sent' && !e.replayed).length;
					expect(r.messages, `${r.cadence} ${r.at}`).toHaveLength(sentNow);
				}
				// a contact held back by a cap at 09:00 is tried again at 10:00 and 11:00, and held back again for the same kind of reason
				const handed = new Set(d.runs.flatMap((r) => r.toSend.map((c) => String(c.email))));
				const sent = new Set(messages.filter((m) => m.day === d.day).map((m) => m.rcpt));
				for (const email of handed) {
					if (sent.has(email)) continue;
					const outcomes = d.runs.flatMap((r) => r.events.filter((e) => e.email === email));
					expect(
						outcomes.every((e) => e.type === 'skipped' && CAP_REASONS.has(String(e.reason))),
						`${d.date} ${email}`,
					).toBe(true);
					expect(d.storeCapSkipped.has(email), `${d.date} ${email}: its skipped event is in the store`).toBe(true);
				}
			}
		});

		it('the breaker pauses the bouncing mailbox and its domain on the first Sender Status at 2 % with 100 sends, not before', () => {
			expect(tripDay).not.toBeNull();
			const first = expectations.findIndex((x) => x.expected.trips);
			expect(first).toBeGreaterThan(-1);
			for (const [i, x] of expectations.entries()) {
				const status = x.run.status.mailboxes[CARL];
				if (!status) continue;
				const ownPause = x.run.paused.filter((e) => e.mailbox === CARL || e.mailbox === 'mail-c.test');
				const label = `${x.run.cadence} ${x.run.at}`;
				// the status counts what the test counts
				expect([status.window.sends, status.window.hardBounces], label).toEqual([x.expected.sends, x.expected.hardBounces]);
				if (x.pausedBefore) {
					expect(ownPause, label).toEqual([]);
					expect(status.paused, label).toBe(true);
				} else {
					expect(ownPause.map((e) => e.scope).sort(), label).toEqual(x.expected.trips ? ['domain', 'mailbox'] : []);
					expect(status.paused, label).toBe(x.expected.trips);
				}
				if (i === first) {
					expect(ownPause[0]).toMatchObject({ type: 'paused', reason: expect.stringContaining('hard-bounce rate') });
					expect(x.expected.hardBounces / x.expected.sends).toBeGreaterThanOrEqual(0.02);
				}
			}
			// just before: under the threshold (too few sends, or a rate under 2 %)
			expect(expectations[first - 1].expected.trips).toBe(false);
			for (const mailbox of [ANNA, BEN]) expect(expectations.flatMap((x) => x.run.paused).filter((e) => e.mailbox === mailbox)).toEqual([]);
		});

		it('nothing is sent from the paused mailbox; the others take over within their caps', () => {
			const pausedAt = Date.parse(String(expectations.find((x) => x.run.paused.some((e) => e.mailbox === CARL))!.run.at));
			const during = messages.filter((m) => Date.parse(m.at) >= pausedAt && Date.parse(m.at) < resumedAt!);
			expect(during.length).toBeGreaterThan(0);
			expect(during.filter((m) => m.from === CARL)).toEqual([]);
			expect(
				days
					.flatMap((d) => d.runs.flatMap((r) => r.events))
					.filter((e) => e.mailbox === CARL && Date.parse(String(e.at)) >= pausedAt && Date.parse(String(e.at)) < resumedAt!),
			).toEqual([]);
			for (const d of days.filter((x) => x.day >= tripDay! && x.day < resumeDay!)) {
				const sentBy = (m: string) => messages.filter((x) => x.day === d.day && x.from === m).length;
				expect(sentBy(ANNA) + sentBy(BEN), d.date).toBeGreaterThan(0);
				// a message held back for want of a mailbox: both open mailboxes were full that day
				if (d.runs.some((r) => r.events.some((e) => e.reason === 'mailbox-cap'))) {
					expect(sentBy(ANNA), d.date).toBe(mailboxCapOn(LIMITS[ANNA], d.date));
					expect(sentBy(BEN), d.date).toBe(mailboxCapOn(LIMITS[BEN], d.date));
				}
				// the pool still had open mailboxes: nobody was held back as "paused"
				expect(
					d.runs.flatMap((r) => r.events).filter((e) => e.reason === 'paused'),
					d.date,
				).toEqual([]);
			}
			expect(days[busyDay! - 1].runs.some((r) => r.events.some((e) => e.reason === 'mailbox-cap'))).toBe(true);
		});

		it('after a person resumes it the mailbox sends again, on a fresh window the old bounces cannot trip', () => {
			expect(resumeDay).not.toBeNull();
			expect(resumeDay!).toBeLessThanOrEqual(plan.days);
			const resumed = days[resumeDay! - 1].resumed;
			expect(resumed.map((e) => [e.type, e.mailbox, e.scope])).toEqual([
				['resumed', CARL, 'mailbox'],
				['resumed', 'mail-c.test', 'domain'],
			]);
			expect(messages.filter((m) => m.day === resumeDay && m.from === CARL).length).toBeGreaterThan(0);
			const after = expectations.filter((x) => Date.parse(x.run.at) > resumedAt!);
			for (const x of after) {
				expect(x.run.status.mailboxes[CARL].paused, x.run.at).toBe(false);
				expect(Date.parse(String(x.run.status.mailboxes[CARL].window.since)), x.run.at).toBeGreaterThanOrEqual(resumedAt!);
				expect(x.run.paused, x.run.at).toEqual([]);
			}
			// the last 28 days alone would still pause it: the fresh window is what lets it send
			const at = Date.parse(after[0].run.at) - 1;
			const since = at - 28 * 86_400_000;
			const oldSends = sendsOf(CARL, since, at);
			const oldBounces = bounces.filter((b) => b.at >= since && b.at <= at).length;
			expect(oldBounces / oldSends).toBeGreaterThanOrEqual(DEFAULT_HARD_BOUNCE_PAUSE_PERCENT / 100);
			expect(localDay(new Date(resumedAt!), ZONE)).toBe(dayOf(resumeDay!));
		});
	});
}
