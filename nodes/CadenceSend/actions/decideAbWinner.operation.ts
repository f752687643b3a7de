/**
 * Decide A/B Winner: from the store's events of a campaign, the variant the rest of the batch gets (the significance
 * rule of the A/B comparison, on one rate), output as one `ab_decided` event to record in the store and to give to
 * the roll-out send's Winner Variant.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { AB_DEFAULT_DECISION_RATE, AB_DEFAULT_NO_WINNER, abDecisionEvent, decideAbWinner, type AbNoWinner } from '../../../core/abRollout';
import { localDay } from '../../../core/sendLedger';
import { AB_RATES, DEFAULT_AB_ALPHA, DEFAULT_AB_MIN_SAMPLE, type AbRateName } from '../../../core/metrics/abTest';
import { normalizeMetricsEvent } from '../../../core/metrics/normalize';
import { forOperations } from './operation';

const show = forOperations('decideAbWinner');

const RATE_NAMES: Record<AbRateName, string> = {
	deliveryRate: 'Delivery Rate (Delivered / Sent)',
	bounceRate: 'Bounce Rate (Bounced / Sent, Lower Wins)',
	openRate: 'Open Rate (Unique Opens / Delivered)',
	humanOpenRate: 'Human Open Rate (Human Opens / Delivered)',
	clickThroughRate: 'Click-Through Rate (Human Clicks / Human Opens)',
	clickRate: 'Click Rate (Human Clicks / Delivered)',
	replyRate: 'Reply Rate (Replies / Human Opens)',
	unsubscribeRate: 'Unsubscribe Rate (Lower Wins)',
	complaintRate: 'Complaint Rate (Lower Wins)',
};

export const description: INodeProperties[] = [
	{
		displayName:
			"Input: the store's events of the campaign (sent, bounced, opened, clicked, replied…); an empty item is ignored. Output: one ab_decided event; record it in the store and give its winner to the roll-out send's Winner Variant.",
		name: 'decideNotice',
		type: 'notice',
		default: '',
		displayOptions: show,
	},
	{
		displayName: 'Campaign',
		name: 'abCampaign',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'spring-2026',
		description: "The campaign under test (the Send node's Campaign): only its events count, and the decision names it",
		displayOptions: show,
	},
	{
		displayName: 'Variants',
		name: 'abVariants',
		type: 'string',
		default: '',
		placeholder: 'A, B',
		description:
			'The variant names under test, comma-separated. Empty: those found in the events. A named variant without events is an empty arm (no decision).',
		displayOptions: show,
	},
	{
		displayName: 'Default Variant',
		name: 'abDefaultVariant',
		type: 'string',
		default: '',
		placeholder: 'A',
		description:
			'The variant the others are compared with, and the one the rest gets when there is no winner (if so chosen). Empty: the first name in sort order.',
		displayOptions: show,
	},
	{
		displayName: 'Decide On',
		name: 'abRate',
		type: 'options',
		default: AB_DEFAULT_DECISION_RATE,
		options: (Object.keys(AB_RATES) as AbRateName[]).map((rate) => ({ name: RATE_NAMES[rate], value: rate })),
		description: 'The rate the variants are compared on',
		displayOptions: show,
	},
	{
		displayName: 'If No Winner',
		name: 'abNoWinner',
		type: 'options',
		default: AB_DEFAULT_NO_WINNER,
		options: [
			{ name: 'Send the Default Variant', value: 'default', description: 'The rest gets the Default Variant' },
			{
				name: 'Keep Testing',
				value: 'keepTesting',
				description: 'No winner (decided: false): the roll-out gives each contact its own variant, and the test goes on',
			},
		],
		displayOptions: show,
	},
	{
		displayName: 'Options',
		name: 'abOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show,
		options: [
			{
				displayName: 'Minimum Sample',
				name: 'minSample',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_AB_MIN_SAMPLE,
				description: "Smallest number of trials (the rate's denominator) in each variant before a winner can be named",
			},
			{
				displayName: 'Significance Level',
				name: 'alpha',
				type: 'number',
				typeOptions: { minValue: 0.0001, maxValue: 0.5, numberPrecision: 4 },
				default: DEFAULT_AB_ALPHA,
				description: 'A winner is named only when the p-value is below it (split over the comparisons with more than two variants)',
			},
		],
	},
];

/** An event as the stores return it: a Data table row keeps the event's id in `eventId` (its `id` is the row's). */
function storedEvent(json: IDataObject): IDataObject {
	return typeof json.eventId === 'string' && json.eventId !== '' ? { ...json, id: json.eventId } : json;
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const campaign = String(this.getNodeParameter('abCampaign', 0, '') ?? '').trim();
	if (!campaign) throw new NodeOperationError(this.getNode(), 'Set the Campaign whose A/B test is decided');
	const o = this.getNodeParameter('abOptions', 0, {}) as IDataObject;
	const num = (v: unknown, fallback: number) => (v === undefined || v === '' ? fallback : Number(v));
	const events: IDataObject[] = [];
	items.forEach((item, i) => {
		// The empty item a store node outputs when it found nothing (Always Output Data) is no event.
		if (Object.keys(item.json ?? {}).length === 0) return;
		try {
			events.push(normalizeMetricsEvent(storedEvent(item.json)) as IDataObject);
		} catch (error) {
			throw new NodeOperationError(this.getNode(), `Input item ${i + 1}: ${(error as Error).message}`, { itemIndex: i });
		}
	});
	let event;
	try {
		const decision = decideAbWinner(events, {
			campaign,
			variants: String(this.getNodeParameter('abVariants', 0, '') ?? '').split(','),
			defaultVariant: String(this.getNodeParameter('abDefaultVariant', 0, '') ?? ''),
			rate: this.getNodeParameter('abRate', 0, AB_DEFAULT_DECISION_RATE) as AbRateName,
			noWinner: this.getNodeParameter('abNoWinner', 0, AB_DEFAULT_NO_WINNER) as AbNoWinner,
			alpha: num(o.alpha, DEFAULT_AB_ALPHA),
			minSample: num(o.minSample, DEFAULT_AB_MIN_SAMPLE),
		});
		const now = new Date();
		event = abDecisionEvent(decision, { campaign, at: now.toISOString(), day: localDay(now, this.getTimezone()) });
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error);
	}
	const paired = items.length > 0 ? { pairedItem: [{ item: 0 }] } : {};
	return [[{ json: event as unknown as IDataObject, ...paired }]];
}
