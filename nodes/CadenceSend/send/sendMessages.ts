/**
 * Sending the planned messages: each is rendered at its turn, built into MIME and handed to the pooled SMTP engine
 * (a dry run only renders), with the send ledger claimed before and settled after each message.
 */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import type { SendLedger } from '../../../core/sendLedger';
import { buildMimeMessage, CadenceRenderError, renderCheckedMessage, type RenderedMessage } from '../../../core/sendRender';
import type { Tracker } from '../../../core/tracker';
import { sendSmtpBatch, type SmtpJob, type SmtpResult, type SmtpSendOptions } from '../../../transport/smtp';
import { itemError } from '../../shared/perItem';
import type { BodyReader } from './bodyReader';
import type { SmtpAccount } from './credentials';
import { settleInLedger } from './ledger';
import type { ParamReader } from './paramReader';
import type { Plan, SendPlan } from './plan';
import { readItemMessage } from './readItem';
import type { RunSettings } from './settings';

export interface RunContext {
	plans: Plan[];
	settings: RunSettings;
	param: ParamReader;
	body: BodyReader;
	tracker: Tracker;
	account: SmtpAccount;
	continueOnFail: boolean;
	ledger: SendLedger | null;
}

/** Reads the item's content and renders it; on a content error, keeps it on the plan and returns undefined. */
function render(param: ParamReader, body: BodyReader, plan: SendPlan, tracker: Tracker): RenderedMessage | undefined {
	try {
		const item = readItemMessage(param, body, plan.index, plan.head);
		plan.msg = renderCheckedMessage(item.checked, { ...item.input, sentAt: Date.now() }, { ...item.tracking, tracker });
		return plan.msg;
	} catch (error) {
		plan.contentError = { reason: error instanceof CadenceRenderError ? error.reason : 'invalid-parameter', error: (error as Error).message };
		return undefined;
	}
}

/** Sends (or, in a dry run, only renders) the planned messages; each outcome is kept on its plan. */
export async function sendMessages(ctx: IExecuteFunctions, run: RunContext): Promise<void> {
	const toSend = run.plans.filter((p): p is SendPlan => p.kind === 'send');
	if (run.settings.dryRun) renderOnly(ctx, run, toSend);
	else if (toSend.length > 0) await sendPlanned(ctx, run, toSend);
}

/** A dry run renders every message; nothing is sent, so failing the node on a content error loses nothing. */
function renderOnly(ctx: IExecuteFunctions, run: RunContext, toSend: SendPlan[]): void {
	for (const p of toSend) {
		if (!render(run.param, run.body, p, run.tracker) && !run.continueOnFail) throw itemError(ctx, p.contentError!.error, p.index);
	}
}

/** Sends the planned messages, keeps each result on its plan, and writes the ledger as each one settles. */
async function sendPlanned(ctx: IExecuteFunctions, run: RunContext, toSend: SendPlan[]): Promise<void> {
	const { settings, ledger } = run;
	const ledgerWrites: Array<Promise<void>> = [];
	let ledgerWriteErrors = 0;
	const options: SmtpSendOptions = {
		poolSize: settings.concurrency,
		ratePerSecond: settings.ratePerSecond,
		maxTemporaryRetries: settings.maxRetries,
		retryBaseMs: settings.retryDelayMs,
		stopLoss: settings.stopLoss,
		signal: ctx.getExecutionCancelSignal?.(),
		onResult: (k, r) => {
			const p = toSend[k];
			p.at = new Date().toISOString();
			if (!ledger || !p.claimed) return;
			p.result = r;
			// Not fatal for this run (the event is in the output); a later run reads the key as unconfirmed.
			ledgerWrites.push(settleInLedger(ledger, p, r, settings).catch(() => void ledgerWriteErrors++));
		},
	};
	const results = await sendSmtpBatch(
		run.account.server,
		toSend.map((p) => sendJob(ctx, run, p)),
		options,
	);
	results.forEach((r, k) => (toSend[k].result = r));
	await Promise.all(ledgerWrites);
	if (ledgerWriteErrors > 0) {
		ctx.logger?.warn?.(
			`Cadence Send: ${ledgerWriteErrors} ledger write(s) failed; a retried run reports those messages as unconfirmed, never resends them`,
		);
	}
	failIfNothingSent(ctx, run, results);
}

/**
 * The engine job for one plan, built at its turn: claim the ledger key (withdrawn when another run holds it),
 * render, build the MIME bytes. A content error fails this item only; the event takes the reason from the plan.
 */
function sendJob(ctx: IExecuteFunctions, run: RunContext, p: SendPlan): SmtpJob {
	const { ledger, param, body, tracker } = run;
	return {
		message: async () => {
			if (ledger) {
				try {
					p.claimed = await ledger.claim(p.key!, { email: p.head.to, campaign: p.head.input.campaign, executionId: ctx.getExecutionId() });
				} catch (error) {
					p.contentError = { reason: 'ledger-error', error: `Send ledger: ${(error as Error).message}` };
					throw itemError(ctx, p.contentError.error, p.index);
				}
				if (!p.claimed) return null;
			}
			const msg = render(param, body, p, tracker);
			if (!msg) throw itemError(ctx, p.contentError!.error, p.index);
			const payload = { envelope: msg.envelope, raw: await buildMimeMessage(msg) };
			// Keep what the event needs, not the bodies: memory stays flat however many items there are.
			p.msg = { ...msg, html: undefined, text: undefined, trackedLinks: [] };
			return payload;
		},
	};
}

/** Nothing went out because of the server or the credentials: failing the node is safe (a re-run sends nothing twice) and says what to fix. */
function failIfNothingSent(ctx: IExecuteFunctions, run: RunContext, results: SmtpResult[]): void {
	const fatal = results.find((r) => r.status === 'failed' && (r.reason === 'auth' || r.reason === 'connection'));
	const nothingSent = results.every((r) => r.status !== 'sent' && !(r.status === 'failed' && r.reason === 'unconfirmed'));
	if (fatal?.status === 'failed' && nothingSent && !run.continueOnFail) {
		throw new NodeOperationError(ctx.getNode(), fatal.error, {
			description: `No message was sent. Check the Cadence SMTP credential (${run.account.server.host}:${run.account.server.port}).`,
		});
	}
}
