/** Node options that hold for the whole run, and their defaults that only this node uses. */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import {
	DEFAULT_DOMAIN_CAP,
	DEFAULT_MAX_TEMPORARY_RETRIES,
	DEFAULT_POOL_SIZE,
	DEFAULT_RATE_PER_SECOND,
	DEFAULT_RETRY_BASE_MS,
	DEFAULT_STOP_LOSS_MINIMUM,
	DEFAULT_STOP_LOSS_PERCENT,
} from '../../../transport/smtp';
import type { SmtpAccount } from './credentials';
import { str } from './paramReader';

/** The Retry Pause parameter is in seconds. */
export const DEFAULT_RETRY_DELAY_SECONDS = DEFAULT_RETRY_BASE_MS / 1000;
/** Where the output event keeps the input item, when it nests it. */
export const DEFAULT_INPUT_KEY = 'contact';
/** Without a ledger a retried execution may send again: the ledger is opt-in because it needs Postgres. */
export const DEFAULT_SEND_LEDGER = 'none';
export const INPUT_FIELD_MODES = ['nest', 'merge', 'drop'] as const;
export const DEFAULT_INPUT_FIELDS: RunSettings['inputFields'] = 'nest';

export interface RunSettings {
	dryRun: boolean;
	concurrency: number;
	ratePerSecond: number;
	domainCap: number;
	stopLoss: { threshold: number; minimum: number } | false;
	maxRetries: number;
	retryDelayMs: number;
	inputFields: (typeof INPUT_FIELD_MODES)[number];
	inputKey: string;
}

/** Node options that hold for the whole run (read from the first item); an option left out takes its default. */
export function readRunSettings(ctx: IExecuteFunctions, account: SmtpAccount): RunSettings {
	const o = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const concurrency = Math.max(1, Math.min(Math.floor(Number(o.concurrency ?? DEFAULT_POOL_SIZE)) || DEFAULT_POOL_SIZE, account.poolSize));
	const nodeRate = Math.max(0, Number(o.ratePerSecond ?? DEFAULT_RATE_PER_SECOND) || 0);
	// The credential's rate is the account's limit: the node may go slower, never faster.
	const ratePerSecond = account.maxPerSecond > 0 && nodeRate > 0 ? Math.min(nodeRate, account.maxPerSecond) : nodeRate || account.maxPerSecond;
	const percent = Number(o.stopLossPercent ?? DEFAULT_STOP_LOSS_PERCENT);
	const inputFields = (INPUT_FIELD_MODES as readonly string[]).includes(str(o.inputFields))
		? (str(o.inputFields) as RunSettings['inputFields'])
		: DEFAULT_INPUT_FIELDS;
	return {
		dryRun: o.dryRun === true,
		concurrency,
		ratePerSecond,
		domainCap: Math.max(0, Math.floor(Number(o.domainCap ?? DEFAULT_DOMAIN_CAP))),
		// A threshold of 0 turns the stop-loss off.
		stopLoss:
			percent > 0 ? { threshold: percent / 100, minimum: Math.max(1, Math.floor(Number(o.stopLossMinimum ?? DEFAULT_STOP_LOSS_MINIMUM))) } : false,
		maxRetries: Math.max(0, Math.floor(Number(o.maxRetries ?? DEFAULT_MAX_TEMPORARY_RETRIES))),
		retryDelayMs: Math.max(0, Number(o.retryDelay ?? DEFAULT_RETRY_DELAY_SECONDS)) * 1000,
		inputFields,
		inputKey: str(o.inputKey).trim() || DEFAULT_INPUT_KEY,
	};
}
