import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';
import { DEFAULT_POOL_SIZE, DEFAULT_RATE_PER_SECOND, DEFAULT_SMTP_TLS, SMTP_SUBMISSION_PORT } from '../transport/smtp/types';
import { dkimCredentialFields, domainCheckCredentialFields } from '../nodes/shared/senderCredentialFields';

/** What the Mailboxes field holds when the credential is new: one mailbox to edit, showing every field it may have. */
export const SENDER_POOL_EXAMPLE = `[
  { "from": "Anna Li <anna@sales.example.com>", "user": "anna@sales.example.com", "password": "", "dailyCap": 50, "warmupStart": "" },
  { "from": "Ben Wu <ben@sales.example.com>", "user": "ben@sales.example.com", "password": "", "dailyCap": 50, "warmupStart": "2026-12-01",
    "replyTo": "", "replyPlusAddress": "", "verpAddress": "", "host": "", "port": 587, "tls": "starttls",
    "dkimDomain": "", "dkimSelector": "", "dkimPrivateKey": "" }
]`;

/**
 * Several sender mailboxes that Cadence Send rotates among, each with its own From, daily cap and warm-up. The
 * server fields are the default of every mailbox that names no server of its own (one relay, several From
 * identities); a mailbox may carry its own host, user and password. Tested by the node: every mailbox connects.
 */
export class CadenceSenderPoolApi implements ICredentialType {
	name = 'cadenceSenderPoolApi';

	displayName = 'Cadence Sender Pool API';

	icon: Icon = { light: 'file:../nodes/CadenceSend/cadenceSend.svg', dark: 'file:../nodes/CadenceSend/cadenceSend.dark.svg' };

	documentationUrl = 'https://github.com/mail-cadence/n8n-nodes-mail-cadence/blob/main/docs/sender-protection.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Mailboxes',
			name: 'mailboxes',
			type: 'json',
			default: SENDER_POOL_EXAMPLE,
			required: true,
			description:
				'A JSON list, one object per mailbox: from (required), dailyCap, warmupStart (YYYY-MM-DD of a new mailbox), replyTo, replyPlusAddress, verpAddress, and host, port, tls, user, password, dkimDomain, dkimSelector, dkimPrivateKey (PEM, line breaks as \\n) when it differs from the fields below. A mailbox with any DKIM field of its own signs with its own three, never mixed with the fields below.',
		},
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: '',
			placeholder: 'smtp.example.com',
			description: 'Server of every mailbox that names none',
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: SMTP_SUBMISSION_PORT,
		},
		{
			displayName: 'TLS',
			name: 'tls',
			type: 'options',
			default: DEFAULT_SMTP_TLS,
			options: [
				{ name: 'STARTTLS', value: 'starttls' },
				{ name: 'Implicit TLS', value: 'implicit' },
				{ name: 'None', value: 'none', description: 'Only for a relay on a trusted network' },
			],
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: '',
			description: 'User of every mailbox that names none; empty: no authentication',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Password of every mailbox that names none',
		},
		{
			displayName: 'Connection Pool Size',
			name: 'poolSize',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: DEFAULT_POOL_SIZE,
			description: 'Most connections per mailbox at once',
		},
		{
			displayName: 'Max Messages per Second',
			name: 'maxPerSecond',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: DEFAULT_RATE_PER_SECOND,
			description: "Each mailbox's sending limit; 0 means no limit",
		},
		{
			displayName: 'Client Name (EHLO)',
			name: 'clientName',
			type: 'string',
			default: '',
		},
		{
			displayName: 'Allow Self-Signed Certificates',
			name: 'allowSelfSigned',
			type: 'boolean',
			default: false,
		},
		...dkimCredentialFields(
			'Domain the DKIM signature is made for (d=), for every mailbox that names no DKIM fields of its own; normally the From domain. Empty (with the two fields below): those mailboxes send unsigned.',
		),
		...domainCheckCredentialFields,
	];
}
