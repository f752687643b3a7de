import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';
import { CONVERSION_PARAM, CONVERSION_SECRET_MIN_LENGTH } from '../core/trackingHttp';

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
				'One secret per line, at least 16 characters each (32 or more random characters recommended). Only the first line signs new links; every line verifies. To rotate, put the new secret on the first line and keep the old ones below it for verification only. Removing a secret kills every link it signed, unsubscribe links included, so keep an old secret as long as you may still mail people who got links signed with it.',
			required: true,
		},
		{
			displayName: 'Token Lifetime (Days)',
			name: 'maxAgeDays',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description:
				'Open and click links older than this are refused (the pixel still loads, a click shows the error page or the Fallback URL); 0 means they never expire. Unsubscribe links never expire, whatever this is set to: people can always leave.',
		},
		{
			displayName: 'Conversion Secret',
			name: 'conversionSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: `Optional. Key (at least ${CONVERSION_SECRET_MIN_LENGTH} characters) of the sig your website's server adds to a conversion report: HMAC-SHA256 hex of ${CONVERSION_PARAM}, order, value and currency as sent, joined with line feeds. A value without a valid sig is not recorded (the conversion still counts). Keep it on your server, never in a web page.`,
		},
	];
}
