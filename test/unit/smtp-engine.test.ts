/**
 * The sending engine's parts on their own (no sockets): the job queue, the stop-loss rule, the limits with their
 * defaults, and the Send node's defaults taken from the same constants.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import {
	DEFAULT_DOMAIN_CAP,
	DEFAULT_MAX_CONNECTION_FAILURES,
	DEFAULT_MAX_TEMPORARY_RETRIES,
	DEFAULT_POOL_SIZE,
	DEFAULT_RATE_PER_SECOND,
	DEFAULT_RECONNECT_BASE_MS,
	DEFAULT_RETRY_BASE_MS,
	DEFAULT_RETRY_MAX_MS,
	DEFAULT_STOP_LOSS,
	DEFAULT_STOP_LOSS_MINIMUM,
	DEFAULT_STOP_LOSS_PERCENT,
	MAX_POOL_SIZE,
	overDomainCap,
} from '../../transport/smtp';
import { stopLossReason } from '../../transport/smtp/pacing';
import { JobQueue } from '../../transport/smtp/queue';
import { runLimits } from '../../transport/smtp/run';
import { DEFAULT_LEDGER_TABLE } from '../../transport/postgresLedger';
import { DEFAULT_COMPANY_DAILY_CAP, DEFAULT_CONTACT_DAILY_CAP } from '../../core/senderProtection';
import { description as cadenceSendProperties } from '../../nodes/CadenceSend/actions/send.operation';
import { readRunSettings } from '../../nodes/CadenceSend/send/settings';
import { smtpAccountFromCredentials } from '../../nodes/CadenceSend/send/account';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('stop-loss rule', () => {
	it('trips exactly when enough recipients answered and more than the threshold failed', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 0, max: 300 }),
				fc.integer({ min: 0, max: 300 }),
				fc.double({ min: 0, max: 1, noNaN: true }),
				fc.integer({ min: 0, max: 100 }),
				(sent, failed, threshold, minimum) => {
					const answered = sent + failed;
					const expected = answered >= minimum && failed / answered > threshold;
					expect(stopLossReason({ threshold, minimum }, sent, failed) !== null).toBe(expected);
				},
			),
			{ numRuns: 200 },
		);
	});

	it('never trips before anything was answered, even with a minimum of 0', () => {
		expect(stopLossReason({ threshold: 0, minimum: 0 }, 0, 0)).toBeNull();
	});

	it('says how many failed, out of how many, against which limit', () => {
		expect(stopLossReason(DEFAULT_STOP_LOSS, 45, 5)).toBe('Stopped: 5 of 50 recipients failed (10.0%, limit 5.0%)');
		expect(stopLossReason(DEFAULT_STOP_LOSS, 47, 2)).toBeNull(); // 49 answered: below the minimum
	});
});

describe('job queue', () => {
	it('hands out jobs in order; a job put back goes first', async () => {
		const q = new JobQueue(3, undefined);
		expect(await q.take()).toBe(0);
		q.requeueFront(0);
		q.release();
		expect([await q.take(), await q.take(), await q.take()]).toEqual([0, 1, 2]);
	});

	it('a worker waits while a job is out (it may come back) and gets null once all are released', async () => {
		const q = new JobQueue(1, undefined);
		expect(await q.take()).toBe(0);
		let next: number | null | undefined;
		void q.take().then((v) => (next = v));
		await tick();
		expect(next).toBeUndefined();
		q.retryLater(0, 5);
		q.release();
		await tick();
		expect(next).toBeUndefined(); // in its retry pause
		await new Promise((resolve) => setTimeout(resolve, 20));
		expect(next).toBe(0);
		q.release();
		expect(await q.take()).toBeNull();
	});

	it('a retry pause ends at once when the run is cancelled', async () => {
		const abort = new AbortController();
		const q = new JobQueue(1, abort.signal);
		await q.take();
		q.retryLater(0, 60_000);
		q.release();
		const started = Date.now();
		const next = q.take();
		abort.abort();
		expect(await next).toBe(0);
		expect(Date.now() - started).toBeLessThan(5_000);
	});
});

describe('run limits', () => {
	it('apply the named defaults', () => {
		expect(runLimits({})).toEqual({
			poolSize: DEFAULT_POOL_SIZE,
			maxTemporaryRetries: DEFAULT_MAX_TEMPORARY_RETRIES,
			retryBaseMs: DEFAULT_RETRY_BASE_MS,
			retryMaxMs: DEFAULT_RETRY_MAX_MS,
			maxConnectionFailures: DEFAULT_MAX_CONNECTION_FAILURES,
			reconnectBaseMs: DEFAULT_RECONNECT_BASE_MS,
			stopLoss: DEFAULT_STOP_LOSS,
		});
		expect(DEFAULT_STOP_LOSS).toEqual({ threshold: DEFAULT_STOP_LOSS_PERCENT / 100, minimum: DEFAULT_STOP_LOSS_MINIMUM });
		expect(Object.isFrozen(DEFAULT_STOP_LOSS)).toBe(true);
	});

	it('keep the pool between 1 and the maximum; false turns the stop-loss off', () => {
		expect(runLimits({ poolSize: 0 }).poolSize).toBe(1);
		expect(runLimits({ poolSize: 1_000 }).poolSize).toBe(MAX_POOL_SIZE);
		expect(runLimits({ poolSize: 7.9 }).poolSize).toBe(7);
		expect(runLimits({ stopLoss: false }).stopLoss).toBeNull();
	});
});

describe('Send node defaults come from the core constants', () => {
	const options = cadenceSendProperties.find((p) => p.name === 'options')!.options as Array<{
		name: string;
		default: unknown;
		typeOptions?: IDataObject;
	}>;
	const option = (name: string) => options.find((o) => o.name === name)!;

	it('the parameters show the constants', () => {
		expect(option('companyDailyCap').default).toBe(DEFAULT_COMPANY_DAILY_CAP);
		expect(option('contactDailyCap').default).toBe(DEFAULT_CONTACT_DAILY_CAP);
		expect(option('concurrency').default).toBe(DEFAULT_POOL_SIZE);
		expect(option('concurrency').typeOptions?.maxValue).toBe(MAX_POOL_SIZE);
		expect(option('ratePerSecond').default).toBe(DEFAULT_RATE_PER_SECOND);
		expect(option('maxRetries').default).toBe(DEFAULT_MAX_TEMPORARY_RETRIES);
		expect(option('retryDelay').default).toBe(DEFAULT_RETRY_BASE_MS / 1000);
		expect(option('stopLossPercent').default).toBe(DEFAULT_STOP_LOSS_PERCENT);
		expect(option('stopLossMinimum').default).toBe(DEFAULT_STOP_LOSS_MINIMUM);
		expect(cadenceSendProperties.find((p) => p.name === 'ledgerTable')!.default).toBe(DEFAULT_LEDGER_TABLE);
	});

	it('options left out read as the same values the parameters show', () => {
		const ctx = { getNodeParameter: () => ({}), getTimezone: () => 'UTC' } as unknown as IExecuteFunctions;
		const settings = readRunSettings(ctx, smtpAccountFromCredentials({ host: 'smtp.example.com', poolSize: MAX_POOL_SIZE }));
		expect(settings).toMatchObject({
			concurrency: option('concurrency').default,
			ratePerSecond: option('ratePerSecond').default,
			companyDailyCap: option('companyDailyCap').default,
			contactDailyCap: option('contactDailyCap').default,
			maxRetries: option('maxRetries').default,
			retryDelayMs: (option('retryDelay').default as number) * 1000,
			stopLoss: { threshold: (option('stopLossPercent').default as number) / 100, minimum: option('stopLossMinimum').default },
			inputFields: option('inputFields').default,
			inputKey: option('inputKey').default,
		});
	});

	it('the per-domain cap skips the messages past the default cap of one domain only', () => {
		const emails = [...Array.from({ length: DEFAULT_DOMAIN_CAP + 2 }, (_, i) => `a${i}@one.example`), 'b@two.example'];
		const over = overDomainCap(emails, DEFAULT_DOMAIN_CAP);
		expect(over.filter(Boolean)).toHaveLength(2);
		expect(over.slice(DEFAULT_DOMAIN_CAP, DEFAULT_DOMAIN_CAP + 2)).toEqual([true, true]);
		expect(over.at(-1)).toBe(false);
	});

	it('the per-domain cap counts per company: sibling hosts together, x.github.io and y.github.io apart', () => {
		const emails = ['a@eu.acme.co.uk', 'b@us.acme.co.uk', 'c@ACME.co.uk', 'd@x.github.io', 'e@y.github.io', 'f@x.github.io'];
		expect(overDomainCap(emails, 2)).toEqual([false, false, true, false, false, false]);
		expect(overDomainCap(emails, 1)).toEqual([false, true, true, false, false, true]);
	});
});
