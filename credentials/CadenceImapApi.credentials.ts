import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';
import { DEFAULT_IMAP_PORT, DEFAULT_IMAP_TLS } from '../transport/inbox/defaults';

/**
 * The sender mailbox read by the Cadence Inbox nodes. Tested by the nodes (`testedBy`), which log in for real:
 * IMAP cannot be tested with an HTTP request.
 */
export class CadenceImapApi implements ICredentialType {
	name = 'cadenceImapApi';

	displayName = 'Cadence IMAP API';

	icon: Icon = { light: 'file:../nodes/CadenceInbox/cadenceInbox.svg', dark: 'file:../nodes/CadenceInbox/cadenceInbox.dark.svg' };

	documentationUrl = 'https://github.com/mail-cadence/n8n-nodes-mail-cadence#cadence-imap-credential';

	properties: INodeProperties[] = [
		{
			displayName: 'Host',
			name: 'host',
			type: 'string',
			default: '',
			placeholder: 'imap.example.com',
			required: true,
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: DEFAULT_IMAP_PORT,
			description: 'Usually 993 with implicit TLS, 143 with STARTTLS or without TLS',
		},
		{
			displayName: 'TLS',
			name: 'secure',
			type: 'options',
			default: DEFAULT_IMAP_TLS,
			options: [
				{ name: 'Implicit TLS', value: 'tls', description: 'TLS from the first byte (port 993)' },
				{ name: 'STARTTLS', value: 'starttls', description: 'Plain connection upgraded to TLS; fails if the server cannot' },
				{ name: 'None', value: 'none', description: 'No encryption: only for servers on a trusted network' },
			],
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: '',
			required: true,
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Allow Self-Signed Certificates',
			name: 'allowSelfSigned',
			type: 'boolean',
			default: false,
			description: "Whether to connect even if the server's certificate cannot be verified",
		},
	];
}
