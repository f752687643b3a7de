/** Credential plumbing shared by the two Inbox nodes: IMAP options, tracker, and the credential tests. */
import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';
export { cadenceTrackingCredentialTest, trackerFromCredentials } from '../../shared/trackingCredential';
import { imapOptionsProblem, testInboxConnection, type ImapConnectionOptions, type ImapTlsMode } from '../../core/inbox';

export function imapOptionsFromCredentials(c: ICredentialDataDecryptedObject): ImapConnectionOptions {
	const secure = String(c.secure ?? 'tls');
	return {
		host: String(c.host ?? '').trim(),
		port: Number(c.port ?? 993),
		tls: (['tls', 'starttls', 'none'].includes(secure) ? secure : 'tls') as ImapTlsMode,
		user: String(c.user ?? ''),
		password: String(c.password ?? ''),
		allowUnauthorizedCerts: c.allowSelfSigned === true,
	};
}

/** Logs in to the mailbox and out again. */
export async function cadenceImapConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const options = imapOptionsFromCredentials(credential.data ?? {});
	const problem = imapOptionsProblem(options) ?? (await testInboxConnection(options));
	return problem ? { status: 'Error', message: problem } : { status: 'OK', message: 'Connection successful' };
}
