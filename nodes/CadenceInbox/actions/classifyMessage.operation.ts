/** Classify Message: raw RFC 822 messages from any node (IMAP, Gmail, a file) to inbox events. */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import type { MessageKind } from '../../../core/classify';
import { classificationToEvents } from '../../../core/inbox';
import { valueAtPath } from '../../../core/paths';
import { forEachItem } from '../../shared/perItem';
import { withAttributionCache, type AttributionCache } from './common';

const show = { show: { operation: ['classifyMessage'] } };

export const description: INodeProperties[] = [
	{
		displayName: 'Message Source',
		name: 'source',
		type: 'options',
		default: 'field',
		displayOptions: show,
		options: [
			{ name: 'Field', value: 'field', description: 'The raw message as text in a field of the item' },
			{ name: 'Binary', value: 'binary', description: 'The raw message as a binary property (e.g. an .eml file)' },
		],
	},
	{
		displayName: 'Field',
		name: 'rawField',
		type: 'string',
		default: 'raw',
		required: true,
		displayOptions: { show: { operation: ['classifyMessage'], source: ['field'] } },
		description: 'Name of the field holding the whole raw message, headers included (dot notation for nested fields)',
	},
	{
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		displayOptions: { show: { operation: ['classifyMessage'], source: ['binary'] } },
		hint: 'The name of the input binary field containing the message',
	},
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		default: 'events',
		displayOptions: show,
		options: [
			{ name: 'Events', value: 'events', description: 'One event per message, one per recipient for bounces' },
			{ name: 'One Item per Message', value: 'message', description: 'The whole classification, with its events in a list' },
		],
	},
];

/** The raw message of item `i`: a binary property, or text in a (dot-path) field. */
async function readRawMessage(fx: IExecuteFunctions, item: INodeExecutionData, i: number): Promise<Buffer | string> {
	if (fx.getNodeParameter('source', i) === 'binary') {
		const property = fx.getNodeParameter('binaryPropertyName', i) as string;
		fx.helpers.assertBinaryData(i, property);
		return await fx.helpers.getBinaryDataBuffer(i, property);
	}
	const field = fx.getNodeParameter('rawField', i) as string;
	const value = valueAtPath(item.json, field);
	if (typeof value === 'string') return value;
	throw new NodeOperationError(
		fx.getNode(),
		value === undefined
			? `The item has no field "${field}" with the raw message`
			: `Field "${field}" must hold the raw message as text, got ${value === null ? 'null' : typeof value}`,
		{ itemIndex: i },
	);
}

/** True the first time a sender is seen in this execution: inbound leads are unique or repeat by sender. */
function firstSeenTracker(): (email: string) => boolean {
	const seen = new Set<string>();
	return (email) => {
		if (seen.has(email)) return false;
		seen.add(email);
		return true;
	};
}

async function classifyItem(
	fx: IExecuteFunctions,
	item: INodeExecutionData,
	i: number,
	cache: AttributionCache,
	firstInboundFrom: (email: string) => boolean,
): Promise<IDataObject | IDataObject[]> {
	const raw = await readRawMessage(fx, item, i);
	const kinds = new Set(fx.getNodeParameter('kinds', i, []) as MessageKind[]);
	const setup = await cache.forItem(i);
	const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
	// A message the classifier could not finish comes back as `other` with the problem, whatever the kinds.
	const { classification: c, failed } = await setup.pool.classify(bytes);
	if (failed) fx.logger.warn(`Cadence Inbox: item ${i}: ${c.problem}`);
	const events =
		failed || kinds.has(c.kind) ? classificationToEvents(c, { raw }, { resolveAddressKey: setup.resolveAddressKey, firstInboundFrom }) : [];
	if (fx.getNodeParameter('output', i) === 'message') {
		return { ...(c as unknown as IDataObject), events: events as unknown as IDataObject[] };
	}
	return events as unknown as IDataObject[];
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const firstInboundFrom = firstSeenTracker();
	return await withAttributionCache(
		this,
		async (cache) => await forEachItem(this, items, async (item, i) => await classifyItem(this, item, i, cache, firstInboundFrom)),
	);
}
