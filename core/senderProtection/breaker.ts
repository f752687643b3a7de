/**
 * The reputation circuit breaker: per sender mailbox and per sending domain, the hard-bounce and complaint rates
 * over a rolling window of sends, and whether a person paused scope is still paused.
 *
 * Window: the last `windowDays` days before `now`, or the last `windowSends` sends when that is > 0; never before
 * the latest `resumed` event of the mailbox or domain, so a resumed sender starts afresh and old bounces cannot
 * pause it again. Only `sent` events count as sends. A hard bounce (`bounced` with `bounce.hard`) or a complaint
 * (`complained`) belongs to the mailbox in its own `mailbox` field, else to the mailbox of the message it names
 * (`messageId`, then tracking `token`, of a `sent` or unconfirmed event), else to the latest message to the same
 * address (same campaign when it has one) sent at or before it (else the first one after). One that no message
 * explains is counted as unattributed.
 */
import { eventMultiplicity, isMessageEvent, lowerField, mailboxDomain, mailboxKey } from './counts';

export interface BreakerFigures {
	/** ISO instant the window starts at. */
	since: string;
	sends: number;
	hardBounces: number;
	complaints: number;
	/** Fractions: 0.02 = 2 %. 0 when there are no sends. */
	hardBounceRate: number;
	complaintRate: number;
}

export type PauseScope = 'mailbox' | 'domain';

export interface BreakerOptions {
	/** Epoch ms the window ends at. */
	now: number;
	windowDays: number;
	/** > 0: the window is the last this many sends instead of days. */
	windowSends: number;
	minSends: number;
	/** 0: no limit on that rate. */
	hardBouncePausePercent: number;
	complaintPausePercent: number;
}

export interface ScopeBreaker {
	scope: PauseScope;
	/** The mailbox, or the domain for scope `domain`. */
	id: string;
	figures: BreakerFigures;
	/** The window's rates reach a threshold (from minSends sends). */
	tripped: boolean;
	/** Paused by a `paused` event newer than the latest `resumed` event. */
	paused: boolean;
	pausedAt?: string;
	reason?: string;
}

export interface BreakerState {
	mailboxes: Map<string, ScopeBreaker>;
	domains: Map<string, ScopeBreaker>;
	/** Hard bounces and complaints of the last windowDays days that no message explains. */
	unattributed: { hardBounces: number; complaints: number };
}

const DAY_MS = 86_400_000;

interface Log {
	sends: number[];
	sendCounts: number[];
	bounces: number[];
	bounceCounts: number[];
	complaints: number[];
	complaintCounts: number[];
}

interface Sent {
	t: number;
	mailbox: string;
	campaign: string;
}

interface Feedback {
	complaint: boolean;
	t: number;
	n: number;
	mailbox: string;
	messageId: string;
	token: string;
	email: string;
	campaign: string;
}

interface Mark {
	t: number;
	at: string;
	reason: string;
}

const newLog = (): Log => ({ sends: [], sendCounts: [], bounces: [], bounceCounts: [], complaints: [], complaintCounts: [] });

function truthy(v: unknown): boolean {
	return v === true || v === 1 || (typeof v === 'string' && ['true', '1', 'yes', 'hard'].includes(v.trim().toLowerCase()));
}

/** `bounce.hard` as an object field, in a JSON string, or flattened as a table column. */
export function isHardBounce(event: Record<string, unknown>): boolean {
	let bounce = event.bounce;
	if (typeof bounce === 'string' && bounce.trim().startsWith('{')) {
		try {
			bounce = JSON.parse(bounce) as unknown;
		} catch {
			bounce = undefined;
		}
	}
	if (bounce && typeof bounce === 'object') return truthy((bounce as Record<string, unknown>).hard);
	return truthy(event['bounce.hard']) || truthy(event.bounce_hard) || truthy(event.bounceHard);
}

function messageKey(v: unknown): string {
	if (typeof v !== 'string') return '';
	let s = v.trim();
	if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
	return s.toLowerCase();
}

function pauseKey(scope: string, id: string): string {
	return `${scope}\u0000${id}`;
}

function tokenKey(v: unknown): string {
	return typeof v === 'string' ? v.trim() : '';
}

