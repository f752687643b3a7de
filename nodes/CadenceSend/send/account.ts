/** The SMTP account of a credential (or of one pool mailbox): server, sender, pool, rate and DKIM signing. */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import { createDkimSigner, readDkimFields, type DkimConfig } from '../../../core/dkim';
import {
	DEFAULT_POOL_SIZE,
	DEFAULT_RATE_PER_SECOND,
	DEFAULT_SMTP_TLS,
	SMTP_IMPLICIT_TLS_PORT,
	SMTP_SUBMISSION_PORT,
	type SmtpServerConfig,
	type SmtpTlsMode,
} from '../../../transport/smtp';

const TLS_MODES: readonly SmtpTlsMode[] = ['implicit', 'starttls', 'none'];

export interface SmtpAccount {
	server: SmtpServerConfig;
	defaultFrom: string;
	poolSize: number;
	/** 0: no limit. */
	maxPerSecond: number;
	/** DKIM signing of every message this account (or mailbox) sends; undefined: unsigned. */
	dkim?: DkimConfig;
}

/**
 * The checked DKIM settings of a credential or mailbox: undefined when none are set; a missing field, a domain or
 * selector that is no DNS name, or a key that cannot sign is an Error that says what to fix.
 */
export function dkimFromFields(fields: Record<string, unknown>): DkimConfig | undefined {
	const config = readDkimFields(fields);
	if (config) {
		const signer = createDkimSigner(config);
		return { domainName: signer.domain, keySelector: signer.selector, privateKey: config.privateKey };
	}
	return undefined;
}

export function smtpAccountFromCredentials(c: ICredentialDataDecryptedObject): SmtpAccount {
	const tls = String(c.tls ?? DEFAULT_SMTP_TLS) as SmtpTlsMode;
	const port = Number(c.port) || (tls === 'implicit' ? SMTP_IMPLICIT_TLS_PORT : SMTP_SUBMISSION_PORT);
	return {
		server: {
			host: String(c.host ?? '').trim(),
			port,
			tls: TLS_MODES.includes(tls) ? tls : DEFAULT_SMTP_TLS,
			user: c.user ? String(c.user) : undefined,
			password: c.password ? String(c.password) : undefined,
			allowUnauthorizedCerts: c.allowSelfSigned === true,
			clientName: c.clientName ? String(c.clientName).trim() : undefined,
		},
		defaultFrom: String(c.defaultFrom ?? '').trim(),
		poolSize: Math.max(1, Math.floor(Number(c.poolSize) || DEFAULT_POOL_SIZE)),
		maxPerSecond: Math.max(0, Number(c.maxPerSecond) || DEFAULT_RATE_PER_SECOND),
	};
}
