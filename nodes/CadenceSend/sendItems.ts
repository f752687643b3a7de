import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { domainOf, normalizeEmail } from '../core/address';
import { eventId, type CadenceEvent } from '../core/events';
import { buildMimeMessage, CadenceRenderError, renderCheckedMessage, type RenderedMessage } from '../core/sendRender';
import { createPostgresLedger } from '../core/postgresLedger';
import { localDay, sendIdempotencyKey, unsettledClaimEvent, type LedgerEntry, type SendLedger } from '../core/sendLedger';
import { overDomainCap, sendSmtpBatch, type SmtpResult } from '../core/smtp';
import type { Tracker } from '../core/tracker';
import { postgresConnectionFromCredentials } from '../shared/postgresCredential';
import { cadenceSendProperties } from './properties';
import { checkTrackingCredentials, smtpAccountFromCredentials, trackerFromCredentials } from './credentials';
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

const PARAMETER_DEFAULTS = Object.fromEntries(cadenceSendProperties.map((p) => [p.name, p.default]));

type SendPlan = {
	kind: 'send';
	index: number;
	head: ItemHead;
	msg?: RenderedMessage;
	contentError?: { reason: string; error: string };
	result?: SmtpResult;
	at?: string;
	/** Send ledger: the message's idempotency key, and whether this run holds its claim. */
	key?: string;
	claimed?: boolean;
};

type Plan =
	| SendPlan
	| { kind: 'ledger'; head: ItemHead; entry: LedgerEntry }
	| { kind: 'skip'; head: ItemHead; reason: string; error: string }
	| { kind: 'invalid'; email: string; campaign: string; batchTag: string; reason: string; error: string };

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

/** The event fields every type shares; token, messageId and addressKey only for a message that was rendered. */
function eventBase(head: ItemHead, msg: RenderedMessage | undefined) {
	return {
		email: head.to,
		campaign: head.input.campaign,
		batchTag: head.input.batchTag,
		variant: head.input.variant,
		...(msg ? { messageId: msg.messageId, token: msg.token, addressKey: msg.addressKey } : {}),
	};
}

