import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	DEFAULT_MAILBOX_DAILY_CAP,
	checkSendAllowed,
	createDayTally,
	dayCounts,
	mailboxCapOn,
	parseMailboxLimits,
	resumedEvent,
	senderStatus,
	type SenderStatus,
} from '../../core/senderProtection';

type Ev = Record<string, unknown>;
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-04T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
let seq = 0;
const sent = (mailbox: string, email: string, at: number, extra: Ev = {}): Ev => ({
	id: `s${++seq}`,
	type: 'sent',
	at: iso(at),
	email,
	mailbox,
	messageId: `<m${seq}@mail>`,
	...extra,
});
const hard = (email: string, at: number, extra: Ev = {}): Ev => ({
	id: `b${++seq}`,
	type: 'bounced',
	at: iso(at),
	email,
	bounce: { hard: true, status: '5.1.1', reason: 'userunknown', diagnostic: '' },
	...extra,
});
const complaint = (email: string, at: number, extra: Ev = {}): Ev => ({ id: `k${++seq}`, type: 'complained', at: iso(at), email, ...extra });

/** `n` sends from `mailbox` spread over the 10 days before NOW, to r0..r(n-1)@<host>. */
function sends(mailbox: string, n: number, host = 'rcpt.example', start = NOW - 10 * DAY): Ev[] {
	return Array.from({ length: n }, (_, i) => sent(mailbox, `r${i}@${host}`, start + i * 60_000));
}
const bouncesFor = (events: Ev[], k: number, at = NOW - DAY) => events.slice(0, k).map((s) => hard(s.email as string, at));

describe('mailboxCapOn: warm-up ramp', () => {
	const ramp = { dailyCap: 50, warmupStart: '2026-11-01' };
	it('rises 2 a day from 10 and stops at the ceiling', () => {
		expect(mailboxCapOn(ramp, '2026-11-01')).toBe(10); // day 0
		expect(mailboxCapOn(ramp, '2026-11-02')).toBe(12); // day 1
		expect(mailboxCapOn(ramp, '2026-11-20')).toBe(48); // day 19
		expect(mailboxCapOn(ramp, '2026-11-21')).toBe(50); // day 20: the 21st day
		expect(mailboxCapOn(ramp, '2026-11-22')).toBe(50); // day 21
		expect(mailboxCapOn(ramp, '2026-12-11')).toBe(50); // day 40
	});
	it('gives the first-day cap before warmupStart, and counts calendar days across months and DST', () => {
		expect(mailboxCapOn(ramp, '2026-10-15')).toBe(10);
		expect(mailboxCapOn({ dailyCap: 100, warmupStart: '2026-03-28' }, '2026-03-30')).toBe(14);
		expect(mailboxCapOn({ dailyCap: 100, warmupStart: '2026-02-27', warmupFirstDay: 5, warmupDailyIncrease: 5 }, '2026-03-01')).toBe(15);
	});
	it('never exceeds dailyCap; 0 is no cap; no warmupStart is an established mailbox', () => {
		expect(mailboxCapOn({ dailyCap: 8, warmupStart: '2026-11-01' }, '2026-11-01')).toBe(8);
		expect(mailboxCapOn({ dailyCap: 0, warmupStart: '2026-11-01' }, '2026-11-01')).toBe(0);
		expect(mailboxCapOn({ dailyCap: 30 }, '2026-11-01')).toBe(30);
		expect(mailboxCapOn({ dailyCap: 30, warmupStart: '' }, '2026-11-01')).toBe(30);
	});
	it('throws a RangeError naming a malformed field', () => {
		expect(() => mailboxCapOn({ dailyCap: 50, warmupStart: '2026-13-01' }, '2026-11-01')).toThrow(/warmupStart.*2026-13-01/);
		expect(() => mailboxCapOn({ dailyCap: 50, warmupStart: '1.11.2026' }, '2026-11-01')).toThrow(RangeError);
		expect(() => mailboxCapOn({ dailyCap: 50, warmupStart: '2026-02-30' }, '2026-11-01')).toThrow(/warmupStart/);
		expect(() => mailboxCapOn({ dailyCap: -1 }, '2026-11-01')).toThrow(/dailyCap/);
		expect(() => mailboxCapOn({ dailyCap: 2.5 }, '2026-11-01')).toThrow(/dailyCap/);
		expect(() => mailboxCapOn({ dailyCap: 50, warmupStart: '2026-11-01' }, 'today')).toThrow(/day/);
		expect(() => mailboxCapOn({ dailyCap: 50, warmupStart: '2026-11-01', warmupFirstDay: 0 }, '2026-11-01')).toThrow(/warmupFirstDay/);
	});
	it('ramps monotonically to the ceiling (property)', () => {
		fc.assert(
			fc.property(
				fc.integer({ min: 1, max: 500 }),
				fc.integer({ min: 1, max: 50 }),
				fc.integer({ min: 0, max: 20 }),
				fc.integer({ min: -30, max: 400 }),
				(cap, first, inc, offset) => {
					const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * DAY).toISOString().slice(0, 10);
					const limits = { dailyCap: cap, warmupStart: day(0), warmupFirstDay: first, warmupDailyIncrease: inc };
					const today = mailboxCapOn(limits, day(offset));
					expect(today).toBeGreaterThanOrEqual(1);
					expect(today).toBeLessThanOrEqual(cap);
					expect(mailboxCapOn(limits, day(offset + 1))).toBeGreaterThanOrEqual(today);
				},
			),
			{ numRuns: 100 },
		);
	});
});

