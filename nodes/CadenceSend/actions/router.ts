import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import * as send from './send.operation';

/** Cadence Send has one operation and no `operation` parameter: the router calls it directly. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return [await send.execute.call(this, this.getInputData())];
}
