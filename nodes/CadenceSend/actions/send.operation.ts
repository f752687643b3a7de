/**
 * Send: one tracked message per input item. A whole-batch operation: every item is planned and checked first, then
 * the messages go out through the SMTP pool, and the output is one event per item (failed and skipped included).
 */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { UTM_DEFAULT_MEDIUM, UTM_DEFAULT_SOURCE, UTM_VALUE_MAX_LENGTH } from '../../../core/links';
import { EXTRA_HEADER_VALUE_MAX_LENGTH } from '../../../core/sendRender';
import { DEFAULT_TIME_ZONE_FIELD, DEFAULT_WINDOW_DAYS, DEFAULT_WINDOW_END, DEFAULT_WINDOW_START, WINDOW_DAYS } from '../../../core/sendingWindow';
import { DEFAULT_LEDGER_TABLE } from '../../../transport/postgresLedger';
import { DEFAULT_COMPANY_DAILY_CAP, DEFAULT_CONTACT_DAILY_CAP } from '../../../core/senderProtection';
import {
	DEFAULT_MAX_TEMPORARY_RETRIES,
	DEFAULT_POOL_SIZE,
	DEFAULT_RATE_PER_SECOND,
	DEFAULT_RETRY_MAX_MS,
	DEFAULT_STOP_LOSS_MINIMUM,
	DEFAULT_STOP_LOSS_PERCENT,
	MAX_POOL_SIZE,
} from '../../../transport/smtp';
import { CONTENT_KEY_MAX_LENGTH, CONTENT_TABLE_MAX_ROWS, DEFAULT_LANGUAGE_FIELD, DEFAULT_SEGMENT_FIELD } from '../../../core/content';
import { AB_DEFAULT_SAMPLE_PERCENT } from '../../../core/abRollout';
import { applyAbRollout, DEFAULT_AB_PHASE, readAbRollout, readVariantNames } from '../send/abRollout';
import { createBodyReader } from '../send/bodyReader';
import { applyContent, DEFAULT_CONTENT_MODE, readContentSettings } from '../send/content';
import { readAccountMailbox, readTracker } from '../send/credentials';
import { outputItems } from '../send/events';
import { openSendLedger, replayFromLedger } from '../send/ledger';
import { DEFAULT_SENDER_SOURCE, readPool, senderSource } from '../send/mailboxes';
import { createParamReader } from '../send/paramReader';
import { planItems } from '../send/plan';
import { assignSenders, readSenderStatus, storeDayCounts } from '../send/protection';
import { sendMessages } from '../send/sendMessages';
import { DEFAULT_INPUT_FIELDS, DEFAULT_INPUT_KEY, DEFAULT_RETRY_DELAY_SECONDS, DEFAULT_SEND_LEDGER, readRunSettings } from '../send/settings';
import { applySendingWindow } from '../send/window';

const DAY_NAMES: Record<(typeof WINDOW_DAYS)[number], string> = {
	mon: 'Monday',
	tue: 'Tuesday',
	wed: 'Wednesday',
	thu: 'Thursday',
	fri: 'Friday',
	sat: 'Saturday',
	sun: 'Sunday',
};