/** The mailbox of the latest message to the address (same campaign when it has one) at or before `f`, else the first after. */
function latestSend(f: Feedback, sent: Sent[]): string {
	const sameCampaign = f.campaign ? sent.filter((s) => s.campaign === f.campaign) : sent;
	const candidates = sameCampaign.length > 0 ? sameCampaign : sent;
	let before: Sent | undefined;
	let after: Sent | undefined;
	for (const s of candidates) {
		if (s.t <= f.t) {
			if (!before || s.t >= before.t) before = s;
		} else if (!after || s.t < after.t) after = s;
	}
	return (before ?? after)?.mailbox ?? '';
}

/** The sender mailbox an event names, when it names an address; '' otherwise. */
function senderMailbox(value: unknown): string {
	const key = mailboxKey(value);
	return key.includes('@') ? key : '';
}

/** The scope a pause or resume names; without one, an address is a mailbox and a bare domain is a domain. */
function scopeOf(event: Record<string, unknown>): PauseScope {
	const scope = lowerField(event, 'scope');
	if (scope === 'domain' || scope === 'mailbox') return scope;
	return String(event.mailbox ?? '').includes('@') ? 'mailbox' : 'domain';
}

/** Collects what the breaker needs from events, one at a time; `state` judges them. Memory: a few numbers per message. */
export function createBreakerCollector(): {
	add(event: Record<string, unknown>, type: string, ms: number): void;
	state(options: BreakerOptions): BreakerState;
} {
	const logs = new Map<string, Log>();
	// Every message event's raw fields, kept as they came: maps to its mailbox are built later, only for the
	// messages bounces and complaints name.
	const msgT: number[] = [];
	const msgMailbox: string[] = [];
	const msgId: unknown[] = [];
	const msgToken: unknown[] = [];
	const msgEmail: unknown[] = [];
	const msgCampaign: unknown[] = [];
	const feedback: Feedback[] = [];
	const paused = new Map<string, Mark>();
	const resumed = new Map<string, number>();
	const known = new Set<string>();

	const logOf = (mailbox: string): Log => {
		let log = logs.get(mailbox);
		if (!log) logs.set(mailbox, (log = newLog()));
		return log;
	};

	function add(event: Record<string, unknown>, type: string, ms: number): void {
		if (isMessageEvent(type, event)) {
			const mailbox = mailboxKey(event.mailbox);
			if (!mailbox) return;
			known.add(mailbox);
			msgT.push(ms);
			msgMailbox.push(mailbox);
			msgId.push(event.messageId);
			msgToken.push(event.token);
			msgEmail.push(event.email);
			msgCampaign.push(event.campaign);
			if (type === 'sent') {
				const n = eventMultiplicity(event);
				if (n > 0) {
					const log = logOf(mailbox);
					log.sends.push(ms);
					log.sendCounts.push(n);
				}
			}
		} else if (type === 'complained' || (type === 'bounced' && isHardBounce(event))) {
			const n = eventMultiplicity(event);
			if (n === 0) return;
			feedback.push({
				complaint: type === 'complained',
				t: ms,
				n,
				// Only a sender address names the mailbox: inbox events carry the IMAP folder (INBOX) under the same name.
				mailbox: senderMailbox(event.mailbox),
				messageId: messageKey(event.messageId),
				token: tokenKey(event.token),
				email: lowerField(event, 'email'),
				campaign: lowerField(event, 'campaign'),
			});
		} else if (type === 'paused' || type === 'resumed') {
			const id = mailboxKey(event.mailbox);
			if (!id) return;
			const scope = scopeOf(event);
			if (scope === 'mailbox') known.add(id);
			const key = pauseKey(scope, id);
			if (type === 'resumed') {
				if (ms > (resumed.get(key) ?? -Infinity)) resumed.set(key, ms);
			} else if (ms > (paused.get(key)?.t ?? -Infinity)) {
				paused.set(key, { t: ms, at: new Date(ms).toISOString(), reason: typeof event.reason === 'string' ? event.reason : '' });
			}
		}
	}

	/** The mailbox of each bounce and complaint ('' when no message explains it), in the order of `feedback`. */
	function attributeAll(): string[] {
		const out = feedback.map((f) => f.mailbox);
		const byMessage = new Map<string, string>();
		const byToken = new Map<string, string>();
		for (let i = 0; i < feedback.length; i++) {
			if (out[i]) continue;
			if (feedback[i].messageId) byMessage.set(feedback[i].messageId, '');
			if (feedback[i].token) byToken.set(feedback[i].token, '');
		}
		if (byMessage.size > 0 || byToken.size > 0)
			for (let j = 0; j < msgT.length; j++) {
				const id = byMessage.size > 0 ? messageKey(msgId[j]) : '';
				if (id && byMessage.has(id)) byMessage.set(id, msgMailbox[j]);
				const token = byToken.size > 0 ? tokenKey(msgToken[j]) : '';
				if (token && byToken.has(token)) byToken.set(token, msgMailbox[j]);
			}
		const byEmail = new Map<string, Sent[]>();
		for (let i = 0; i < feedback.length; i++) {
			if (out[i]) continue;
			const f = feedback[i];
			out[i] = (f.messageId && byMessage.get(f.messageId)) || (f.token && byToken.get(f.token)) || '';
			if (!out[i] && f.email) byEmail.set(f.email, []);
		}
		if (byEmail.size === 0) return out;
		for (let j = 0; j < msgT.length; j++) {
			const raw = msgEmail[j];
			const list = typeof raw === 'string' ? byEmail.get(raw.trim().toLowerCase()) : undefined;
			if (list)
				list.push({
					t: msgT[j],
					mailbox: msgMailbox[j],
					campaign: typeof msgCampaign[j] === 'string' ? (msgCampaign[j] as string).trim().toLowerCase() : '',
				});
		}
		for (let i = 0; i < feedback.length; i++)
			if (!out[i] && feedback[i].email) out[i] = latestSend(feedback[i], byEmail.get(feedback[i].email) ?? []);
		return out;
	}

	function state(options: BreakerOptions): BreakerState {
		const { now } = options;
		const dayStart = now - options.windowDays * DAY_MS;
		const unattributed = { hardBounces: 0, complaints: 0 };
		const owners = attributeAll();
		for (let i = 0; i < feedback.length; i++) {
			const f = feedback[i];
			const mailbox = owners[i];
			if (mailbox) {
				known.add(mailbox);
				const log = logOf(mailbox);
				if (f.complaint) {
					log.complaints.push(f.t);
					log.complaintCounts.push(f.n);
				} else {
					log.bounces.push(f.t);
					log.bounceCounts.push(f.n);
				}
			} else if (f.t >= dayStart && f.t <= now) {
				if (f.complaint) unattributed.complaints += f.n;
				else unattributed.hardBounces += f.n;
			}
		}

		const domainMembers = new Map<string, string[]>();
		for (const mailbox of known) {
			const domain = mailboxDomain(mailbox);
			if (!domain) continue;
			const list = domainMembers.get(domain);
			if (list) list.push(mailbox);
			else domainMembers.set(domain, [mailbox]);
		}
		for (const key of [...paused.keys(), ...resumed.keys()]) {
			const [scope, id] = key.split('\u0000');
			if (scope === 'domain' && !domainMembers.has(id)) domainMembers.set(id, []);
		}

		const judge = (scope: PauseScope, id: string, parts: Log[]): ScopeBreaker => {
			const key = pauseKey(scope, id);
			// Resuming a sending domain resumes its mailboxes too: a person cleared the whole domain.
			const own = resumed.get(key);
			const ofDomain = scope === 'mailbox' ? resumed.get(pauseKey('domain', mailboxDomain(id))) : undefined;
			const resumedAt = own === undefined ? ofDomain : ofDomain === undefined ? own : Math.max(own, ofDomain);
			const figures = windowFigures(parts, options, resumedAt);
			const mark = paused.get(key);
			const isPaused = mark !== undefined && (resumedAt === undefined || mark.t > resumedAt);
			const out: ScopeBreaker = { scope, id, figures, tripped: trips(figures, options), paused: isPaused };
			if (isPaused) {
				out.pausedAt = mark.at;
				out.reason = mark.reason;
			}
			return out;
		};

		const mailboxes = new Map<string, ScopeBreaker>();
		for (const mailbox of known) mailboxes.set(mailbox, judge('mailbox', mailbox, [logs.get(mailbox) ?? newLog()]));
		const domains = new Map<string, ScopeBreaker>();
		for (const [domain, members] of domainMembers)
			domains.set(
				domain,
				judge(
					'domain',
					domain,
					members.map((m) => logs.get(m) ?? newLog()),
				),
			);
		return { mailboxes, domains, unattributed };
	}

	return { add, state };
}

