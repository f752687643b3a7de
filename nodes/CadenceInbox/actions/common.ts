/**
 * What both Cadence Inbox operations share: the parameters after the operations' own (kinds, token check,
 * attribution options), and the per-execution setup: tracker and attribution, built once per distinct options,
 * with the classification worker of that setup (one at a time, ended when the execution ends).
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';
import { createClassifierPool, type ClassifierPool } from '../../../transport/inbox';
import {
	ALL_KINDS,
	attributionOptionProperties,
	kindsProperty,
	setupAttribution,
	VERIFY_TOKENS_OFF,
	verifyTokensOn,
	verifyTokensProperty,
	type AttributionSetup,
} from '../../shared/inbox/attribution';
import { trackingFromCredentials, type TrackingSetup } from '../../shared/inbox/credentials';

export const commonProperties: INodeProperties[] = [
	kindsProperty(ALL_KINDS),
	verifyTokensProperty,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: attributionOptionProperties,
	},
];

export type ItemSetup = AttributionSetup & { pool: ClassifierPool };

export class AttributionCache {
	private tracking: TrackingSetup | null | undefined;
	private lastKey = '';
	private last: ItemSetup | undefined;

	constructor(private readonly fx: IExecuteFunctions) {}

	/** The setup for item `i`; options that evaluate the same as the previous item's reuse its setup and worker. */
	async forItem(i: number, mailboxUser = ''): Promise<ItemSetup> {
		const options = this.fx.getNodeParameter('options', i, {}) as IDataObject;
		const verify = verifyTokensOn(this.fx.getNodeParameter('verifyTokens', i, VERIFY_TOKENS_OFF));
		const key = JSON.stringify([options, verify, mailboxUser]);
		if (this.last && key === this.lastKey) return this.last;
		let setup: AttributionSetup;
		try {
			setup = setupAttribution(options, mailboxUser, verify ? await this.trackingFor(i) : null);
		} catch (error) {
			throw new NodeOperationError(this.fx.getNode(), (error as Error).message, { itemIndex: i });
		}
		await this.close();
		this.last = { ...setup, pool: createClassifierPool(setup.classifier, { timeLimitMs: setup.classifyTimeLimitMs }) };
		this.lastKey = key;
		return this.last;
	}

	/** The tracker of the tracking credential, read once per execution. */
	private async trackingFor(i: number): Promise<TrackingSetup | null> {
		if (this.tracking === undefined) this.tracking = trackingFromCredentials(await this.fx.getCredentials('cadenceTrackingApi', i));
		return this.tracking;
	}

	/** Ends the classification worker; call when the execution ends, whatever happened. */
	async close(): Promise<void> {
		const pool = this.last?.pool;
		this.last = undefined;
		this.lastKey = '';
		await pool?.close();
	}
}

/** Runs `work` with a fresh cache and ends its classification worker afterwards, whether `work` succeeds or throws. */
export async function withAttributionCache<T>(fx: IExecuteFunctions, work: (cache: AttributionCache) => Promise<T>): Promise<T> {
	const cache = new AttributionCache(fx);
	try {
		return await work(cache);
	} finally {
		await cache.close();
	}
}