function toEvent(plan: Plan, settings: RunSettings, now: string): CadenceEvent {
	if (plan.kind === 'invalid') {
		const { email, campaign, batchTag, reason, error } = plan;
		return { id: eventId('failed', email, campaign, batchTag, reason), type: 'failed', at: now, email, campaign, batchTag, variant: '', reason, error };
	}
	const { input } = plan.head;
	if (plan.kind === 'ledger') {
		// An earlier run already handled this message: its event again (stores dedupe by id), never a second mail.
		const { entry } = plan;
		if (entry.event) return { ...entry.event, replayed: true };
		return {
			...unsettledClaimEvent(entry, { id: eventId('failed', 'unconfirmed', entry.key), at: now, ...eventBase(plan.head, undefined) }),
			replayed: true,
		};
	}
	if (plan.kind === 'skip') {
		return {
			id: eventId('skipped', plan.head.to, input.campaign, input.batchTag, plan.reason),
			type: 'skipped',
			at: now,
			...eventBase(plan.head, undefined),
			reason: plan.reason,
			error: plan.error,
		};
	}
	const msg = plan.msg;
	if (plan.contentError) {
		const { reason, error } = plan.contentError;
		return { id: eventId('failed', plan.head.to, input.campaign, input.batchTag, reason), type: 'failed', at: plan.at ?? now, ...eventBase(plan.head, undefined), reason, error };
	}
	if (settings.dryRun && msg) {
		return {
			id: eventId('dry-run', msg.token),
			type: 'skipped',
			at: now,
			...eventBase(plan.head, msg),
			reason: 'dry-run',
			message: {
				from: msg.from,
				to: msg.to,
				subject: msg.subject,
				replyTo: msg.replyTo ?? null,
				messageId: msg.messageId,
				envelope: msg.envelope,
				headers: msg.headers,
				html: msg.html ?? null,
				text: msg.text ?? null,
				unsubscribeUrl: msg.unsubscribeUrl,
				trackedLinks: msg.trackedLinks,
			},
		};
	}
	const r = plan.result!;
	const at = plan.at ?? now;
	if (r.status === 'skipped' && r.reason === 'withdrawn') {
		return {
			id: eventId('skipped', plan.head.to, input.campaign, input.batchTag, 'already-claimed'),
			type: 'skipped',
			at,
			...eventBase(plan.head, undefined),
			reason: 'already-claimed',
			error: `Another run holds this message's send-ledger key "${plan.key}": it is being sent or was sent there`,
		};
	}
	// Messages that never got rendered (stopped before their turn) have no token: their id comes from the contact.
	const idKey = msg ? [msg.token] : [plan.head.to, input.campaign, input.batchTag];
	if (r.status === 'sent') {
		return { id: eventId('sent', ...idKey), type: 'sent', at, ...eventBase(plan.head, msg), smtpResponse: r.response, attempts: r.attempts };
	}
	return {
		id: eventId(r.status, ...idKey, r.reason),
		type: r.status,
		at,
		...eventBase(plan.head, msg),
		reason: r.reason,
		error: r.error,
		...(r.response ? { smtpResponse: r.response } : {}),
		...(r.status === 'failed' && r.responseCode ? { smtpCode: r.responseCode } : {}),
		attempts: r.attempts,
	};
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

	// 1. Read and check every item's sender, recipient and options before any SMTP traffic: bad input fails its item
	//    (or the node, with nothing sent). Content (subject, bodies) is read and rendered at each message's turn, so
	//    evaluating templates, tokens and MIME overlaps with the network.
	const plans: Plan[] = [];
	const seen = new Set<string>();
	for (let i = 0; i < items.length; i++) {
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
			const read = (name: string) => {
				try {
					return str(ctx.getNodeParameter(name, i, '')).trim();
				} catch {
					return ''; // the failing expression may be this one: the event keeps what could be read
				}
			};
			const reason = error instanceof CadenceRenderError ? error.reason : 'invalid-parameter';
			plans.push({ kind: 'invalid', email: normalizeEmail(read('to')), campaign: read('campaign'), batchTag: read('batchTag'), reason, error: (error as Error).message });
			continue;
		}
		if (seen.has(head.to)) {
			plans.push({ kind: 'skip', head, reason: 'duplicate', error: `${head.to} already gets a message from an earlier item of this run` });
			continue;
		}
		seen.add(head.to);
		plans.push({ kind: 'send', index: i, head });
	}

	// 2. Per-recipient-domain cap for this run, in input order, over the messages that would be sent.
	const sendIdx = plans.flatMap((p, i) => (p.kind === 'send' ? [i] : []));
	const over = overDomainCap(sendIdx.map((i) => (plans[i] as { head: ItemHead }).head.to), settings.domainCap);
	sendIdx.forEach((i, k) => {
		if (!over[k]) return;
		const head = (plans[i] as { head: ItemHead }).head;
		plans[i] = { kind: 'skip', head, reason: 'domain-cap', error: `More than ${settings.domainCap} messages to ${domainOf(head.to)} in this run` };
	});
	// 3. Send ledger: what an earlier run already sent (or was sending when it stopped) is replayed, not resent.
	const ledger = settings.dryRun ? null : await openSendLedger(ctx);
	try {
		if (ledger) {
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
		const body = createBodyReader(ctx, param);
		return await sendAndReport(ctx, { plans, items, settings, param, body, tracker, account, continueOnFail, ledger });
	} finally {
		await ledger?.close().catch(() => {});
	}
}

