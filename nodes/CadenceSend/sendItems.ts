import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { domainOf, normalizeEmail } from '../../core/address';
import { buildMimeMessage, CadenceRenderError, renderCheckedMessage, type RenderedMessage } from '../../core/sendRender';
import { createPostgresLedger, DEFAULT_LEDGER_TABLE, DEFAULT_POSTGRES_PORT } from '../../transport/postgresLedger';
import { localDay, sendIdempotencyKey, type LedgerEntry, type SendLedger } from '../../core/sendLedger';
import { overDomainCap, sendSmtpBatch, type SmtpJob, type SmtpResult, type SmtpSendOptions } from '../../transport/smtp';
import type { Tracker } from '../../core/tracker';
import { postgresConnectionFromCredentials } from '../shared/postgresCredential';
import { cadenceSendProperties } from './properties';
import { checkTrackingCredentials, smtpAccountFromCredentials, trackerFromCredentials, type SmtpAccount } from './credentials';
import {
	createBodyReader,
	createParamReader,
	readItemHead,
	readItemMessage,
	readRunSettings,
	str,
	type BodyReader,
	type ItemHead,
	type ParamReader,
	type RunSettings,
} from './readItem';
import { toEvent, type Plan, type SendPlan } from './sendEvents';

const PARAMETER_DEFAULTS = Object.fromEntries(cadenceSendProperties.map((p) => [p.name, p.default]));

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

export async function executeCadenceSend(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	if (items.length === 0) return [[]];
	const trackingCredentials = await ctx.getCredentials('cadenceTrackingApi');
	const problem = checkTrackingCredentials(trackingCredentials);
	if (problem) throw new NodeOperationError(ctx.getNode(), `Cadence Tracking credential: ${problem}`);
	const tracker = trackerFromCredentials(trackingCredentials);
	const account = smtpAccountFromCredentials(await ctx.getCredentials('cadenceSmtpApi'));
	const settings = readRunSettings(ctx, account);
	const continueOnFail = ctx.continueOnFail();
	const param = createParamReader(ctx, PARAMETER_DEFAULTS);

	const plans = planItems(ctx, param, items.length, account, continueOnFail);
	applyDomainCap(plans, settings.domainCap);
	const ledger = settings.dryRun ? null : await openSendLedger(ctx);
	try {
		if (ledger) await replayFromLedger(ctx, param, plans, ledger);
		const body = createBodyReader(ctx, param);
		return await sendAndReport(ctx, { plans, items, settings, param, body, tracker, account, continueOnFail, ledger });
	} finally {
		await ledger?.close().catch(() => {});
	}
}

/**
 * Every item's sender, recipient and options are read and checked before any SMTP traffic: bad input fails its
 * item (or the node, with nothing sent); a recipient already planned is skipped as a duplicate. Content (subject,
 * bodies) is read and rendered at each message's turn, so evaluating templates, tokens and MIME overlaps with the
 * network.
 */
function planItems(ctx: IExecuteFunctions, param: ParamReader, count: number, account: SmtpAccount, continueOnFail: boolean): Plan[] {
	const plans: Plan[] = [];
	const seen = new Set<string>();
	for (let i = 0; i < count; i++) {
		let head: ItemHead;
		try {
			head = readItemHead(ctx, param, i, account);
		} catch (error) {
			if (!continueOnFail) {
				throw new NodeOperationError(ctx.getNode(), error as Error, {
					itemIndex: i,
					description: 'Nothing was sent: every item is checked before the first message goes out.',
				});
			}
			plans.push(invalidPlan(ctx, i, error as Error));
			continue;
		}
		if (seen.has(head.to)) {
			plans.push({ kind: 'skip', head, reason: 'duplicate', error: `${head.to} already gets a message from an earlier item of this run` });
			continue;
		}
		seen.add(head.to);
		plans.push({ kind: 'send', index: i, head });
	}
	return plans;
}

/** An item that failed its check keeps the recipient, campaign and batch tag that could still be read. */
function invalidPlan(ctx: IExecuteFunctions, i: number, error: Error): Plan {
	const read = (name: string) => {
		try {
			return str(ctx.getNodeParameter(name, i, '')).trim();
		} catch {
			return ''; // the failing expression may be this one: the event keeps what could be read
		}
	};
	const reason = error instanceof CadenceRenderError ? error.reason : 'invalid-parameter';
	return { kind: 'invalid', email: normalizeEmail(read('to')), campaign: read('campaign'), batchTag: read('batchTag'), reason, error: error.message };
}

/** Per-recipient-domain cap for this run, in input order, over the messages that would be sent. */
function applyDomainCap(plans: Plan[], cap: number): void {
	const sendIdx = plans.flatMap((p, i) => (p.kind === 'send' ? [i] : []));
	const over = overDomainCap(sendIdx.map((i) => (plans[i] as SendPlan).head.to), cap);
	sendIdx.forEach((i, k) => {
		if (!over[k]) return;
		const head = (plans[i] as SendPlan).head;
		plans[i] = { kind: 'skip', head, reason: 'domain-cap', error: `More than ${cap} messages to ${domainOf(head.to)} in this run` };
	});
}

