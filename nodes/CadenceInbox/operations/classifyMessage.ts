/** Classify Message: raw RFC 822 messages from any node (IMAP, Gmail, a file) to inbox events. */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import type { MessageKind } from '../../../core/classify';
import { classificationToEvents } from '../../../core/inbox';
import { AttributionCache, valueAtPath } from './common';

const show = { show: { operation: ['classifyMessage'] } };

export const classifyMessageProperties: INodeProperties[] = [
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

export async function classifyMessages(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const out: INodeExecutionData[] = [];
	const cache = new AttributionCache(this);
	const seenSenders = new Set<string>();
	const firstInboundFrom = (email: string) => {
		if (seenSenders.has(email)) return false;
		seenSenders.add(email);
		return true;
	};
	try {
		for (let i = 0; i < items.length; i++) await classifyItem.call(this, i, items, out, cache, firstInboundFrom);
	} finally {
		await cache.close();
	}
	return out;
}

async function classifyItem(
	this: IExecuteFunctions,
	i: number,
	items: INodeExecutionData[],
	out: INodeExecutionData[],
	cache: AttributionCache,
	firstInboundFrom: (email: string) => boolean,
): Promise<void> {
	try {
		const source = this.getNodeParameter('source', i) as string;
		let raw: Buffer | string;
		if (source === 'binary') {
			const property = this.getNodeParameter('binaryPropertyName', i) as string;
			this.helpers.assertBinaryData(i, property);
			raw = await this.helpers.getBinaryDataBuffer(i, property);
		} else {
			const field = this.getNodeParameter('rawField', i) as string;
			const value = valueAtPath(items[i].json, field);
			if (typeof value !== 'string') {
				throw new NodeOperationError(
					this.getNode(),
					value === undefined
						? `The item has no field "${field}" with the raw message`
						: `Field "${field}" must hold the raw message as text, got ${value === null ? 'null' : typeof value}`,
					{ itemIndex: i },
				);
			}
			raw = value;
		}
		const kinds = new Set(this.getNodeParameter('kinds', i, []) as MessageKind[]);
		const setup = await cache.forItem(i);
		const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
		// A message the classifier could not finish comes back as `other` with the problem, whatever the kinds.
		const { classification: c, failed } = await setup.pool.classify(bytes);
		if (failed) this.logger.warn(`Cadence Inbox: item ${i}: ${c.problem}`);
		const events = failed || kinds.has(c.kind)
			? classificationToEvents(c, { raw }, { resolveAddressKey: setup.resolveAddressKey, firstInboundFrom })
			: [];
		if (this.getNodeParameter('output', i) === 'message') {
			out.push({ json: { ...(c as unknown as IDataObject), events: events as unknown as IDataObject[] }, pairedItem: { item: i } });
		} else {
			for (const e of events) out.push({ json: e as unknown as IDataObject, pairedItem: { item: i } });
		}
	} catch (error) {
		if (this.continueOnFail()) {
			out.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
			return;
		}
		// An error that already names its item comes back unchanged (NodeOperationError returns it as is).
		throw new NodeOperationError(this.getNode(), error as Error, { itemIndex: i });
	}
}