describe('parseMailboxLimits', () => {
	it('reads numbers, numeric strings and dates, with defaults', () => {
		expect(parseMailboxLimits({})).toEqual({ dailyCap: DEFAULT_MAILBOX_DAILY_CAP });
		expect(parseMailboxLimits(undefined)).toEqual({ dailyCap: DEFAULT_MAILBOX_DAILY_CAP });
		expect(parseMailboxLimits({ dailyCap: ' 40 ', warmupStart: '2026-11-01', warmupFirstDay: '5', warmupDailyIncrease: 3 })).toEqual({
			dailyCap: 40,
			warmupStart: '2026-11-01',
			warmupFirstDay: 5,
			warmupDailyIncrease: 3,
		});
		expect(parseMailboxLimits({ dailyCap: 0, warmupStart: '' })).toEqual({ dailyCap: 0 });
		expect(parseMailboxLimits({ warmupStart: '2026-11-01T00:00:00.000Z' }).warmupStart).toBe('2026-11-01');
		expect(parseMailboxLimits({ warmupStart: new Date('2026-11-01T00:00:00Z') }).warmupStart).toBe('2026-11-01');
	});
	it('rejects bad input with the field and value', () => {
		expect(() => parseMailboxLimits({ dailyCap: -5 })).toThrow(/"dailyCap".*-5/);
		expect(() => parseMailboxLimits({ dailyCap: 'fifty' })).toThrow(/"dailyCap".*fifty/);
		expect(() => parseMailboxLimits({ dailyCap: 1.5 })).toThrow(/whole/);
		expect(() => parseMailboxLimits({ warmupFirstDay: 0 })).toThrow(/"warmupFirstDay".*≥ 1/);
		expect(() => parseMailboxLimits({ warmupDailyIncrease: -1 })).toThrow(/"warmupDailyIncrease"/);
		expect(() => parseMailboxLimits({ warmupStart: '01/11/2026' })).toThrow(/"warmupStart".*YYYY-MM-DD/);
		expect(() => parseMailboxLimits({ warmupStart: 20261101 })).toThrow(/"warmupStart"/);
		expect(() => parseMailboxLimits('50')).toThrow(/must be an object/);
	});
});