function sum(times: number[], counts: number[], from: number, to: number): number {
	let total = 0;
	for (let i = 0; i < times.length; i++) if (times[i] >= from && times[i] <= to) total += counts[i];
	return total;
}

/** The window's figures over the logs of one scope (one mailbox, or every mailbox of a domain). */
function windowFigures(parts: Log[], options: BreakerOptions, resumedAt: number | undefined): BreakerFigures {
	const { now } = options;
	const floor = resumedAt ?? -Infinity;
	let since: number;
	let sends = 0;
	if (options.windowSends > 0) {
		const recent: Array<[number, number]> = [];
		for (const log of parts)
			for (let i = 0; i < log.sends.length; i++) if (log.sends[i] >= floor && log.sends[i] <= now) recent.push([log.sends[i], log.sendCounts[i]]);
		recent.sort((a, b) => b[0] - a[0]);
		since = floor;
		for (const [t, n] of recent) {
			sends += n;
			if (sends >= options.windowSends) {
				sends = options.windowSends;
				since = t;
				break;
			}
		}
	} else {
		since = Math.max(now - options.windowDays * DAY_MS, floor);
		for (const log of parts) sends += sum(log.sends, log.sendCounts, since, now);
	}
	let hardBounces = 0;
	let complaints = 0;
	let earliest = Infinity;
	for (const log of parts) {
		hardBounces += sum(log.bounces, log.bounceCounts, since, now);
		complaints += sum(log.complaints, log.complaintCounts, since, now);
		if (since === -Infinity)
			for (const list of [log.sends, log.bounces, log.complaints]) for (const t of list) if (t < earliest && t <= now) earliest = t;
	}
	const start = since === -Infinity ? (earliest === Infinity ? now : earliest) : since;
	return {
		since: new Date(start).toISOString(),
		sends,
		hardBounces,
		complaints,
		hardBounceRate: sends > 0 ? hardBounces / sends : 0,
		complaintRate: sends > 0 ? complaints / sends : 0,
	};
}

