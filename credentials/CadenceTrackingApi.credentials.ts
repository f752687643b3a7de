import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * Signing secrets and the public URL of the Cadence Tracking Trigger. Shared by Cadence Send (which signs),
 * the tracking trigger and the inbox nodes (which verify). Tested by the nodes (`testedBy`): no network needed.
 */
export class CadenceTrackingApi implements ICredentialType {
	name = 'cadenceTrackingApi';

	displayName = 'Cadence Tracking API';

	icon: Icon = { light: 'file:../nodes/CadenceSend/cadenceSend.svg', dark: 'file:../nodes/CadenceSend/cadenceSend.dark.svg' };

	documentationUrl = 'https://github.com/mail-cadence/n8n-nodes-mail-cadence#cadence-tracking-credential';

	properties: INodeProperties[] = [
		{
			displayName: 'Tracking Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://n8n.example.com/webhook/0b7c.../t',
			description:
				'The Production URL of the Cadence Tracking Trigger, exactly as n8n shows it. Every open, click and unsubscribe link is this URL plus ?t=token. Use https: List-Unsubscribe one-click (RFC 8058) needs it.',
			required: true,
		},
		{
			displayName: 'Signing Secrets',
			name: 'secrets',
			type: 'string',
			typeOptions: { password: true, rows: 3 },
			default: '',
			description:
				'One secret per line, at least 16 characters each (32 or more random characters recommended). The first one signs new links; all of them are accepted, so to rotate, put a new secret on the first line and keep the old one below until its links no longer matter.',
			required: true,
		},
		{
			displayName: 'Token Lifetime (Days)',
			name: 'maxAgeDays',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description: 'Links older than this are refused; 0 means they never expire',
		},
	];
}
