/**
 * The editor without traps, in a real n8n and Chromium: every shipped template (Data-table and Postgres sets) opens
 * with every node known and no issues marker, and every Cadence node's panel (each operation) shows the parameters
 * its description shows for those values. Screenshots of canvases and panels go to .test-servers/editor/.
 * Mandatory under CI; elsewhere skipped with the reason printed.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	canvasNodes,
	canvasProblems,
	chromiumMissing,
	clippedStickies,
	closePanel,
	EDITOR_SCREENSHOTS,
	launchEditorBrowser,
	missingLabels,
	openPanel,
	openWorkflow,
	overlappingNodes,
	readPanel,
	screenshot,
	signIn,
	type CanvasProblem,
	type PanelView,
} from '../helpers/editorBrowser';
import {
	cadenceNodeDescriptions,
	expectedLabels,
	installedNodesDir,
	operationsOf,
	PACKAGE_NAME,
	visibleCredentials,
	type NodeDescription,
} from '../helpers/editorDescriptions';
import { n8nAvailability, startN8nInstance, type N8nInstance } from '../helpers/n8nInstance';
import type { Json } from '../helpers/templates';
// @ts-expect-error: plain ESM script without type declarations
import { DEFAULT_OWNER, ensureDataTables, ensureOwner } from '../../scripts/cadence-setup.mjs';

const WORKFLOWS = join(__dirname, '..', '..', 'workflows');

function why(): string | null {
	const chromium = chromiumMissing();
	if (chromium) return chromium;
	const n8n = n8nAvailability();
	return n8n.ok ? null : n8n.reason;
}

const skipReason = why();
if (skipReason && process.env.CI) throw new Error(`editor test is mandatory under CI: ${skipReason}`);
if (skipReason) console.log(`[e2e] SKIPPED: ${skipReason}`);

/** Every credential the templates name, fake but well formed (loopback, nothing listens: the editor never connects). */
function credentials(port: number): Json[] {
	const store = { host: '127.0.0.1', port: 9, database: 'cadence', user: 'cadence', password: 'editor-test', ssl: 'disable' };
	return [
		{
			id: 'edSmtp',
			name: 'Cadence SMTP',
			type: 'cadenceSmtpApi',
			data: { host: '127.0.0.1', port: 9, tls: 'none', user: '', password: '', poolSize: 2, maxPerSecond: 0 },
		},
		{
			id: 'edImap',
			name: 'Cadence IMAP',
			type: 'cadenceImapApi',
			data: { host: '127.0.0.1', port: 9, secure: 'none', user: 'outreach', password: 'editor-test' },
		},
		{
			id: 'edMail',
			name: 'SMTP account',
			type: 'smtp',
			data: { host: '127.0.0.1', port: 9, secure: false, disableStartTls: true, user: '', password: '' },
		},
		{
			id: 'edTrack',
			name: 'Cadence Tracking',
			type: 'cadenceTrackingApi',
			data: { baseUrl: `http://127.0.0.1:${port}/webhook/editor/t`, secrets: 'editor-secret-with-enough-entropy-2026', maxAgeDays: 0 },
		},
		{ id: 'edStore', name: 'Cadence store', type: 'postgres', data: store },
		{ id: 'edLedger', name: 'Cadence store ledger', type: 'cadencePostgresApi', data: store },
		{ id: 'edErase', name: 'Cadence erasure secret', type: 'crypto', data: { hmacSecret: 'editor-erasure-secret-2026' } },
	];
}

interface Template {
	file: string;
	wf: Json;
	id?: string;
}

function templates(): Template[] {
	const list: Template[] = [];
	for (const dir of ['', 'postgres']) {
		for (const f of readdirSync(join(WORKFLOWS, dir))
			.filter((x) => x.endsWith('.json'))
			.sort()) {
			const file = dir ? `${dir}/${f}` : f;
			list.push({ file, wf: JSON.parse(readFileSync(join(WORKFLOWS, file), 'utf8')) });
		}
	}
	return list;
}

