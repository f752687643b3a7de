/** Calls the chosen operation's execute; an operation this node does not have is an error, never a silent no-op. */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import * as classifyMessage from './classifyMessage.operation';
import * as fetchAndClassify from './fetchAndClassify.operation';

const operations: Record<string, (this: IExecuteFunctions, items: INodeExecutionData[]) => Promise<INodeExecutionData[]>> = {
	classifyMessage: classifyMessage.execute,
	fetchAndClassify: fetchAndClassify.execute,
};

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as string;
	const execute = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
	if (!execute) {
		throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported by Cadence Inbox`, {
			description: `Choose one of: ${Object.keys(operations).join(', ')}`,
		});
	}
	return [await execute.call(this, this.getInputData())];
}
