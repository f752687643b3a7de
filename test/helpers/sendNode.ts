/** Credentials for running Cadence Send against the SMTP sink of test/helpers/smtpSink.ts. */
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';
import type { SmtpSink } from './smtpSink';

/** The login the Send tests give the sink (`startSmtpSink({ auth: SINK_AUTH })`). */
export const SINK_AUTH = { user: 'mailer', pass: 'secret-pass' };

/** A Cadence SMTP credential for the sink, sending as Sales <sales@sender.example.com>. */
export function sinkSmtpCredential(sink: Pick<SmtpSink, 'host' | 'port'>, extra: IDataObject = {}): ICredentialDataDecryptedObject {
	return {
		host: sink.host,
		port: sink.port,
		tls: 'none',
		user: SINK_AUTH.user,
		password: SINK_AUTH.pass,
		defaultFrom: 'Sales <sales@sender.example.com>',
		poolSize: 2,
		maxPerSecond: 0,
		...extra,
	} as ICredentialDataDecryptedObject;
}

/** A Cadence Tracking credential with one secret and no token lifetime. */
export function trackingCredential(baseUrl: string, secret: string, extra: IDataObject = {}): ICredentialDataDecryptedObject {
	return { baseUrl, secrets: secret, maxAgeDays: 0, ...extra } as ICredentialDataDecryptedObject;
}