const properties: INodeProperties[] = [
	{
		displayName:
			'Links, the open pixel and unsubscribe use the Cadence Tracking credential. Put [[unsubscribeUrl]] where the unsubscribe link goes (not {{unsubscribeUrl}}: n8n reads {{ }} as an expression and the link would be empty). In HTML, every {{ }} result is escaped; write {{ /*raw*/ ... }} to insert HTML as it is.',
		name: 'notice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Send Through',
		name: 'senders',
		type: 'options',
		default: DEFAULT_SENDER_SOURCE,
		options: [
			{ name: 'One SMTP Account', value: 'account', description: 'The Cadence SMTP credential' },
			{
				name: 'Mailbox Pool',
				value: 'pool',
				description: 'The mailboxes of a Cadence Sender Pool credential, in turn, each within its daily cap and warm-up',
			},
		],
	},
	{
		displayName: 'Sender Status',
		name: 'senderStatus',
		type: 'json',
		default: '',
		placeholder: "={{ $('Sender status').first().json }}",
		description:
			"Today's counts and paused mailboxes from the store: the first output of a Cadence Send node with the Sender Status operation, run on the store's events earlier in the same execution. Empty: only the send ledger (if any) and this run count.",
	},
	{
		displayName: 'From',
		name: 'from',
		type: 'string',
		default: '',
		placeholder: 'Sales Team <sales@example.com>',
		displayOptions: { show: { senders: ['account'] } },
		description: "Sender address, optionally with a name. Empty: the Default From of the SMTP credential. A pool sends as each mailbox's own From.",
	},
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		default: '={{ $json.email }}',
		required: true,
		description: 'One recipient address per item',
	},
	{
		displayName: 'Content',
		name: 'content',
		type: 'options',
		default: DEFAULT_CONTENT_MODE,
		options: [
			{ name: 'One Message', value: 'single', description: 'The Subject, HTML and Text below (with optional A/B variants) for every contact' },
			{
				name: 'Per Language and Segment',
				value: 'perLanguage',
				description: "Content entries below, picked by the contact's language and segment",
			},
			{
				name: 'Per Language and Segment, From a Table',
				value: 'table',
				description: "Rows of a content table (e.g. a Data Table or sheet read earlier), picked by the contact's language and segment",
			},
		],
		description:
			"Where subject and bodies come from. Per language: an entry for the contact's segment beats one for its language without a segment; a contact whose language has no content is not mailed (skipped, no-content) and takes no place under the day's caps.",
	},
	{
		displayName: 'Language Field',
		name: 'languageField',
		type: 'string',
		default: DEFAULT_LANGUAGE_FIELD,
		displayOptions: { show: { content: ['perLanguage', 'table'] } },
		description:
			"Item field with the contact's language, matched to the content's languages as text (case and full-width forms ignored). Empty on the item: the language part of its batch tag.",
	},
	{
		displayName: 'Segment Field',
		name: 'segmentField',
		type: 'string',
		default: DEFAULT_SEGMENT_FIELD,
		displayOptions: { show: { content: ['perLanguage', 'table'] } },
		description: "Item field with the contact's segment. Empty on the item: the segment part of its batch tag.",
	},
	{
		displayName: 'Content Entries',
		name: 'contentEntries',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		default: {},
		placeholder: 'Add Content',
		displayOptions: { show: { content: ['perLanguage'] } },
		description:
			"One entry per language (and segment, and A/B variant). Entries with the same language and segment and different Variant names are A/B variants, chosen from the address and the campaign; the entry without a Variant name is their base, whose fields fill a variant's empty ones.",
		options: [
			{
				displayName: 'Content',
				name: 'entry',
				values: [
					{ displayName: 'HTML', name: 'html', type: 'string', typeOptions: { rows: 6 }, default: '' },
					{ displayName: 'Language', name: 'language', type: 'string', default: '', placeholder: 'French', required: true },
					{
						displayName: 'Segment',
						name: 'segment',
						type: 'string',
						default: '',
						placeholder: 'Dealers',
						description: 'Empty: every segment of the language that has no entry of its own',
					},
					{ displayName: 'Subject', name: 'subject', type: 'string', default: '' },
					{ displayName: 'Text', name: 'text', type: 'string', typeOptions: { rows: 3 }, default: '' },
					{
						displayName: 'Variant',
						name: 'variant',
						type: 'string',
						default: '',
						placeholder: 'A',
						description: 'A/B variant name; empty: the base entry',
					},
				],
			},
		],
	},
	{
		displayName: 'Content Table',
		name: 'contentTable',
		type: 'json',
		default: '',
		placeholder: "={{ $('Content').all().map(i => i.json) }}",
		displayOptions: { show: { content: ['table'] } },
		description: `Rows {language, segment, variant, subject, html, text}, read once for the run (at most ${CONTENT_TABLE_MAX_ROWS}; names up to ${CONTENT_KEY_MAX_LENGTH} characters). Rows with the same language and segment and different variant names are A/B variants; the row without a variant is their base. The text is sent as written, with [[unsubscribeUrl]] filled in and its links tracked.`,
	},
	{
		displayName: 'Subject',
		name: 'subject',
		type: 'string',
		default: '',
		required: true,
		displayOptions: { show: { content: ['single'] } },
	},
	{
		displayName: 'HTML',
		name: 'html',
		type: 'string',
		typeOptions: { rows: 8 },
		default: '',
		displayOptions: { show: { content: ['single'] } },
		description:
			'HTML body. Either this or Text is needed. Expression results are HTML-escaped; an expression that starts with /*raw*/, as in {{ /*raw*/ ... }}, inserts HTML as it is. Only links written here are tracked, not links inside inserted values.',
	},
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		displayOptions: { show: { content: ['single'] } },
		description: 'Plain-text body. Empty: generated from the HTML.',
	},
	{
		displayName: 'Campaign',
		name: 'campaign',
		type: 'string',
		default: '',
		placeholder: 'spring-2026',
		description: 'Carried in every tracking token and event, and picks the A/B variant together with the address',
	},
	{
		displayName: 'Batch Tag',
		name: 'batchTag',
		type: 'string',
		default: '={{ $json.batchTag }}',
		description: "The contact's batch tag (e.g. English-Dealers-Marketing05), carried in the token and events",
	},
	{
		displayName: 'A/B Variants',
		name: 'variants',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		default: {},
		placeholder: 'Add Variant',
		displayOptions: { show: { content: ['single'] } },
		description:
			'Each contact gets one variant, chosen from its address and the campaign (the same contact always gets the same one). Empty fields fall back to the Subject, HTML and Text above.',
		options: [
			{
				displayName: 'Variant',
				name: 'variant',
				values: [
					{ displayName: 'Name', name: 'name', type: 'string', default: '', placeholder: 'A', required: true },
					{ displayName: 'Subject', name: 'subject', type: 'string', default: '' },
					{ displayName: 'HTML', name: 'html', type: 'string', typeOptions: { rows: 6 }, default: '' },
					{ displayName: 'Text', name: 'text', type: 'string', typeOptions: { rows: 3 }, default: '' },
				],
			},
		],
	},
	{
		displayName: 'A/B Roll-Out',
		name: 'abRollout',
		type: 'collection',
		placeholder: 'Add Roll-Out Option',
		default: {},
		description:
			"Test the A/B variants on a sample of the batch first, then send the winner to the rest: run a Send with Phase Sample, wait, decide (the Decide A/B Winner operation), then a Send with Phase Roll-Out on the same batch. The sample is drawn from the address and the campaign, so both sends see the same one. Contacts held back are output as skipped (ab-holdout, ab-sample) and take no place under the day's caps.",
		options: [
			{
				displayName: 'Phase',
				name: 'phase',
				type: 'options',
				default: DEFAULT_AB_PHASE,
				options: [
					{ name: 'All at Once', value: 'all', description: 'Every contact gets its A/B variant' },
					{
						name: 'Sample',
						value: 'sample',
						description: 'Only contacts in the sample, each with its A/B variant; the others are skipped (ab-holdout)',
					},
					{
						name: 'Roll-Out',
						value: 'rollout',
						description: 'Contacts outside the sample get the Winner Variant; the sample is skipped (ab-sample), it was tested',
					},
				],
			},
			{
				displayName: 'Sample Percent',
				name: 'samplePercent',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 2 },
				default: AB_DEFAULT_SAMPLE_PERCENT,
				description: "Share of the campaign's contacts in the sample; the same in the sample and the roll-out send",
			},
			{
				displayName: 'Winner Variant',
				name: 'winnerVariant',
				type: 'string',
				default: '',
				placeholder: "={{ $('Decide A/B winner').first().json.winner }}",
				description:
					'Roll-out only: the variant name the rest gets (or the decision event). Empty: no winner yet, each contact gets its own variant and the test goes on.',
			},
		],
	},
	{
		displayName: 'Send Ledger',
		name: 'sendLedger',
		type: 'options',
		default: DEFAULT_SEND_LEDGER,
		options: [
			{ name: 'None', value: 'none', description: 'No record beyond the output events; a retried execution may send again' },
			{
				name: 'Postgres',
				value: 'postgres',
				description:
					'Record each message in a Postgres table as it goes out: a retried or repeated execution skips what was sent and re-emits its events',
			},
		],
		description: 'Whether messages are recorded per contact, campaign and day so that no contact gets the same mail twice (needed in queue mode)',
	},
	{
		displayName: 'Ledger Table',
		name: 'ledgerTable',
		type: 'string',
		default: DEFAULT_LEDGER_TABLE,
		displayOptions: { show: { sendLedger: ['postgres'] } },
		description: 'Table of the ledger (schema.table allowed); created when missing',
	},
	{
		displayName: 'Idempotency Key',
		name: 'idempotencyKey',
		type: 'string',
		default: '',
		displayOptions: { show: { sendLedger: ['postgres'] } },
		placeholder: '={{ $json.email }}|{{ $json.campaign }}',
		description: "One message per key. Empty: day|campaign|email, the day in the workflow's time zone.",
	},
	{
		displayName: 'UTM Parameters',
		name: 'utm',
		type: 'collection',
		placeholder: 'Add UTM Option',
		default: {},
		description:
			'UTM parameters added to the destination of every tracked link (utm_source, utm_medium, utm_campaign, and utm_content = the A/B variant), so web analytics attribute the visit to the cadence. Parameters already in a link are kept; a link with a data-noutm attribute, untracked links and the unsubscribe link get none.',
		options: [
			{
				displayName: 'Add UTM Parameters',
				name: 'enabled',
				type: 'boolean',
				// DEFAULT_UTM_ENABLED (the linter wants a literal here; a test keeps them equal)
				default: true,
				description: 'Whether to add UTM parameters to tracked links',
			},
			{
				displayName: 'Campaign',
				name: 'campaign',
				type: 'string',
				default: '',
				description: `The utm_campaign value. Empty: the Campaign above. Values longer than ${UTM_VALUE_MAX_LENGTH} characters are cut.`,
			},
			{
				displayName: 'Medium',
				name: 'medium',
				type: 'string',
				default: UTM_DEFAULT_MEDIUM,
				description: 'The utm_medium value',
			},
			{
				displayName: 'Source',
				name: 'source',
				type: 'string',
				default: UTM_DEFAULT_SOURCE,
				description: 'The utm_source value',
			},
		],
	},
	{
		displayName: 'Sending Window',
		name: 'sendingWindow',
		type: 'collection',
		placeholder: 'Add Window Option',
		default: {},
		description:
			"Send only inside business hours in each contact's time zone (from the item), else the workflow's. Items outside their window are output as skipped (outside-window) with the time their window opens next, and take no place under the day's caps. Off unless Only Inside the Window is on.",
		options: [
			{
				displayName: 'Days',
				name: 'days',
				type: 'multiOptions',
				default: [...DEFAULT_WINDOW_DAYS],
				options: WINDOW_DAYS.map((d) => ({ name: DAY_NAMES[d], value: d })),
				description: 'Weekdays the window is open on',
			},
			{
				displayName: 'End Time',
				name: 'end',
				type: 'string',
				default: DEFAULT_WINDOW_END,
				placeholder: DEFAULT_WINDOW_END,
				description: 'Local time the window closes (HH:MM, 24-hour; 24:00 is midnight)',
			},
			{
				displayName: 'Only Inside the Window',
				name: 'enabled',
				type: 'boolean',
				// DEFAULT_SENDING_WINDOW_ENABLED (the linter wants a literal here; a test keeps them equal)
				default: false,
				description: 'Whether to hold back mail to contacts outside their window',
			},
			{
				displayName: 'Start Time',
				name: 'start',
				type: 'string',
				default: DEFAULT_WINDOW_START,
				placeholder: DEFAULT_WINDOW_START,
				description: 'Local time the window opens (HH:MM, 24-hour)',
			},
			{
				displayName: 'Time Zone Field',
				name: 'timeZoneField',
				type: 'string',
				default: DEFAULT_TIME_ZONE_FIELD,
				description:
					"Item field with the contact's IANA time zone (e.g. Europe/Berlin). Missing or not a time zone: the workflow's time zone (the skipped event names the zone used).",
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
			{
				displayName: '4xx Retries',
				name: 'maxRetries',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 10 },
				default: DEFAULT_MAX_TEMPORARY_RETRIES,
				description: 'How often a message answered with a temporary (4xx) error is tried again, with growing pauses',
			},
			{
				displayName: 'Click Tracking',
				name: 'clickTracking',
				type: 'boolean',
				default: true,
				description:
					'Whether to route every http(s) link through the tracking URL (not mailto:, tel:, anchors, the unsubscribe link, links with a data-notrack attribute, or links the redirect would refuse, such as ones with credentials, backslashes or control characters)',
			},
			{
				displayName: 'Concurrency',
				name: 'concurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: MAX_POOL_SIZE },
				default: DEFAULT_POOL_SIZE,
				description: "SMTP connections used in parallel, at most the credential's pool size",
			},
			{
				displayName: 'Dry Run',
				name: 'dryRun',
				type: 'boolean',
				default: false,
				description: 'Whether to only render each message (headers, HTML with tracking, text) into the output, without sending',
			},
			{
				displayName: 'Extra Headers',
				name: 'headers',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				default: {},
				placeholder: 'Add Header',
				description: `Headers added to every message. Headers the node sets (From, To, Subject, Message-ID, Date, Reply-To, MIME-Version, Content-*, List-Unsubscribe, X-Cadence-Token, Return-Path, Received, DKIM-Signature and the like) are refused; control characters are removed from values; values up to ${EXTRA_HEADER_VALUE_MAX_LENGTH} characters.`,
				options: [
					{
						displayName: 'Header',
						name: 'header',
						values: [
							{ displayName: 'Name', name: 'name', type: 'string', default: '' },
							{ displayName: 'Value', name: 'value', type: 'string', default: '' },
						],
					},
				],
			},
			{
				displayName: 'Input Fields',
				name: 'inputFields',
				type: 'options',
				default: DEFAULT_INPUT_FIELDS,
				description: "What to do with the input item's fields in the output event",
				options: [
					{ name: 'Nest Under a Key', value: 'nest', description: 'The event, plus the input item under the key below' },
					{ name: 'Merge', value: 'merge', description: 'Input fields and event fields side by side; event fields win' },
					{ name: 'Drop', value: 'drop', description: 'The event only' },
				],
			},
			{
				displayName: 'Input Key',
				name: 'inputKey',
				type: 'string',
				default: DEFAULT_INPUT_KEY,
				displayOptions: { show: { inputFields: ['nest'] } },
			},
			{
				displayName: 'List-Unsubscribe Header',
				name: 'listUnsubscribe',
				type: 'boolean',
				default: true,
				description: 'Whether to add List-Unsubscribe and List-Unsubscribe-Post (one-click, RFC 8058) headers',
			},
			{
				displayName: 'List-Unsubscribe Mailto',
				name: 'unsubscribeMailto',
				type: 'string',
				default: '',
				placeholder: 'unsubscribe@example.com',
				description: 'Address added to List-Unsubscribe as a mailto: entry; its subject carries the address key',
			},
			{
				displayName: 'Max Messages per Second',
				name: 'ratePerSecond',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_RATE_PER_SECOND,
				description: "Sending rate for this node; 0: the credential's limit. Never above the credential's limit.",
			},
			{
				displayName: 'Open Tracking',
				name: 'openTracking',
				type: 'boolean',
				default: true,
				description: 'Whether to add a 1x1 tracking image before &lt;/body&gt;',
			},
			{
				displayName: 'Per-Company Daily Cap',
				name: 'companyDailyCap',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_COMPANY_DAILY_CAP,
				description:
					'Most messages to one recipient company (registrable domain: a.example.co.uk and b.example.co.uk are one) per calendar day, counted over everything sent that day (Sender Status and send ledger). 0: no cap.',
			},
			{
				displayName: 'Per-Contact Daily Cap',
				name: 'contactDailyCap',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_CONTACT_DAILY_CAP,
				description: 'Most messages to one contact per calendar day, across campaigns and cadences. 0: no cap.',
			},
			{
				displayName: 'Reply-To',
				name: 'replyTo',
				type: 'string',
				default: '',
				description: 'Plain Reply-To address, used when no Reply-To plus-address is set',
			},
			{
				displayName: 'Reply-To Plus-Address',
				name: 'replyPlusAddress',
				type: 'string',
				default: '',
				placeholder: 'example.com or inbox@example.com',
				description:
					"Domain (reply+KEY@domain) or address (inbox+KEY@domain) for a Reply-To that identifies the message; KEY is the event's addressKey. For the address form, the Inbox nodes match replies by KEY when that address is their mailbox or one of their Own Addresses.",
			},
			{
				displayName: 'Require Unsubscribe Link',
				name: 'requireUnsubscribeLink',
				type: 'boolean',
				// DEFAULT_REQUIRE_UNSUBSCRIBE_LINK (the linter wants a literal here; a test keeps them equal)
				default: true,
				description:
					'Whether to refuse (fail, reason no-unsubscribe-link) a message whose HTML and Text both lack [[unsubscribeUrl]]. Turn off only for mail that is not marketing.',
			},
			{
				displayName: 'Retry Pause (Seconds)',
				name: 'retryDelay',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_RETRY_DELAY_SECONDS,
				description: `First pause before retrying a 4xx; doubles each time, at most ${DEFAULT_RETRY_MAX_MS / 1000} seconds`,
			},
			{
				displayName: 'Stop-Loss Minimum',
				name: 'stopLossMinimum',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_STOP_LOSS_MINIMUM,
				description: 'The stop-loss only acts after this many messages were answered',
			},
			{
				displayName: 'Stop-Loss Threshold (%)',
				name: 'stopLossPercent',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100, numberPrecision: 2 },
				default: DEFAULT_STOP_LOSS_PERCENT,
				description:
					'Stop sending when more than this share of recipients failed; the rest is output as skipped (failure-rate). 0 turns the stop-loss off.',
			},
			{
				displayName: 'Track Links From Fields',
				name: 'trackFieldLinks',
				type: 'boolean',
				// DEFAULT_TRACK_FIELD_LINKS (the linter wants a literal here; a test keeps them equal)
				default: false,
				description:
					'Whether to also track links that come from expression results (contact fields) in the HTML and Text. Off: only links written in the template are tracked, so a field cannot send a signed redirect through the tracking domain.',
			},
			{
				displayName: 'VERP Bounce Address',
				name: 'verpAddress',
				type: 'string',
				default: '',
				placeholder: 'bounces.example.com or bounce@example.com',
				description: 'Domain (bounce+KEY@domain) or address for the envelope sender, so bounces name the message they belong to',
			},
		],
	},
];

