/** Fetch and Classify: a one-off, read-only run over a mailbox and a date range. */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import type { MessageKind } from '../../../core/classify';
import { classifyMailboxRange, withInboxClient } from '../../../transport/inbox';
import { imapOptionsFromCredentials } from '../../shared/inbox/credentials';
import { AttributionCache } from './common';

const show = { show: { operation: ['fetchAndClassify'] } };

export const fetchAndClassifyProperties: INodeProperties[] = [
	{
		displayName: 'Mailbox',
		name: 'mailbox',
		type: 'string',
		default: 'INBOX',
		required: true,
		displayOptions: show,
	},
	{
		displayName: 'Received After',
		name: 'since',
		type: 'dateTime',
		default: '',
		displayOptions: show,
		description: 'Messages received on or after this day (IMAP compares whole days); empty: from the start',
	},
	{
		displayName: 'Received Before',
		name: 'before',
		type: 'dateTime',
		default: '',
		displayOptions: show,
		description: 'Messages received before this day; empty: up to now',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		displayOptions: show,
		description: 'Max number of results to return',
	},
	{
		displayName: 'Newest First',
		name: 'newestFirst',
		type: 'boolean',
		default: false,
		displayOptions: show,
		description: 'Whether to read the newest messages of the range first (the limit then keeps the newest)',
	},
];

function dateParameter(fx: IExecuteFunctions, name: string, i: number): Date | undefined {
	const raw = fx.getNodeParameter(name, i, '') as string;
	if (!raw) return undefined;
	const d = new Date(raw);
	if (Number.isNaN(d.getTime())) throw new NodeOperationError(fx.getNode(), `"${raw}" is not a date`, { itemIndex: i });
	return d;
}

export async function fetchAndClassify(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const out: INodeExecutionData[] = [];
	const cache = new AttributionCache(this);
	try {
		for (let i = 0; i < items.length; i++) await fetchItem.call(this, i, out, cache);
	} finally {
		await cache.close();
	}
	return out;
}

async function fetchItem(this: IExecuteFunctions, i: number, out: INodeExecutionData[], cache: AttributionCache): Promise<void> {
	try {
		const imap = imapOptionsFromCredentials(await this.getCredentials('cadenceImapApi', i));
		const mailbox = (this.getNodeParameter('mailbox', i) as string).trim();
		if (!mailbox) throw new NodeOperationError(this.getNode(), 'Mailbox is empty', { itemIndex: i });
		const since = dateParameter(this, 'since', i);
		const before = dateParameter(this, 'before', i);
		if (since && before && since >= before) {
			throw new NodeOperationError(this.getNode(), 'Received After must be earlier than Received Before', { itemIndex: i });
		}
		const setup = await cache.forItem(i, imap.user);
		const result = await withInboxClient({ ...imap, maxLiteralBytes: setup.maxBytes }, (client) =>
			classifyMailboxRange(client, {
				mailbox,
				since,
				before,
				limit: this.getNodeParameter('limit', i) as number,
				newestFirst: this.getNodeParameter('newestFirst', i) as boolean,
				kinds: this.getNodeParameter('kinds', i, []) as MessageKind[],
				classifier: setup.pool,
				maxBytes: setup.maxBytes,
				eventOptions: { resolveAddressKey: setup.resolveAddressKey },
			}),
		);
		for (const w of result.warnings) this.logger.warn(`Cadence Inbox: ${mailbox}: ${w}`);
		if (result.error) {
			throw new NodeOperationError(this.getNode(), `Reading ${mailbox} failed after ${result.read} message(s): ${result.error}`, {
				itemIndex: i,
			});
		}
		for (const e of result.events) out.push({ json: e as unknown as IDataObject, pairedItem: { item: i } });
	} catch (error) {
		if (this.continueOnFail()) {
			out.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
			return;
		}
		// An error that already names its item comes back unchanged (NodeOperationError returns it as is).
		throw new NodeOperationError(this.getNode(), error as Error, { itemIndex: i });
	}
}
