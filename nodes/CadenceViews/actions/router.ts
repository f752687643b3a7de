import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { DEFAULT_VIEWS_OPERATION, type ViewsOperation } from './operation';
import * as splitByViews from './splitByViews.operation';
import * as verifyAddresses from './verifyAddresses.operation';

type Execute = (this: IExecuteFunctions, items: INodeExecutionData[]) => Promise<INodeExecutionData[][]>;

const operations: Readonly<Record<ViewsOperation, { execute: Execute }>> = { splitByViews, verifyAddresses };

/** Runs the chosen operation (Split by Views when the workflow predates the parameter); unknown ones fail the node. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0, DEFAULT_VIEWS_OPERATION) as string;
	if (!Object.prototype.hasOwnProperty.call(operations, operation)) throw new NodeOperationError(this.getNode(), `Unknown operation "${operation}"`);
	return await operations[operation as ViewsOperation].execute.call(this, this.getInputData());
}
