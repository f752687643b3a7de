import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import * as splitByViews from './splitByViews.operation';

/** Cadence Views has one operation and no `operation` parameter: every run splits the input by the views. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await splitByViews.execute.call(this, this.getInputData());
}