describe('dayCounts', () => {
	it('counts sent and unconfirmed messages per company, contact and mailbox on the day of the zone', () => {
		const events: Ev[] = [
			sent('A@Sender.example', 'X@a.example.co.uk', Date.parse('2026-12-04T23:30:00Z')), // Berlin: 5 Dec 00:30
			sent('a@sender.example', 'y@b.example.co.uk', Date.parse('2026-12-05T10:00:00Z')),
			sent('a@sender.example', 'z@x.github.io', Date.parse('2026-12-04T22:59:59Z')), // Berlin: 4 Dec 23:59:59
			{ id: 'f1', type: 'failed', reason: 'unconfirmed', at: '2026-12-05T08:00:00Z', email: 'x@a.example.co.uk', mailbox: 'b@sender.example' },
			{ id: 'f2', type: 'failed', reason: 'smtp-550', at: '2026-12-05T08:00:00Z', email: 'x@a.example.co.uk', mailbox: 'b@sender.example' },
			{ id: 'o1', type: 'opened', at: '2026-12-05T08:00:00Z', email: 'x@a.example.co.uk' },
		];
		const berlin = dayCounts(events, { day: '2026-12-05', timeZone: 'Europe/Berlin' });
		expect(Object.fromEntries(berlin.companies)).toEqual({ 'example.co.uk': 3 });
		expect(Object.fromEntries(berlin.contacts)).toEqual({ 'x@a.example.co.uk': 2, 'y@b.example.co.uk': 1 });
		expect(Object.fromEntries(berlin.mailboxes)).toEqual({ 'a@sender.example': 2, 'b@sender.example': 1 });
		const utc = dayCounts(events, { day: '2026-12-04' });
		expect(Object.fromEntries(utc.contacts)).toEqual({ 'x@a.example.co.uk': 1, 'z@x.github.io': 1 });
		expect(Object.fromEntries(utc.companies)).toEqual({ 'example.co.uk': 1, 'x.github.io': 1 });
	});
	it('honours count, counts a replayed id once, and skips junk', () => {
		const at = '2026-12-04T09:00:00Z';
		const events: unknown[] = [
			{ type: 'sent', at, email: 'a@co.example', mailbox: 'm@s.example', count: 5 },
			{ type: 'sent', at, email: 'b@co.example', mailbox: 'm@s.example', count: '3' },
			{ type: 'sent', at, email: 'c@co.example', mailbox: 'm@s.example', count: 0 },
			{ id: 'r', type: 'sent', at, email: 'd@co.example', mailbox: 'm@s.example' },
			{ id: 'r', type: 'sent', at, email: 'd@co.example', mailbox: 'm@s.example' },
			null,
			42,
			'sent',
			{ type: 'sent' },
			{ type: 'sent', at: 'yesterday', email: 'e@co.example' },
			{ type: 'sent', at: new Date(at), email: 'f@co.example' },
		];
		const c = dayCounts(events, { day: '2026-12-04' });
		expect(c.companies.get('co.example')).toBe(10);
		expect(c.mailboxes.get('m@s.example')).toBe(9);
		expect(c.contacts.get('d@co.example')).toBe(1);
		expect(c.contacts.has('c@co.example')).toBe(false);
		expect(c.contacts.get('f@co.example')).toBe(1);
	});
	it('spans a 23-hour DST day', () => {
		const events = [
			sent('m@s.example', 'a@co.example', Date.parse('2026-03-28T23:30:00Z')),
			sent('m@s.example', 'b@co.example', Date.parse('2026-03-29T22:30:00Z')),
		];
		// 29 March in Berlin runs from 28 Mar 23:00 UTC to 29 Mar 22:00 UTC
		expect(dayCounts(events, { day: '2026-03-29', timeZone: 'Europe/Berlin' }).companies.get('co.example')).toBe(1);
	});
	it('throws for a malformed day or zone', () => {
		expect(() => dayCounts([], { day: '2026-12-32' })).toThrow(/day/);
		expect(() => dayCounts([], { day: '2026-12-04', timeZone: 'Mars/Olympus' })).toThrow(/Mars\/Olympus/);
	});
});

