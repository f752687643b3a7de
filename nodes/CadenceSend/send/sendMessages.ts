/**
 * Sending the planned messages: each is rendered at its turn, built into MIME, DKIM-signed when its mailbox has a
 * key, and handed to the pooled SMTP engine (a dry run only renders), with the send ledger claimed before and
 * settled after each message.
 */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import { companyOf } from '../../../core/company';
import { createDkimSigner, dkimAligned, type DkimSigner, type DkimStamp } from '../../../core/dkim';
import type { ClaimOutcome, LedgerClaim, SendLedger } from '../../../core/sendLedger';
import { buildMimeMessage, CadenceRenderError, renderCheckedMessage, type RenderedMessage } from '../../../core/sendRender';
import type { Tracker } from '../../../core/tracker';
import { sendSmtpBatch, type SmtpJob, type SmtpResult, type SmtpSendOptions } from '../../../transport/smtp';
import { itemError } from '../../shared/perItem';
import type { BodyReader } from './bodyReader';
import type { SmtpAccount } from './account';
import { settleInLedger } from './ledger';
import type { ParamReader } from './paramReader';
import type { Plan, SendPlan } from './types';
import { readItemMessage } from './readItem';
import { paceFor, type RunSettings } from './settings';

export interface RunContext {
	plans: Plan[];
	settings: RunSettings;
	param: ParamReader;
	body: BodyReader;
	tracker: Tracker;
	account: SmtpAccount;
	continueOnFail: boolean;
	ledger: SendLedger | null;
	/** Whether the messages go out through a pool's mailboxes (each its own server) rather than the one account. */
	pooled: boolean;
	/** The day the caps count in (YYYY-MM-DD, the workflow's time zone). */
	day: string;
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

/** One SMTP batch: the messages of one account (the single account, or one mailbox of a pool). */
interface ServerGroup {
	account: SmtpAccount;
	plans: SendPlan[];
}

/** The pool's messages go out per mailbox, each mailbox over its own connections; the single account sends all. */
function serverGroups(run: RunContext, toSend: SendPlan[]): ServerGroup[] {
	if (!run.pooled) return [{ account: run.account, plans: toSend }];
	const groups = new Map<string, ServerGroup>();
	for (const p of toSend) {
		const m = p.sender!.mailbox;
		let g = groups.get(m.id);
		if (!g) groups.set(m.id, (g = { account: m, plans: [] }));
		g.plans.push(p);
	}
	return [...groups.values()];
}

/** Sends the planned messages, keeps each result on its plan, and writes the ledger as each one settles. */
async function sendPlanned(ctx: IExecuteFunctions, run: RunContext, toSend: SendPlan[]): Promise<void> {
	const { settings, ledger } = run;
	const ledgerWrites: Array<Promise<void>> = [];
	let ledgerWriteErrors = 0;
	const dkim: DkimRun = { warned: new Set() };
	const sendGroup = async ({ account, plans }: ServerGroup) => {
		// The settings were checked when the credential was read: a key that fails here fails each message, never sends it unsigned.
		let signer: DkimSigner | Error | null = null;
		if (account.dkim) {
			try {
				signer = createDkimSigner(account.dkim);
			} catch (error) {
				signer = error as Error;
			}
		}
		const pace = paceFor(settings, account);
		const options: SmtpSendOptions = {
			poolSize: run.pooled ? pace.concurrency : settings.concurrency,
			ratePerSecond: run.pooled ? pace.ratePerSecond : settings.ratePerSecond,
			maxTemporaryRetries: settings.maxRetries,
			retryBaseMs: settings.retryDelayMs,
			// Per mailbox: one mailbox's bad day stops that mailbox, not the others.
			stopLoss: settings.stopLoss,
			signal: ctx.getExecutionCancelSignal?.(),
			onResult: (k, r) => {
				const p = plans[k];
				p.at = new Date().toISOString();
				if (!ledger || !p.claimed) return;
				p.result = r;
				// Not fatal for this run (the event is in the output); a later run reads the key as unconfirmed.
				ledgerWrites.push(settleInLedger(ledger, p, r, settings).catch(() => void ledgerWriteErrors++));
			},
		};
		const results = await sendSmtpBatch(
			account.server,
			plans.map((p) => sendJob(ctx, run, p, signer, dkim)),
			options,
		);
		results.forEach((r, k) => (plans[k].result = r));
		return results;
	};
	const results = (await Promise.all(serverGroups(run, toSend).map(sendGroup))).flat();
	await Promise.all(ledgerWrites);
	if (ledgerWriteErrors > 0) {
		ctx.logger?.warn?.(
			`Cadence Send: ${ledgerWriteErrors} ledger write(s) failed; a retried run reports those messages as unconfirmed, never resends them`,
		);
	}
	failIfNothingSent(ctx, run, results);
}

/** The run's DKIM bookkeeping: which signing domain / From domain pairs were already logged as not aligned. */
interface DkimRun {
	warned: Set<string>;
}

/**
 * The message signed with the mailbox's key, and the plan stamped with the signature's domain, selector and
 * alignment. Any failure fails this item: a message is never sent unsigned when its mailbox has a key.
 */
function signMessage(ctx: IExecuteFunctions, p: SendPlan, msg: RenderedMessage, raw: Buffer, signer: DkimSigner | Error, dkim: DkimRun): Buffer {
	let signed: Buffer;
	try {
		if (signer instanceof Error) throw signer;
		signed = signer.sign(raw);
	} catch (error) {
		p.contentError = { reason: 'dkim-error', error: `DKIM signing failed, so the message was not sent: ${(error as Error).message}` };
		throw itemError(ctx, p.contentError.error, p.index);
	}
	const fromDomain = msg.fromAddress.slice(msg.fromAddress.lastIndexOf('@') + 1).toLowerCase();
	const aligned = dkimAligned(signer.domain, fromDomain);
	const pair = `${signer.domain} ${fromDomain}`;
	if (!aligned && !dkim.warned.has(pair)) {
		dkim.warned.add(pair);
		ctx.logger?.warn?.(
			`Cadence Send: DKIM domain ${signer.domain} does not align with the From domain ${fromDomain}; receivers that check DMARC treat these messages as unauthenticated`,
		);
	}
	const stamp: DkimStamp = { domain: signer.domain, selector: signer.selector, aligned };
	p.dkim = stamp;
	return signed;
}

/**
 * The engine job for one plan, built at its turn: claim the ledger key with the day's caps (withdrawn when another
 * run holds the key or took the last place under a cap), render, build the MIME bytes, sign them. A content or
 * signing error fails this item only; the event takes the reason from the plan.
 */
function sendJob(ctx: IExecuteFunctions, run: RunContext, p: SendPlan, signer: DkimSigner | Error | null, dkim: DkimRun): SmtpJob {
	const { ledger, param, body, tracker } = run;
	return {
		message: async () => {
			if (ledger) {
				let outcome: ClaimOutcome;
				try {
					outcome = await ledger.claim(p.key!, ledgerClaim(ctx, run, p));
				} catch (error) {
					p.contentError = { reason: 'ledger-error', error: `Send ledger: ${(error as Error).message}` };
					throw itemError(ctx, p.contentError.error, p.index);
				}
				p.claimed = outcome === 'claimed';
				if (outcome !== 'claimed' && outcome !== 'taken') p.capSkip = capSkipOf(outcome, p);
				if (!p.claimed) return null;
			}
			const msg = render(param, body, p, tracker);
			if (!msg) throw itemError(ctx, p.contentError!.error, p.index);
			const built = await buildMimeMessage(msg);
			const payload = { envelope: msg.envelope, raw: signer ? signMessage(ctx, p, msg, built, signer, dkim) : built };
			// Keep what the event needs, not the bodies: memory stays flat however many items there are.
			p.msg = { ...msg, html: undefined, text: undefined, trackedLinks: [] };
			return payload;
		},
	};
}

/** The ledger claim of a message: its key, and the day's caps the database checks atomically. */
function ledgerClaim(ctx: IExecuteFunctions, run: RunContext, p: SendPlan): LedgerClaim {
	const s = p.sender;
	return {
		email: p.head.to,
		campaign: p.head.input.campaign,
		executionId: ctx.getExecutionId(),
		day: run.day,
		company: s?.company ?? companyOf(p.head.to),
		mailbox: s?.mailbox.id ?? '',
		companyCap: run.settings.companyDailyCap,
		contactCap: run.settings.contactDailyCap,
		mailboxCap: s ? s.mailboxCap : 0,
	};
}

/** A cap another run filled between this run's planning and the message's claim. */
function capSkipOf(outcome: Exclude<ClaimOutcome, 'claimed' | 'taken'>, p: SendPlan): { reason: string; error: string } {
	const s = p.sender;
	const what = outcome === 'company-cap' ? `company ${s?.company}` : outcome === 'mailbox-cap' ? `mailbox ${s?.mailbox.id}` : `contact ${p.head.to}`;
	return { reason: outcome, error: `Another run sending at the same time took the last place under today's cap for ${what}` };
}

/** Nothing went out because of the server or the credentials: failing the node is safe (a re-run sends nothing twice) and says what to fix. */
function failIfNothingSent(ctx: IExecuteFunctions, run: RunContext, results: SmtpResult[]): void {
	const fatal = results.find((r) => r.status === 'failed' && (r.reason === 'auth' || r.reason === 'connection'));
	const nothingSent = results.every((r) => r.status !== 'sent' && !(r.status === 'failed' && r.reason === 'unconfirmed'));
	if (fatal?.status === 'failed' && nothingSent && !run.continueOnFail) {
		throw new NodeOperationError(ctx.getNode(), fatal.error, {
			description: run.pooled
				? 'No message was sent. Check the mailboxes of the Cadence Sender Pool credential.'
				: `No message was sent. Check the Cadence SMTP credential (${run.account.server.host}:${run.account.server.port}).`,
		});
	}
}
