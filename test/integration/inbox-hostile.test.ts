/**
 * Hostile messages in a real Dovecot mailbox next to normal ones, read by the trigger's poll and the Inbox node's
 * range read with the classifier in a worker thread: the normal ones are emitted, a message the classifier cannot
 * finish is emitted as `other` with the time-limit problem, the poll moves past it, a second poll reads nothing
 * twice, and this thread keeps answering timers throughout. The stuck classifier is test/helpers/hangingClassifier.ts
 * (the package's classifier, except for messages marked `X-Test-Classifier: hang`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	classifyMailboxRange,
	createClassifierPool,
	runInboxPoll,
	withInboxClient,
	type ImapConnectionOptions,
	type InboxPollOptions,
} from '../../transport/inbox';
import { INBOX_MESSAGE_KINDS, type InboxPollState } from '../../core/inbox';
import { createTracker } from '../../core/tracker';
import { DEFAULT_TRIGGER_KINDS } from '../../nodes/shared/inbox/attribution';
import { dovecotVersion, startDovecot, type DovecotServer, connectAppender } from '../helpers/dovecot';

const HANGING = join(__dirname, '..', 'helpers', 'hangingClassifier.ts');
const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'bounces');
const LIMIT_MS = 1000;
const TRACKER_OPTIONS = { secrets: ['hostile-test-secret-0123456789'], baseUrl: 'https://track.sender.example/webhook/t' };
const tracker = createTracker(TRACKER_OPTIONS);
const hasDovecot = dovecotVersion() !== null;

function reply(n: number, extraHeader?: string): string {
	const token = tracker.token({
		email: `buyer${n}@contact.example`,
		campaign: 'autumn',
		batchTag: 'Dealers05',
		variant: 'B',
		sentAt: 1_790_000_000_000,
	});
	return [
		`From: Buyer ${n} <buyer${n}@contact.example>`,
		'To: Sales <sales@sender.example>',
		`Subject: Re: offer ${n}`,
		`Message-ID: <hostile-test-${n}@contact.example>`,
		`In-Reply-To: <${token}@sender.example>`,
		...(extraHeader ? [extraHeader] : []),
		'Date: Sat, 21 Nov 2026 09:00:00 +0000',
		'Content-Type: text/plain; charset=utf-8',
		'',
		`Please send the price list. (${n})`,
		'',
	].join('\r\n');
}

/** The issue's 115-byte message (exponential backtracking in a boundary guess). */
const ISSUE_MESSAGE = 'From: a@b.com\r\nContent-Type: multipart/mixed\r\n\r\n' + '\r\n'.repeat(34) + 'x';

/** 2,000 message/rfc822 parts, each inside the last (the depth limit must hold across embedded messages). */
function deepRfc822(levels: number): string {
	let inner = 'From: deep@example.org\r\nSubject: bottom\r\n\r\nbottom\r\n';
	for (let i = 0; i < levels; i++) inner = `From: level${i}@example.org\r\nContent-Type: message/rfc822\r\n\r\n${inner}`;
	return `Message-ID: <deep-rfc822@example.org>\r\n${inner}`;
}