/** The templates name credentials by name only (ids differ per instance); give them this instance's ids. */
function withCredentialIds(wf: Json, creds: Json[]): Json {
	const byName = new Map(creds.map((c) => [`${c.type}:${c.name}`, c.id]));
	const nodes = wf.nodes.map((n: Json) => {
		if (!n.credentials) return n;
		const c: Json = {};
		for (const [type, ref] of Object.entries(n.credentials as Record<string, Json>))
			c[type] = { ...ref, id: ref.id ?? byName.get(`${type}:${ref.name}`) };
		return { ...n, credentials: c };
	});
	return { ...wf, nodes };
}

/** The credentials a scratch node of this description gets: one of each type it can use. */
function scratchCredentials(desc: NodeDescription, creds: Json[]): Json {
	const out: Json = {};
	for (const c of desc.credentials) {
		const cred = creds.find((x) => x.type === c.name);
		if (cred) out[c.name] = { id: cred.id, name: cred.name };
	}
	return out;
}

interface ScratchNode {
	desc: NodeDescription;
	name: string;
	parameters: Json;
}

/** One node per Cadence node type and operation, plus the switches that show more fields (Verify Tracking Tokens, Metrics' sections). */
function scratchNodes(descs: NodeDescription[]): ScratchNode[] {
	const out: ScratchNode[] = [];
	for (const desc of descs) {
		for (const op of operationsOf(desc)) {
			const base: Json = op ? { operation: op } : {};
			out.push({ desc, name: `${desc.displayName}${op ? ` ${op}` : ''}`, parameters: base });
			const verify = desc.properties.find((p) => p.name === 'verifyTokens');
			if (verify && expectedLabels(desc, base).includes(verify.displayName)) {
				out.push({ desc, name: `${desc.displayName}${op ? ` ${op}` : ''} verify on`, parameters: { ...base, verifyTokens: 'on' } });
			}
		}
		const switches = desc.properties.filter((p) => p.type === 'boolean' && !p.displayOptions);
		if (switches.length > 1) {
			out.push({ desc, name: `${desc.displayName} all sections`, parameters: Object.fromEntries(switches.map((p) => [p.name, true])) });
		}
	}
	return out;
}

interface PanelGap {
	/** `<node class>:<label>`. */
	key: string;
	text: string;
}

/** Fields the description shows for these values that the panel lacks, and a credential picker count that differs. */
function panelGaps(where: string, desc: NodeDescription, parameters: Json, panel: PanelView): PanelGap[] {
	const gaps = missingLabels(panel, expectedLabels(desc, parameters)).map((label) => ({
		key: `${desc.className}:${label}`,
		text: `${where}: ${label}`,
	}));
	const credTypes = visibleCredentials(desc, parameters);
	if (panel.credentialPickers !== credTypes.length) {
		gaps.push({
			key: `${desc.className}:credentials`,
			text: `${where}: ${panel.credentialPickers} credential pickers, expected ${credTypes.length} (${credTypes.join(', ')})`,
		});
	}
	return gaps;
}

