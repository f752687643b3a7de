/** The Cadence Postgres credential (send ledger), read the same way by every node that uses it, and its test. */
import type { ICredentialDataDecryptedObject, ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { checkPostgresConnection, DEFAULT_POSTGRES_PORT, type PostgresConnection } from '../../transport/postgresLedger';

export function postgresConnectionFromCredentials(c: ICredentialDataDecryptedObject): PostgresConnection {
	return {
		host: String(c.host ?? '').trim(),
		port: Number(c.port) || DEFAULT_POSTGRES_PORT,
		database: String(c.database ?? '').trim(),
		user: String(c.user ?? '').trim(),
		password: c.password ? String(c.password) : undefined,
		ssl: c.ssl === 'require' ? 'require' : 'disable',
		allowUnauthorizedCerts: c.allowSelfSigned === true,
	};
}

export async function cadencePostgresCredentialTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const connection = postgresConnectionFromCredentials(credential.data ?? {});
	if (!connection.host || !connection.database || !connection.user) return { status: 'Error', message: 'Host, database and user are required' };
	try {
		const { canCreate, version } = await checkPostgresConnection({ ...connection, connectionTimeoutMs: 10_000 });
		return {
			status: 'OK',
			message: canCreate
				? `Connected to ${version}`
				: `Connected to ${version}; this user cannot create tables, so create the ledger table beforehand (docs/store.md, "Ledger table DDL")`,
		};
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
}