async function openSendLedger(ctx: IExecuteFunctions): Promise<SendLedger | null> {
	if (ctx.getNodeParameter('sendLedger', 0, 'none') !== 'postgres') return null;
	const table = str(ctx.getNodeParameter('ledgerTable', 0, 'cadence_send_ledger')).trim() || 'cadence_send_ledger';
	const connection = postgresConnectionFromCredentials(await ctx.getCredentials('cadencePostgresApi'));
	try {
		return await createPostgresLedger(connection, { table });
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Send ledger: ${(error as Error).message}`, {
			description: `Nothing was sent: the ledger table ${table} on ${connection.host}:${connection.port ?? 5432}/${connection.database} could not be opened.`,
		});
	}
}

interface RunContext {
	plans: Plan[];
	items: INodeExecutionData[];
	settings: RunSettings;
	param: ParamReader;
	body: BodyReader;
	tracker: Tracker;
	account: ReturnType<typeof smtpAccountFromCredentials>;
	continueOnFail: boolean;
	ledger: SendLedger | null;
}

/** How a claimed message's outcome is kept in the ledger: the outcome stays, or the claim is given back. */
function ledgerOutcome(r: SmtpResult): 'sent' | 'failed' | 'unconfirmed' | 'release' {
	if (r.status === 'sent') return 'sent';
	if (r.status === 'failed' && r.reason === 'unconfirmed') return 'unconfirmed';
	// A 5xx refusal will not change today; everything else never reached the server, so a later run may send it.
	if (r.status === 'failed' && r.reason === 'rejected') return 'failed';
	return 'release';
}

async function sendAndReport(ctx: IExecuteFunctions, run: RunContext): Promise<INodeExecutionData[][]> {
	const { plans, items, settings, param, body, tracker, account, continueOnFail, ledger } = run;
	const toSend = plans.filter((p): p is SendPlan => p.kind === 'send');
	const ledgerWrites: Array<Promise<void>> = [];
	let ledgerWriteErrors = 0;

	// 4. Send, or render only.
	if (settings.dryRun) {
		for (const p of toSend) {
			// Nothing is sent in a dry run, so failing the node here loses nothing.
			if (!render(param, body, p, tracker) && !continueOnFail) throw new NodeOperationError(ctx.getNode(), p.contentError!.error, { itemIndex: p.index });
		}
	} else if (toSend.length > 0) {
		const results = await sendSmtpBatch(
			account.server,
			toSend.map((p) => ({
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
					// The engine records this item as failed and goes on; the event takes the reason from the plan.
					if (!msg) throw new NodeOperationError(ctx.getNode(), p.contentError!.error, { itemIndex: p.index });
					const payload = { envelope: msg.envelope, raw: await buildMimeMessage(msg) };
					// Keep what the event needs, not the bodies: memory stays flat however many items there are.
					p.msg = { ...msg, html: undefined, text: undefined, trackedLinks: [] };
					return payload;
				},
			})),
			{
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
					const outcome = ledgerOutcome(r);
					// Written as each message settles, so a run that dies later still has this one on record.
					const write =
						outcome === 'release' ? ledger.release(p.key!) : ledger.settle(p.key!, outcome, toEvent(p, settings, p.at));
					ledgerWrites.push(
						write.catch(() => {
							// Not fatal for this run (the event is in the output); a later run reads the key as unconfirmed.
							ledgerWriteErrors++;
						}),
					);
				},
			},
		);
		results.forEach((r, k) => (toSend[k].result = r));
		await Promise.all(ledgerWrites);
		if (ledgerWriteErrors > 0) {
			ctx.logger?.warn?.(`Cadence Send: ${ledgerWriteErrors} ledger write(s) failed; a retried run reports those messages as unconfirmed, never resends them`);
		}
		const fatal = results.find((r) => r.status === 'failed' && (r.reason === 'auth' || r.reason === 'connection'));
		const nothingSent = results.every((r) => r.status !== 'sent' && !(r.status === 'failed' && r.reason === 'unconfirmed'));
		if (fatal?.status === 'failed' && nothingSent && !continueOnFail) {
			// Nothing went out: failing the node is safe (a re-run sends nothing twice) and says what to fix.
			throw new NodeOperationError(ctx.getNode(), fatal.error, {
				description: `No message was sent. Check the Cadence SMTP credential (${account.server.host}:${account.server.port}).`,
			});
		}
	}

	// 5. One event per input item, in input order.
	const now = new Date().toISOString();
	return [
		plans.map((plan, i): INodeExecutionData => {
			const event = toEvent(plan, settings, now);
			const input = items[i].json;
			const json = settings.inputFields === 'merge' ? { ...input, ...event } : settings.inputFields === 'drop' ? event : { ...event, [settings.inputKey]: input };
			return { json: json as IDataObject, pairedItem: { item: i } };
		}),
	];
}