describe.skipIf(Boolean(skipReason))('the editor without traps (n8n, Chromium)', () => {
	let n8n: N8nInstance;
	let browser: Browser;
	let page: Page;
	let creds: Json[];
	const tpls = skipReason ? [] : templates();
	// Descriptions of the build n8n runs (the package as installed), read once n8n is up.
	let descs: NodeDescription[] = [];
	let scratch: ScratchNode[] = [];
	let scratchId = '';
	let brokenId = '';
	const timings: Record<string, number> = {};
	const traps: string[] = [];

	beforeAll(async () => {
		const t0 = Date.now();
		n8n = await startN8nInstance({
			name: 'e2e-editor',
			workflows: () => [],
			credentials: (port) => (creds = credentials(port)),
		});
		timings.startN8nMs = Date.now() - t0;
		descs = cadenceNodeDescriptions(installedNodesDir(n8n.userFolder));
		scratch = scratchNodes(descs);
		const api = await ensureOwner(n8n.baseUrl);
		await ensureDataTables(api);
		// Imported through the REST API as a user's import does: unpublished, so no trigger runs.
		for (const t of tpls) {
			const wf = withCredentialIds(t.wf, creds);
			const created = await api.post('/workflows', { name: wf.name, nodes: wf.nodes, connections: wf.connections, settings: wf.settings ?? {} });
			t.id = created.id;
		}
		const scratchWf = {
			name: 'Editor test: every Cadence node',
			nodes: scratch.map((s, i) => ({
				id: `scratch-${i}`,
				name: s.name,
				type: s.desc.type,
				typeVersion: s.desc.version,
				position: [(i % 6) * 320, Math.floor(i / 6) * 240],
				parameters: s.parameters,
				credentials: scratchCredentials(s.desc, creds),
			})),
			connections: {},
			settings: {},
		};
		scratchId = (await api.post('/workflows', scratchWf)).id;
		// The detector's negative check: a misspelled Cadence type, a misspelled built-in type, and a known node without
		// its required credential.
		const broken = {
			name: 'Editor test: broken on purpose',
			nodes: [
				{ id: 'b1', name: 'Misspelled Cadence', type: `${PACKAGE_NAME}.cadenceSnd`, typeVersion: 1, position: [0, 0], parameters: {} },
				{ id: 'b2', name: 'Misspelled built-in', type: 'n8n-nodes-base.noOpp', typeVersion: 1, position: [300, 0], parameters: {} },
				{
					id: 'b3',
					name: 'No credential',
					type: `${PACKAGE_NAME}.cadenceTrackingTrigger`,
					typeVersion: 1,
					position: [600, 0],
					parameters: {},
					webhookId: 'b3',
				},
				{ id: 'b4', name: 'Fine', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [900, 0], parameters: {} },
			],
			connections: {},
			settings: {},
		};
		brokenId = (await api.post('/workflows', broken)).id;
		({ browser, page } = await launchEditorBrowser());
		await signIn(page, n8n.baseUrl, DEFAULT_OWNER);
		timings.readyMs = Date.now() - t0;
	}, 600_000);

	afterAll(async () => {
		await browser?.close();
		await n8n?.stop();
		console.log(`[editor] timings ${JSON.stringify(timings)}`);
		if (traps.length) console.log(`[editor] visual notes:\n  ${traps.join('\n  ')}`);
		// Beside the screenshots, for whoever looks at them.
		mkdirSync(EDITOR_SCREENSHOTS, { recursive: true });
		writeFileSync(join(EDITOR_SCREENSHOTS, 'notes.txt'), `${JSON.stringify(timings)}\n${traps.join('\n')}\n`);
	});

	it('the detector finds an unknown node type and a node with an issue', async () => {
		await openWorkflow(page, n8n.baseUrl, brokenId);
		await screenshot(page, 'negative-broken-workflow');
		const found = await canvasProblems(page);
		const names = found.map((p) => p.node).sort();
		expect(names).toEqual(['Misspelled Cadence', 'Misspelled built-in', 'No credential']);
		expect(found.find((p) => p.node === 'Misspelled built-in')?.marker).toBe('unknown-type');
		expect(found.find((p) => p.node === 'No credential')?.marker).toBe('issues');
	}, 120_000);

	it('every template opens with every node known and no issues marker', async () => {
		const t0 = Date.now();
		const problems: Array<CanvasProblem & { template: string }> = [];
		for (const t of tpls) {
			await openWorkflow(page, n8n.baseUrl, t.id!);
			await screenshot(page, `canvas-${t.file}`);
			for (const p of await canvasProblems(page)) problems.push({ ...p, template: t.file });
			const onCanvas = await canvasNodes(page);
			const expected = t.wf.nodes.filter((n: Json) => n.type !== 'n8n-nodes-base.stickyNote').map((n: Json) => n.name);
			expect(onCanvas.map((n) => n.name).sort(), `${t.file}: nodes on the canvas`).toEqual([...expected].sort());
			for (const pair of await overlappingNodes(page)) traps.push(`${t.file}: nodes overlap on the canvas: ${pair.join(' / ')}`);
			for (const c of await clippedStickies(page)) {
				traps.push(`${t.file}: sticky "${c.title}" is cut off: its text is ${c.textHeight} px tall in a ${c.stickyHeight} px sticky`);
			}
			for (const n of onCanvas.filter((x) => x.type.startsWith(`${PACKAGE_NAME}.`))) {
				// A camelCase word in a subtitle is an option value or parameter name, not the label a user picked.
				if (/\b[a-z]+[A-Z][A-Za-z]*\b/.test(n.subtitle)) traps.push(`${t.file}: "${n.name}" subtitle shows an internal name: "${n.subtitle}"`);
			}
		}
		timings.templatesMs = Date.now() - t0;
		expect(problems).toEqual([]);
	}, 600_000);

	it('each Cadence node panel in the templates shows the parameters its description shows for its values', async () => {
		const t0 = Date.now();
		const missing: PanelGap[] = [];
		let panels = 0;
		// One panel per node type and set of shown fields: the Data-table and Postgres sets share most Cadence nodes.
		const seen = new Set<string>();
		for (const t of tpls) {
			const todo = t.wf.nodes.filter((n: Json) => {
				if (!n.type.startsWith(`${PACKAGE_NAME}.`) || n.disabled) return false;
				const desc = descs.find((d) => d.type === n.type)!;
				const key = `${n.type}|${expectedLabels(desc, n.parameters).join('|')}|${visibleCredentials(desc, n.parameters).join('|')}`;
				if (seen.has(key)) return false;
				seen.add(key);
				return true;
			});
			if (!todo.length) continue;
			await openWorkflow(page, n8n.baseUrl, t.id!);
			for (const n of todo) {
				const desc = descs.find((d) => d.type === n.type)!;
				const { covered } = await openPanel(page, n.name);
				if (covered) traps.push(`${t.file}: "${n.name}" is covered by another element on the canvas`);
				const panel = await readPanel(page);
				await screenshot(page, `panel-${t.file}-${n.name}`);
				await closePanel(page);
				panels++;
				missing.push(...panelGaps(`${t.file} "${n.name}"`, desc, n.parameters, panel));
			}
		}
		timings.templatePanels = panels;
		timings.templatePanelsMs = Date.now() - t0;
		expect(missing.map((m) => m.text)).toEqual([]);
	}, 600_000);

	it('every operation of every Cadence node shows its parameters; Verify Tracking Tokens On shows the tracking credential', async () => {
		const t0 = Date.now();
		await openWorkflow(page, n8n.baseUrl, scratchId);
		await screenshot(page, 'canvas-scratch-every-node');
		const missing: PanelGap[] = [];
		const covered = new Set(scratch.map((s) => `${s.desc.className}:${s.parameters.operation ?? ''}`));
		for (const d of descs) for (const op of operationsOf(d)) expect(covered.has(`${d.className}:${op ?? ''}`)).toBe(true);
		for (const s of scratch) {
			await openPanel(page, s.name);
			const panel = await readPanel(page);
			await screenshot(page, `panel-scratch-${s.name}`);
			await closePanel(page);
			missing.push(...panelGaps(`"${s.name}"`, s.desc, s.parameters, panel));
			const credTypes = visibleCredentials(s.desc, s.parameters);
			if (s.parameters.verifyTokens === 'on') {
				expect(credTypes, s.name).toContain('cadenceTrackingApi');
				expect(panel.credentialsText, `${s.name}: the tracking credential is shown`).toContain('Cadence Tracking');
			}
		}
		timings.scratchPanels = scratch.length;
		timings.scratchPanelsMs = Date.now() - t0;
		expect(missing.map((m) => m.text)).toEqual([]);
	}, 600_000);
});
