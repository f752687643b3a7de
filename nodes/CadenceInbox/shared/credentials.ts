/** Credential plumbing shared by the two Inbox nodes: IMAP options, tracker, and the credential tests. */
import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';
import { imapOptionsProblem, testInboxConnection, type ImapConnectionOptions, type ImapTlsMode } from '../../core/inbox';
import { createTracker, type Tracker } from '../../core/tracker';

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

/** The Cadence Tracking credential (written by the send side): base URL, secrets one per line, max age in days. */
export function trackerFromCredentials(c: ICredentialDataDecryptedObject): Tracker {
	const secrets = String(c.secrets ?? '')
		.split(/\r?\n/)
		.map((s) => s.trim())
		.filter(Boolean);
	const maxAgeDays = Number(c.maxAgeDays ?? 0);
	return createTracker({
		secrets,
		baseUrl: String(c.baseUrl ?? ''),
		maxAgeDays: Number.isFinite(maxAgeDays) && maxAgeDays > 0 ? maxAgeDays : undefined,
	});
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

/** Tracking secrets need no network: a tracker that builds and can read its own token is a working credential. */
export async function cadenceTrackingCredentialTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	try {
		const tracker = trackerFromCredentials(credential.data ?? {});
		const probe = { email: 'probe@example.com', campaign: 'probe', batchTag: '', variant: '', sentAt: Date.now() };
		if (!tracker.verifyToken(tracker.token(probe))) throw new Error('a fresh token did not verify');
		return { status: 'OK', message: 'Tracking secrets are usable' };
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
}
