/** The one output event each item's plan becomes, and the output items that carry them. */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { eventId, type CadenceEvent } from '../../../core/events';
import type { RenderedMessage } from '../../../core/sendRender';
import { unsettledClaimEvent } from '../../../core/sendLedger';
import type { SmtpResult } from '../../../transport/smtp';
import type { InvalidPlan, ItemHead, LedgerPlan, Plan, SendPlan, SkipPlan } from './types';
import type { RunSettings } from './settings';

/** The event fields every type shares; token, messageId and addressKey only for a message that was rendered. */
function eventBase(head: ItemHead, msg: RenderedMessage | undefined, mailbox?: string) {
	return {
		email: head.to,
		campaign: head.input.campaign,
		batchTag: head.input.batchTag,
		variant: head.input.variant,
		// The sender mailbox: its daily count and its breaker are counted from these events.
		...(mailbox ? { mailbox } : {}),
		// The language and segment whose content the contact got, with per-language content.
		...(head.content ? { language: head.content.language, segment: head.content.segment } : {}),
		// The zone the sending window was read in, when the window is on.
		...(head.timeZone
			? { timeZone: head.timeZone.zone, ...(head.timeZone.invalid !== undefined ? { timeZoneInvalid: head.timeZone.invalid } : {}) }
			: {}),
		...(msg ? { messageId: msg.messageId, token: msg.token, addressKey: msg.addressKey } : {}),
	};
}

export function toEvent(plan: Plan, settings: RunSettings, now: string): CadenceEvent {
	switch (plan.kind) {
		case 'invalid':
			return invalidEvent(plan, now);
		case 'ledger':
			return replayedEvent(plan, now);
		case 'skip':
			return skippedEvent(plan, settings, now);
		default:
			return sendEvent(plan, settings, now);
	}
}

/** An item whose sender, recipient or options could not be read: the event keeps what could be read. */
function invalidEvent(plan: InvalidPlan, now: string): CadenceEvent {
	const { email, campaign, batchTag, reason, error } = plan;
	return { id: eventId('failed', email, campaign, batchTag, reason), type: 'failed', at: now, email, campaign, batchTag, variant: '', reason, error };
}

/** An earlier run already handled this message: its event again (stores dedupe by id), never a second mail. */
function replayedEvent(plan: LedgerPlan, now: string): CadenceEvent {
	const { entry } = plan;
	if (entry.event) return { ...entry.event, replayed: true };
	if (entry.inFlight) {
		return alreadyClaimedEvent(
			plan.head,
			now,
			`Another run (execution ${entry.executionId}) claimed this message at ${entry.claimedAt} and is still running: it sends it, not this run`,
		);
	}
	return {
		...unsettledClaimEvent(entry, { id: eventId('failed', 'unconfirmed', entry.key), at: now, ...eventBase(plan.head, undefined) }),
		replayed: true,
	};
}

/** Another run holds the message's ledger key and sends it: one id per contact and campaign, whenever it is seen. */
function alreadyClaimedEvent(head: ItemHead, at: string, error: string): CadenceEvent {
	const { input } = head;
	return {
		id: eventId('skipped', head.to, input.campaign, input.batchTag, 'already-claimed'),
		type: 'skipped',
		at,
		...eventBase(head, undefined),
		reason: 'already-claimed',
		error,
	};
}

/** Skipped before sending (duplicate recipient, a day's cap, a paused mailbox): the id comes from the contact and the reason. */
function skippedEvent(plan: SkipPlan, settings: RunSettings, now: string): CadenceEvent {
	const { input } = plan.head;
	return {
		// The day is part of the id: a contact held back today and again on a later day is two facts.
		id: eventId('skipped', plan.head.to, input.campaign, input.batchTag, plan.reason, settings.day),
		type: 'skipped',
		at: now,
		...eventBase(plan.head, undefined),
		reason: plan.reason,
		error: plan.error,
	};
}

/** A message the node meant to send: content error, dry-run rendering, or the engine's result. */
function sendEvent(plan: SendPlan, settings: RunSettings, now: string): CadenceEvent {
	const { input } = plan.head;
	if (plan.contentError) {
		const { reason, error } = plan.contentError;
		return {
			id: eventId('failed', plan.head.to, input.campaign, input.batchTag, reason),
			type: 'failed',
			at: plan.at ?? now,
			...eventBase(plan.head, undefined),
			reason,
			error,
		};
	}
	if (settings.dryRun && plan.msg) return dryRunEvent(plan, plan.msg, now);
	return resultEvent(plan, plan.result!, plan.at ?? now, settings);
}

/** A dry run outputs the rendered message instead of sending it. */
function dryRunEvent(plan: SendPlan, msg: RenderedMessage, now: string): CadenceEvent {
	return {
		id: eventId('dry-run', msg.token),
		type: 'skipped',
		at: now,
		...eventBase(plan.head, msg, plan.sender?.mailbox.id),
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

/** The engine's result; a withdrawn job means another run holds the message's ledger key. */
function resultEvent(plan: SendPlan, r: SmtpResult, at: string, settings: RunSettings): CadenceEvent {
	const { input } = plan.head;
	const msg = plan.msg;
	const mailbox = plan.sender?.mailbox.id;
	if (r.status === 'skipped' && r.reason === 'withdrawn' && plan.capSkip) {
		return {
			id: eventId('skipped', plan.head.to, input.campaign, input.batchTag, plan.capSkip.reason, settings.day),
			type: 'skipped',
			at,
			...eventBase(plan.head, undefined),
			reason: plan.capSkip.reason,
			error: plan.capSkip.error,
		};
	}
	if (r.status === 'skipped' && r.reason === 'withdrawn') {
		return alreadyClaimedEvent(plan.head, at, `Another run holds this message's send-ledger key "${plan.key}": it is being sent or was sent there`);
	}
	// Messages that never got rendered (stopped before their turn) have no token: their id comes from the contact.
	const idKey = msg ? [msg.token] : [plan.head.to, input.campaign, input.batchTag];
	if (r.status === 'sent') {
		return {
			id: eventId('sent', ...idKey),
			type: 'sent',
			at,
			...eventBase(plan.head, msg, mailbox),
			smtpResponse: r.response,
			attempts: r.attempts,
			...(plan.dkim ? { dkim: plan.dkim } : {}),
		};
	}
	return {
		id: eventId(r.status, ...idKey, r.reason),
		type: r.status,
		at,
		...eventBase(plan.head, msg, mailbox),
		reason: r.reason,
		error: r.error,
		...(r.response ? { smtpResponse: r.response } : {}),
		...(r.status === 'failed' && r.responseCode ? { smtpCode: r.responseCode } : {}),
		attempts: r.attempts,
	};
}

/** One event per input item, in input order, with the input item nested, merged or dropped. */
export function outputItems(plans: readonly Plan[], items: readonly INodeExecutionData[], settings: RunSettings): INodeExecutionData[] {
	const now = new Date().toISOString();
	return plans.map((plan, i): INodeExecutionData => {
		const event = toEvent(plan, settings, now);
		const input = items[i].json;
		const json =
			settings.inputFields === 'merge' ? { ...input, ...event } : settings.inputFields === 'drop' ? event : { ...event, [settings.inputKey]: input };
		return { json: json as IDataObject, pairedItem: { item: i } };
	});
}
