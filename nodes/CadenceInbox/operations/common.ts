/** Per-execution setup shared by the Cadence Inbox operations: tracker and attribution, built once per distinct options. */
import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';
import type { Tracker } from '../../core/tracker';
import { setupAttribution, type AttributionSetup } from '../shared/attribution';
import { trackerFromCredentials } from '../shared/credentials';

export class AttributionCache {
	private tracker: Tracker | null | undefined;
	private lastKey = '';
	private last: AttributionSetup | undefined;

	constructor(private readonly fx: IExecuteFunctions) {}

	/** The setup for item `i`; options that evaluate the same as the previous item's reuse its setup. */
	async forItem(i: number, mailboxUser = ''): Promise<AttributionSetup> {
		const options = this.fx.getNodeParameter('options', i, {}) as IDataObject;
		const verify = this.fx.getNodeParameter('verifyTokens', i, false) as boolean;
		const key = JSON.stringify([options, verify, mailboxUser]);
		if (this.last && key === this.lastKey) return this.last;
		try {
			let tracker: Tracker | null = null;
			if (verify) {
				if (this.tracker === undefined) this.tracker = trackerFromCredentials(await this.fx.getCredentials('cadenceTrackingApi', i));
				tracker = this.tracker;
			}
			this.last = setupAttribution(options, mailboxUser, tracker);
			this.lastKey = key;
			return this.last;
		} catch (error) {
			throw new NodeOperationError(this.fx.getNode(), (error as Error).message, { itemIndex: i });
		}
	}
}

/** Reads `a.b.c` from an item's json. */
export function valueAtPath(json: IDataObject, path: string): unknown {
	if (path in json) return json[path];
	let cur: unknown = json;
	for (const part of path.split('.')) {
		if (cur === null || typeof cur !== 'object') return undefined;
		cur = (cur as IDataObject)[part];
	}
	return cur;
}
