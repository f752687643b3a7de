/**
 * The classification time limit (transport/inbox/budget.ts): the classifier runs in a worker thread, a message
 * it cannot finish (or that makes it throw or exit) becomes `other` with the problem, a fresh worker takes the
 * rest, and a poll moves past the message without losing or repeating anything. The misbehaving classifier is
 * test/helpers/hangingClassifier.ts, loaded through the spec's test-only `module`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../core/classify';
import {
	classifyTimeLimit,
	createClassifierPool,
	DEFAULT_CLASSIFY_TIME_LIMIT_MS,
	IMAP_MAX_LINE_BYTES,
	MAX_CLASSIFY_TIME_LIMIT_MS,
	runInboxPoll,
	scanMessageId,
	type ClassifierSpec,
	type InboxPollOptions,
	withInboxClient,
} from '../../transport/inbox';
import { INBOX_MESSAGE_KINDS } from '../../core/inbox';
import { createTracker } from '../../core/tracker';
import { setupAttribution } from '../../nodes/shared/inbox/attribution';
import { trackingFromCredentials } from '../../nodes/shared/inbox/credentials';

const HANGING = join(__dirname, '..', 'helpers', 'hangingClassifier.ts');
const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'bounces');
const LIMIT_MS = 400;
const TRACKER_OPTIONS = { secrets: ['budget-test-secret-0123456789'], baseUrl: 'https://track.sender.example/webhook/t' };
const tracker = createTracker(TRACKER_OPTIONS);

function message(n: number, misbehave?: string): Buffer {
	const token = tracker.token({
		email: `buyer${n}@contact.example`,
		campaign: 'autumn',
		batchTag: 'Dealers05',
		variant: 'A',
		sentAt: 1_790_000_000_000,
	});
	return Buffer.from(
		[
			`From: Buyer ${n} <buyer${n}@contact.example>`,
			'To: Sales <sales@sender.example>',
			`Subject: Re: offer ${n}`,
			`Message-ID: <msg-${n}@contact.example>`,
			`In-Reply-To: <${token}@sender.example>`,
			...(misbehave ? [`X-Test-Classifier: ${misbehave}`] : []),
			'Date: Sat, 21 Nov 2026 09:00:00 +0000',
			'Content-Type: text/plain; charset=utf-8',
			'',
			`Thanks, please send the price list. (${n})`,
			'',
		].join('\r\n'),
	);
}

/** The issue's 115-byte message: exponential in a backtracking boundary guess. */
const ISSUE_MESSAGE = 'From: a@b.com\r\nContent-Type: multipart/mixed\r\n\r\n' + '\r\n'.repeat(34) + 'x';

/** Just enough of an IMAP client for runInboxPoll: one mailbox, UID search and fetch over fixed messages. */
function fakeMailbox(messages: Buffer[], path = 'INBOX') {
	const uids = messages.map((_, i) => i + 1);
	const fetched: number[] = [];
	const inRange = (set: string, uid: number) =>
		set.split(',').some((part) => {
			const [a, b] = part.split(':');
			const lo = Number(a);
			const hi = b === undefined ? lo : b === '*' ? Infinity : Number(b);
			return uid >= lo && uid <= hi;
		});
	const client = {
		usable: true,
		capabilities: new Map(),
		mailbox: undefined as undefined | { path: string; uidValidity: bigint; uidNext: number },
		async getMailboxLock(mailbox: string) {
			client.mailbox = { path: mailbox, uidValidity: 7n, uidNext: uids.length + 1 };
			return { release() {} };
		},
		async search(q: { uid?: string }) {
			return uids.filter((u) => (q.uid ? inRange(q.uid, u) : true));
		},
		async *fetch(set: string, query: { source: { maxLength: number } }) {
			for (const uid of uids) {
				if (!inRange(set, uid)) continue;
				fetched.push(uid);
				yield { uid, internalDate: new Date('2026-11-21T09:00:00Z'), source: messages[uid - 1].subarray(0, query.source.maxLength) };
			}
		},
	};
	return { client: client as unknown as ImapFlow, fetched, path };
}

function pollOptions(spec: ClassifierSpec, over: Partial<InboxPollOptions> = {}): InboxPollOptions {
	return {
		classifier: spec,
		classifyTimeLimitMs: LIMIT_MS,
		kinds: ['reply'],
		mailboxes: ['INBOX'],
		maxMessages: 50,
		rescanDays: 7,
		startFrom: new Date('2026-01-01T00:00:00Z'),
		...over,
	};
}

/** Worker threads still running in this process (vitest's own pool runs in child processes, not threads here). */
function runningWorkers(): number {
	return process.getActiveResourcesInfo().filter((r) => r === 'Worker' || r === 'MessagePort').length;
}

