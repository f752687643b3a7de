import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import * as compute from './compute.operation';

/**
 * Cadence Metrics has one operation and no `operation` parameter (saved workflows have none), so every run is the
 * compute operation over the Events input.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await compute.execute.call(this, this.getInputData(0));
}
