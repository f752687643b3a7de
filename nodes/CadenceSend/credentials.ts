import type { ICredentialDataDecryptedObject, ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';

export { cadenceTrackingCredentialTest, checkTrackingCredentials, trackerFromCredentials } from '../shared/trackingCredential';
import { verifySmtpServer, type SmtpServerConfig, type SmtpTlsMode } from '../core/smtp';

export interface SmtpAccount {
	server: SmtpServerConfig;
	defaultFrom: string;
	poolSize: number;
	/** 0: no limit. */
	maxPerSecond: number;
}

export function smtpAccountFromCredentials(c: ICredentialDataDecryptedObject): SmtpAccount {
	const tls = String(c.tls ?? 'starttls') as SmtpTlsMode;
	const port = Number(c.port) || (tls === 'implicit' ? 465 : 587);
	return {
		server: {
			host: String(c.host ?? '').trim(),
			port,
			tls: ['implicit', 'starttls', 'none'].includes(tls) ? tls : 'starttls',
			user: c.user ? String(c.user) : undefined,
			password: c.password ? String(c.password) : undefined,
			allowUnauthorizedCerts: c.allowSelfSigned === true,
			clientName: c.clientName ? String(c.clientName).trim() : undefined,
		},
		defaultFrom: String(c.defaultFrom ?? '').trim(),
		poolSize: Math.max(1, Math.floor(Number(c.poolSize) || 5)),
		maxPerSecond: Math.max(0, Number(c.maxPerSecond) || 0),
	};
}

export async function cadenceSmtpConnectionTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
	const account = smtpAccountFromCredentials(credential.data ?? {});
	if (!account.server.host) return { status: 'Error', message: 'Host is empty' };
	try {
		await verifySmtpServer({ ...account.server, connectionTimeoutMs: 15_000 });
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	}
	return { status: 'OK', message: account.server.user ? 'Connected and authenticated' : 'Connected' };
}
