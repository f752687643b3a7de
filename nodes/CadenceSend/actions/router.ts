import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import * as checkDomain from './checkDomain.operation';
import * as decideAbWinner from './decideAbWinner.operation';
import { DEFAULT_SEND_OPERATION, type SendOperation } from './operation';
import * as resumeSending from './resumeSending.operation';
import * as send from './send.operation';
import * as senderStatus from './senderStatus.operation';

type Execute = (this: IExecuteFunctions, items: INodeExecutionData[]) => Promise<INodeExecutionData[][]>;

const operations: Readonly<Record<SendOperation, { execute: Execute }>> = {
	send: {
		execute: async function (items) {
			return [await send.execute.call(this, items)];
		},
	},
	senderStatus,
	resumeSending,
	checkDomain,
	decideAbWinner,
};

/** Runs the chosen operation on the input items; an unknown operation fails the node. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0, DEFAULT_SEND_OPERATION) as string;
	if (!Object.prototype.hasOwnProperty.call(operations, operation)) throw new NodeOperationError(this.getNode(), `Unknown operation "${operation}"`);
	return await operations[operation as SendOperation].execute.call(this, this.getInputData());
}