/** The Postgres send ledger when the node uses one; a ledger that cannot be opened fails the node before any mail. */
async function openSendLedger(ctx: IExecuteFunctions): Promise<SendLedger | null> {
	if (ctx.getNodeParameter('sendLedger', 0, 'none') !== 'postgres') return null;
	const table = str(ctx.getNodeParameter('ledgerTable', 0, DEFAULT_LEDGER_TABLE)).trim() || DEFAULT_LEDGER_TABLE;
	const connection = postgresConnectionFromCredentials(await ctx.getCredentials('cadencePostgresApi'));
	try {
		return await createPostgresLedger(connection, { table });
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Send ledger: ${(error as Error).message}`, {
			description: `Nothing was sent: the ledger table ${table} on ${connection.host}:${connection.port ?? DEFAULT_POSTGRES_PORT}/${connection.database} could not be opened.`,
		});
	}
}

/** Send ledger: what an earlier run already sent (or was sending when it stopped) is replayed, not resent. */
async function replayFromLedger(ctx: IExecuteFunctions, param: ParamReader, plans: Plan[], ledger: SendLedger): Promise<void> {
	const day = localDay(new Date(), ctx.getTimezone());
	const pending = plans.flatMap((p, i) => (p.kind === 'send' ? [i] : []));
	for (const i of pending) {
		const p = plans[i] as SendPlan;
		const custom = str(param('idempotencyKey', p.index, '')).trim();
		p.key = custom || sendIdempotencyKey(p.head.to, p.head.input.campaign, day);
	}
	let known: Map<string, LedgerEntry>;
	try {
		known = await ledger.lookup(pending.map((i) => (plans[i] as SendPlan).key!));
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Send ledger: ${(error as Error).message}`, { description: 'Nothing was sent: the ledger could not be read.' });
	}
	for (const i of pending) {
		const entry = known.get((plans[i] as SendPlan).key!);
		if (entry) plans[i] = { kind: 'ledger', head: (plans[i] as SendPlan).head, entry };
	}
}

interface RunContext {
	plans: Plan[];
	items: INodeExecutionData[];
	settings: RunSettings;
	param: ParamReader;
	body: BodyReader;
	tracker: Tracker;
	account: SmtpAccount;
	continueOnFail: boolean;
	ledger: SendLedger | null;
}

/** Sends (or, in a dry run, only renders) the planned messages, then outputs one event per item. */
async function sendAndReport(ctx: IExecuteFunctions, run: RunContext): Promise<INodeExecutionData[][]> {
	const toSend = run.plans.filter((p): p is SendPlan => p.kind === 'send');
	if (run.settings.dryRun) renderOnly(ctx, run, toSend);
	else if (toSend.length > 0) await sendPlanned(ctx, run, toSend);
	return [outputItems(run)];
}

/** A dry run renders every message; nothing is sent, so failing the node on a content error loses nothing. */
function renderOnly(ctx: IExecuteFunctions, run: RunContext, toSend: SendPlan[]): void {
	for (const p of toSend) {
		if (!render(run.param, run.body, p, run.tracker) && !run.continueOnFail) {
			throw new NodeOperationError(ctx.getNode(), p.contentError!.error, { itemIndex: p.index });
		}
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
	const results = await sendSmtpBatch(run.account.server, toSend.map((p) => sendJob(ctx, run, p)), options);
	results.forEach((r, k) => (toSend[k].result = r));
	await Promise.all(ledgerWrites);
	if (ledgerWriteErrors > 0) {
		ctx.logger?.warn?.(`Cadence Send: ${ledgerWriteErrors} ledger write(s) failed; a retried run reports those messages as unconfirmed, never resends them`);
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
					throw new NodeOperationError(ctx.getNode(), p.contentError.error, { itemIndex: p.index });
				}
				if (!p.claimed) return null;
			}
			const msg = render(param, body, p, tracker);
			if (!msg) throw new NodeOperationError(ctx.getNode(), p.contentError!.error, { itemIndex: p.index });
			const payload = { envelope: msg.envelope, raw: await buildMimeMessage(msg) };
			// Keep what the event needs, not the bodies: memory stays flat however many items there are.
			p.msg = { ...msg, html: undefined, text: undefined, trackedLinks: [] };
			return payload;
		},
	};
}

/** How a claimed message's outcome is kept in the ledger: the outcome stays, or the claim is given back. */
function ledgerOutcome(r: SmtpResult): 'sent' | 'failed' | 'unconfirmed' | 'release' {
	if (r.status === 'sent') return 'sent';
	if (r.status === 'failed' && r.reason === 'unconfirmed') return 'unconfirmed';
	// A 5xx refusal will not change today; everything else never reached the server, so a later run may send it.
	if (r.status === 'failed' && r.reason === 'rejected') return 'failed';
	return 'release';
}

/** Written as each message settles, so a run that dies later still has this one on record. */
function settleInLedger(ledger: SendLedger, p: SendPlan, r: SmtpResult, settings: RunSettings): Promise<void> {
	const outcome = ledgerOutcome(r);
	return outcome === 'release' ? ledger.release(p.key!) : ledger.settle(p.key!, outcome, toEvent(p, settings, p.at!));
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

/** One event per input item, in input order, with the input item nested, merged or dropped. */
function outputItems({ plans, items, settings }: RunContext): INodeExecutionData[] {
	const now = new Date().toISOString();
	return plans.map((plan, i): INodeExecutionData => {
		const event = toEvent(plan, settings, now);
		const input = items[i].json;
		const json = settings.inputFields === 'merge' ? { ...input, ...event } : settings.inputFields === 'drop' ? event : { ...event, [settings.inputKey]: input };
		return { json: json as IDataObject, pairedItem: { item: i } };
	});
}
