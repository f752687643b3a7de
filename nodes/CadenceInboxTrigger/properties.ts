/** The Cadence Inbox Trigger's parameters, and the defaults its poll falls back to. */
import type { INodeProperties } from 'n8n-workflow';
import { DEFAULT_REMEMBER_MESSAGES, DEFAULT_REMEMBER_SENDERS } from '../../core/inbox';
import {
	attributionOptionProperties,
	DEFAULT_MAILBOX,
	DEFAULT_TRIGGER_KINDS,
	KIND_OPTIONS,
	kindsProperty,
	verifyTokensProperty,
} from '../shared/inbox/attribution';

/** Messages read per mailbox and poll; the rest wait for the next poll, so memory stays bounded. */
export const DEFAULT_MAX_MESSAGES_PER_POLL = 100;
/** After a UIDVALIDITY change, mail of these last days is read again (what was already emitted is skipped). */
export const DEFAULT_RESCAN_DAYS = 7;

const actionsProperty: INodeProperties = {
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
					options: KIND_OPTIONS.map(({ name, value }) => ({ name, value })),
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
};

const optionsProperty: INodeProperties = {
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
			default: DEFAULT_RESCAN_DAYS,
			description: 'When the server renumbers a mailbox, re-read mail received in these last days and skip what was already emitted',
		},
		{
			displayName: 'Remember Emitted Messages',
			name: 'rememberMessages',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: DEFAULT_REMEMBER_MESSAGES,
			description: 'How many emitted messages (hashes) to remember, to skip them after a UIDVALIDITY change',
		},
		{
			displayName: 'Remember Inbound Senders',
			name: 'rememberSenders',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: DEFAULT_REMEMBER_SENDERS,
			description: 'How many inbound senders (hashes) to remember, to mark leads unique or repeat',
		},
	],
};

export const properties: INodeProperties[] = [
	{
		displayName: 'Mailboxes',
		name: 'mailboxes',
		type: 'string',
		default: DEFAULT_MAILBOX,
		required: true,
		description: 'Comma-separated folders to watch; each keeps its own position',
	},
	kindsProperty(DEFAULT_TRIGGER_KINDS),
	{
		displayName: 'Max Messages per Poll',
		name: 'maxMessages',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: DEFAULT_MAX_MESSAGES_PER_POLL,
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
	actionsProperty,
	optionsProperty,
];
