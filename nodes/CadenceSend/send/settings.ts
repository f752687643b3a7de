/** Node options that hold for the whole run, and their defaults that only this node uses. */
import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';
import { localDay } from '../../../core/sendLedger';
import { DEFAULT_SENDING_WINDOW_ENABLED, DEFAULT_TIME_ZONE_FIELD, parseSendingWindow, type SendingWindow } from '../../../core/sendingWindow';
import { DEFAULT_COMPANY_DAILY_CAP, DEFAULT_CONTACT_DAILY_CAP } from '../../../core/senderProtection';
import {
	DEFAULT_MAX_TEMPORARY_RETRIES,
	DEFAULT_POOL_SIZE,
	DEFAULT_RATE_PER_SECOND,
	DEFAULT_RETRY_BASE_MS,
	DEFAULT_STOP_LOSS_MINIMUM,
	DEFAULT_STOP_LOSS_PERCENT,
} from '../../../transport/smtp';
import type { SmtpAccount } from './account';
import { str } from './paramReader';

/** The Retry Pause parameter is in seconds. */
export const DEFAULT_RETRY_DELAY_SECONDS = DEFAULT_RETRY_BASE_MS / 1000;
/** Where the output event keeps the input item, when it nests it. */
export const DEFAULT_INPUT_KEY = 'contact';
/** Without a ledger a retried execution may send again: the ledger is opt-in because it needs Postgres. */
export const DEFAULT_SEND_LEDGER = 'none';
export const INPUT_FIELD_MODES = ['nest', 'merge', 'drop'] as const;
export const DEFAULT_INPUT_FIELDS: RunSettings['inputFields'] = 'nest';
/** Tracked links get UTM parameters unless the UTM Parameters option turns them off. */
export const DEFAULT_UTM_ENABLED = true;
/** A message without the unsubscribe link is refused unless the Require Unsubscribe Link option turns the check off. */
export const DEFAULT_REQUIRE_UNSUBSCRIBE_LINK = true;

export interface RunSettings {
	dryRun: boolean;
	concurrency: number;
	ratePerSecond: number;
	/** What the node allows before a credential's limits narrow it (a pool narrows it per mailbox). */
	nodeConcurrency: number;
	nodeRate: number;
	/** Day caps; 0: no cap. */
	companyDailyCap: number;
	contactDailyCap: number;
	stopLoss: { threshold: number; minimum: number } | false;
	maxRetries: number;
	retryDelayMs: number;
	inputFields: (typeof INPUT_FIELD_MODES)[number];
	inputKey: string;
	/** The calendar day of the run in the workflow's time zone (YYYY-MM-DD): the day's caps count in it. */
	day: string;
	/** The sending window, when mail is held back outside it; null: mail goes out whenever the node runs. */
	window: WindowSettings | null;
}

export interface WindowSettings {
	window: SendingWindow;
	/** The item field holding the contact's IANA time zone. */
	timeZoneField: string;
}

/** Node options that hold for the whole run (read from the first item); an option left out takes its default. */
export function readRunSettings(ctx: IExecuteFunctions, account: SmtpAccount): RunSettings {
	const o = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const nodeConcurrency = Math.max(1, Math.floor(Number(o.concurrency ?? DEFAULT_POOL_SIZE)) || DEFAULT_POOL_SIZE);
	const nodeRate = Math.max(0, Number(o.ratePerSecond ?? DEFAULT_RATE_PER_SECOND) || 0);
	const { concurrency, ratePerSecond } = paceFor({ nodeConcurrency, nodeRate }, account);
	const percent = Number(o.stopLossPercent ?? DEFAULT_STOP_LOSS_PERCENT);
	const inputFields = (INPUT_FIELD_MODES as readonly string[]).includes(str(o.inputFields))
		? (str(o.inputFields) as RunSettings['inputFields'])
		: DEFAULT_INPUT_FIELDS;
	return {
		dryRun: o.dryRun === true,
		concurrency,
		ratePerSecond,
		nodeConcurrency,
		nodeRate,
		companyDailyCap: wholeAtLeastZero(o.companyDailyCap, DEFAULT_COMPANY_DAILY_CAP),
		contactDailyCap: wholeAtLeastZero(o.contactDailyCap, DEFAULT_CONTACT_DAILY_CAP),
		// A threshold of 0 turns the stop-loss off.
		stopLoss:
			percent > 0 ? { threshold: percent / 100, minimum: Math.max(1, Math.floor(Number(o.stopLossMinimum ?? DEFAULT_STOP_LOSS_MINIMUM))) } : false,
		maxRetries: Math.max(0, Math.floor(Number(o.maxRetries ?? DEFAULT_MAX_TEMPORARY_RETRIES))),
		retryDelayMs: Math.max(0, Number(o.retryDelay ?? DEFAULT_RETRY_DELAY_SECONDS)) * 1000,
		inputFields,
		inputKey: str(o.inputKey).trim() || DEFAULT_INPUT_KEY,
		day: localDay(new Date(), ctx.getTimezone()),
		window: readWindowSettings(ctx),
	};
}

/**
 * The Sending Window option (read from the first item), or null when it is off. Bad settings fail the node
 * before anything is sent.
 */
export function readWindowSettings(ctx: IExecuteFunctions): WindowSettings | null {
	const o = (ctx.getNodeParameter('sendingWindow', 0, {}) ?? {}) as IDataObject;
	if ((typeof o.enabled === 'boolean' ? o.enabled : DEFAULT_SENDING_WINDOW_ENABLED) !== true) return null;
	try {
		return {
			window: parseSendingWindow({ start: o.start, end: o.end, days: o.days }),
			timeZoneField: str(o.timeZoneField).trim() || DEFAULT_TIME_ZONE_FIELD,
		};
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message, {
			description: 'Nothing was sent: the Sending Window option is not a window.',
		});
	}
}

const wholeAtLeastZero = (v: unknown, fallback: number) => Math.max(0, Math.floor(Number(v ?? fallback)));

/** Connections and rate for one account: the node may go slower than the credential allows, never faster. */
export function paceFor(
	node: { nodeConcurrency: number; nodeRate: number },
	account: Pick<SmtpAccount, 'poolSize' | 'maxPerSecond'>,
): { concurrency: number; ratePerSecond: number } {
	const concurrency = Math.max(1, Math.min(node.nodeConcurrency, account.poolSize));
	const r = node.nodeRate;
	const ratePerSecond = account.maxPerSecond > 0 && r > 0 ? Math.min(r, account.maxPerSecond) : r || account.maxPerSecond;
	return { concurrency, ratePerSecond };
}
