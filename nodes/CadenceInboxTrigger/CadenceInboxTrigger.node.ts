import {
	NodeConnectionTypes,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
} from 'n8n-workflow';
import { cadenceImapConnectionTest, cadenceTrackingCredentialTest } from '../shared/inbox/credentials';
import { attributionOptionProperties, DEFAULT_TRIGGER_KINDS, kindsProperty, verifyTokensProperty } from '../shared/inbox/attribution';
import { pollInbox } from './pollInbox';

export class CadenceInboxTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Inbox Trigger',
		name: 'cadenceInboxTrigger',
		icon: { light: 'file:cadenceInboxTrigger.svg', dark: 'file:cadenceInboxTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["mailboxes"] }}',
		description:
			'Polls the sender mailbox and emits one event per reply, bounce (per recipient), auto-reply, complaint, unsubscribe and inbound lead',
		defaults: { name: 'Cadence Inbox Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'cadenceImapApi', required: true, testedBy: 'cadenceImapConnectionTest' },
			{
				name: 'cadenceTrackingApi',
				required: true,
				testedBy: 'cadenceTrackingCredentialTest',
				displayOptions: { show: { verifyTokens: [true] } },
			},
		],
		properties: [
			{
				displayName: 'Mailboxes',
				name: 'mailboxes',
				type: 'string',
				default: 'INBOX',
				required: true,
				description: 'Comma-separated folders to watch; each keeps its own position',
			},
			kindsProperty(DEFAULT_TRIGGER_KINDS),
			{
				displayName: 'Max Messages per Poll',
				name: 'maxMessages',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 100,
				description: 'Per mailbox; the rest are read at the next poll, so memory stays bounded',
			},
			{
				displayName: 'Start From',
				name: 'startFrom',
				type: 'options',
				default: 'now',
				options: [
					{ name: 'Now', value: 'now', description: 'Only mail that arrives after activation' },
					{ name: 'A Date', value: 'date', description: 'Also mail received since a date, on the first poll' },
				],
			},
			{
				displayName: 'Start Date',
				name: 'startDate',
				type: 'dateTime',
				default: '',
				required: true,
				displayOptions: { show: { startFrom: ['date'] } },
			},
			verifyTokensProperty,
			{
				displayName: 'Actions per Kind',
				name: 'actions',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				placeholder: 'Add Action',
				default: {},
				description: 'Flag or move processed messages, by kind. Mail is never deleted.',
				options: [
					{
						displayName: 'Action',
						name: 'action',
						values: [
							{
								displayName: 'Add Flags',
								name: 'addFlags',
								type: 'string',
								default: '',
								placeholder: '\\Seen, $CadenceProcessed',
								description: 'Comma-separated flags or keywords to add',
							},
							{
								displayName: 'Kinds',
								name: 'kinds',
								type: 'multiOptions',
								options: [
									{ name: 'Auto-Reply', value: 'auto_reply' },
									{ name: 'Bounce', value: 'bounce' },
									{ name: 'Complaint', value: 'complaint' },
									{ name: 'Delay', value: 'delay' },
									{ name: 'Delivered', value: 'delivered' },
									{ name: 'Inbound Lead', value: 'inbound' },
									{ name: 'Other', value: 'other' },
									{ name: 'Reply', value: 'reply' },
									{ name: 'Unsubscribe', value: 'unsubscribe' },
								],
								default: [],
								description: 'Messages of these kinds get this action (whether or not they are emitted)',
							},
							{
								displayName: 'Move to Folder',
								name: 'moveTo',
								type: 'string',
								default: '',
								placeholder: 'Cadence/Bounces',
								description: 'Folder to move the messages to (created if missing). The first matching action with a folder wins.',
							},
						],
					},
				],
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					...attributionOptionProperties,
					{
						displayName: 'Re-Scan Days After UIDVALIDITY Change',
						name: 'rescanDays',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 7,
						description:
							'When the server renumbers a mailbox, re-read mail received in these last days and skip what was already emitted',
					},
					{
						displayName: 'Remember Emitted Messages',
						name: 'rememberMessages',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 2000,
						description: 'How many emitted messages (hashes) to remember, to skip them after a UIDVALIDITY change',
					},
					{
						displayName: 'Remember Inbound Senders',
						name: 'rememberSenders',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 2000,
						description: 'How many inbound senders (hashes) to remember, to mark leads unique or repeat',
					},
				],
			},
		],
	};

	methods = {
		credentialTest: { cadenceImapConnectionTest, cadenceTrackingCredentialTest },
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		return await pollInbox.call(this);
	}
}
