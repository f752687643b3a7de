/**
 * The sender's state for a run, from store events in one pass: the day's messages per company, contact and mailbox,
 * and every mailbox's and sending domain's breaker state; plus the checks the Send node makes before each message.
 */
import { companyOf } from '../company';
import { eventId, type CadenceEvent } from '../events';
import { createBreakerCollector, tripReason, type BreakerFigures, type ScopeBreaker } from './breaker';
import { checkTimeZone, createDayCounter, createIdFilter, eventTime, eventType, eventsOf, mailboxDomain, mailboxKey, zoneDay } from './counts';
import {
	DEFAULT_BREAKER_MIN_SENDS,
	DEFAULT_BREAKER_WINDOW_DAYS,
	DEFAULT_BREAKER_WINDOW_SENDS,
	DEFAULT_COMPLAINT_PAUSE_PERCENT,
	DEFAULT_HARD_BOUNCE_PAUSE_PERCENT,
} from './defaults';

export interface MailboxStatus {
	mailbox: string;
	domain: string;
	sentToday: number;
	paused: boolean;
	pausedAt?: string;
	reason?: string;
	window: BreakerFigures;
}

export interface SenderStatus {
	day: string;
	timeZone: string;
	generatedAt: string;
	/** Company → messages sent today (all mailboxes, all campaigns). */
	companies: Record<string, number>;
	/** Lower-case email → messages sent today. */
	contacts: Record<string, number>;
	/** Mailbox id (its lower-case From address) → status. */
	mailboxes: Record<string, MailboxStatus>;
	/** Sending domain (domain of the From address) → status (mailbox = domain). */
	domains: Record<string, MailboxStatus>;
	/** Hard bounces and complaints of the last windowDays days that no sent message explains. */
	unattributed: { hardBounces: number; complaints: number };
}

export interface SenderStatusOptions {
	now: Date | string;
	/** IANA zone of the calendar day the caps count in (default UTC). */
	timeZone?: string;
	windowDays?: number;
	windowSends?: number;
	minSends?: number;
	hardBouncePausePercent?: number;
	complaintPausePercent?: number;
}

/** The event types Sender Status reads; the Data-table templates fetch only these (opens and clicks are most events). */
export const SENDER_STATUS_EVENT_TYPES = ['sent', 'failed', 'bounced', 'complained', 'paused', 'resumed'] as const;
const RELEVANT = new Set<string>(SENDER_STATUS_EVENT_TYPES);

function option(value: unknown, fallback: number, name: string, whole: boolean): number {
	if (value === undefined || value === null) return fallback;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (whole && !Number.isInteger(value)))
		throw new RangeError(`${name} must be a ${whole ? 'whole ' : ''}number ≥ 0, got ${JSON.stringify(value) ?? String(value)}`);
	return value;
}

/**
 * Today's counts and every mailbox's and sending domain's breaker state from store events (any order, replays and
 * junk tolerated: see dayCounts and the breaker); `paused` holds the `paused` events to record for mailboxes and
 * domains that trip now and are not paused yet (they read as paused in `status` already). Throws a RangeError only
 * for malformed options.
 */