describe('classification pool', () => {
	it('gives the same classification as the in-process classifier, tokens verified from plain tracker options', async () => {
		const corpus = ['lhost-postfix-31.eml', 'arf-01.eml', 'lhost-postfix-13.eml'].map((f) => readFileSync(join(CORPUS, f)));
		const spec: ClassifierSpec = { options: { ownAddresses: ['sales@sender.example'] }, tracker: TRACKER_OPTIONS };
		expect(() => structuredClone(spec)).not.toThrow();
		const pool = createClassifierPool(spec, { timeLimitMs: 5000 });
		try {
			for (const raw of [...corpus, message(1)]) {
				const r = await pool.classify(raw);
				expect(r.failed).toBeUndefined();
				expect(r.classification).toEqual(
					JSON.parse(JSON.stringify(classifyMessage(raw, { ownAddresses: ['sales@sender.example'], verifyToken: tracker.verifyToken }))),
				);
			}
			expect((await pool.classify(message(2))).classification).toMatchObject({
				kind: 'reply',
				tokenData: { email: 'buyer2@contact.example', campaign: 'autumn' },
			});
		} finally {
			await pool.close();
		}
	});

	it('gives up on a message past the time limit, then classifies the next one in a fresh worker', async () => {
		const pool = createClassifierPool({ module: HANGING }, { timeLimitMs: LIMIT_MS });
		try {
			await pool.start();
			const t = performance.now();
			const hung = await pool.classify(message(2, 'hang'));
			const took = performance.now() - t;
			expect(hung).toEqual({
				failed: true,
				classification: {
					kind: 'other',
					bounces: [],
					problem: `classification time limit hit: gave up after ${LIMIT_MS} ms`,
					messageId: '<msg-2@contact.example>',
				},
			});
			expect(took).toBeGreaterThanOrEqual(LIMIT_MS - 5);
			expect(took).toBeLessThan(LIMIT_MS + 2000);
			expect((await pool.classify(message(3))).classification.kind).toBe('reply');
		} finally {
			await pool.close();
		}
	});

	it('a classifier that throws or ends its thread costs only that message', async () => {
		const pool = createClassifierPool({ module: HANGING }, { timeLimitMs: 5000 });
		try {
			expect(await pool.classify(message(1, 'throw'))).toMatchObject({
				failed: true,
				classification: { kind: 'other', problem: 'classifier failed: test classifier exploded', messageId: '<msg-1@contact.example>' },
			});
			expect(await pool.classify(message(2, 'exit'))).toMatchObject({
				failed: true,
				classification: { kind: 'other', problem: 'classifier failed: the worker stopped (exit code 3)' },
			});
			expect((await pool.classify(message(3))).classification.kind).toBe('reply');
		} finally {
			await pool.close();
		}
	});

	it('the 115-byte message of the issue is answered within the time limit, whatever the classifier does with it', async () => {
		const pool = createClassifierPool({}, { timeLimitMs: 1000 });
		try {
			await pool.start();
			const t = performance.now();
			const r = await pool.classify(Buffer.from(ISSUE_MESSAGE));
			expect(performance.now() - t).toBeLessThan(1000 + 2000);
			expect(r.classification.kind).toBe('other');
			expect((await pool.classify(message(4))).classification.kind).toBe('reply');
		} finally {
			await pool.close();
		}
	});

	it('a classifier that cannot be loaded fails the start, not a message', async () => {
		const pool = createClassifierPool({ module: join(__dirname, 'no-such-classifier.ts') });
		await expect(pool.start()).rejects.toThrow(/could not start the classifier/);
		await expect(pool.classify(message(1))).rejects.toThrow(/could not start the classifier/);
		await pool.close();
		await expect(pool.classify(message(1))).rejects.toThrow(/closed/);
	});

	it('close ends the worker, also while a message is stuck', async () => {
		const before = runningWorkers();
		const pool = createClassifierPool({ module: HANGING }, { timeLimitMs: 60_000 });
		await pool.start();
		expect(runningWorkers()).toBeGreaterThan(before);
		const stuck = pool.classify(message(1, 'hang'));
		await new Promise((r) => setTimeout(r, 50));
		await pool.close();
		expect((await stuck).classification.problem).toMatch(/worker stopped/);
		await new Promise((r) => setTimeout(r, 20));
		expect(runningWorkers()).toBe(before);
	});
});

