import type { INodeProperties } from 'n8n-workflow';
import type { EventType } from '../../core/events';
import { DEFAULT_SCANNER_CLICK_SECONDS } from '../../core/hitClass';
import { CONVERSION_PARAM, DEFAULT_MACHINE_HITS } from '../../core/trackingHttp';

/** The one webhook path: every tracking URL is `<this node's URL>?t=<token>`. */
export const TRACKING_WEBHOOK_PATH = 't';

/** The hits that start an execution when the node is added: every kind. */
export const DEFAULT_TRACKING_EVENTS: readonly EventType[] = Object.freeze(['opened', 'clicked', 'unsubscribed', 'converted']);

export const trackingTriggerProperties: INodeProperties[] = [
	{
		displayName:
			"Open Webhook URLs above and copy the Production URL into the Base URL of the Cadence Tracking credential: Cadence Send builds every open, click and unsubscribe link from it. Behind a reverse proxy, set n8n's WEBHOOK_URL so the URL shown here is the public one.",
		name: 'urlNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		default: [...DEFAULT_TRACKING_EVENTS],
		description: 'Which hits start an execution. The others are still answered (pixel, redirect, page).',
		options: [
			{ name: 'Clicked', value: 'clicked', description: 'A tracked link was followed' },
			{
				name: 'Converted',
				value: 'converted',
				description: `The website reported a conversion with the reference (${CONVERSION_PARAM}=) its landing page received`,
			},
			{ name: 'Opened', value: 'opened', description: 'The open pixel was loaded' },
			{
				name: 'Unsubscribed',
				value: 'unsubscribed',
				description:
					"A one-click or confirmed unsubscribe. Unsubscribe links never expire (the credential's Token Lifetime applies to opens and clicks).",
			},
		],
	},
	{
		displayName: 'Machine Hits',
		name: 'machineHits',
		type: 'options',
		default: DEFAULT_MACHINE_HITS,
		description: 'What to do with hits from Apple Mail Privacy Protection and security scanners. Unsubscribes are always emitted.',
		options: [
			{
				name: 'Emit Flagged',
				value: 'emit',
				description: "Start an execution with the event's class set, so metrics can show raw and human figures",
			},
			{
				name: 'Answer Without an Execution',
				value: 'drop',
				description: 'Answer the pixel or redirect and start nothing (much cheaper under scanner load)',
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
				displayName: 'Conversion Domains',
				name: 'conversionDomains',
				type: 'string',
				default: '',
				placeholder: 'acme.example, shop.acme.example',
				description: `Your website's hosts (subdomains included), comma-separated. A tracked link to one of them redirects with the conversion reference appended (${CONVERSION_PARAM}=…), which the website sends back to this URL to report a conversion (its value is recorded when signed with the credential's Conversion Secret). A link that already has an ${CONVERSION_PARAM} parameter keeps it as written (write ${CONVERSION_PARAM}= to opt a link out). Empty: no link carries a reference.`,
			},
			{
				displayName: 'Extra Scanner User Agents',
				name: 'extraScannerAgents',
				type: 'string',
				default: '',
				placeholder: 'acme-linkguard, corp-proxy',
				description: 'Comma- or line-separated user-agent fragments (case-insensitive) to treat as scanners',
			},
			{
				displayName: 'Fallback URL',
				name: 'fallbackUrl',
				type: 'string',
				default: '',
				placeholder: 'https://www.example.com/',
				description:
					'Where an invalid or expired click link goes instead of a small error page. Must be an absolute http(s) URL; it is never taken from the request.',
			},
			{
				displayName: 'Scanner Click Window (Seconds)',
				name: 'scannerClickSeconds',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_SCANNER_CLICK_SECONDS,
				description: 'A click this soon after sending is a security gateway checking the link on delivery. 0 turns the rule off.',
			},
			{
				displayName: 'Sender Name',
				name: 'senderName',
				type: 'string',
				default: '',
				placeholder: 'Acme Export Ltd',
				description: 'Shown on the unsubscribe confirmation page ("Stop receiving these emails from …?")',
			},
		],
	},
];
