/**
 * Runs a polling trigger's `poll()` inside n8n-core's real PollContext, so parameters, credentials, the mode and
 * static data behave as in a running n8n. Static data is handed in and returned as JSON, which is what n8n stores
 * between polls (and what a queue-mode worker in another process would load).
 */
import { PollContext } from 'n8n-core';
import type { ICredentialDataDecryptedObject, IDataObject, INodeExecutionData, INodeType, WorkflowExecuteMode } from 'n8n-workflow';
import { additionalDataFor, buildWorkflow } from './n8n';

export interface RunPollOptions {
	parameters?: IDataObject;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	/** Static data saved after the previous poll (JSON); undefined on first activation. */
	staticData?: IDataObject;
	/** `trigger` for an active workflow, `manual` for a test run in the editor. */
	mode?: WorkflowExecuteMode;
	timezone?: string;
}

export interface RunPollResult {
	/** What poll() returned: null when it had nothing to emit. */
	response: INodeExecutionData[][] | null;
	items: IDataObject[];
	/** The node's static data after the poll, as JSON (what n8n would save). */
	staticData: IDataObject;
	/** Whether n8n would see the static data as changed. */
	staticDataChanged: boolean;
}

export async function runPoll(nodeType: INodeType, opts: RunPollOptions = {}): Promise<RunPollResult> {
	if (!nodeType.poll) throw new Error(`${nodeType.description.name} has no poll()`);
	const staticData = opts.staticData ? (JSON.parse(JSON.stringify(opts.staticData)) as IDataObject) : {};
	const { workflow, node } = buildWorkflow(nodeType, {
		parameters: opts.parameters,
		credentials: opts.credentials,
		timezone: opts.timezone,
		staticData,
	});
	const mode = opts.mode ?? 'trigger';
	const context = new PollContext(workflow, node, additionalDataFor(opts.credentials), mode, mode === 'manual' ? 'manual' : 'activate');
	const response = ((await nodeType.poll.call(context)) ?? null) as INodeExecutionData[][] | null;
	const saved = JSON.parse(JSON.stringify(workflow.staticData)) as IDataObject;
	const changed = Boolean((workflow.staticData as IDataObject).__dataChanged);
	delete saved.__dataChanged;
	return { response, items: (response?.[0] ?? []).map((i) => i.json), staticData: saved, staticDataChanged: changed };
}
