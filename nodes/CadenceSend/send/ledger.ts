/** The Postgres send ledger: opened before any mail, replays what earlier runs sent, records each message as it settles. */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import { localDay, sendIdempotencyKey, type LedgerEntry, type SendLedger } from '../../../core/sendLedger';
import { createPostgresLedger, DEFAULT_LEDGER_TABLE, DEFAULT_POSTGRES_PORT } from '../../../transport/postgresLedger';
import type { SmtpResult } from '../../../transport/smtp';
import { postgresConnectionFromCredentials } from '../../shared/postgresCredential';
import { toEvent } from './events';
import { str, type ParamReader } from './paramReader';
import type { Plan, SendPlan } from './types';
import { DEFAULT_SEND_LEDGER, type RunSettings } from './settings';

/** The Postgres send ledger when the node uses one; a ledger that cannot be opened fails the node before any mail. */
export async function openSendLedger(ctx: IExecuteFunctions): Promise<SendLedger | null> {
	if (ctx.getNodeParameter('sendLedger', 0, DEFAULT_SEND_LEDGER) !== 'postgres') return null;
	const table = str(ctx.getNodeParameter('ledgerTable', 0, DEFAULT_LEDGER_TABLE)).trim() || DEFAULT_LEDGER_TABLE;
	const connection = postgresConnectionFromCredentials(await ctx.getCredentials('cadencePostgresApi'));
	try {
		return await createPostgresLedger(connection, { table, runId: ctx.getExecutionId() });
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Send ledger: ${(error as Error).message}`, {
			description: `Nothing was sent: the ledger table ${table} on ${connection.host}:${connection.port ?? DEFAULT_POSTGRES_PORT}/${connection.database} could not be opened.`,
		});
	}
}

/** Send ledger: what an earlier run already sent (or was sending when it stopped) is replayed, not resent. */
export async function replayFromLedger(ctx: IExecuteFunctions, param: ParamReader, plans: Plan[], ledger: SendLedger): Promise<void> {
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
		throw new NodeOperationError(ctx.getNode(), `Send ledger: ${(error as Error).message}`, {
			description: 'Nothing was sent: the ledger could not be read.',
		});
	}
	for (const i of pending) {
		const entry = known.get((plans[i] as SendPlan).key!);
		if (entry) plans[i] = { kind: 'ledger', head: (plans[i] as SendPlan).head, entry };
	}
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
export function settleInLedger(ledger: SendLedger, p: SendPlan, r: SmtpResult, settings: RunSettings): Promise<void> {
	const outcome = ledgerOutcome(r);
	return outcome === 'release' ? ledger.release(p.key!) : ledger.settle(p.key!, outcome, toEvent(p, settings, p.at!));
}
