import { BatchRun } from './run';
import type { SmtpJob, SmtpResult, SmtpSendOptions, SmtpServerConfig } from './types';
import { SmtpWorker } from './worker';

/**
 * Sends every job; resolves with one result per job, in job order, once each has a final result. Never rejects
 * because of SMTP: refusals, drops and an unreachable server are results.
 */
export async function sendSmtpBatch(server: SmtpServerConfig, jobs: readonly SmtpJob[], opts: SmtpSendOptions = {}): Promise<SmtpResult[]> {
	const run = new BatchRun(jobs, opts);
	run.listenForAbort();
	// No more workers than jobs: each worker opens its own connection.
	const workers = Math.min(run.limits.poolSize, Math.max(jobs.length, 1));
	try {
		await Promise.all(Array.from({ length: workers }, () => new SmtpWorker(run, server).work()));
	} finally {
		run.stopListening();
	}
	return run.assembleResults();
}
