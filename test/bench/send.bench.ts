/**
 * Send bench: 2,000 messages (2 KB HTML, personalised per recipient) to a local smtp-server sink, three ways in
 * one run:
 *   - Cadence Send: the node through n8n-core's ExecuteContext (expressions per item, tracking: pixel, 6 tracked
 *     links, unsubscribe headers, tokens), pooled engine, 5 connections; and the core path alone (render + engine);
 *   - nodemailer with a new transport per message, one after the other (what n8n's Send Email node does);
 *   - bare pooled nodemailer, 5 connections, no tracking (the practical limit).
 * The sink runs in its own process (so it does not share the sender's event loop), accepts everything, keeps
 * nothing, and greets at once: smtp-server's hard-coded 100 ms early-talker pause is removed per connection by
 * test/helpers/smtpSink.ts (otherwise the per-message transport would measure that pause). nodemailer 10.6 turns
 * Nagle off itself (setNoDelay) on every socket, ours included. Rounds are interleaved; medians are reported.
 *   BENCH_MESSAGES (default 2000), BENCH_ROUNDS (default 5).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node.js'; // .js: a bare "CadenceSend.node" resolves to the .node.json codex first
import { buildMimeMessage, htmlToTextPart, renderCadenceMessage } from '../../core/sendRender';
import { sendSmtpBatch, type SmtpServerConfig } from '../../transport/smtp';
import { createTracker } from '../../core/tracker';
import { runNode } from '../helpers/n8n';
import { startSmtpSink } from '../helpers/smtpSink';

const N = Number(process.env.BENCH_MESSAGES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const POOL = 5;
const SECRET = 'bench-secret-0123456789abcdefghijklmnop';
const BASE_URL = 'https://track.example.com/webhook/7d3f0c2a-bench/t';

// ---- the sink, in a child process -------------------------------------------------------------------------

const SINK_AUTH = { user: 'bench', pass: 'bench-password' };

async function runSinkProcess(starttls: boolean): Promise<void> {
	const sink = await startSmtpSink({ keepMessages: false, ...(starttls ? { starttls: true, auth: SINK_AUTH } : {}) });
	process.on('message', (m: { cmd: string }) => {
		if (m.cmd === 'count') process.send!({ accepted: sink.accepted, connections: sink.connections });
	});
	// Leave with the parent, however it ends (an orphaned sink would keep its port and CPU).
	process.on('disconnect', () => process.exit(0));
	process.send!({ port: sink.port });
}

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
	return new Promise((resolve) => {
		child.once('message', (m) => resolve(m as T));
		child.send({ cmd });
	});
}

// ---- the messages ---------------------------------------------------------------------------------------------

interface Contact {
	email: string;
	name: string;
	company: string;
	batchTag: string;
}

function contacts(n: number, offset: number): Contact[] {
	return Array.from({ length: n }, (_, i) => ({
		email: `buyer${offset + i}@company${(offset + i) % 400}.example.com`,
		name: `Buyer ${offset + i}`,
		company: `Company ${(offset + i) % 400}`,
		batchTag: 'English-Equipment Dealers-Marketing05',
	}));
}

// About 2 KB once personalised (before tracking): a typical plain marketing layout with six http(s) links.
const TEMPLATE = `<!doctype html><html><head><meta charset="utf-8"><title>Catalog</title></head><body style="font-family:Arial,sans-serif;color:#222">
<table width="100%" cellpadding="0" cellspacing="0"><tr><td style="padding:24px">
<p>Dear NAME,</p>
<p>We are a manufacturer of industrial pumps and valves, exporting to 40 countries since 1998. For COMPANY we prepared
a short selection of the models that distributors in your region order most, with wholesale prices, minimum order
quantities and delivery times to the main ports. All models carry CE and ISO 9001 certificates, and we keep spare
parts in stock for ten years after a model leaves the catalog.</p>
<p><a href="https://www.example-pumps.com/catalog/2026?utm_source=mail&amp;utm_campaign=spring" style="color:#0a58ca">Download the 2026 catalog (PDF)</a></p>
<ul><li><a href="https://www.example-pumps.com/products/centrifugal">Centrifugal pumps</a> from 120 USD, 0.37 to 75 kW</li>
<li><a href="https://www.example-pumps.com/products/valves">Ball and gate valves</a>, DN15 to DN300, PN16 and PN40</li>
<li><a href="https://www.example-pumps.com/products/spares">Spare parts</a> shipped within 48 hours from our warehouse</li></ul>
<p>Distributors who order before the end of March get the 2025 prices and free sea freight to the port of their
choice for a full container. We also ship mixed containers, so a first order can combine pumps, valves and spares, and we
arrange inspection by SGS or Bureau Veritas on request.</p>
<p>Our team answers within one working day. You can also book a short call: <a href="https://calendar.example-pumps.com/sales">pick a time</a>.</p>
<p>Best regards,<br>Li Wei<br>Export Sales Manager<br><a href="mailto:liwei@example-pumps.com">liwei@example-pumps.com</a> · <a href="tel:+862112345678">+86 21 1234 5678</a></p>
<p style="font-size:11px;color:#888">Example Pumps Co., Ltd. · 88 Industrial Road, Shanghai · <a href="https://www.example-pumps.com/privacy">Privacy</a> ·
<a href="[[unsubscribeUrl]]">Unsubscribe</a></p>
</td></tr></table></body></html>`;
const personalise = (c: Contact) => TEMPLATE.replace('NAME', c.name).replace('COMPANY', c.company);
const SUBJECT = (c: Contact) => `${c.name}, the 2026 pump catalog with distributor prices`;
const FROM = 'Li Wei <liwei@example-pumps.com>';

// ---- the senders: prepare (not timed), then send (timed) -----------------------------------------------------------

interface Scenario {
	name: 'plain' | 'starttls';
	port: number;
}

type Sender = (scenario: Scenario, offset: number) => () => Promise<void>;

const viaNode: Sender = (scenario, offset) => {
	const items = contacts(N, offset);
	const smtp: ICredentialDataDecryptedObject =
		scenario.name === 'starttls'
			? { tls: 'starttls', user: SINK_AUTH.user, password: SINK_AUTH.pass, allowSelfSigned: true }
			: { tls: 'none', user: '', password: '' };
	return async () => {
		const { json } = await runNode(new CadenceSend(), {
			parameters: {
				from: FROM,
				subject: '={{ $json.name }}, the 2026 pump catalog with distributor prices',
				html: `=${TEMPLATE.replace('NAME', '{{ $json.name }}').replace('COMPANY', '{{ $json.company }}')}`,
				campaign: 'spring-2026',
				options: { concurrency: POOL, companyDailyCap: 0 },
			},
			items,
			credentials: {
				cadenceSmtpApi: { host: '127.0.0.1', port: scenario.port, poolSize: POOL, maxPerSecond: 0, ...smtp },
				cadenceTrackingApi: { baseUrl: BASE_URL, secrets: SECRET, maxAgeDays: 0 },
			},
		});
		const sent = json.filter((e) => e.type === 'sent').length;
		if (sent !== N) throw new Error(`node sent ${sent} of ${N}: ${JSON.stringify(json.find((e) => e.type !== 'sent'))}`);
	};
};

const viaCore: Sender = (scenario, offset) => {
	const list = contacts(N, offset);
	const server: SmtpServerConfig =
		scenario.name === 'starttls'
			? { host: '127.0.0.1', port: scenario.port, tls: 'starttls', user: SINK_AUTH.user, password: SINK_AUTH.pass, allowUnauthorizedCerts: true }
			: { host: '127.0.0.1', port: scenario.port, tls: 'none' };
	return async () => {
		const tracker = createTracker({ secrets: [SECRET], baseUrl: BASE_URL });
		const jobs = list.map((c) => ({
			message: async () => {
				const msg = renderCadenceMessage(
					{
						from: FROM,
						to: c.email,
						subject: SUBJECT(c),
						html: personalise(c),
						campaign: 'spring-2026',
						batchTag: c.batchTag,
						variant: '',
						sentAt: Date.now(),
					},
					{ tracker },
				);
				return { envelope: msg.envelope, raw: await buildMimeMessage(msg) };
			},
		}));
		const results = await sendSmtpBatch(server, jobs, { poolSize: POOL });
		const sent = results.filter((r) => r.status === 'sent').length;
		if (sent !== N) throw new Error(`core sent ${sent} of ${N}: ${JSON.stringify(results.find((r) => r.status !== 'sent'))}`);
	};
};

// The baselines send the same content without tracking: HTML plus the text part our node generates (computed here,
// outside the timing), so both sides build the same multipart/alternative MIME.
function plainMessages(offset: number) {
	return contacts(N, offset).map((c) => {
		const html = personalise(c).replace('[[unsubscribeUrl]]', BASE_URL);
		return { from: FROM, to: c.email, subject: SUBJECT(c), html, text: htmlToTextPart(html) };
	});
}

function transportOptions(scenario: Scenario) {
	return scenario.name === 'starttls'
		? { host: '127.0.0.1', port: scenario.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: SINK_AUTH }
		: { host: '127.0.0.1', port: scenario.port, secure: false, ignoreTLS: true };
}

const perMessageTransport: Sender = (scenario, offset) => {
	const messages = plainMessages(offset);
	return async () => {
		for (const m of messages) {
			const transport = nodemailer.createTransport(transportOptions(scenario));
			await transport.sendMail(m);
			transport.close();
		}
	};
};

const barePool: Sender = (scenario, offset) => {
	const messages = plainMessages(offset);
	return async () => {
		const transport = nodemailer.createTransport({ ...transportOptions(scenario), pool: true, maxConnections: POOL, maxMessages: Infinity });
		await Promise.all(messages.map((m) => transport.sendMail(m)));
		transport.close();
	};
};

// ---- run ----------------------------------------------------------------------------------------------------------

const SENDERS = { node: viaNode, core: viaCore, barePool, perMessage: perMessageTransport } as const;
type SenderName = keyof typeof SENDERS;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function measure(scenarioName: Scenario['name'], names: SenderName[]) {
	const child = fork(__filename, ['--sink', scenarioName], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
	const scenario: Scenario = { name: scenarioName, port };
	const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
	const times = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<SenderName, number[]>;
	let offset = 0;
	let expected = 0;
	const once = async (name: SenderName, record: boolean) => {
		const run = SENDERS[name](scenario, offset);
		gc();
		const t0 = process.hrtime.bigint();
		await run();
		const secs = Number(process.hrtime.bigint() - t0) / 1e9;
		offset += N;
		expected += N;
		const { accepted } = await ask<{ accepted: number }>(child, 'count');
		if (accepted !== expected) throw new Error(`sink accepted ${accepted}, expected ${expected} after ${name}`);
		if (record) {
			times[name].push(secs);
			console.log(`  ${scenarioName} round: ${name.padEnd(10)} ${(N / secs).toFixed(0).padStart(6)} msg/s`);
		}
	};
	// Warm-up (JIT, module loading) with every sender, then interleaved measured rounds.
	for (const name of names) await once(name, false);
	for (let r = 0; r < ROUNDS; r++) for (const name of names) await once(name, true);
	child.kill();
	return Object.fromEntries(names.map((n) => [n, N / median(times[n])])) as Record<SenderName, number>;
}

async function main(): Promise<void> {
	// BENCH_ONLY=core,barePool runs a subset (for profiling); the ratios need all four.
	const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean) as SenderName[];
	const names = (Object.keys(SENDERS) as SenderName[]).filter((n) => only.length === 0 || only.includes(n));
	const scenarios = (process.env.BENCH_SCENARIOS ?? 'plain,starttls').split(',') as Array<Scenario['name']>;
	const out: Record<string, unknown> = {
		messages: N,
		rounds: ROUNDS,
		htmlBytes: Buffer.byteLength(personalise(contacts(1, 0)[0])),
		poolConnections: POOL,
		sink: 'smtp-server in a child process, accepts everything, no disk writes, 100 ms greeting pause removed',
		nagle: 'off (nodemailer 10.6 calls setNoDelay on every SMTP socket, ours included)',
		goals: { vsPerMessage: 5, vsBarePool: 0.8 },
	};
	for (const scenario of scenarios) {
		const rate = await measure(scenario, names);
		if (only.length) continue;
		const r = {
			msgPerSecond: {
				cadenceSendNode: Math.round(rate.node),
				cadenceCorePath: Math.round(rate.core),
				nodemailerNewTransportPerMessage: Math.round(rate.perMessage),
				nodemailerBarePool: Math.round(rate.barePool),
			},
			ratios: {
				nodeVsPerMessage: +(rate.node / rate.perMessage).toFixed(2),
				nodeVsBarePool: +(rate.node / rate.barePool).toFixed(3),
				coreVsPerMessage: +(rate.core / rate.perMessage).toFixed(2),
				coreVsBarePool: +(rate.core / rate.barePool).toFixed(3),
			},
		};
		out[scenario] = r;
		const label = scenario === 'starttls' ? 'STARTTLS + AUTH PLAIN (as on a real submission port)' : 'plain SMTP, no TLS, no AUTH';
		console.log(`\n[${scenario}] ${label}: ${N} messages of ${out.htmlBytes} B HTML, medians of ${ROUNDS} interleaved rounds`);
		console.log(`  Cadence Send node (runNode, tracking on): ${r.msgPerSecond.cadenceSendNode} msg/s`);
		console.log(`  Cadence core path (render + engine):      ${r.msgPerSecond.cadenceCorePath} msg/s`);
		console.log(`  nodemailer, new transport per message:    ${r.msgPerSecond.nodemailerNewTransportPerMessage} msg/s`);
		console.log(`  nodemailer, bare pool of ${POOL}:               ${r.msgPerSecond.nodemailerBarePool} msg/s`);
		console.log(
			`  node / per-message = ${r.ratios.nodeVsPerMessage}x (goal >= 5x); node / bare pool = ${(r.ratios.nodeVsBarePool * 100).toFixed(1)}% (goal >= 80%)`,
		);
		console.log(`  core / per-message = ${r.ratios.coreVsPerMessage}x; core / bare pool = ${(r.ratios.coreVsBarePool * 100).toFixed(1)}%`);
	}
	if (!only.length) writeFileSync('bench-results/send.json', JSON.stringify(out, null, 2));
}

const sinkArg = process.argv.indexOf('--sink');
if (sinkArg >= 0) void runSinkProcess(process.argv[sinkArg + 1] === 'starttls');
else
	main().then(
		// pooled transports and the IPC channel may hold the loop a little longer: the figures are written, leave
		() => process.exit(0),
		(err) => {
			console.error(err);
			process.exit(1);
		},
	);