// Rates compared with a tolerance, so 3 of 1000 reaches 0.3 % despite binary fractions.
const EPSILON = 1e-12;

function reaches(rate: number, percent: number): boolean {
	return percent > 0 && rate >= percent / 100 - EPSILON;
}

/** Whether figures pause a sender: at least minSends sends, and a rate at or over its threshold (0: no threshold). */
export function trips(
	figures: BreakerFigures,
	options: Pick<BreakerOptions, 'minSends' | 'hardBouncePausePercent' | 'complaintPausePercent'>,
): boolean {
	if (figures.sends === 0 || figures.sends < options.minSends) return false;
	return reaches(figures.hardBounceRate, options.hardBouncePausePercent) || reaches(figures.complaintRate, options.complaintPausePercent);
}

/** A percentage for people: at most two decimals, no trailing zeros (2.4, 0.3, 2). */
export function formatPercent(fraction: number): string {
	return String(Number((fraction * 100).toFixed(2)));
}

/** Why figures pause a sender, e.g. "hard-bounce rate 2.4 % (12 of 500 sends since 2026-11-06) reached 2 %". */
export function tripReason(
	figures: BreakerFigures,
	options: Pick<BreakerOptions, 'hardBouncePausePercent' | 'complaintPausePercent'>,
	sinceDay: string,
): string {
	const parts: string[] = [];
	const of = (n: number) => `(${n} of ${figures.sends} sends since ${sinceDay})`;
	if (reaches(figures.hardBounceRate, options.hardBouncePausePercent))
		parts.push(`hard-bounce rate ${formatPercent(figures.hardBounceRate)} % ${of(figures.hardBounces)} reached ${options.hardBouncePausePercent} %`);
	if (reaches(figures.complaintRate, options.complaintPausePercent))
		parts.push(`complaint rate ${formatPercent(figures.complaintRate)} % ${of(figures.complaints)} reached ${options.complaintPausePercent} %`);
	return parts.join('; ');
}
