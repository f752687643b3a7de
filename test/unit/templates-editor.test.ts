/**
 * Templates as a new user meets them in the editor. The cadences (2, 3, both stores) derive Reply-To and the VERP
 * bounce address from the Send node's own From, so changing From alone keeps replies and bounces attributable: run
 * with the real Send node in n8n-core's ExecuteContext against an SMTP sink. The stickies of 1, 2, 3, 4, 6 and 8 say
 * which tables must exist and how to create them without `npm start`, checked against the set-up's own table list.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { IDataObject } from 'n8n-workflow';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module without types
import { DATA_TABLES } from '../../scripts/cadence-setup.mjs';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { runNode } from '../helpers/n8n';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const WORKFLOWS = join(__dirname, '..', '..', 'workflows');
const load = (store: '' | 'postgres', file: string): Json => JSON.parse(readFileSync(join(WORKFLOWS, store, file), 'utf8'));
const nodeOf = (wf: Json, name: string): Json => {
	const n = wf.nodes.find((x: Json) => x.name === name);
	if (!n) throw new Error(`${wf.name} has no node "${name}"`);
	return n;
};
const notes = (wf: Json): string =>
	wf.nodes
		.filter((n: Json) => n.type === 'n8n-nodes-base.stickyNote')
		.map((n: Json) => n.parameters.content)
		.join('\n');

const STORES = ['', 'postgres'] as const;
const CADENCES = ['2-silent-cadence.json', '3-read-cadence.json'];
const WITH_TABLE_NOTES = [
	'1-import-contacts.json',
	'2-silent-cadence.json',
	'3-read-cadence.json',
	'4-tracking-events.json',
	'6-daily-report.json',
	'8-resume-sending.json',
	'11-ab-rollout.json',
];
/** The From the end-to-end loop (test/e2e/cadenceLoop.ts) sets on template 2: its replies and bounces stay on sender.test. */
const E2E_FROM = '"Anna from Acme" <outreach@sender.test>';

const SECRET = 'templates-editor-secret-0123456789';
const send = new CadenceSend();
let sink: SmtpSink;

beforeAll(async () => {
	sink = await startSmtpSink({});
});
afterAll(async () => sink?.close());
beforeEach(() => {
	sink.messages.length = 0;
});

/** The template's Send node, run for one contact with `from` as its From (store-specific inputs left out). */
async function sendWith(store: '' | 'postgres', file: string, from: string, item: IDataObject = {}) {
	const parameters = { ...nodeOf(load(store, file), 'Send').parameters } as IDataObject;
	delete parameters.senderStatus; // reads another node's output
	delete parameters.sendLedger; // needs the Postgres store
	const { json } = await runNode(send, {
		parameters: { ...parameters, from },
		items: [{ email: 'buyer@customer.example', company: 'Customer', dueTag: 'English-Equipment Dealers-Marketing09', ...item }],
		credentials: {
			cadenceSmtpApi: { host: sink.host, port: sink.port, tls: 'none', user: '', password: '', poolSize: 1, maxPerSecond: 0 },
			cadenceTrackingApi: { baseUrl: 'https://track.sender.example/webhook/t', secrets: SECRET, maxAgeDays: 0 },
		},
	});
	expect(json).toHaveLength(1);
	expect(json[0]).toMatchObject({ type: 'sent' });
	const message = sink.messages.at(-1)!;
	const parsed = await simpleParser(message.raw);
	return { event: json[0], replyTo: parsed.replyTo?.value[0]?.address, envelopeFrom: message.mailFrom, from: parsed.from?.value[0]?.address };
}

describe('templates 2 and 3: Reply-To and VERP follow the From domain', () => {
	for (const store of STORES) {
		for (const file of CADENCES) {
			it(`${store || 'data tables'} ${file}: the options are an expression on From, not a fixed domain`, () => {
				const options = nodeOf(load(store, file), 'Send').parameters.options as IDataObject;
				for (const key of ['replyPlusAddress', 'verpAddress']) {
					expect(options[key], key).toMatch(/^=\{\{.*\$parameter\.from.*\}\}$/);
					expect(options[key], key).not.toContain('sender.test');
				}
			});

			it(`${store || 'data tables'} ${file}: a changed From carries replies and bounces to its own domain`, async () => {
				const cases: Array<[string, string, IDataObject?]> = [
					[E2E_FROM, 'sender.test'],
					['"Bob Smith" <bob@acme-mail.example>', 'acme-mail.example'],
					['sales@shop.example.org', 'shop.example.org'],
					['Sales (Acme) <Sales@Mail.Example.COM>', 'mail.example.com'],
					['={{ $json.sender }}', 'per-item.example', { sender: 'Carla <carla@per-item.example>' }],
				];
				for (const [from, domain, item] of cases) {
					const { event, replyTo, envelopeFrom } = await sendWith(store, file, from, item);
					const key = String(event.addressKey);
					expect(key).toMatch(/^[a-z2-7]{8,}$/);
					expect(replyTo, from).toBe(`reply+${key}@${domain}`);
					expect(envelopeFrom, from).toBe(`bounce+${key}@${domain}`);
				}
			});
		}
	}
});

describe('stickies: which tables must exist and how to create them without npm start', () => {
	const tables = DATA_TABLES as Record<string, Array<[string, string]>>;

	for (const file of WITH_TABLE_NOTES) {
		it(`data tables ${file}: names every table its nodes use, with exactly the set-up's columns and types`, () => {
			const wf = load('', file);
			const text = notes(wf);
			const used: string[] = [
				...new Set<string>(
					wf.nodes.filter((n: Json) => n.type === 'n8n-nodes-base.dataTable').map((n: Json) => n.parameters.dataTableId.value as string),
				),
			];
			expect(used.length).toBeGreaterThan(0);
			expect(text).toMatch(/\*\*Data tables\*\* tab → Create data table/);
			for (const table of used) {
				const line = new RegExp(`^- \`${table}\`: (.*)$`, 'm').exec(text);
				expect(line, `${file} lists ${table}`).not.toBeNull();
				// "a, b (string), c (date)" → { a: string, b: string, c: date }
				const listed: Record<string, string> = {};
				for (const group of line![1].matchAll(/([^()]+?)\s*\((\w+)\)(?:,\s*)?/g)) {
					for (const column of group[1]
						.split(',')
						.map((c) => c.trim())
						.filter(Boolean))
						listed[column] = group[2];
				}
				expect(listed, `${file}: ${table}`).toEqual(Object.fromEntries(tables[table]));
			}
		});

		it(`postgres ${file}: says to run schema.sql with psql, and where the file is`, () => {
			const text = notes(load('postgres', file));
			expect(text).toMatch(/`psql "[^"`]+" -f schema\.sql`/);
			expect(text).toContain('~/.n8n/nodes/node_modules/n8n-nodes-mail-cadence/dist/workflows/postgres/');
			expect(text).not.toMatch(/npm (start|run)/);
		});
	}

	it('the cadences say where replies and bounces go and what to set', () => {
		for (const store of STORES) {
			for (const file of CADENCES) {
				const text = notes(load(store, file));
				expect(text).toMatch(/`reply\+KEY@` and `bounce\+KEY@` the domain of \*\*From\*\*/);
				expect(text).toContain('*Own Addresses*');
			}
		}
	});
});
