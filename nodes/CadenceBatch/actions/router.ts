import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import * as addTags from './addTags.operation';
import * as assignBatches from './assignBatches.operation';
import * as followUp from './followUp.operation';
import * as getDueTags from './getDueTags.operation';
import type { BatchOperation } from './operation';
import * as selectDueContacts from './selectDueContacts.operation';
import * as tagReaders from './tagReaders.operation';

type Execute = (this: IExecuteFunctions, items: INodeExecutionData[]) => Promise<INodeExecutionData[][]>;

const operations: Readonly<Record<BatchOperation, { execute: Execute }>> = {
	addTags,
	assignBatches,
	followUp,
	getDueTags,
	selectDueContacts,
	tagReaders,
};

/** Runs the chosen operation on the first input's items; an unknown operation fails the node. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as string;
	if (!Object.prototype.hasOwnProperty.call(operations, operation)) throw new NodeOperationError(this.getNode(), `Unknown operation "${operation}"`);
	return await operations[operation as BatchOperation].execute.call(this, this.getInputData(0));
}
