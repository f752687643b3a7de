/**
 * Per-execution setup shared by the Cadence Inbox operations: tracker and attribution, built once per distinct
 * options, and the classification worker of that setup (one at a time; `close` it when the execution ends).
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';
import { createClassifierPool, type ClassifierPool } from '../../../transport/inbox';
import { setupAttribution, type AttributionSetup } from '../../shared/inbox/attribution';
import { trackingFromCredentials, type TrackingSetup } from '../../shared/inbox/credentials';

export type ItemSetup = AttributionSetup & { pool: ClassifierPool };

export class AttributionCache {
	private tracking: TrackingSetup | null | undefined;
	private lastKey = '';
	private last: ItemSetup | undefined;

	constructor(private readonly fx: IExecuteFunctions) {}

	/** The setup for item `i`; options that evaluate the same as the previous item's reuse its setup and worker. */
	async forItem(i: number, mailboxUser = ''): Promise<ItemSetup> {
		const options = this.fx.getNodeParameter('options', i, {}) as IDataObject;
		const verify = this.fx.getNodeParameter('verifyTokens', i, false) as boolean;
		const key = JSON.stringify([options, verify, mailboxUser]);
		if (this.last && key === this.lastKey) return this.last;
		let setup: AttributionSetup;
		try {
			let tracking: TrackingSetup | null = null;
			if (verify) {
				if (this.tracking === undefined) this.tracking = trackingFromCredentials(await this.fx.getCredentials('cadenceTrackingApi', i));
				tracking = this.tracking;
			}
			setup = setupAttribution(options, mailboxUser, tracking);
		} catch (error) {
			throw new NodeOperationError(this.fx.getNode(), (error as Error).message, { itemIndex: i });
		}
		await this.close();
		this.last = { ...setup, pool: createClassifierPool(setup.classifier, { timeLimitMs: setup.classifyTimeLimitMs }) };
		this.lastKey = key;
		return this.last;
	}

	/** Ends the classification worker; call when the execution ends, whatever happened. */
	async close(): Promise<void> {
		const pool = this.last?.pool;
		this.last = undefined;
		this.lastKey = '';
		await pool?.close();
	}
}

export { valueAtPath } from '../../../core/paths';