const M = 'a@sender.example';
describe('senderStatus: the breaker', () => {
	it('trips at exactly 2 % hard bounces, not at 1 %', () => {
		const s = sends(M, 100);
		const at2 = senderStatus([...s, ...bouncesFor(s, 2)], { now: iso(NOW) });
		expect(at2.status.mailboxes[M].window).toMatchObject({ sends: 100, hardBounces: 2, hardBounceRate: 0.02 });
		expect(at2.status.mailboxes[M].paused).toBe(true);
		expect(at2.paused.map((p) => [p.mailbox, p.scope])).toEqual([
			[M, 'mailbox'],
			['sender.example', 'domain'],
		]);
		expect(at2.paused[0].reason).toBe('hard-bounce rate 2 % (2 of 100 sends since 2026-11-06) reached 2 %');
		expect(at2.paused[0]).toMatchObject({ type: 'paused', at: iso(NOW), figures: { sends: 100, hardBounces: 2 } });
		const at1 = senderStatus([...s, ...bouncesFor(s, 1)], { now: iso(NOW) });
		expect(at1.status.mailboxes[M].paused).toBe(false);
		expect(at1.paused).toEqual([]);
	});
	it('trips at 0.3 % complaints (3 of 1000), not at 2 of 1000; soft bounces do not count', () => {
		const s = sends(M, 1000, 'rcpt.example', NOW - 20 * DAY);
		const soft = s.slice(10, 40).map((x) => ({ ...hard(x.email as string, NOW - DAY), bounce: { hard: false } }));
		const three = senderStatus([...s, ...soft, ...s.slice(0, 3).map((x) => complaint(x.email as string, NOW - DAY))], { now: iso(NOW) });
		expect(three.status.mailboxes[M].window).toMatchObject({ sends: 1000, complaints: 3, hardBounces: 0 });
		expect(three.paused[0].reason).toMatch(/^complaint rate 0\.3 % \(3 of 1000 sends since .*\) reached 0\.3 %$/);
		const two = senderStatus([...s, ...s.slice(0, 2).map((x) => complaint(x.email as string, NOW - DAY))], { now: iso(NOW) });
		expect(two.paused).toEqual([]);
	});
	it('does not judge below minSends', () => {
		const s = sends(M, 99);
		const r = senderStatus([...s, ...bouncesFor(s, 20)], { now: iso(NOW) });
		expect(r.status.mailboxes[M].window.hardBounceRate).toBeGreaterThan(0.2);
		expect(r.paused).toEqual([]);
		expect(senderStatus([...s, ...bouncesFor(s, 20)], { now: iso(NOW), minSends: 50 }).paused).toHaveLength(2);
	});
	it('window by days drops old sends and bounces', () => {
		const old = sends(M, 100, 'old.example', NOW - 60 * DAY);
		const recent = sends(M, 100, 'new.example');
		const r = senderStatus([...old, ...bouncesFor(old, 10, NOW - 59 * DAY), ...recent, ...bouncesFor(recent, 1)], { now: iso(NOW) });
		expect(r.status.mailboxes[M].window).toMatchObject({ sends: 100, hardBounces: 1, since: iso(NOW - 28 * DAY) });
		expect(r.paused).toEqual([]);
		const wide = senderStatus([...old, ...bouncesFor(old, 10, NOW - 59 * DAY), ...recent, ...bouncesFor(recent, 1)], {
			now: iso(NOW),
			windowDays: 90,
		});
		expect(wide.status.mailboxes[M].window).toMatchObject({ sends: 200, hardBounces: 11 });
		expect(wide.paused).toHaveLength(2);
	});
	it('window by sends uses the last N sends', () => {
		const older = sends(M, 100, 'old.example', NOW - 20 * DAY);
		const newer = sends(M, 100, 'new.example', NOW - 5 * DAY);
		const events = [...older, ...bouncesFor(older, 5, NOW - 19 * DAY), ...newer];
		const last100 = senderStatus(events, { now: iso(NOW), windowSends: 100 });
		expect(last100.status.mailboxes[M].window).toMatchObject({ sends: 100, hardBounces: 0, since: newer[0].at });
		expect(last100.paused).toEqual([]);
		const last150 = senderStatus(events, { now: iso(NOW), windowSends: 150 });
		expect(last150.status.mailboxes[M].window).toMatchObject({ sends: 150, hardBounces: 5, since: older[50].at });
		expect(last150.paused).toHaveLength(2);
	});
	it('a resume starts a new window: the same old bounces do not pause again', () => {
		const s = sends(M, 100);
		const events = [...s, ...bouncesFor(s, 5)];
		const first = senderStatus(events, { now: iso(NOW) });
		expect(first.paused).toHaveLength(2);
		const later = NOW + 3_600_000;
		const stillPaused = senderStatus([...events, ...first.paused], { now: iso(later) });
		expect(stillPaused.paused).toEqual([]);
		expect(stillPaused.status.mailboxes[M]).toMatchObject({ paused: true, pausedAt: iso(NOW), reason: first.paused[0].reason });
		const resumes = [
			resumedEvent({ mailbox: M, at: iso(later), by: 'ops' }),
			resumedEvent({ mailbox: 'sender.example', scope: 'domain', at: iso(later) }),
		];
		const resumed = senderStatus([...events, ...first.paused, ...resumes], { now: iso(later + 1000) });
		expect(resumed.paused).toEqual([]);
		expect(resumed.status.mailboxes[M]).toMatchObject({ paused: false, window: { sends: 0, hardBounces: 0, since: iso(later) } });
		expect(resumed.status.domains['sender.example'].paused).toBe(false);
		// only the mailbox resumed: its domain stays paused
		const half = senderStatus([...events, ...first.paused, resumes[0]], { now: iso(later + 1000) });
		expect(half.status.mailboxes[M].paused).toBe(false);
		expect(half.status.domains['sender.example'].paused).toBe(true);
		expect(checkSendAllowed(half.status, { mailbox: M, email: 'q@z.example' })).toMatchObject({
			reason: 'paused',
			error: /sending domain sender\.example/,
		});
	});
	it('the paused event id is stable for the same window', () => {
		const s = sends(M, 100);
		const events = [...s, ...bouncesFor(s, 3)];
		const a = senderStatus(events, { now: iso(NOW), windowSends: 500 });
		const b = senderStatus([...events].reverse(), { now: iso(NOW + 60_000), windowSends: 500 });
		expect(a.paused.map((p) => p.id)).toEqual(b.paused.map((p) => p.id));
	});
	it('a domain aggregates its mailboxes', () => {
		const a = sends('a@sender.example', 60, 'r1.example');
		const b = sends('b@sender.example', 60, 'r2.example');
		const other = sends('c@other.example', 60, 'r3.example');
		const r = senderStatus([...a, ...b, ...other, ...bouncesFor(a, 1), ...bouncesFor(b, 2), ...bouncesFor(other, 3)], { now: iso(NOW) });
		expect(r.status.domains['sender.example']).toMatchObject({
			mailbox: 'sender.example',
			domain: 'sender.example',
			window: { sends: 120, hardBounces: 3 },
		});
		expect(r.status.mailboxes['a@sender.example'].window.sends).toBe(60);
		expect(r.paused.map((p) => `${p.scope}:${p.mailbox}`)).toEqual(['domain:sender.example']);
		expect(r.status.domains['other.example'].paused).toBe(false);
	});
	it('attributes bounces by own mailbox, messageId, token, then the latest send to the address', () => {
		const x = 'x@s.example';
		const y = 'y@s.example';
		const events: Ev[] = [
			sent(x, 'p@r.example', NOW - 5 * DAY, { messageId: '<id-1@s>', token: 't1', campaign: 'c1' }),
			sent(y, 'p@r.example', NOW - 4 * DAY, { messageId: '<id-2@s>', token: 't2', campaign: 'c2' }),
			sent(x, 'q@r.example', NOW - 3 * DAY),
			sent(y, 'q@r.example', NOW - 2 * DAY),
			hard('p@r.example', NOW - DAY, { messageId: 'id-1@s' }), // → x by message id
			hard('p@r.example', NOW - DAY, { token: 't2' }), // → y by token
			hard('p@r.example', NOW - DAY, { campaign: 'c1' }), // → x: latest send of campaign c1
			hard('q@r.example', NOW - 2.5 * DAY), // → x: latest send before the bounce
			hard('q@r.example', NOW - DAY), // → y: latest send
			hard('q@r.example', NOW - DAY, { mailbox: 'z@s.example' }), // own field
			hard('nobody@r.example', NOW - DAY), // no send: unattributed
			complaint('nobody@r.example', NOW - DAY),
		];
		const r = senderStatus(events, { now: iso(NOW) });
		expect(r.status.mailboxes[x].window.hardBounces).toBe(3);
		expect(r.status.mailboxes[y].window.hardBounces).toBe(2);
		expect(r.status.mailboxes['z@s.example'].window.hardBounces).toBe(1);
		expect(r.status.domains['s.example'].window.hardBounces).toBe(6);
		expect(r.status.unattributed).toEqual({ hardBounces: 1, complaints: 1 });
	});
	it('honours count on sends and bounces (aggregated rows)', () => {
		const r = senderStatus(
			[
				{ type: 'sent', at: iso(NOW - DAY), mailbox: M, count: 400 },
				{ type: 'bounced', at: iso(NOW - DAY), mailbox: M, bounce: { hard: true }, count: 8 },
			],
			{ now: new Date(NOW) },
		);
		expect(r.status.mailboxes[M].window).toMatchObject({ sends: 400, hardBounces: 8, hardBounceRate: 0.02 });
		expect(r.paused).toHaveLength(2);
	});
	it('a 0 % threshold switches that rate off', () => {
		const s = sends(M, 100);
		expect(senderStatus([...s, ...bouncesFor(s, 50)], { now: iso(NOW), hardBouncePausePercent: 0 }).paused).toEqual([]);
	});
	it('rejects malformed options', () => {
		expect(() => senderStatus([], { now: 'soon' })).toThrow(/now/);
		expect(() => senderStatus([], { now: iso(NOW), timeZone: 'Nowhere/Land' })).toThrow(/Nowhere\/Land/);
		expect(() => senderStatus([], { now: iso(NOW), windowSends: 1.5 })).toThrow(/windowSends/);
		expect(() => senderStatus([], { now: iso(NOW), minSends: -1 })).toThrow(/minSends/);
	});
});

