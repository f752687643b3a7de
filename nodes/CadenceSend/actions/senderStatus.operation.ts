/**
 * Sender Status: today's counts (per company, contact and mailbox) and the reputation breaker of every mailbox and
 * sending domain, from the store's events. Output 1 is the status a Send node reads (its Sender Status parameter);
 * output 2 holds the `paused` events of mailboxes and domains that trip now, for the workflow to record in the
 * store: a paused mailbox stays paused until a `resumed` event is recorded.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import {
	DEFAULT_BREAKER_MIN_SENDS,
	DEFAULT_BREAKER_WINDOW_DAYS,
	DEFAULT_BREAKER_WINDOW_SENDS,
	DEFAULT_COMPLAINT_PAUSE_PERCENT,
	DEFAULT_HARD_BOUNCE_PAUSE_PERCENT,
	senderStatus,
} from '../../../core/senderProtection';
import { forOperations } from './operation';

export const description: INodeProperties[] = [
	{
		displayName:
			"Input: the store's events of the breaker window (sent, failed, bounced, complained, paused, resumed), or rows that stand for several events with a count field. Connect output 1 to the cadence and set the Send node's Sender Status to it; record output 2 (paused events) in the store.",
		name: 'senderStatusNotice',
		type: 'notice',
		default: '',
		displayOptions: forOperations('senderStatus'),
	},
	{
		displayName: 'Breaker',
		name: 'breaker',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: forOperations('senderStatus'),
		options: [
			{
				displayName: 'Complaint Rate to Pause (%)',
				name: 'complaintPausePercent',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 2 },
				default: DEFAULT_COMPLAINT_PAUSE_PERCENT,
				description: 'A mailbox or sending domain pauses when complaints reach this share of its sends in the window',
			},
			{
				displayName: 'Hard-Bounce Rate to Pause (%)',
				name: 'hardBouncePausePercent',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 2 },
				default: DEFAULT_HARD_BOUNCE_PAUSE_PERCENT,
				description: 'A mailbox or sending domain pauses when hard bounces reach this share of its sends in the window',
			},
			{
				displayName: 'Minimum Sends',
				name: 'minSends',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_BREAKER_MIN_SENDS,
				description: 'The breaker judges a window only once it holds this many sends',
			},
			{
				displayName: 'Window (Days)',
				name: 'windowDays',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_BREAKER_WINDOW_DAYS,
				description: 'Rates are counted over the sends of these last days (since the last resume, if later)',
			},
			{
				displayName: 'Window (Last Sends)',
				name: 'windowSends',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_BREAKER_WINDOW_SENDS,
				description: 'Above 0: rates are counted over this many latest sends instead of days',
			},
		],
	},
];

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const o = this.getNodeParameter('breaker', 0, {}) as IDataObject;
	const num = (v: unknown, fallback: number) => (v === undefined || v === '' ? fallback : Number(v));
	let result;
	try {
		result = senderStatus(
			items.map((item) => item.json),
			{
				now: new Date(),
				timeZone: this.getTimezone(),
				windowDays: num(o.windowDays, DEFAULT_BREAKER_WINDOW_DAYS),
				windowSends: num(o.windowSends, DEFAULT_BREAKER_WINDOW_SENDS),
				minSends: num(o.minSends, DEFAULT_BREAKER_MIN_SENDS),
				hardBouncePausePercent: num(o.hardBouncePausePercent, DEFAULT_HARD_BOUNCE_PAUSE_PERCENT),
				complaintPausePercent: num(o.complaintPausePercent, DEFAULT_COMPLAINT_PAUSE_PERCENT),
			},
		);
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error);
	}
	const paired = items.length > 0 ? [{ item: 0 }] : undefined;
	return [
		[{ json: result.status as unknown as IDataObject, ...(paired ? { pairedItem: paired } : {}) }],
		result.paused.map((event) => ({ json: event as unknown as IDataObject, ...(paired ? { pairedItem: paired } : {}) })),
	];
}
