/**
 * What the n8n editor should show in a Cadence node's panel, derived from the built node descriptions (the code n8n
 * loads), not from a hand-kept list: the top-level parameters and credentials whose displayOptions match the node's
 * parameter values.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PACKAGE_NAME = 'n8n-nodes-mail-cadence';

/** The repository's build. */
export const DIST_NODES = join(__dirname, '..', '..', 'dist', 'nodes');

/** The build n8n runs: the package as installed in an n8n user folder. */
export function installedNodesDir(userFolder: string): string {
	return join(userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE_NAME, 'dist', 'nodes');
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface NodeProperty {
	name: string;
	displayName: string;
	type: string;
	default?: unknown;
	displayOptions?: { show?: Record<string, unknown[]>; hide?: Record<string, unknown[]> };
	options?: Array<{ name: string; value: unknown }>;
}

export interface NodeDescription {
	/** Full type as workflows name it, e.g. n8n-nodes-mail-cadence.cadenceSend. */
	type: string;
	/** Class folder name, e.g. CadenceSend. */
	className: string;
	displayName: string;
	version: number;
	properties: NodeProperty[];
	credentials: Array<{ name: string; displayOptions?: NodeProperty['displayOptions'] }>;
}

/** Every Cadence node description from <nodesDir>/<Class>/<Class>.node.js. */
export function cadenceNodeDescriptions(nodesDir: string = DIST_NODES): NodeDescription[] {
	const out: NodeDescription[] = [];
	for (const dir of readdirSync(nodesDir)) {
		const file = readdirSync(join(nodesDir, dir)).find((f) => f.endsWith('.node.js'));
		if (!file) continue;
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const mod = require(join(nodesDir, dir, file)) as Record<string, new () => { description: Json }>;
		const NodeClass = Object.values(mod).find((v) => typeof v === 'function');
		if (!NodeClass) continue;
		const d = new NodeClass().description;
		out.push({
			type: `${PACKAGE_NAME}.${d.name}`,
			className: dir,
			displayName: d.displayName,
			version: Array.isArray(d.version) ? Math.max(...d.version) : d.version,
			properties: d.properties,
			credentials: d.credentials ?? [],
		});
	}
	return out;
}

/** The operations of a node with an `operation` parameter, else [undefined]. */
export function operationsOf(desc: NodeDescription): Array<string | undefined> {
	const op = desc.properties.find((p) => p.name === 'operation' && p.type === 'options');
	return op?.options ? op.options.map((o) => String(o.value)) : [undefined];
}

function matches(displayOptions: NodeProperty['displayOptions'], values: Json): boolean {
	if (!displayOptions) return true;
	for (const [key, allowed] of Object.entries(displayOptions.show ?? {})) {
		if (!allowed.includes(values[key])) return false;
	}
	for (const [key, denied] of Object.entries(displayOptions.hide ?? {})) {
		if (denied.includes(values[key])) return false;
	}
	return true;
}

/**
 * The node's parameter values as n8n resolves them: the set values, else the default of the first property of that
 * name that is shown (properties may share a name with different displayOptions, like Send's `senders`).
 */
export function resolvedValues(desc: NodeDescription, parameters: Json): Json {
	let values: Json = { ...parameters };
	for (let pass = 0; pass < 4; pass++) {
		const next: Json = {};
		for (const p of desc.properties) {
			if (p.name in next || !matches(p.displayOptions, values)) continue;
			next[p.name] = p.name in parameters ? parameters[p.name] : p.default;
		}
		values = { ...next, ...parameters };
	}
	return values;
}

/** The top-level parameters a panel shows as labelled fields (notices are text, not labels; hidden ones are not shown). */
export function visibleProperties(desc: NodeDescription, parameters: Json): NodeProperty[] {
	const values = resolvedValues(desc, parameters);
	return desc.properties.filter((p) => p.type !== 'hidden' && matches(p.displayOptions, values));
}

/** The credential types the panel shows a picker for. */
export function visibleCredentials(desc: NodeDescription, parameters: Json): string[] {
	const values = resolvedValues(desc, parameters);
	return desc.credentials.filter((c) => matches(c.displayOptions, values)).map((c) => c.name);
}

/** Labels expected in the panel: display names of the shown non-notice parameters, deduplicated. */
export function expectedLabels(desc: NodeDescription, parameters: Json): string[] {
	return [
		...new Set(
			visibleProperties(desc, parameters)
				.filter((p) => p.type !== 'notice' && p.type !== 'callout')
				.map((p) => p.displayName),
		),
	];
}