/** 2,000 nested multiparts. */
function deepMultipart(levels: number): string {
	let body = 'Content-Type: text/plain\r\n\r\nbottom\r\n';
	for (let i = levels - 1; i >= 0; i--) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}\r\n--b${i}--\r\n`;
	return `From: nest@example.org\r\nMessage-ID: <deep-multipart@example.org>\r\n${body}`;
}

/** Longest gap between 10 ms timer ticks of this thread while `work` runs: what the n8n editor would wait. */
async function withTimerLag<T>(work: () => Promise<T>): Promise<{ value: T; maxLagMs: number }> {
	let last = performance.now();
	let maxLagMs = 0;
	const timer = setInterval(() => {
		const now = performance.now();
		maxLagMs = Math.max(maxLagMs, now - last - 10);
		last = now;
	}, 10);
	try {
		return { value: await work(), maxLagMs };
	} finally {
		clearInterval(timer);
	}
}

describe.skipIf(!hasDovecot)('hostile messages in a real mailbox', () => {
	let server: DovecotServer;
	let conn: ImapConnectionOptions;
	let appender: ImapFlow;

	async function append(raw: string | Buffer, mailbox = 'INBOX'): Promise<number> {
		const r = await appender.append(mailbox, raw);
		if (!r || !r.uid) throw new Error('append failed');
		return r.uid;
	}

	function options(over: Partial<InboxPollOptions> = {}): InboxPollOptions {
		return {
			classifier: { module: HANGING, tracker: TRACKER_OPTIONS, options: { ownAddresses: ['sales@sender.example'] } },
			classifyTimeLimitMs: LIMIT_MS,
			kinds: DEFAULT_TRIGGER_KINDS,
			mailboxes: ['INBOX'],
			maxMessages: 50,
			rescanDays: 7,
			...over,
		};
	}

	async function poll(state: unknown, over: Partial<InboxPollOptions> = {}) {
		const r = await withInboxClient(conn, (client) => runInboxPoll(client, state, options(over)));
		return { ...r, state: JSON.parse(JSON.stringify(r.state)) as InboxPollState };
	}

	beforeAll(async () => {
		server = await startDovecot({ users: { sales: 'sales-pw' } });
		conn = { host: server.host, port: server.port, tls: 'none', user: 'sales', password: 'sales-pw' };
		appender = await connectAppender(server, 'sales', 'sales-pw');
	});
	afterAll(async () => {
		await appender?.logout().catch(() => undefined);
		await server?.stop();
	});

	it('the trigger poll emits the normal messages, records the stuck one as other, moves past all, reads nothing twice', async () => {
		const first = await poll(undefined);
		expect(first.mailboxes[0].cursor).toBe('started');

		const uid = {
			reply1: await append(reply(1)),
			issue: await append(ISSUE_MESSAGE),
			reply2: await append(reply(2)),
			deepRfc822: await append(deepRfc822(2000)),
			stuck: await append(reply(3, 'X-Test-Classifier: hang')),
			deepMultipart: await append(deepMultipart(2000)),
			bounce: await append(readFileSync(join(CORPUS, 'lhost-postfix-13.eml'))),
			reply4: await append(reply(4)),
		};
		const hostile = new Set([uid.issue, uid.deepRfc822, uid.stuck, uid.deepMultipart]);

		const t = performance.now();
		const { value: second, maxLagMs } = await withTimerLag(() => poll(first.state));
		const took = performance.now() - t;

		// Normal mail: all of it, attributed.
		const byUid = (u: number) => second.events.filter((e) => e.uid === u);
		for (const [n, u] of [
			[1, uid.reply1],
			[2, uid.reply2],
			[4, uid.reply4],
		]) {
			expect(byUid(u)).toEqual([
				expect.objectContaining({ type: 'replied', email: `buyer${n}@contact.example`, campaign: 'autumn', batchTag: 'Dealers05' }),
			]);
		}
		expect(byUid(uid.bounce).map((e) => e.type)).toEqual(['bounced', 'bounced']);
		// The stuck message: emitted although Other is not among the kinds asked for, with where it is and why.
		expect(byUid(uid.stuck)).toEqual([
			expect.objectContaining({
				type: 'other',
				kind: 'other',
				mailbox: 'INBOX',
				uid: uid.stuck,
				messageId: '<hostile-test-3@contact.example>',
				problem: `classification time limit hit: gave up after ${LIMIT_MS} ms`,
			}),
		]);
		// The other hostile messages: whatever the classifier makes of them, nothing but `other`, with a problem if emitted.
		for (const e of second.events.filter((e) => hostile.has(e.uid as number))) {
			expect(e).toMatchObject({ kind: 'other', problem: expect.any(String) });
		}
		expect(second.mailboxes[0]).toMatchObject({ processed: 8, more: false });
		expect(second.mailboxes[0].error).toBeUndefined();
		expect(second.mailboxes[0].warnings).toContain(
			`UID ${uid.stuck} <hostile-test-3@contact.example>: classification time limit hit: gave up after ${LIMIT_MS} ms`,
		);
		expect(second.state.mailboxes.INBOX.lastUid).toBe(uid.reply4);
		// Generous ceilings: one time limit, a few worker starts, eight small messages.
		expect(took).toBeLessThan(LIMIT_MS * 4 + 15_000);
		expect(maxLagMs).toBeLessThan(1000);

		const third = await poll(second.state, { kinds: INBOX_MESSAGE_KINDS });
		expect(third.events).toEqual([]);
		expect(third.mailboxes[0].processed).toBe(0);

		// A message arriving later is read once, on its own.
		const late = await append(reply(5));
		const fourth = await poll(third.state);
		expect(fourth.events.map((e) => e.uid)).toEqual([late]);
		expect(fourth.state.mailboxes.INBOX.lastUid).toBe(late);
	});

	it('the Inbox node range read returns the stuck message as other and every other message', async () => {
		await appender.mailboxCreate('Range');
		const uids = [await append(reply(6), 'Range'), await append(reply(7, 'X-Test-Classifier: hang'), 'Range'), await append(reply(8), 'Range')];
		const pool = createClassifierPool({ module: HANGING, tracker: TRACKER_OPTIONS }, { timeLimitMs: LIMIT_MS });
		try {
			const r = await withInboxClient(conn, (client) =>
				classifyMailboxRange(client, { mailbox: 'Range', limit: 10, kinds: ['reply'], classifier: pool }),
			);
			expect(r.events.map((e) => [e.uid, e.kind])).toEqual([
				[uids[0], 'reply'],
				[uids[1], 'other'],
				[uids[2], 'reply'],
			]);
			expect(r.events[1].problem).toMatch(/time limit/);
			expect(r.warnings).toHaveLength(1);
			expect(r.read).toBe(3);
		} finally {
			await pool.close();
		}
	});
});