/** The Send operation's parameters, shown for it only. */
export const description: INodeProperties[] = properties.map((p) => ({
	...p,
	displayOptions: { ...p.displayOptions, show: { ...p.displayOptions?.show, operation: ['send'] } },
}));

/** The top-level parameter defaults: a parameter left at its default is absent from the node's saved parameters. */
const PARAMETER_DEFAULTS = Object.fromEntries(description.map((p) => [p.name, p.default]));

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	if (items.length === 0) return [];
	const tracker = await readTracker(this);
	const pooled = senderSource(this) === 'pool';
	const pool = pooled ? await readPool(this) : null;
	const accountBox = pool ? null : await readAccountMailbox(this);
	// A pool's first mailbox stands in for the account where one server is read before the mailboxes are chosen.
	const account = accountBox ?? pool![0];
	const settings = readRunSettings(this, account);
	const content = readContentSettings(this);
	const abRollout = readAbRollout(this);
	const continueOnFail = this.continueOnFail();
	const param = createParamReader(this, PARAMETER_DEFAULTS);
	const { day } = settings;
	const status = readSenderStatus(this, day);

	const plans = planItems(this, param, items.length, account, continueOnFail);
	const ledger = settings.dryRun ? null : await openSendLedger(this);
	try {
		if (ledger) await replayFromLedger(this, param, plans, ledger);
		// Contacts without content are skipped before the day's caps are handed out, so they take no place under them.
		if (content) applyContent(plans, items, content);
		// The A/B phase holds contacts back (and gives the roll-out its winner) before the day's caps are handed out.
		if (abRollout) applyAbRollout(this, plans, abRollout, content ? null : readVariantNames(this));
		// Outside-window items are skipped before the day's caps are handed out, so they take no place under them.
		if (settings.window) applySendingWindow(plans, items, settings.window, this.getTimezone(), Date.now());
		const counts = await storeDayCounts(status, ledger, day).catch((error: Error) => {
			throw new NodeOperationError(this.getNode(), `Send ledger: ${error.message}`, {
				description: "Nothing was sent: today's counts could not be read.",
			});
		});
		assignSenders(plans, {
			pool,
			account: accountBox,
			status,
			counts,
			caps: { company: settings.companyDailyCap, contact: settings.contactDailyCap },
			day,
		});
		const body = createBodyReader(this, param);
		await sendMessages(this, { plans, settings, param, body, tracker, account, continueOnFail, ledger, pooled, day });
		return outputItems(plans, items, settings);
	} finally {
		await ledger?.close().catch(() => {});
	}
}
