/**
 * Check Sending Domain: for each mailbox of the chosen credential (the SMTP account's From, or every mailbox of a
 * pool), whether receivers will authenticate its mail (SPF for the sending addresses, the DKIM key, DMARC and
 * alignment) and whether replies and bounces can come back (MX). Runs once, whatever the input; sends nothing.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { domainCheckSummary, domainCheckTargets, type DomainCheckTarget, type DomainFinding } from '../../../core/domainCheck';
import { DEFAULT_DNS_TIMEOUT_MS, MAX_DNS_TIMEOUT_MS, MIN_DNS_TRY_TIMEOUT_MS } from '../../../transport/dns';
import { runDomainCheck } from '../../../transport/domainCheck';
import { readAccountMailbox } from '../send/credentials';
import { DEFAULT_SENDER_SOURCE, readPool, senderSource } from '../send/mailboxes';

/** What the operation outputs: one item per finding, or one per mailbox holding its findings. */
export const DOMAIN_CHECK_OUTPUTS = ['findings', 'mailboxes'] as const;
export type DomainCheckOutput = (typeof DOMAIN_CHECK_OUTPUTS)[number];
export const DEFAULT_DOMAIN_CHECK_OUTPUT: DomainCheckOutput = 'findings';

const show = { show: { operation: ['checkDomain'] } };
const forAccount = { show: { operation: ['checkDomain'], senders: ['account'] } };

export const description: INodeProperties[] = [
	{
		displayName:
			"Checks the DNS of each sender mailbox's domains: SPF for the sending host, the DKIM key against the credential's private key, DMARC and its alignment, and MX for the reply and bounce domains. Each finding says what to put in DNS. Runs once; sends nothing.",
		name: 'checkDomainNotice',
		type: 'notice',
		default: '',
		displayOptions: show,
	},
	{
		displayName: 'Check',
		name: 'senders',
		type: 'options',
		default: DEFAULT_SENDER_SOURCE,
		displayOptions: show,
		options: [
			{ name: 'One SMTP Account', value: 'account', description: 'The From domain of the Cadence SMTP credential' },
			{ name: 'Mailbox Pool', value: 'pool', description: 'Every mailbox of a Cadence Sender Pool credential' },
		],
	},
	{
		displayName: 'From',
		name: 'from',
		type: 'string',
		default: '',
		placeholder: 'Sales Team <sales@example.com>',
		displayOptions: forAccount,
		description: 'The sender address to check. Empty: the Default From of the SMTP credential.',
	},
	{
		displayName: 'DNS Server',
		name: 'dnsServer',
		type: 'string',
		default: '',
		placeholder: '9.9.9.9 or 127.0.0.1:5353',
		displayOptions: show,
		description: "The resolver to ask, as IP or IP:port (IPv6 as [::1]:5353). Empty: the system's resolver.",
	},
	{
		displayName: 'DNS Timeout (Ms)',
		name: 'dnsTimeout',
		type: 'number',
		typeOptions: { minValue: MIN_DNS_TRY_TIMEOUT_MS, maxValue: MAX_DNS_TIMEOUT_MS },
		default: DEFAULT_DNS_TIMEOUT_MS,
		displayOptions: show,
		description: 'How long one lookup may take. A server that does not answer makes the findings it blocks warnings; the check never hangs.',
	},
	{
		displayName: 'Output',
		name: 'domainCheckOutput',
		type: 'options',
		default: DEFAULT_DOMAIN_CHECK_OUTPUT,
		displayOptions: show,
		options: [
			{ name: 'One Item per Finding', value: 'findings', description: 'Mailbox, domain, check, status (ok, warn, fail), detail and fix' },
			{ name: 'One Item per Mailbox', value: 'mailboxes', description: "The mailbox's worst status, its counts, a summary line and its findings" },
		],
	},
	{
		displayName: 'Options',
		name: 'checkOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show,
		options: [
			{
				displayName: 'Reply-To',
				name: 'replyTo',
				type: 'string',
				default: '',
				description: 'Plain Reply-To address, when no plus-address is set. Empty: replies go to From.',
			},
			{
				displayName: 'Reply-To Plus-Address',
				name: 'replyPlusAddress',
				type: 'string',
				default: '',
				placeholder: 'example.com or inbox@example.com',
				description: "As in Send: its domain must take mail (MX). A pool mailbox's own setting wins.",
			},
			{
				displayName: 'Sending IPs',
				name: 'sendingIps',
				type: 'string',
				default: '',
				placeholder: '192.0.2.10, 2001:db8::10',
				description:
					"Public addresses the mail leaves from, when the SMTP host relays through others (a smarthost, a provider's outbound servers). Empty: the SMTP host's A and AAAA records.",
			},
			{
				displayName: 'VERP Bounce Address',
				name: 'verpAddress',
				type: 'string',
				default: '',
				placeholder: 'bounces.example.com or bounce@example.com',
				description: "As in Send: the envelope domain, which SPF checks and bounces go to. A pool mailbox's own setting wins.",
			},
		],
	},
];

/** One item per mailbox: its worst status, counts, a summary line and its findings. */
export function findingsByMailbox(findings: readonly DomainFinding[]): IDataObject[] {
	const groups = new Map<string, DomainFinding[]>();
	for (const f of findings) groups.set(f.mailbox, [...(groups.get(f.mailbox) ?? []), f]);
	return [...groups].map(([mailbox, list]) => {
		const s = domainCheckSummary(list);
		return { mailbox, domain: list[0].domain, status: s.status, ...s.counts, summary: s.message, findings: list as unknown as IDataObject[] };
	});
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const o = this.getNodeParameter('checkOptions', 0, {}) as IDataObject;
	const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
	const mailboxes = senderSource(this) === 'pool' ? await readPool(this) : [await readAccountMailbox(this)];
	let targets: DomainCheckTarget[];
	try {
		targets = domainCheckTargets(mailboxes, {
			from: str(this.getNodeParameter('from', 0, '')),
			replyTo: str(o.replyTo),
			replyPlusAddress: str(o.replyPlusAddress),
			verpAddress: str(o.verpAddress),
			sendingIps: str(o.sendingIps)
				.split(/[\s,]+/)
				.filter((ip) => ip !== ''),
		});
	} catch (error) {
		throw new NodeOperationError(this.getNode(), (error as Error).message);
	}
	let findings: DomainFinding[];
	try {
		findings = await runDomainCheck(targets, {
			dnsServer: str(this.getNodeParameter('dnsServer', 0, '')),
			timeoutMs: Number(this.getNodeParameter('dnsTimeout', 0, DEFAULT_DNS_TIMEOUT_MS)),
		});
	} catch (error) {
		throw new NodeOperationError(this.getNode(), (error as Error).message, { description: 'Fix the DNS Server or DNS Timeout parameter.' });
	}
	const output =
		this.getNodeParameter('domainCheckOutput', 0, DEFAULT_DOMAIN_CHECK_OUTPUT) === 'mailboxes'
			? findingsByMailbox(findings)
			: (findings as unknown as IDataObject[]);
	const paired = items.length > 0 ? { pairedItem: [{ item: 0 }] } : {};
	return [output.map((json) => ({ json, ...paired }))];
}
