/**
 * Credential fields the single SMTP account and the sender pool share: DKIM signing, and the sending-domain check
 * their tests can run.
 */
import type { INodeProperties } from 'n8n-workflow';
import { DKIM_RSA_MAX_BITS, DKIM_RSA_MIN_BITS } from '../../core/dkim';

/** DKIM Domain, Selector and Private Key. */
export function dkimCredentialFields(domainDescription: string): INodeProperties[] {
	return [
		{
			displayName: 'DKIM Domain',
			name: 'dkimDomain',
			type: 'string',
			default: '',
			placeholder: 'example.com',
			description: domainDescription,
		},
		{
			displayName: 'DKIM Selector',
			name: 'dkimSelector',
			type: 'string',
			default: '',
			placeholder: 'cadence2026',
			description: 'Selector (s=): the public key is published as a TXT record at SELECTOR._domainkey.DOMAIN',
		},
		{
			displayName: 'DKIM Private Key',
			name: 'dkimPrivateKey',
			type: 'string',
			typeOptions: { password: true, rows: 6 },
			default: '',
			placeholder: '-----BEGIN PRIVATE KEY-----',
			description: `PEM private key, RSA (${DKIM_RSA_MIN_BITS}–${DKIM_RSA_MAX_BITS} bits; 2048 is usual) or Ed25519, without a passphrase. Every message is signed with it; none goes out unsigned.`,
		},
	];
}

/** Whether the credential test also checks the sending domain's DNS, and through which resolver. */
export const domainCheckCredentialFields: INodeProperties[] = [
	{
		displayName: 'Check Sending Domain in the Test',
		name: 'checkSendingDomain',
		type: 'boolean',
		default: false,
		description:
			"Whether the credential test also checks the From domain's SPF, DKIM key, DMARC and MX (as Cadence Send's Check Sending Domain does) and fails on a finding that would get mail rejected",
	},
	{
		displayName: 'DNS Server for the Check',
		name: 'dnsServer',
		type: 'string',
		default: '',
		placeholder: '1.1.1.1 or 127.0.0.1:5353',
		displayOptions: { show: { checkSendingDomain: [true] } },
		description: "Resolver the check asks; empty: this machine's",
	},
];
