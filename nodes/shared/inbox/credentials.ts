/** Credential plumbing shared by the two Inbox nodes: IMAP options, tracker, and the credential tests. */
import type { ICredentialDataDecryptedObject, ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
export { cadenceTrackingCredentialTest } from '../trackingCredential';
import { trackerOptionsFromCredentials } from '../trackingCredential';
import {
	DEFAULT_IMAP_PORT,
	DEFAULT_IMAP_TLS,
	IMAP_TLS_MODES,
	imapOptionsProblem,
	testInboxConnection,
	type ImapConnectionOptions,
	type ImapTlsMode,
} from '../../../transport/inbox';
import { createTracker, type Tracker, type TrackerOptions } from '../../../core/tracker';

/** A tracker, and the plain options it was built from (the classification worker builds its own from them). */
export interface TrackingSetup {
	tracker: Tracker;
	options: Omit<TrackerOptions, 'now'>;
}

export function trackingFromCredentials(c: ICredentialDataDecryptedObject): TrackingSetup {
	const options = trackerOptionsFromCredentials(c);
	return { tracker: createTracker(options), options };
}

export function imapOptionsFromCredentials(c: ICredentialDataDecryptedObject): ImapConnectionOptions {
	const secure = String(c.secure ?? DEFAULT_IMAP_TLS);
	return {
		host: String(c.host ?? '').trim(),
		port: Number(c.port ?? DEFAULT_IMAP_PORT),
		tls: (IMAP_TLS_MODES.includes(secure as ImapTlsMode) ? secure : DEFAULT_IMAP_TLS) as ImapTlsMode,
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
