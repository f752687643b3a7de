/**
 * The Cadence Tracking credential, read the same way by every node that uses it (Send signs, the Tracking Trigger and
 * the Inbox nodes verify): secrets one per line (the first signs, all verify), the trigger's URL, and a token
 * lifetime that applies to open and click links only (unsubscribe links never expire).
 */
import type { ICredentialDataDecryptedObject, ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { createTracker, TRACKING_SECRET_MIN_LENGTH, type Tracker, type TrackerOptions } from '../../core/tracker';

export function trackingSecrets(c: ICredentialDataDecryptedObject): string[] {
	return String(c.secrets ?? '')
		.split(/\r?\n/)
		.map((s) => s.trim())
		.filter(Boolean);
}

/** The tracker's options as structured-cloneable data (a worker thread builds its own tracker from them). */
export function trackerOptionsFromCredentials(c: ICredentialDataDecryptedObject): Omit<TrackerOptions, 'now'> {
	const maxAgeDays = Number(c.maxAgeDays ?? 0);
	return {
		secrets: trackingSecrets(c),
		baseUrl: String(c.baseUrl ?? '').trim(),
		maxAgeDays: Number.isFinite(maxAgeDays) && maxAgeDays > 0 ? maxAgeDays : undefined,
	};
}

export function trackerFromCredentials(c: ICredentialDataDecryptedObject): Tracker {
	return createTracker(trackerOptionsFromCredentials(c));
}

/** What is wrong with a tracking credential, or null. No network: secrets and URL shape only. */
export function checkTrackingCredentials(c: ICredentialDataDecryptedObject): string | null {
	const secrets = trackingSecrets(c);
	if (secrets.length === 0) return 'Add at least one signing secret';
	const short = secrets.findIndex((s) => s.length < TRACKING_SECRET_MIN_LENGTH);
	if (short >= 0) return `Secret on line ${short + 1} is shorter than ${TRACKING_SECRET_MIN_LENGTH} characters`;
	if (new Set(secrets).size !== secrets.length) return 'The same secret is listed twice';
	const raw = String(c.baseUrl ?? '').trim();
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		return `The tracking base URL "${raw}" is not a URL`;
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') return `The tracking base URL must start with https:// (got ${url.protocol})`;
	if (url.searchParams.has('t')) return 'The tracking base URL must not have a "t" query parameter: the token goes there';
	if (url.hash) return 'The tracking base URL must not have a #fragment';
	try {
		const tracker = trackerFromCredentials(c);
		const data = { email: 'check@example.com', campaign: 'check', batchTag: '', variant: '', sentAt: Date.now() };
		if (tracker.parse(tracker.clickUrl(data, 'https://example.com/'))?.target !== 'https://example.com/') return 'Tokens do not survive a round trip';
	} catch (error) {
		return (error as Error).message;
	}
	return null;
}

export async function cadenceTrackingCredentialTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const problem = checkTrackingCredentials(credential.data ?? {});
	if (problem) return { status: 'Error', message: problem };
	const n = trackingSecrets(credential.data ?? {}).length;
	return {
		status: 'OK',
		message:
			n > 1
				? `Signing with the first of ${n} secrets; all ${n} verify (keep old secrets while their links may be used)`
				: 'Secret and URL are usable',
	};
}
