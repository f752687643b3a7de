import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { domainOf, normalizeEmail } from '../core/address';
import { eventId, type CadenceEvent } from '../core/events';
import { buildMimeMessage, CadenceRenderError, renderCheckedMessage, type RenderedMessage } from '../core/sendRender';
import { overDomainCap, sendSmtpBatch, type SmtpResult } from '../core/smtp';
import type { Tracker } from '../core/tracker';
import { cadenceSendProperties } from './properties';
import { checkTrackingCredentials, smtpAccountFromCredentials, trackerFromCredentials } from './credentials';
import { createParamReader, readItemHead, readItemMessage, readRunSettings, str, type ItemHead, type ParamReader, type RunSettings } from './readItem';

const PARAMETER_DEFAULTS = Object.fromEntries(cadenceSendProperties.map((p) => [p.name, p.default]));

type Plan =
	| { kind: 'send'; index: number; head: ItemHead; msg?: RenderedMessage; contentError?: { reason: string; error: string }; result?: SmtpResult; at?: string }
	| { kind: 'skip'; head: ItemHead; reason: string; error: string }
	| { kind: 'invalid'; email: string; campaign: string; batchTag: string; reason: string; error: string };

/** Reads the item's content and renders it; on a content error, keeps it on the plan and returns undefined. */
function render(param: ParamReader, plan: Plan & { kind: 'send' }, tracker: Tracker): RenderedMessage | undefined {
	try {
		const item = readItemMessage(param, plan.index, plan.head);
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
	const toSend = plans.filter((p): p is Plan & { kind: 'send' } => p.kind === 'send');

	// 3. Send, or render only.
	if (settings.dryRun) {
		for (const p of toSend) {
			// Nothing is sent in a dry run, so failing the node here loses nothing.
			if (!render(param, p, tracker) && !continueOnFail) throw new NodeOperationError(ctx.getNode(), p.contentError!.error, { itemIndex: p.index });
		}
	} else if (toSend.length > 0) {
		const results = await sendSmtpBatch(
			account.server,
			toSend.map((p) => ({
				message: async () => {
					const msg = render(param, p, tracker);
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
				onResult: (k) => (toSend[k].at = new Date().toISOString()),
			},
		);
		results.forEach((r, k) => (toSend[k].result = r));
		const fatal = results.find((r) => r.status === 'failed' && (r.reason === 'auth' || r.reason === 'connection'));
		const nothingSent = results.every((r) => r.status !== 'sent' && !(r.status === 'failed' && r.reason === 'unconfirmed'));
		if (fatal?.status === 'failed' && nothingSent && !continueOnFail) {
			// Nothing went out: failing the node is safe (a re-run sends nothing twice) and says what to fix.
			throw new NodeOperationError(ctx.getNode(), fatal.error, {
				description: `No message was sent. Check the Cadence SMTP credential (${account.server.host}:${account.server.port}).`,
			});
		}
	}

	// 4. One event per input item, in input order.
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
