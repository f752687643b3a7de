/**
 * The templates' bench, inside the pinned n8n with the packed package (one n8n, one run, baselines side by side):
 *   views   Cadence Views (silent cadence presets) against n8n's own Filter node with the same rules, 100,000 contacts
 *   send    Cadence Send against n8n's own Send Email node, 2,000 messages (2 KB HTML) to a local SMTP sink
 *   memory  n8n's main-process memory during one silent-cadence execution with 30,000 due contacts
 *           (select → views → send to the sink): a day's batch of a million-contact base
 * Node times are n8n's own per-node execution times from the execution records (runData[node][0].executionTime),
 * so the Code node that makes the test data and n8n's webhook/save overhead are not counted on either side.
 * Env: BENCH_VIEWS_CONTACTS (100000), BENCH_SEND_MESSAGES (2000), BENCH_DUE_CONTACTS (30000).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { n8nAvailability, N8N_VERSION, startN8nInstance, type N8nInstance } from '../helpers/n8nInstance';
import { startSmtpSink } from '../helpers/smtpSink';

const VIEWS_N = Number(process.env.BENCH_VIEWS_CONTACTS ?? 100_000);
const SEND_N = Number(process.env.BENCH_SEND_MESSAGES ?? 2_000);
const DUE_N = Number(process.env.BENCH_DUE_CONTACTS ?? 30_000);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const availability = n8nAvailability();
if (!availability.ok) {
	console.log(`n8n bench skipped: ${availability.reason}`);
	process.exit(0);
}

const BODY =
	`<html><body><p>Hello {{name}},</p>${'<p>We make spare parts for construction equipment; our catalogue lists dealer prices. '.repeat(20)}</p><p><a href="https://acme.example/catalogue">Catalogue</a></p></body></html>`.slice(
		0,
		2048,
	);

// Code node: contacts like a real base (tags as a string, as the Data table stores them)
const contactsCode = (n: number) => `
const locals = ['info','sales','john','maria','hr','purchasing','noreply','ivan','ceo','office'];
const tlds = ['com','de','co.uk','ru','es','com.br','cn','qq.com','org','in'];
const out = [];
for (let i = 0; i < ${n}; i++) {
  const d = (i * 7919) % 50000;
  const tags = ['English-Equipment Dealers-Marketing09'];
  if (i % 7 === 0) tags.push('English-Equipment Dealers-Read09');
  if (i % 23 === 0) tags.push('Risk-Unsubscribed');
  if (i % 29 === 0) tags.push('Intent-Asked price');
  tags.push('Trade show 2025');
  out.push({ json: { email: locals[i % 10] + i + '@company' + d + '.' + tlds[d % 10], tags: tags.join(', '), name: 'Contact ' + i } });
}
return out;`;

const sinkCode = (n: number) => `
const out = [];
for (let i = 0; i < ${n}; i++) out.push({ json: { email: 'user' + i + '@dealer' + (i % 500) + '.test', name: 'Contact ' + i, tags: 'English-Equipment Dealers-Marketing09', batchTag: 'English-Equipment Dealers-Marketing09' } });
return out;`;

const NO_SEND_LOCAL = ['hr@', 'noreply@', 'marketing@', 'jobs@', 'customerservice@'];
const NO_SEND_DOMAINS = ['qq.com', '163.com', 'aliyun.com', '263.com', '88.com', '188.com', '.cn', '.tw', '.hk', '.in'];
const NO_SEND_CONTAINS = ['.gov', '.org', '.edu'];

function filterConditions() {
	let k = 0;
	const c = (left: string, op: string, right: string) => ({
		id: `c${k++}`,
		leftValue: left,
		rightValue: right,
		operator: { type: 'string', operation: op },
	});
	return {
		options: { caseSensitive: false, leftValue: '', typeValidation: 'loose', version: 2 },
		combinator: 'and',
		conditions: [
			...NO_SEND_LOCAL.map((v) => c('={{ $json.email }}', 'notStartsWith', v)),
			...NO_SEND_DOMAINS.map((v) => c('={{ $json.email }}', 'notEndsWith', v)),
			...NO_SEND_CONTAINS.map((v) => c('={{ $json.email }}', 'notContains', v)),
			c('={{ $json.tags }}', 'notContains', '-Read'),
			c('={{ $json.tags }}', 'notContains', 'Intent-'),
			c('={{ $json.tags }}', 'notContains', 'Risk-'),
		],
	};
}

function workflow(id: string, path: string, data: string, nodes: Json[]): Json {
	const all: Json[] = [
		{
			id: `${id}-hook`,
			name: 'Start',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: `${id}-hook`,
			parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', responseData: 'firstEntryJson', options: {} },
		},
		{ id: `${id}-data`, name: 'Data', type: 'n8n-nodes-base.code', typeVersion: 2, position: [200, 0], parameters: { jsCode: data } },
		...nodes.map((n, i) => ({ id: `${id}-${i}`, position: [400 + 200 * i, 0], typeVersion: 1, ...n })),
	];
	const names = all.map((n) => n.name);
	const connections = Object.fromEntries(names.slice(0, -1).map((n, i) => [n, { main: [[{ node: names[i + 1], type: 'main', index: 0 }]] }]));
	return { id, name: `Bench ${id}`, nodes: all, connections, settings: { executionOrder: 'v1' }, active: true };
}

// The unsubscribe link Cadence Send requires (the Send Email node gets the same bytes, as text).
const sendHtml = `${BODY.replace('{{name}}', '{{ $json.name }}')}<p><a href="[[unsubscribeUrl]]">Unsubscribe</a></p>`;
const PKG = 'n8n-nodes-mail-cadence';

async function run(n8n: N8nInstance, path: string, workflowId: string, measure: string[], sampleRss?: number) {
	const since = Number(n8n.executions().at(-1)?.id ?? 0);
	let peak = 0;
	const timer = sampleRss
		? setInterval(() => {
				try {
					const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${sampleRss}/status`, 'utf8'));
					if (m) peak = Math.max(peak, Number(m[1]) * 1024);
				} catch {
					// process gone
				}
			}, 50)
		: undefined;
	const t0 = Date.now();
	const res = await fetch(n8n.webhookUrl(path), { method: 'POST' });
	await res.text();
	const [exec] = await n8n.waitForExecutions(workflowId, 1, { sinceId: since, timeoutMs: 600_000 });
	const wall = Date.now() - t0;
	if (timer) clearInterval(timer);
	if (exec.status !== 'success')
		throw new Error(`${workflowId} ended ${exec.status}: ${JSON.stringify(exec.data?.resultData?.error)?.slice(0, 400)}`);
	const runData = exec.data?.resultData?.runData as Json;
	const times = Object.fromEntries(measure.map((n) => [n, runData[n][0].executionTime as number]));
	const counts = Object.fromEntries(measure.map((n) => [n, (runData[n][0].data.main as Json[][]).map((o) => (o ?? []).length)]));
	return { wall, times, counts, peakRss: peak };
}

function pidOnPort(port: number): number | undefined {
	const out = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout;
	const m = /pid=(\d+)/.exec(out);
	return m ? Number(m[1]) : undefined;
}

async function main() {
	const sink = await startSmtpSink({ keepMessages: false });
	const smtpCred = {
		id: 'benchSmtpCadence',
		name: 'Cadence SMTP bench',
		type: 'cadenceSmtpApi',
		data: { host: '127.0.0.1', port: sink.port, tls: 'none', user: '', password: '', poolSize: 5, maxPerSecond: 0 },
	};
	const trackCred = {
		id: 'benchTrackCadence',
		name: 'Cadence Tracking bench',
		type: 'cadenceTrackingApi',
		data: { baseUrl: 'http://127.0.0.1:9/webhook/x/t', secrets: 'bench-secret-0123456789abcdefghij', maxAgeDays: 0 },
	};
	const n8nSmtp = {
		id: 'benchSmtpN8n',
		name: 'SMTP bench',
		type: 'smtp',
		data: { host: '127.0.0.1', port: sink.port, secure: false, disableStartTls: true, user: '', password: '' },
	};
	const cadenceCreds = { cadenceSmtpApi: { id: smtpCred.id, name: smtpCred.name }, cadenceTrackingApi: { id: trackCred.id, name: trackCred.name } };
	const sendParams = {
		from: 'outreach@sender.test',
		to: '={{ $json.email }}',
		subject: '=Spare parts for {{ $json.name }}',
		html: `=${sendHtml}`,
		campaign: 'bench',
		batchTag: '={{ $json.batchTag }}',
		options: { concurrency: 5, companyDailyCap: 0 },
	};

	const wfs = [
		workflow('benchViews', 'bench-views', contactsCode(VIEWS_N), [
			{ name: 'Cadence Views', type: `${PKG}.cadenceViews`, parameters: { cadence: 'silent', domainCap: 0 } },
		]),
		workflow('benchFilter', 'bench-filter', contactsCode(VIEWS_N), [
			{ name: 'Filter', type: 'n8n-nodes-base.filter', typeVersion: 2.2, parameters: { conditions: filterConditions(), options: {} } },
		]),
		workflow('benchCadenceSend', 'bench-cadence-send', sinkCode(SEND_N), [
			{ name: 'Cadence Send', type: `${PKG}.cadenceSend`, parameters: sendParams, credentials: cadenceCreds },
		]),
		workflow('benchEmailSend', 'bench-email-send', sinkCode(SEND_N), [
			{
				name: 'Send Email',
				type: 'n8n-nodes-base.emailSend',
				typeVersion: 2.1,
				parameters: {
					fromEmail: 'outreach@sender.test',
					toEmail: '={{ $json.email }}',
					subject: '=Spare parts for {{ $json.name }}',
					emailFormat: 'html',
					html: `=${sendHtml}`,
					options: {},
				},
				credentials: { smtp: { id: n8nSmtp.id, name: n8nSmtp.name } },
			},
		]),
		workflow('benchDay', 'bench-day', contactsCode(DUE_N), [
			{
				name: 'Select Due',
				type: `${PKG}.cadenceBatch`,
				parameters: { operation: 'selectDueContacts', cadence: 'silent', calendar: { date: '2026-07-09' } },
			},
			{ name: 'Cadence Views', type: `${PKG}.cadenceViews`, parameters: { cadence: 'silent', domainCap: 20 } },
			{
				name: 'Cadence Send',
				type: `${PKG}.cadenceSend`,
				parameters: { ...sendParams, to: '={{ "user" + $itemIndex + "@dealer" + ($itemIndex % 500) + ".test" }}' },
				credentials: cadenceCreds,
			},
		]),
	];
	const n8n = await startN8nInstance({
		name: 'bench-n8n',
		workflows: () => wfs,
		credentials: () => [smtpCred, trackCred, n8nSmtp],
		env: { N8N_PAYLOAD_SIZE_MAX: '256', N8N_LOG_LEVEL: 'info' },
	});
	try {
		const pid = pidOnPort(n8n.port);
		const views = await run(n8n, 'bench-views', 'benchViews', ['Cadence Views']);
		const filter = await run(n8n, 'bench-filter', 'benchFilter', ['Filter']);
		const cadenceSend = await run(n8n, 'bench-cadence-send', 'benchCadenceSend', ['Cadence Send']);
		const emailSend = await run(n8n, 'bench-email-send', 'benchEmailSend', ['Send Email']);
		const idleRss = pid ? Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024 : 0;
		const day = await run(n8n, 'bench-day', 'benchDay', ['Select Due', 'Cadence Views', 'Cadence Send'], pid);

		const perSec = (n: number, ms: number) => Math.round(n / (ms / 1000));
		const out = {
			n8n: N8N_VERSION,
			views: {
				contacts: VIEWS_N,
				cadenceViewsPerSecond: perSec(VIEWS_N, views.times['Cadence Views']),
				filterPerSecond: perSec(VIEWS_N, filter.times.Filter),
				kept: views.counts['Cadence Views'],
				filterKept: filter.counts.Filter,
			},
			send: {
				messages: SEND_N,
				cadenceSendPerSecond: perSec(SEND_N, cadenceSend.times['Cadence Send']),
				sendEmailPerSecond: perSec(SEND_N, emailSend.times['Send Email']),
			},
			day: {
				dueContacts: DUE_N,
				nodeMs: day.times,
				counts: day.counts,
				wallMs: day.wall,
				mainRssIdleMB: Math.round(idleRss / 2 ** 20),
				mainRssPeakMB: Math.round(day.peakRss / 2 ** 20),
			},
			sinkAccepted: sink.accepted,
		};
		console.log(
			`Cadence Views ${out.views.cadenceViewsPerSecond.toLocaleString()} items/s vs Filter node ${out.views.filterPerSecond.toLocaleString()} items/s (${(out.views.cadenceViewsPerSecond / out.views.filterPerSecond).toFixed(1)}×; kept ${views.counts['Cadence Views'][0]} vs ${filter.counts.Filter[0]})`,
		);
		console.log(
			`Cadence Send ${out.send.cadenceSendPerSecond} msg/s vs Send Email node ${out.send.sendEmailPerSecond} msg/s (${(out.send.cadenceSendPerSecond / out.send.sendEmailPerSecond).toFixed(1)}×)`,
		);
		console.log(
			`silent-cadence day with ${DUE_N} due contacts: node ms ${JSON.stringify(day.times)}, wall ${day.wall} ms; n8n main RSS ${out.day.mainRssIdleMB} MB idle → ${out.day.mainRssPeakMB} MB peak`,
		);
		writeFileSync('bench-results/n8n.json', JSON.stringify(out, null, 2));
	} finally {
		await n8n.stop();
		await sink.close();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
