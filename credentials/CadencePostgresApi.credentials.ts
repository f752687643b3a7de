import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';
import { DEFAULT_POSTGRES_PORT } from '../transport/postgresLedger';

/**
 * The PostgreSQL database of Cadence Send's send ledger (usually the same database as the contacts and events
 * store). Tested by the node (`testedBy`), which connects for real: Postgres cannot be tested with an HTTP request.
 */
export class CadencePostgresApi implements ICredentialType {
	name = 'cadencePostgresApi';

	displayName = 'Cadence Postgres API';

	icon: Icon = { light: 'file:../nodes/CadenceSend/cadenceSend.svg', dark: 'file:../nodes/CadenceSend/cadenceSend.dark.svg' };

	documentationUrl = 'https://github.com/mail-cadence/n8n-nodes-mail-cadence#send-ledger';

	properties: INodeProperties[] = [
		{ displayName: 'Host', name: 'host', type: 'string', default: 'localhost', required: true },
		{ displayName: 'Port', name: 'port', type: 'number', default: DEFAULT_POSTGRES_PORT },
		{ displayName: 'Database', name: 'database', type: 'string', default: '', required: true },
		{ displayName: 'User', name: 'user', type: 'string', default: '', required: true },
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'SSL',
			name: 'ssl',
			type: 'options',
			default: 'disable',
			options: [
				{ name: 'Disable', value: 'disable', description: 'Plain connection: only on a trusted network' },
				{ name: 'Require', value: 'require', description: 'TLS; the server certificate is checked unless allowed below' },
			],
		},
		{
			displayName: 'Allow Self-Signed Certificates',
			name: 'allowSelfSigned',
			type: 'boolean',
			default: false,
			displayOptions: { show: { ssl: ['require'] } },
			description: "Whether to connect even if the server's certificate cannot be verified",
		},
	];
}
