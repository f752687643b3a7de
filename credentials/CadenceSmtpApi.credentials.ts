import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';
import { DEFAULT_POOL_SIZE, DEFAULT_RATE_PER_SECOND, DEFAULT_SMTP_TLS, MAX_POOL_SIZE, SMTP_SUBMISSION_PORT } from '../transport/smtp/types';
import { dkimCredentialFields, domainCheckCredentialFields } from '../nodes/shared/senderCredentialFields';
import { DEFAULT_ACCOUNT_DAILY_CAP } from '../core/senderProtection/defaults';

/**
 * The SMTP account Cadence Send sends through. Tested by the node (`testedBy`): the test opens a real connection
 * and authenticates, which an HTTP request cannot do.
 */
export class CadenceSmtpApi implements ICredentialType {
	name = 'cadenceSmtpApi';

	displayName = 'Cadence SMTP API';

	icon: Icon = { light: 'file:../nodes/CadenceSend/cadenceSend.svg', dark: 'file:../nodes/CadenceSend/cadenceSend.dark.svg' };

	documentationUrl = 'https://github.com/mail-cadence/n8n-nodes-mail-cadence#cadence-smtp-credential';

	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: '',
			placeholder: 'smtp.example.com',
			required: true,
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: SMTP_SUBMISSION_PORT,
			description: 'Usually 587 with STARTTLS, 465 with implicit TLS, 25 between servers',
		},
		{
			displayName: 'TLS',
			name: 'tls',
			type: 'options',
			default: DEFAULT_SMTP_TLS,
			options: [
				{ name: 'STARTTLS', value: 'starttls', description: 'Plain connection upgraded to TLS; fails if the server cannot (port 587)' },
				{ name: 'Implicit TLS', value: 'implicit', description: 'TLS from the first byte (port 465)' },
				{ name: 'None', value: 'none', description: 'No encryption: only for a relay on a trusted network' },
			],
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: '',
			description: 'Leave empty for a relay that needs no authentication',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Default From',
			name: 'defaultFrom',
			type: 'string',
			default: '',
			placeholder: 'Sales Team <sales@example.com>',
			description: "Sender used when the node's From field is empty",
		},
		{
			displayName: 'Connection Pool Size',
			name: 'poolSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: MAX_POOL_SIZE },
			default: DEFAULT_POOL_SIZE,
			description: 'Most connections opened to this server at once; the node may use fewer, never more',
		},
		{
			displayName: 'Max Messages per Second',
			name: 'maxPerSecond',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: DEFAULT_RATE_PER_SECOND,
			description: "The account's sending limit; 0 means no limit. The node may set a lower rate, never a higher one.",
		},
		{
			displayName: 'Daily Cap',
			name: 'dailyCap',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: DEFAULT_ACCOUNT_DAILY_CAP,
			description:
				'Most messages per From address per calendar day, counted from the store across runs. 0: no cap (a relay or an email service). For a single mailbox (Google Workspace, Microsoft 365) 50 is current practice.',
		},
		{
			displayName: 'Warm-Up Start',
			name: 'warmupStart',
			type: 'string',
			default: '',
			placeholder: '2026-12-01',
			description:
				"A new mailbox's first sending day (YYYY-MM-DD): it starts low and rises each day to the Daily Cap. Empty: an established mailbox, the full cap from day one.",
		},
		{
			displayName: 'Client Name (EHLO)',
			name: 'clientName',
			type: 'string',
			default: '',
			placeholder: 'mailer.example.com',
			description: "Host name announced with EHLO; empty: this machine's host name",
		},
		{
			displayName: 'Allow Self-Signed Certificates',
			name: 'allowSelfSigned',
			type: 'boolean',
			default: false,
			description: "Whether to connect even if the server's certificate cannot be verified",
		},
		...dkimCredentialFields(
			"Domain the DKIM signature is made for (d=), normally the From address's domain. Empty (with the two fields below): mail goes out unsigned.",
		),
		...domainCheckCredentialFields,
	];
}
