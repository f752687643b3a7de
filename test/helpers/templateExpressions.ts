/** n8n's expression engine run on a template node's parameters, as if one earlier node had produced one item. */
import { Workflow, createRunExecutionData, type IDataObject, type IExecuteData, type INodeType, type IRunExecutionData } from 'n8n-workflow';
import { nodeTypesFor } from './n8n';
import { CADENCE_NODE_PREFIX, type Json } from './templates';

/** The node whose single output item the expressions read (`$('<name>').item`, `.first()`). */
export interface EarlierNode {
	name: string;
	type: string;
	json: IDataObject;
}

/** A passthrough node type: the Workflow only needs descriptions to evaluate expressions. */
const PASSTHROUGH = { description: { name: 'any', version: 1, properties: [], inputs: ['main'], outputs: ['main'] } } as unknown as INodeType;

/**
 * Evaluates an expression parameter of node `nodeName` (of template `wf`) as n8n would, for an input item paired to
 * the item `earlier` produced, so `$('<earlier>').item` resolves through the paired item.
 */
export function evaluateAfter(wf: Json, earlier: EarlierNode, nodeName: string, value: unknown, input: IDataObject): unknown {
	const workflow = new Workflow({
		id: 'wf',
		name: wf.name,
		nodes: [
			{ id: 'e', name: earlier.name, type: earlier.type, typeVersion: 1, position: [0, 0], parameters: {} },
			{ id: 'n', name: nodeName, type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [200, 0], parameters: {} },
		],
		connections: { [earlier.name]: { main: [[{ node: nodeName, type: 'main', index: 0 }]] } },
		active: false,
		nodeTypes: nodeTypesFor(PASSTHROUGH),
		settings: { timezone: 'UTC' },
	});
	const runExecutionData: IRunExecutionData = createRunExecutionData({
		resultData: {
			runData: { [earlier.name]: [{ startTime: 0, executionTime: 0, executionIndex: 0, source: [], data: { main: [[{ json: earlier.json }]] } }] },
		},
	});
	const items = [{ json: input, pairedItem: { item: 0 } }];
	const executeData: IExecuteData = {
		node: workflow.getNode(nodeName)!,
		data: { main: [items] },
		source: { main: [{ previousNode: earlier.name, previousNodeOutput: 0, previousNodeRun: 0 }] },
	};
	return workflow.expression.getParameterValue(value as string, runExecutionData, 0, 0, nodeName, items, 'manual', {}, executeData);
}

/** Every string of a parameter tree evaluated as in evaluateAfter (expressions resolved), as getNodeParameter hands them to the node. */
export function resolveAfter(wf: Json, earlier: EarlierNode, nodeName: string, parameters: unknown, input: IDataObject): unknown {
	if (typeof parameters === 'string') return parameters.startsWith('=') ? evaluateAfter(wf, earlier, nodeName, parameters, input) : parameters;
	if (Array.isArray(parameters)) return parameters.map((p) => resolveAfter(wf, earlier, nodeName, p, input));
	if (parameters && typeof parameters === 'object')
		return Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, resolveAfter(wf, earlier, nodeName, v, input)]));
	return parameters;
}

/** Template 5's trigger, `New mail`, having produced `event`. */
const newMail = (event: IDataObject): EarlierNode => ({ name: 'New mail', type: `${CADENCE_NODE_PREFIX}cadenceInboxTrigger`, json: event });

/** evaluateAfter for an input item (`event` itself unless given) that descends from the `New mail` event `event`. */
export const evaluateAfterNewMail = (wf: Json, nodeName: string, value: unknown, event: IDataObject, input: IDataObject = event): unknown =>
	evaluateAfter(wf, newMail(event), nodeName, value, input);

/** resolveAfter for an input item (`event` itself unless given) that descends from the `New mail` event `event`. */
export const resolveAfterNewMail = (wf: Json, nodeName: string, parameters: unknown, event: IDataObject, input: IDataObject = event): unknown =>
	resolveAfter(wf, newMail(event), nodeName, parameters, input);