export function senderStatus(events: Iterable<unknown>, options: SenderStatusOptions): { status: SenderStatus; paused: CadenceEvent[] } {
	if (!options || typeof options !== 'object') throw new RangeError('senderStatus needs options with at least `now`');
	const now = eventTime(options.now);
	if (now === null || (typeof options.now !== 'string' && !(options.now instanceof Date)))
		throw new RangeError(`now must be a Date or an ISO date-time, got ${JSON.stringify(options.now) ?? String(options.now)}`);
	const timeZone = checkTimeZone(options.timeZone ?? 'UTC');
	const breakerOptions = {
		now,
		windowDays: option(options.windowDays, DEFAULT_BREAKER_WINDOW_DAYS, 'windowDays', false),
		windowSends: option(options.windowSends, DEFAULT_BREAKER_WINDOW_SENDS, 'windowSends', true),
		minSends: option(options.minSends, DEFAULT_BREAKER_MIN_SENDS, 'minSends', true),
		hardBouncePausePercent: option(options.hardBouncePausePercent, DEFAULT_HARD_BOUNCE_PAUSE_PERCENT, 'hardBouncePausePercent', false),
		complaintPausePercent: option(options.complaintPausePercent, DEFAULT_COMPLAINT_PAUSE_PERCENT, 'complaintPausePercent', false),
	};
	const day = zoneDay(now, timeZone);
	const counter = createDayCounter({ day, timeZone });
	const breaker = createBreakerCollector();
	const fresh = createIdFilter();

	for (const raw of eventsOf(events)) {
		if (!raw || typeof raw !== 'object') continue;
		try {
			const e = raw as Record<string, unknown>;
			const type = eventType(e);
			if (!RELEVANT.has(type)) continue;
			const ms = eventTime(e.at);
			if (ms === null || !fresh(e)) continue;
			counter.add(e, type, ms);
			breaker.add(e, type, ms);
		} catch {
			// an event whose fields cannot be read (a throwing getter) is junk like any other
		}
	}

	const state = breaker.state(breakerOptions);
	const generatedAt = new Date(now).toISOString();
	const paused: CadenceEvent[] = [];
	const toStatus = (b: ScopeBreaker, sentToday: number): MailboxStatus => {
		const out: MailboxStatus = {
			mailbox: b.id,
			domain: b.scope === 'domain' ? b.id : mailboxDomain(b.id),
			sentToday,
			paused: b.paused,
			window: b.figures,
		};
		if (b.paused) {
			out.pausedAt = b.pausedAt;
			out.reason = b.reason;
		} else if (b.tripped) {
			const reason = tripReason(b.figures, breakerOptions, zoneDay(Date.parse(b.figures.since), timeZone));
			out.paused = true;
			out.pausedAt = generatedAt;
			out.reason = reason;
			paused.push({
				id: eventId('paused', b.scope, b.id, b.figures.since),
				type: 'paused',
				at: generatedAt,
				email: '',
				mailbox: b.id,
				scope: b.scope,
				reason,
				figures: { ...b.figures },
			});
		}
		return out;
	};

	const mailboxes: Record<string, MailboxStatus> = {};
	const domainToday = new Map<string, number>();
	for (const [id, b] of state.mailboxes) {
		const today = counter.counts.mailboxes.get(id) ?? 0;
		const domain = mailboxDomain(id);
		domainToday.set(domain, (domainToday.get(domain) ?? 0) + today);
		Object.defineProperty(mailboxes, id, { value: toStatus(b, today), enumerable: true, writable: true, configurable: true });
	}
	const domains: Record<string, MailboxStatus> = {};
	for (const [id, b] of state.domains)
		Object.defineProperty(domains, id, { value: toStatus(b, domainToday.get(id) ?? 0), enumerable: true, writable: true, configurable: true });

	return {
		status: {
			day,
			timeZone,
			generatedAt,
			companies: Object.fromEntries(counter.counts.companies),
			contacts: Object.fromEntries(counter.counts.contacts),
			mailboxes,
			domains,
			unattributed: state.unattributed,
		},
		paused,
	};
}

export type SendRefusalReason = 'paused' | 'company-cap' | 'contact-cap' | 'mailbox-cap';

export interface SendRefusal {
	reason: SendRefusalReason;
	error: string;
}

export interface SendCheck {
	/** The sender mailbox (From address); absent: no mailbox checks. */
	mailbox?: string;
	/** The recipient. */
	email?: string;
	/** The recipient's company; default companyOf(email). */
	company?: string;
	/** 0 or absent: no cap. */
	companyCap?: number;
	contactCap?: number;
	/** The mailbox's cap today (mailboxCapOn); 0 or absent: no cap. */
	mailboxCap?: number;
}

export interface DayTally {
	/** Whether one more message may go out now, counting the store's and this run's messages; null when it may. */
	allow(check: SendCheck): SendRefusal | null;
	/** Counts one message of this run (after its claim succeeded). */
	take(check: SendCheck): void;
	/** Gives a taken message back (nothing reached the server). */
	release(check: SendCheck): void;
}

function own(record: Record<string, number>, key: string): number {
	return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : 0;
}

