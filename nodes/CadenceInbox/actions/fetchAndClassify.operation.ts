/** Fetch and Classify: a one-off, read-only run over a mailbox and a date range. */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import type { MessageKind } from '../../../core/classify';
import { classifyMailboxRange, withInboxClient } from '../../../transport/inbox';
import { DEFAULT_MAILBOX } from '../../shared/inbox/attribution';
import { imapOptionsFromCredentials } from '../../shared/inbox/credentials';
import { forEachItem } from '../../shared/perItem';
import { withAttributionCache, type AttributionCache } from './common';

const show = { show: { operation: ['fetchAndClassify'] } };

export const description: INodeProperties[] = [
	{
		displayName: 'Mailbox',
		name: 'mailbox',
		type: 'string',
		default: DEFAULT_MAILBOX,
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
		// n8n's lint rule for Limit parameters asks for the literal 50; the code reads the parameter with no fallback.
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

/** Mailbox and date range of item `i`, checked. */
function readRange(fx: IExecuteFunctions, i: number): { mailbox: string; since?: Date; before?: Date } {
	const mailbox = (fx.getNodeParameter('mailbox', i) as string).trim();
	if (!mailbox) throw new NodeOperationError(fx.getNode(), 'Mailbox is empty', { itemIndex: i });
	const since = dateParameter(fx, 'since', i);
	const before = dateParameter(fx, 'before', i);
	if (since && before && since >= before) {
		throw new NodeOperationError(fx.getNode(), 'Received After must be earlier than Received Before', { itemIndex: i });
	}
	return { mailbox, since, before };
}

async function fetchItem(fx: IExecuteFunctions, i: number, cache: AttributionCache): Promise<IDataObject[]> {
	const imap = imapOptionsFromCredentials(await fx.getCredentials('cadenceImapApi', i));
	const { mailbox, since, before } = readRange(fx, i);
	const setup = await cache.forItem(i, imap.user);
	const result = await withInboxClient({ ...imap, maxLiteralBytes: setup.maxBytes }, (client) =>
		classifyMailboxRange(client, {
			mailbox,
			since,
			before,
			limit: fx.getNodeParameter('limit', i) as number,
			newestFirst: fx.getNodeParameter('newestFirst', i) as boolean,
			kinds: fx.getNodeParameter('kinds', i, []) as MessageKind[],
			classifier: setup.pool,
			maxBytes: setup.maxBytes,
			eventOptions: { resolveAddressKey: setup.resolveAddressKey },
		}),
	);
	for (const w of result.warnings) fx.logger.warn(`Cadence Inbox: ${mailbox}: ${w}`);
	if (result.error) {
		throw new NodeOperationError(fx.getNode(), `Reading ${mailbox} failed after ${result.read} message(s): ${result.error}`, {
			itemIndex: i,
		});
	}
	return result.events as unknown as IDataObject[];
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	return await withAttributionCache(this, async (cache) => await forEachItem(this, items, async (_item, i) => await fetchItem(this, i, cache)));
}
