/**
 * Running a Postgres template node's SQL as n8n would: its query parameters evaluated by n8n's expression engine,
 * and the values formatted into the text the way n8n's Postgres node does.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ExecuteContext } from 'n8n-core';
import { Workflow, createRunExecutionData, type IDataObject, type INode, type INodeExecutionData, type INodeType } from 'n8n-workflow';
import { additionalDataFor, nodeTypesFor } from './n8n';

const ROOT = join(__dirname, '..', '..');
type Json = IDataObject;

// n8n's Postgres node formats values into the text with pg-promise (helpers.concat → as.format); the pinned runtime
// has it. Without the runtime, the same values go as server-side parameters, which mean the same for `$1::jsonb`.
const runtimeRequire = createRequire(join(ROOT, '.n8n-runtime', 'node_modules', 'n8n-nodes-base', 'package.json'));
export let pgpFormat: ((query: string, values: unknown[]) => string) | null = null;
try {
	const pgp = runtimeRequire('pg-promise')();
	pgpFormat = (query, values) => pgp.as.format(query, values);
} catch {
	pgpFormat = null;
}

/**
 * The query parameters the node would compute for each input item: the template's `options.queryReplacement`
 * evaluated by n8n's expression engine in a real ExecuteContext (`$json`, `$input.all()`, `$now` in the workflow's
 * time zone). `$('Trigger').item.json` is the trigger's item, which these tests pass as the input item.
 */
export function queryValues(node: INode, items: readonly Json[], timezone = 'UTC'): unknown[][] {
	const raw = String((node.parameters.options as Json | undefined)?.queryReplacement ?? '');
	const parameters = { ...node.parameters, options: { queryReplacement: raw.replace(/\$\('[^']+'\)\.item\.json/g, '$json') } };
	// the Workflow keeps only described parameters: describe the two the query needs, as the Postgres node does
	const properties = [
		{ displayName: 'Query', name: 'query', type: 'string', default: '' },
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			default: {},
			options: [{ displayName: 'Query Parameters', name: 'queryReplacement', type: 'string', default: '' }],
		},
	];
	const nodeType = { description: { name: 'postgres', version: 2.6, properties, inputs: ['main'], outputs: ['main'] } } as unknown as INodeType;
	const testNode: INode = {
		id: 'pg',
		name: node.name,
		type: 'n8n-nodes-base.postgres',
		typeVersion: 2.6,
		position: [0, 0],
		parameters: parameters as INode['parameters'],
	};
	const workflow = new Workflow({
		id: 'wf',
		name: 'wf',
		nodes: [testNode],
		connections: {},
		active: false,
		nodeTypes: nodeTypesFor(nodeType),
		settings: { timezone },
	});
	const input: INodeExecutionData[] = items.map((json, item) => ({ json, pairedItem: { item } }));
	const context = new ExecuteContext(
		workflow,
		workflow.getNode(node.name)!,
		additionalDataFor(),
		'manual',
		createRunExecutionData(),
		0,
		input,
		{ main: [input] },
		{ node: workflow.getNode(node.name)!, data: { main: [input] }, source: null },
		[],
		new AbortController().signal,
	);
	const perItem = node.executeOnce ? [0] : input.map((_, i) => i);
	return perItem.map((i) => {
		if (!raw) return [];
		const value = context.getNodeParameter('options.queryReplacement', i) as unknown;
		// Node version ≥ 2.5 takes a JSON string as one value
		if (typeof value !== 'string') throw new Error(`${node.name}: query parameters evaluate to ${typeof value}`);
		JSON.parse(value);
		return [value];
	});
}