function ownStatus(record: Record<string, MailboxStatus>, key: string): MailboxStatus | undefined {
	return key && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

function keysOf(check: SendCheck): { email: string; company: string; mailbox: string } {
	const email = typeof check.email === 'string' ? check.email.trim().toLowerCase() : '';
	const company = typeof check.company === 'string' && check.company.trim() ? check.company.trim().toLowerCase() : companyOf(email);
	const mailbox = mailboxKey(check.mailbox);
	return { email, company, mailbox };
}

const capped = (cap: number | undefined, used: number): cap is number => typeof cap === 'number' && cap > 0 && used >= cap;

/**
 * A per-run tally over a status: the Send node creates one per run and counts its own messages on top of the
 * store's. Checks in this order, so the reason tells whether another mailbox could help: contact cap, company cap
 * (the recipient waits for another day), then paused mailbox or domain, mailbox cap (another mailbox may send).
 */
export function createDayTally(status: SenderStatus): DayTally {
	const contacts = new Map<string, number>();
	const companies = new Map<string, number>();
	const mailboxes = new Map<string, number>();
	const bump = (map: Map<string, number>, key: string, n: number) => {
		if (key) map.set(key, Math.max(0, (map.get(key) ?? 0) + n));
	};
	return {
		allow(check) {
			const { email, company, mailbox } = keysOf(check);
			if (email) {
				const used = own(status.contacts, email) + (contacts.get(email) ?? 0);
				if (capped(check.contactCap, used))
					return {
						reason: 'contact-cap',
						error: `${email} has ${used} message(s) on ${status.day} already; the cap per contact is ${check.contactCap}`,
					};
			}
			if (company) {
				const used = own(status.companies, company) + (companies.get(company) ?? 0);
				if (capped(check.companyCap, used))
					return {
						reason: 'company-cap',
						error: `company ${company} has ${used} message(s) on ${status.day} already; the cap per company is ${check.companyCap}`,
					};
			}
			if (mailbox) {
				const domain = mailboxDomain(mailbox);
				const stopped = ownStatus(status.mailboxes, mailbox)?.paused
					? ownStatus(status.mailboxes, mailbox)
					: ownStatus(status.domains, domain)?.paused
						? ownStatus(status.domains, domain)
						: undefined;
				if (stopped) {
					const isMailbox = stopped.mailbox === mailbox;
					const scope = isMailbox ? `mailbox ${mailbox}` : `sending domain ${domain}`;
					return {
						reason: 'paused',
						error: `${scope} is paused since ${stopped.pausedAt ?? '?'}${stopped.reason ? `: ${stopped.reason}` : ''}; a person resumes it by recording the event { type: "resumed", mailbox: "${isMailbox ? mailbox : domain}", scope: "${isMailbox ? 'mailbox' : 'domain'}", at: <now> }`,
					};
				}
				const used = (ownStatus(status.mailboxes, mailbox)?.sentToday ?? 0) + (mailboxes.get(mailbox) ?? 0);
				if (capped(check.mailboxCap, used))
					return {
						reason: 'mailbox-cap',
						error: `mailbox ${mailbox} has sent ${used} message(s) on ${status.day}; its cap today is ${check.mailboxCap}`,
					};
			}
			return null;
		},
		take(check) {
			const { email, company, mailbox } = keysOf(check);
			bump(contacts, email, 1);
			bump(companies, company, 1);
			bump(mailboxes, mailbox, 1);
		},
		release(check) {
			const { email, company, mailbox } = keysOf(check);
			bump(contacts, email, -1);
			bump(companies, company, -1);
			bump(mailboxes, mailbox, -1);
		},
	};
}

/** Whether one more message may go out given the store's counts only (see createDayTally); null when it may. */
export function checkSendAllowed(status: SenderStatus, check: SendCheck): SendRefusal | null {
	return createDayTally(status).allow(check);
}

/** The event a person records to resume a paused mailbox (or sending domain, with scope `domain`). */
export function resumedEvent(input: { mailbox: string; scope?: 'mailbox' | 'domain'; at: Date | string; by?: string }): CadenceEvent {
	const at = eventTime(input.at);
	if (at === null) throw new RangeError(`at must be a Date or an ISO date-time, got ${JSON.stringify(input.at)}`);
	const mailbox = mailboxKey(input.mailbox);
	if (!mailbox) throw new RangeError('resumedEvent needs the mailbox (or the domain, with scope "domain")');
	const scope = input.scope ?? 'mailbox';
	const iso = new Date(at).toISOString();
	const out: CadenceEvent = { id: eventId('resumed', scope, mailbox, iso), type: 'resumed', at: iso, email: '', mailbox, scope };
	if (input.by) out.by = input.by;
	return out;
}
