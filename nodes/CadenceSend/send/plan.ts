/**
 * What the node decides for each input item before any SMTP traffic (its plan): send it, skip it (duplicate
 * recipient, outside the sending window, a day's cap, a paused mailbox), replay it from the send ledger, or
 * report it invalid.
 */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import { normalizeEmail } from '../../../core/address';
import { CadenceRenderError } from '../../../core/sendRender';
import { itemError } from '../../shared/perItem';
import type { SmtpAccount } from './account';
import { str, type ParamReader } from './paramReader';
import { readItemHead } from './readItem';
import type { ItemHead, Plan } from './types';

/** Why the node fails at an item's check without Continue On Fail. */
export const NOTHING_SENT_DESCRIPTION = 'Nothing was sent: every item is checked before the first message goes out.';

/**
 * Every item's sender, recipient and options are read and checked before any SMTP traffic: bad input fails its
 * item (or the node, with nothing sent); a recipient already planned is skipped as a duplicate. Content (subject,
 * bodies) is read and rendered at each message's turn, so evaluating templates, tokens and MIME overlaps with the
 * network.
 */
export function planItems(ctx: IExecuteFunctions, param: ParamReader, count: number, account: SmtpAccount, continueOnFail: boolean): Plan[] {
	const plans: Plan[] = [];
	const seen = new Set<string>();
	for (let i = 0; i < count; i++) {
		let head: ItemHead;
		try {
			head = readItemHead(ctx, param, i, account);
		} catch (error) {
			if (!continueOnFail) throw checkFailure(ctx, error, i);
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

/** The error that fails the node at item `i`'s check; one the node wraps says that nothing was sent. */
function checkFailure(ctx: IExecuteFunctions, error: unknown, i: number): Error {
	const failure = itemError(ctx, error, i);
	if (failure !== error && failure instanceof NodeOperationError) failure.description = NOTHING_SENT_DESCRIPTION;
	return failure;
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
