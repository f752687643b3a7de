/**
 * Runs a node's `execute` inside n8n-core's real ExecuteContext (the class n8n itself uses), so parameters are
 * resolved with n8n's expression engine and defaults, `continueOnFail`, `pairedItem` and credentials behave as in a
 * running n8n. Only the credential store is replaced: credentials are handed in decrypted.
 */
import { randomUUID } from 'node:crypto';
import { ExecuteContext } from 'n8n-core';
import {
	Workflow,
	createRunExecutionData,
	type ICredentialDataDecryptedObject,
	type IExecuteData,
	type INode,
	type INodeExecutionData,
	type INodeType,
	type INodeTypes,
	type IRunExecutionData,
	type IWorkflowExecuteAdditionalData,
	type IDataObject,
} from 'n8n-workflow';

export interface RunNodeOptions {
	parameters?: IDataObject;
	/** Items of the first input (each a json object, or an item with `json`); `inputs` gives several inputs. */
	items?: readonly object[];
	inputs?: Array<readonly object[]>;
	/** Credentials by type name, decrypted. */
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	continueOnFail?: boolean;
	timezone?: string;
	typeVersion?: number;
	/** Static data of the workflow (what `getWorkflowStaticData` reads and writes). */
	staticData?: IDataObject;
	/** The execution's id; by default a new one per run, as n8n gives every execution its own. */
	executionId?: string;
}

export interface RunNodeResult {
	/** One array of items per output. */
	outputs: INodeExecutionData[][];
	/** The first output's json, for the common case. */
	json: IDataObject[];
	context: ExecuteContext;
	workflow: Workflow;
}

function toItems(items: readonly object[] | undefined): INodeExecutionData[] {
	return (items ?? []).map((item, index) => {
		const execItem =
			item && typeof item === 'object' && 'json' in item && typeof item.json === 'object'
				? (item as INodeExecutionData)
				: { json: item as IDataObject };
		return { pairedItem: { item: index }, ...execItem };
	});
}

export function nodeTypesFor(nodeType: INodeType): INodeTypes {
	return {
		getByName: () => nodeType,
		getByNameAndVersion: () => nodeType,
		getKnownTypes: () => ({}),
	} as unknown as INodeTypes;
}

export function buildWorkflow(nodeType: INodeType, opts: RunNodeOptions): { workflow: Workflow; node: INode } {
	const credentials = Object.fromEntries(Object.keys(opts.credentials ?? {}).map((type) => [type, { id: `cred-${type}`, name: type }]));
	const node: INode = {
		id: 'node-under-test',
		name: 'Node Under Test',
		type: `n8n-nodes-mail-cadence.${nodeType.description.name}`,
		typeVersion:
			opts.typeVersion ?? (Array.isArray(nodeType.description.version) ? Math.max(...nodeType.description.version) : nodeType.description.version),
		position: [0, 0],
		parameters: (opts.parameters ?? {}) as INode['parameters'],
		credentials,
		...(opts.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
	};
	const workflow = new Workflow({
		id: 'wf-test',
		name: 'test',
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: nodeTypesFor(nodeType),
		settings: { timezone: opts.timezone ?? 'UTC' },
		staticData: opts.staticData,
	});
	return { workflow, node: workflow.getNode(node.name)! };
}

export function additionalDataFor(
	credentials: Record<string, ICredentialDataDecryptedObject> = {},
	executionId = `exec-test-${randomUUID()}`,
): IWorkflowExecuteAdditionalData {
	return {
		credentialsHelper: {
			getDecrypted: async (_ad: unknown, _nodeCreds: unknown, type: string) => {
				if (!credentials[type]) throw new Error(`no credentials of type ${type} in the test`);
				return credentials[type];
			},
			getCredentialsProperties: () => [],
		},
		executionId,
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678/',
		webhookBaseUrl: 'http://localhost:5678/webhook',
		webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
		formWaitingBaseUrl: 'http://localhost:5678/form-waiting',
		variables: {},
		userId: 'user-test',
		currentNodeParameters: undefined,
		executionTimeoutTimestamp: undefined,
		setExecutionStatus: () => {},
		hooks: undefined,
	} as unknown as IWorkflowExecuteAdditionalData;
}

export async function runNode(nodeType: INodeType, opts: RunNodeOptions = {}): Promise<RunNodeResult> {
	const { workflow, node } = buildWorkflow(nodeType, opts);
	const inputs = (opts.inputs ?? [opts.items ?? []]).map(toItems);
	const inputData = { main: inputs };
	const runExecutionData: IRunExecutionData = createRunExecutionData();
	const executeData: IExecuteData = { node, data: inputData, source: null };
	const context = new ExecuteContext(
		workflow,
		node,
		additionalDataFor(opts.credentials, opts.executionId),
		'manual',
		runExecutionData,
		0,
		inputs[0],
		inputData,
		executeData,
		[],
		new AbortController().signal,
	);
	if (!nodeType.execute) throw new Error(`${nodeType.description.name} has no execute()`);
	const outputs = ((await nodeType.execute.call(context)) ?? []) as INodeExecutionData[][];
	return { outputs, json: (outputs[0] ?? []).map((i) => i.json), context, workflow };
}
