/**
 * Resume Sending: the `resumed` event that lifts a pause, one per input item, for the workflow to record in the
 * store where the Sender Status reads its events. The breaker then counts only sends after it.
 */
import { parseAddress } from '../../../core/address';
import { eventId } from '../../../core/events';
import { parseMailbox } from '../../../core/sendRender';
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { forEachItem } from '../../shared/perItem';
import { forOperations } from './operation';

export const description: INodeProperties[] = [
	{
		displayName: 'Scope',
		name: 'scope',
		type: 'options',
		default: 'mailbox',
		displayOptions: forOperations('resumeSending'),
		options: [
			{ name: 'Mailbox', value: 'mailbox', description: 'One sender address' },
			{ name: 'Sending Domain', value: 'domain', description: 'Every mailbox of one From domain' },
		],
	},
	{
		displayName: 'Mailbox or Domain',
		name: 'mailbox',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'anna@sales.example.com',
		displayOptions: forOperations('resumeSending'),
		description: 'The paused mailbox (its From address) or sending domain, as the paused event names it',
	},
	{
		displayName: 'Resumed By',
		name: 'resumedBy',
		type: 'string',
		default: '',
		displayOptions: forOperations('resumeSending'),
		description: 'Who decided to resume, and why (kept on the event for the report)',
	},
];

/** One `resumed` event per item; an empty or malformed mailbox fails that item. */
export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const at = new Date().toISOString();
	return [
		await forEachItem(this, items, (_item, i) => {
			const scope = this.getNodeParameter('scope', i, 'mailbox') === 'domain' ? 'domain' : 'mailbox';
			const raw = String(this.getNodeParameter('mailbox', i, '') ?? '').trim();
			if (!raw) throw new Error('Mailbox or Domain is empty: name the paused mailbox or sending domain');
			const mailbox = scope === 'mailbox' ? parseMailbox(raw, 'Mailbox').address.toLowerCase() : raw.toLowerCase().replace(/^@/, '');
			if (scope === 'domain' && !parseAddress(`postmaster@${mailbox}`)) throw new Error(`"${raw}" is not a domain`);
			const by = String(this.getNodeParameter('resumedBy', i, '') ?? '').trim();
			return { id: eventId('resumed', scope, mailbox, at), type: 'resumed', at, email: '', mailbox, scope, ...(by ? { by } : {}) };
		}),
	];
}