describe('a poll with a message the classifier cannot finish', () => {
	it('message 2 of 4 hangs: 1, 3 and 4 are classified, 2 is other with the problem, the cursor passes 4', async () => {
		const box = fakeMailbox([message(1), message(2, 'hang'), message(3), message(4)]);
		const t = performance.now();
		const before = runningWorkers();
		const r = await runInboxPoll(box.client, undefined, pollOptions({ module: HANGING, tracker: TRACKER_OPTIONS }));
		const took = performance.now() - t;
		expect(runningWorkers()).toBe(before);
		// Kinds asked for: reply only. The unclassifiable message is emitted anyway: nobody can tell what it was.
		expect(r.events.map((e) => [e.uid, e.kind])).toEqual([
			[1, 'reply'],
			[2, 'other'],
			[3, 'reply'],
			[4, 'reply'],
		]);
		expect(r.events[1]).toMatchObject({
			type: 'other',
			mailbox: 'INBOX',
			uid: 2,
			messageId: '<msg-2@contact.example>',
			problem: `classification time limit hit: gave up after ${LIMIT_MS} ms`,
		});
		expect(r.events[2]).toMatchObject({ email: 'buyer3@contact.example', campaign: 'autumn', batchTag: 'Dealers05' });
		expect(r.mailboxes[0]).toMatchObject({ processed: 4, emitted: 4, unclassified: 1, more: false });
		expect(r.mailboxes[0].warnings).toEqual([`UID 2 <msg-2@contact.example>: classification time limit hit: gave up after ${LIMIT_MS} ms`]);
		expect(r.state.mailboxes.INBOX.lastUid).toBe(4);
		expect(box.fetched).toEqual([1, 2, 3, 4]);
		// Two worker starts (before 1, after 2) and one time limit, with a wide margin for a loaded machine.
		expect(took).toBeLessThan(LIMIT_MS + 10_000);

		const again = await runInboxPoll(box.client, JSON.parse(JSON.stringify(r.state)), pollOptions({ module: HANGING }));
		expect(again.events).toEqual([]);
		expect(box.fetched).toEqual([1, 2, 3, 4]);
	});

	it('past its time budget a poll takes no further message: the rest waits, nothing is skipped or repeated', async () => {
		const box = fakeMailbox([message(1), message(2, 'hang'), message(3)]);
		// A budget of 1 ms: each poll handles the one message it always may, then leaves the rest.
		const over = { timeBudgetMs: 1, kinds: INBOX_MESSAGE_KINDS };
		let state: unknown = undefined;
		const seen: Array<[unknown, string]> = [];
		for (let i = 0; i < 3; i++) {
			const r = await runInboxPoll(box.client, state, pollOptions({ module: HANGING }, over));
			seen.push(...r.events.map((e) => [e.uid, e.kind] as [unknown, string]));
			expect(r.mailboxes[0].processed).toBe(1);
			expect(r.mailboxes[0].more).toBe(i < 2);
			state = JSON.parse(JSON.stringify(r.state));
		}
		expect(seen).toEqual([
			[1, 'reply'],
			[2, 'other'],
			[3, 'reply'],
		]);
		expect((state as { mailboxes: { INBOX: { lastUid: number } } }).mailboxes.INBOX.lastUid).toBe(3);
		const idle = await runInboxPoll(box.client, state, pollOptions({ module: HANGING }, over));
		expect(idle.events).toEqual([]);
		expect(idle.mailboxes[0].more).toBe(false);
	});

	it('a classifier that throws in the worker: that message is other with the error, the rest is read', async () => {
		const box = fakeMailbox([message(1, 'throw'), message(2)]);
		const r = await runInboxPoll(box.client, undefined, pollOptions({ module: HANGING }, { kinds: INBOX_MESSAGE_KINDS }));
		expect(r.events.map((e) => [e.uid, e.kind, e.problem])).toEqual([
			[1, 'other', 'classifier failed: test classifier exploded'],
			[2, 'reply', undefined],
		]);
		expect(r.state.mailboxes.INBOX.lastUid).toBe(2);
	});

	it('no worker can start: the mailbox reports the error and its position does not move', async () => {
		const box = fakeMailbox([message(1), message(2)]);
		const previous = { version: 1, mailboxes: { INBOX: { uidValidity: '7', lastUid: 0 } }, emitted: [], senders: [] };
		const r = await runInboxPoll(box.client, previous, pollOptions({ module: join(__dirname, 'no-such-classifier.ts') }));
		expect(r.events).toEqual([]);
		expect(r.mailboxes[0].error).toMatch(/could not start the classifier/);
		expect(r.state.mailboxes.INBOX.lastUid).toBe(0);
		expect(box.fetched).toEqual([]);
	});

	it('an in-process classifier that throws is reported the same way', async () => {
		const box = fakeMailbox([message(1), message(2)]);
		const r = await runInboxPoll(box.client, undefined, {
			...pollOptions({}),
			classifier: undefined,
			classify: (raw) => {
				if (raw.includes('msg-1@')) throw new Error('boom');
				return classifyMessage(raw);
			},
		});
		expect(r.events.map((e) => [e.uid, e.kind, e.problem])).toEqual([
			[1, 'other', 'classifier failed: boom'],
			[2, 'reply', undefined],
		]);
		expect(r.mailboxes[0].unclassified).toBe(1);
	});
});