describe('senderStatus: the day and the send checks', () => {
	const at = (h: string) => Date.parse(`2026-12-04T${h}Z`);
	const events: Ev[] = [
		...Array.from({ length: 19 }, (_, i) => sent(M, `p${i}@big.example`, at('08:00:00'))),
		sent('b@sender.example', 'once@small.example', at('09:00:00')),
		sent(M, 'yesterday@big.example', at('00:00:00') - 1),
	];
	const { status } = senderStatus(events, { now: iso(at('12:00:00')) });
	it('counts today per company, contact and mailbox', () => {
		expect(status.day).toBe('2026-12-04');
		expect(status.companies).toEqual({ 'big.example': 19, 'small.example': 1 });
		expect(status.contacts['once@small.example']).toBe(1);
		expect(status.mailboxes[M].sentToday).toBe(19);
		expect(status.domains['sender.example'].sentToday).toBe(20);
	});
	it('checks contact, company, paused and mailbox caps in that order', () => {
		expect(checkSendAllowed(status, { mailbox: M, email: 'ONCE@small.example', contactCap: 1, companyCap: 20 })).toMatchObject({
			reason: 'contact-cap',
		});
		expect(checkSendAllowed(status, { mailbox: M, email: 'new@big.example', contactCap: 1, companyCap: 19 })).toMatchObject({
			reason: 'company-cap',
			error: /big\.example.*19/,
		});
		expect(checkSendAllowed(status, { mailbox: M, email: 'new@big.example', companyCap: 20, mailboxCap: 19 })).toMatchObject({
			reason: 'mailbox-cap',
		});
		expect(checkSendAllowed(status, { mailbox: M, email: 'new@big.example', companyCap: 20, mailboxCap: 20, contactCap: 1 })).toBeNull();
		expect(checkSendAllowed(status, { mailbox: M, email: 'new@big.example', companyCap: 0, mailboxCap: 0, contactCap: 0 })).toBeNull();
		expect(checkSendAllowed(status, { mailbox: 'new@fresh.example', email: 'n@x.example', companyCap: 1, mailboxCap: 1 })).toBeNull();
	});
	it('a day tally adds this run on top of the store, and release gives back', () => {
		const tally = createDayTally(status);
		const q = { mailbox: 'b@sender.example', email: 'n1@big.example', companyCap: 20, contactCap: 1, mailboxCap: 3 };
		expect(tally.allow(q)).toBeNull();
		tally.take(q);
		expect(tally.allow({ ...q, email: 'n2@big.example' })).toMatchObject({ reason: 'company-cap' });
		expect(tally.allow(q)).toMatchObject({ reason: 'contact-cap' });
		tally.release(q);
		expect(tally.allow({ ...q, email: 'n2@big.example' })).toBeNull();
		tally.take({ ...q, email: 'a@one.example' });
		tally.take({ ...q, email: 'b@two.example' }); // the store's 1 + this run's 2 = the cap of 3
		expect(tally.allow({ ...q, email: 'c@three.example' })).toMatchObject({ reason: 'mailbox-cap', error: /3/ });
		// a fresh tally over the same status knows nothing of the first one's run
		expect(createDayTally(status).allow({ ...q, email: 'c@three.example' })).toBeNull();
	});
	it('reads a From written with a name as its address', () => {
		const r = senderStatus([sent('Sales <A@Sender.example>', 'x@co.example', at('08:00:00'))], { now: iso(at('12:00:00')) });
		expect(Object.keys(r.status.mailboxes)).toEqual(['a@sender.example']);
		expect(checkSendAllowed(r.status, { mailbox: 'Sales <a@sender.EXAMPLE>', mailboxCap: 1 })).toMatchObject({ reason: 'mailbox-cap' });
	});
	it('takes __proto__-like keys as plain keys', () => {
		const r = senderStatus([sent('__proto__', '__proto__@constructor', at('08:00:00'))], { now: iso(at('12:00:00')) });
		expect(Object.keys(r.status.mailboxes)).toEqual(['__proto__']);
		expect(r.status.contacts['__proto__@constructor']).toBe(1);
		expect(checkSendAllowed(r.status, { mailbox: 'toString', email: 'constructor@x', companyCap: 1, contactCap: 1, mailboxCap: 1 })).toBeNull();
	});
});

