/** The Send node's credentials: the SMTP account or the pool (and their connection tests) and the tracking signer. */
import {
	NodeOperationError,
	type ICredentialDataDecryptedObject,
	type ICredentialsDecrypted,
	type ICredentialTestFunctions,
	type IExecuteFunctions,
	type INodeCredentialTestResult,
} from 'n8n-workflow';
import type { Tracker } from '../../../core/tracker';
import { verifySmtpServer } from '../../../transport/smtp';
import { checkTrackingCredentials, trackerFromCredentials } from '../../shared/trackingCredential';
import { domainCheckSummary, domainCheckTargets } from '../../../core/domainCheck';
import { DEFAULT_DNS_TIMEOUT_MS } from '../../../transport/dns';
import { runDomainCheck } from '../../../transport/domainCheck';
import { dkimFromFields, smtpAccountFromCredentials } from './account';
import { accountLimits, mailboxesFromPool, type Mailbox } from './mailboxes';

/** The credential test waits this long for the server, shorter than a send's connection timeout. */
export const CREDENTIAL_TEST_TIMEOUT_MS = 15_000;
/** The pool's test: every mailbox's server answers and takes its login (the first failure names the mailbox). */
export async function cadenceSenderPoolConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	let mailboxes: Mailbox[];
	try {
		mailboxes = mailboxesFromPool(credential.data ?? {});
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
	for (const m of mailboxes) {
		try {
			await verifySmtpServer({ ...m.server, connectionTimeoutMs: CREDENTIAL_TEST_TIMEOUT_MS });
		} catch (error) {
			return { status: 'Error', message: `${m.id}: ${(error as Error).message}` };
		}
	}
	return await withDomainCheck(credential.data ?? {}, mailboxes, `${mailboxes.length} mailbox(es) connected`);
}

/**
 * When the credential asks for it, the test also checks the sending domains' DNS: a finding that gets mail rejected
 * (`fail`) fails the test, warnings are told. Bounded by the DNS timeout: a resolver that does not answer warns.
 */
async function withDomainCheck(data: ICredentialDataDecryptedObject, mailboxes: Mailbox[], connected: string): Promise<INodeCredentialTestResult> {
	if (data.checkSendingDomain !== true) return { status: 'OK', message: connected };
	let summary;
	try {
		const findings = await runDomainCheck(domainCheckTargets(mailboxes), {
			dnsServer: String(data.dnsServer ?? ''),
			timeoutMs: DEFAULT_DNS_TIMEOUT_MS,
		});
		summary = domainCheckSummary(findings);
	} catch (error) {
		return { status: 'Error', message: `${connected}, but the domain check could not run: ${(error as Error).message}` };
	}
	return summary.status === 'fail'
		? { status: 'Error', message: `${connected}, but ${summary.message}` }
		: { status: 'OK', message: `${connected}. ${summary.message}` };
}

export async function cadenceSmtpConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const account = smtpAccountFromCredentials(credential.data ?? {});
	if (!account.server.host) return { status: 'Error', message: 'Host is empty' };
	try {
		dkimFromFields(credential.data ?? {});
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
	try {
		await verifySmtpServer({ ...account.server, connectionTimeoutMs: CREDENTIAL_TEST_TIMEOUT_MS });
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
	const data = credential.data ?? {};
	const dkim = dkimFromFields(data);
	const mailbox: Mailbox = { ...account, id: '', domain: '', from: '', limits: { dailyCap: 0 }, ...(dkim ? { dkim } : {}) };
	return await withDomainCheck(data, [mailbox], account.server.user ? 'Connected and authenticated' : 'Connected');
}

/** The tracking signer of a run; a tracking credential that cannot sign fails the node. */
export async function readTracker(ctx: IExecuteFunctions): Promise<Tracker> {
	const trackingCredentials = await ctx.getCredentials('cadenceTrackingApi');
	const problem = checkTrackingCredentials(trackingCredentials);
	if (problem) throw new NodeOperationError(ctx.getNode(), `Cadence Tracking credential: ${problem}`);
	return trackerFromCredentials(trackingCredentials);
}

/** The single SMTP account as a mailbox: each From address it sends as is counted with the account's cap. */
export async function readAccountMailbox(ctx: IExecuteFunctions): Promise<Mailbox> {
	const credentials = await ctx.getCredentials('cadenceSmtpApi');
	const account = smtpAccountFromCredentials(credentials);
	let limits;
	let dkim;
	try {
		limits = accountLimits(credentials);
		dkim = dkimFromFields(credentials);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Cadence SMTP credential: ${(error as Error).message}`, { description: 'Nothing was sent.' });
	}
	return { ...account, id: '', domain: '', from: '', limits, ...(dkim ? { dkim } : {}) };
}