describe('limits and helpers', () => {
	it('time limits: default, whole milliseconds, bounded', () => {
		expect(classifyTimeLimit(undefined)).toBe(DEFAULT_CLASSIFY_TIME_LIMIT_MS);
		expect(classifyTimeLimit('')).toBe(DEFAULT_CLASSIFY_TIME_LIMIT_MS);
		expect(classifyTimeLimit(-5)).toBe(DEFAULT_CLASSIFY_TIME_LIMIT_MS);
		expect(classifyTimeLimit(Number.NaN)).toBe(DEFAULT_CLASSIFY_TIME_LIMIT_MS);
		expect(classifyTimeLimit(0.2)).toBe(1);
		expect(classifyTimeLimit(1500.4)).toBe(1500);
		expect(classifyTimeLimit(1e12)).toBe(MAX_CLASSIFY_TIME_LIMIT_MS);
	});

	it('finds the Message-ID of the header section only, folded or not, in linear time', () => {
		expect(scanMessageId(Buffer.from('From: a@b\r\nmessage-ID:  <x@y>\r\n\r\nbody'))).toBe('<x@y>');
		expect(scanMessageId(Buffer.from('Message-Id:\r\n <folded@y>\r\nSubject: s\r\n\r\n'))).toBe('<folded@y>');
		expect(scanMessageId(Buffer.from('From: a@b\r\n\r\nMessage-ID: <in-body@y>\r\n'))).toBeUndefined();
		expect(scanMessageId(Buffer.from('Message-ID: <a\u0000b@y>\r\n\r\n'))).toBeUndefined();
		expect(scanMessageId(Buffer.alloc(0))).toBeUndefined();
		const t = performance.now();
		// 300,000 folded continuation lines: the value stops growing at the line limit.
		expect(scanMessageId(Buffer.from('Message-ID: <' + '\r\n x'.repeat(300_000)))).toBe('<' + ' x'.repeat(498));
		expect(scanMessageId(Buffer.from('X: y\r\n'.repeat(500_000)))).toBeUndefined();
		expect(performance.now() - t).toBeLessThan(3000);
	});

	it('the node options become a structured-cloneable spec with the tracker options and the time limit', () => {
		const tracking = trackingFromCredentials({
			secrets: 'first-secret-0123456789\nolder-secret-0123456789',
			baseUrl: 'https://t.example/w',
			maxAgeDays: 30,
		});
		const setup = setupAttribution(
			{ ownAddresses: 'sales@sender.example', classifyTimeLimit: 0.5, maxMessageKb: 64 },
			'box@sender.example',
			tracking,
		);
		expect(structuredClone(setup.classifier)).toEqual(setup.classifier);
		expect(setup.classifier).toEqual({
			options: {
				ownAddresses: ['sales@sender.example', 'box@sender.example'],
				maxBytes: 65536,
				substituteChannels: undefined,
				dynamicTags: undefined,
			},
			tracker: { secrets: ['first-secret-0123456789', 'older-secret-0123456789'], baseUrl: 'https://t.example/w', maxAgeDays: 30 },
		});
		expect(setup.classifyTimeLimitMs).toBe(500);
		expect(setupAttribution({}, '', null).classifyTimeLimitMs).toBe(DEFAULT_CLASSIFY_TIME_LIMIT_MS);
		expect(() => setupAttribution({ classifyTimeLimit: -1 }, '', null)).toThrow(/Classification Time Limit/);
	});
});

describe('IMAP connection bounds', () => {
	it('a server that sends an endless line is cut off at the line limit, not after a gigabyte', async () => {
		let sent = 0;
		const sockets = new Set<Socket>();
		const CAP = IMAP_MAX_LINE_BYTES * 3;
		const server = createServer((socket) => {
			sockets.add(socket);
			socket.on('error', () => undefined);
			const chunk = Buffer.alloc(256 * 1024, 'a');
			socket.write('* OK ');
			const pump = () => {
				while (!socket.destroyed && sent < CAP) {
					sent += chunk.length;
					if (!socket.write(chunk)) return void socket.once('drain', pump);
				}
			};
			pump();
		});
		await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
		try {
			const port = (server.address() as AddressInfo).port;
			const t = performance.now();
			await expect(
				withInboxClient({ host: '127.0.0.1', port, tls: 'none', user: 'u', password: 'p', connectTimeoutMs: 20_000 }, async () => undefined),
			).rejects.toThrow(/IMAP connection to 127\.0\.0\.1:\d+ failed/);
			expect(performance.now() - t).toBeLessThan(15_000);
			await new Promise((r) => setTimeout(r, 100));
			expect(sent).toBeLessThan(CAP);
		} finally {
			for (const s of sockets) s.destroy();
			await new Promise((r) => server.close(() => r(undefined)));
		}
	});
});