describe('senderStatus: properties', () => {
	it('never throws on arrays of junk', () => {
		fc.assert(
			fc.property(fc.array(fc.anything()), (junk) => {
				senderStatus(junk, { now: iso(NOW) });
			}),
			{ numRuns: 200 },
		);
	});
	const arbEvent = fc.record({
		id: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }),
		type: fc.constantFrom('sent', 'failed', 'bounced', 'complained', 'opened', 'paused', 'resumed', 'SENT'),
		reason: fc.constantFrom('unconfirmed', 'smtp', undefined),
		at: fc.integer({ min: NOW - 40 * DAY, max: NOW + DAY }).map(iso),
		email: fc.constantFrom('a@x.example', 'B@x.example', 'c@y.example', '', 'nope'),
		mailbox: fc.constantFrom('m1@s.example', 'm2@s.example', 'm3@t.example', '', undefined),
		count: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
		bounce: fc.constantFrom({ hard: true }, { hard: false }, undefined),
		scope: fc.constantFrom('mailbox', 'domain', undefined),
	});
	it('counts never exceed the messages of the events', () => {
		fc.assert(
			fc.property(fc.array(arbEvent, { maxLength: 60 }), fc.integer({ min: 0, max: 10 }), (events, minSends) => {
				const { status, paused } = senderStatus(events, { now: iso(NOW), minSends });
				const messages = events
					.filter((e) => ['sent', 'failed'].includes(e.type.toLowerCase()) && (e.type.toLowerCase() === 'sent' || e.reason === 'unconfirmed'))
					.reduce((n, e) => n + (e.count ?? 1), 0);
				const sentTotal = events.filter((e) => e.type.toLowerCase() === 'sent').reduce((n, e) => n + (e.count ?? 1), 0);
				const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
				expect(total(status.contacts)).toBeLessThanOrEqual(messages);
				expect(total(status.companies)).toBeLessThanOrEqual(messages);
				const mailboxToday = Object.values(status.mailboxes).reduce((n, m) => n + m.sentToday, 0);
				expect(mailboxToday).toBeLessThanOrEqual(messages);
				expect(Object.values(status.domains).reduce((n, m) => n + m.sentToday, 0)).toBe(mailboxToday);
				for (const m of Object.values(status.mailboxes)) expect(m.window.sends).toBeLessThanOrEqual(sentTotal);
				for (const p of paused) expect(status[p.scope === 'domain' ? 'domains' : 'mailboxes'][p.mailbox as string].paused).toBe(true);
				// recording the paused events never produces more
				expect(senderStatus([...events, ...paused], { now: iso(NOW), minSends }).paused).toEqual([]);
			}),
			{ numRuns: 150 },
		);
	});
});

// keeps the SenderStatus type in the public surface
export type { SenderStatus };
