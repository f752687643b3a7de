/** The shipped templates as tests and benches use them (no vitest here: benches import it too). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A template as shipped (`dir`: '' for the Data-table set, 'postgres' for the Postgres set), with an id, live. */
export function template(dir: string, file: string, id: string): Json {
	return { ...JSON.parse(readFileSync(join(ROOT, 'workflows', dir, file), 'utf8')), id, active: true };
}

/** Adds a webhook start beside a template's trigger, wired to the same first node, answering when the run ends. */
export function withWebhookStart(wf: Json, triggerName: string, path: string): Json {
	const first = wf.connections[triggerName].main[0][0].node;
	wf.nodes.push({
		parameters: { httpMethod: 'POST', path, responseMode: 'lastNode', responseData: 'allEntries', options: {} },
		id: `e2e-${path}`,
		name: 'E2E start',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		position: [0, 300],
		webhookId: `e2e-${path}`,
	});
	wf.connections['E2E start'] = { main: [[{ node: first, type: 'main', index: 0 }]] };
	return wf;
}

export function node(wf: Json, name: string): Json {
	const n = wf.nodes.find((x: Json) => x.name === name);
	if (!n) throw new Error(`template ${wf.name} has no node "${name}"`);
	return n;
}

export const waitFor = async <T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> => {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await probe();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 500));
	}
};

/** Whether `to` can be reached from `from` in a template (through output `output` of `from` when given, then any outputs). */
export function reaches(wf: Json, from: string, to: string, output?: number): boolean {
	const outputs: Json[][] = wf.connections[from]?.main ?? [];
	const queue: string[] = (output === undefined ? outputs.flat() : (outputs[output] ?? [])).map((c: Json) => c.node);
	const seen = new Set<string>();
	while (queue.length) {
		const name = queue.shift()!;
		if (name === to) return true;
		if (seen.has(name)) continue;
		seen.add(name);
		for (const out of wf.connections[name]?.main ?? []) for (const c of out ?? []) queue.push(c.node);
	}
	return false;
}

/** The type prefix of this package's nodes in a workflow. */
export const CADENCE_NODE_PREFIX = 'n8n-nodes-mail-cadence.';

/** The Cadence nodes of a template by name, each as the fields gulpfile.js compares between the two stores' twins. */
export function cadenceNodes(wf: Json): Record<string, string> {
	return Object.fromEntries(
		wf.nodes
			.filter((n: Json) => n.type.startsWith(CADENCE_NODE_PREFIX))
			.map((n: Json) => [
				n.name,
				JSON.stringify({
					type: n.type,
					typeVersion: n.typeVersion,
					parameters: n.parameters,
					credentials: n.credentials ?? {},
					disabled: Boolean(n.disabled),
				}),
			]),
	);
}

/** The text of every sticky note of a template, one per line. */
export function stickyNotes(wf: Json): string {
	return wf.nodes
		.filter((n: Json) => n.type === 'n8n-nodes-base.stickyNote')
		.map((n: Json) => n.parameters.content)
		.join('\n');
}
