/**
 * The IMAP engine against a real Dovecot on loopback (no IMAP mocks): incremental UID reads, batch bounds, a
 * connection dropped mid-fetch, UIDVALIDITY changes, flags and moves, date-range reads, and the credential test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMessage } from '../../core/classify';
import {
	classifyMailboxRange,
	runInboxPoll,
	testInboxConnection,
	withInboxClient,
	type ImapConnectionOptions,
	type InboxPollOptions,
} from '../../transport/inbox';
import { INBOX_MESSAGE_KINDS, type InboxEvent, type InboxPollState } from '../../core/inbox';
import { createTracker } from '../../core/tracker';
import { dovecotVersion, startDovecot, startDropProxy, type DovecotServer, type DropProxy, connectAppender } from '../helpers/dovecot';

const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'bounces');
const corpus = (name: string) => readFileSync(join(CORPUS, name));

const tracker = createTracker({ secrets: ['inbox-test-secret'], baseUrl: 'https://track.sender.example/webhook/t' });
const SENT_AT = Date.parse('2026-11-20T10:00:00Z');

/** A contact's reply to our tracked message (its Message-ID carries the token). */
function replyTo(email: string, n: number, extraBody = ''): { raw: string; token: string } {
	const token = tracker.token({ email, campaign: 'autumn', batchTag: 'English-Dealers-Marketing05', variant: 'B', sentAt: SENT_AT });
	const raw = [
		`From: Contact ${n} <${email}>`,
		'To: Sales <sales@sender.example>',
		`Subject: Re: our offer ${n}`,
		`Message-ID: <reply-${n}-${Date.now()}@contact.example>`,
		`In-Reply-To: <${token}@sender.example>`,
		`References: <${token}@sender.example>`,
		'Date: Sat, 21 Nov 2026 09:00:00 +0000',
		'MIME-Version: 1.0',
		'Content-Type: text/plain; charset=utf-8',
		'',
		`Thanks, please send the price list. (${n})`,
		extraBody,
		'',
	].join('\r\n');
	return { raw, token };
}

let server: DovecotServer;
let conn: ImapConnectionOptions;
let appender: ImapFlow;

const hasDovecot = dovecotVersion() !== null;

async function append(raw: Buffer | string, mailbox = 'INBOX', date?: Date): Promise<number> {
	const r = await appender.append(mailbox, raw, [], date);
	if (!r || !r.uid) throw new Error('append failed');
	return r.uid;
}

function pollOptions(over: Partial<InboxPollOptions> = {}): InboxPollOptions {
	return {
		classify: (raw) => classifyMessage(raw, { verifyToken: tracker.verifyToken }),
		kinds: INBOX_MESSAGE_KINDS,
		mailboxes: ['INBOX'],
		maxMessages: 50,
		rescanDays: 7,
		...over,
	};
}

async function poll(state: unknown, over: Partial<InboxPollOptions> = {}, via: ImapConnectionOptions = conn) {
	const r = await withInboxClient(via, (client) => runInboxPoll(client, state, pollOptions(over)));
	// What n8n does with static data between polls: save it as JSON and load it back.
	return { ...r, state: JSON.parse(JSON.stringify(r.state)) as InboxPollState };
}

describe.skipIf(!hasDovecot)('inbox engine on Dovecot', () => {
	beforeAll(async () => {
		server = await startDovecot({ tls: true, users: { sales: 'sales-pw', other: 'other-pw' } });
		conn = { host: server.host, port: server.port, tls: 'none', user: 'sales', password: 'sales-pw' };
		appender = await connectAppender(server, 'sales', 'sales-pw');
	});
	afterAll(async () => {
		await appender?.logout().catch(() => undefined);
		await server?.stop();
	});

	it('starts from now, then reads only new mail, classified and attributed', async () => {
		await append(corpus('lhost-postfix-31.eml'));
		await append(corpus('arf-01.eml'));
		const first = await poll(undefined);
		expect(first.events).toEqual([]);
		expect(first.mailboxes[0].cursor).toBe('started');
		expect(first.state.mailboxes.INBOX.lastUid).toBe(2);

		const reply = replyTo('buyer@contact.example', 1);
		const replyUid = await append(reply.raw);
		const bounceUid = await append(corpus('lhost-postfix-13.eml'));
		const second = await poll(first.state);
		expect(second.mailboxes[0]).toMatchObject({ processed: 2, more: false });
		const replied = second.events.find((e) => e.uid === replyUid)!;
		expect(replied).toMatchObject({
			type: 'replied',
			kind: 'reply',
			email: 'buyer@contact.example',
			campaign: 'autumn',
			batchTag: 'English-Dealers-Marketing05',
			variant: 'B',
			token: reply.token,
			mailbox: 'INBOX',
		});
		const bounced = second.events.filter((e) => e.uid === bounceUid);
		expect(bounced.map((e) => e.type)).toEqual(['bounced', 'bounced']);
		expect(new Set(bounced.map((e) => e.id)).size).toBe(2);
		for (const e of bounced) expect(e.bounce).toMatchObject({ status: expect.stringMatching(/^5\./) });
		expect(second.state.mailboxes.INBOX.lastUid).toBe(bounceUid);

		const third = await poll(second.state);
		expect(third.events).toEqual([]);
		const late = await append(replyTo('late@contact.example', 2).raw);
		const fourth = await poll(third.state);
		expect(fourth.events.map((e) => e.uid)).toEqual([late]);
		// Re-reading the same message gives the same event id (stable ids).
		const again = await poll({ ...third.state });
		expect(again.events.map((e) => e.id)).toEqual(fourth.events.map((e) => e.id));
	});

	it('reads at most maxMessages per poll; the rest come next poll, in order', async () => {
		await appender.mailboxCreate('Batch');
		let state = (await poll(undefined, { mailboxes: ['Batch'] })).state;
		const uids: number[] = [];
		for (let i = 0; i < 5; i++) uids.push(await append(replyTo(`b${i}@contact.example`, 100 + i).raw, 'Batch'));
		const seen: number[] = [];
		const sizes: number[] = [];
		for (let i = 0; i < 4; i++) {
			const r = await poll(state, { mailboxes: ['Batch'], maxMessages: 2 });
			sizes.push(r.events.length);
			seen.push(...r.events.map((e) => e.uid as number));
			state = r.state;
		}
		expect(sizes).toEqual([2, 2, 1, 0]);
		expect(seen).toEqual(uids);
	});

	it('a connection dropped mid-fetch loses and duplicates nothing on the next poll', async () => {
		await appender.mailboxCreate('Drop');
		let state = (await poll(undefined, { mailboxes: ['Drop'] })).state;
		const uids: number[] = [];
		// Bodies of ~20 KB so the FETCH spans several TCP reads.
		for (let i = 0; i < 6; i++) uids.push(await append(replyTo(`d${i}@contact.example`, 200 + i, 'x'.repeat(20_000)).raw, 'Drop'));
		const proxy: DropProxy = await startDropProxy(server.port);
		try {
			proxy.dropAfterFetches(2);
			const viaProxy = { ...conn, port: proxy.port };
			const cut = await poll(state, { mailboxes: ['Drop'] }, viaProxy);
			expect(proxy.drops).toBe(1);
			expect(cut.mailboxes[0].error).toBeTruthy();
			expect(cut.events.map((e) => e.uid)).toEqual(uids.slice(0, 2));
			expect(cut.state.mailboxes.Drop.lastUid).toBe(uids[1]);
			state = cut.state;

			const next = await poll(state, { mailboxes: ['Drop'] }, viaProxy);
			expect(next.mailboxes[0].error).toBeUndefined();
			const all = [...cut.events, ...next.events].map((e) => e.uid);
			expect(all).toEqual(uids);
			expect(new Set([...cut.events, ...next.events].map((e) => e.id)).size).toBe(6);
		} finally {
			await proxy.close();
		}
	});

	it('a dropped connection before any message arrives leaves the cursor where it was', async () => {
		await appender.mailboxCreate('Drop0');
		const state = (await poll(undefined, { mailboxes: ['Drop0'] })).state;
		const uid = await append(replyTo('z@contact.example', 300).raw, 'Drop0');
		const proxy = await startDropProxy(server.port);
		try {
			proxy.dropAfterFetches(0);
			const cut = await poll(state, { mailboxes: ['Drop0'] }, { ...conn, port: proxy.port });
			expect(cut.events).toEqual([]);
			expect(cut.mailboxes[0].error).toBeTruthy();
			expect(cut.state.mailboxes.Drop0.lastUid).toBe(state.mailboxes.Drop0.lastUid);
			const next = await poll(cut.state, { mailboxes: ['Drop0'] });
			expect(next.events.map((e) => e.uid)).toEqual([uid]);
		} finally {
			await proxy.close();
		}
	});

	it('survives a UIDVALIDITY change: re-scans recent days and skips what it already emitted', async () => {
		await appender.mailboxCreate('Renumber');
		let state = (await poll(undefined, { mailboxes: ['Renumber'] })).state;
		await append(replyTo('old@contact.example', 400).raw, 'Renumber', new Date(Date.now() - 30 * 86_400_000));
		state = (await poll(state, { mailboxes: ['Renumber'] })).state; // emits the old one (it is new to us)
		await append(replyTo('r1@contact.example', 401).raw, 'Renumber');
		const emittedBefore = await poll(state, { mailboxes: ['Renumber'] });
		expect(emittedBefore.events.map((e) => e.email)).toEqual(['r1@contact.example']);
		state = emittedBefore.state;
		// Arrives while nobody polls, then the server renumbers the mailbox.
		await append(replyTo('r2@contact.example', 402).raw, 'Renumber');
		const before = state.mailboxes.Renumber.uidValidity;
		server.doveadm(['mailbox', 'update', '-u', 'sales', '--uid-validity', String(Number(before) + 1000), 'Renumber']);

		const after = await poll(state, { mailboxes: ['Renumber'] });
		expect(after.mailboxes[0].cursor).toBe('reset');
		expect(after.mailboxes[0].duplicates).toBe(1); // r1, emitted before the change
		expect(after.events.map((e) => e.email)).toEqual(['r2@contact.example']);
		expect(after.state.mailboxes.Renumber.uidValidity).toBe(String(Number(before) + 1000));
		expect(after.state.mailboxes.Renumber.since).toBeUndefined(); // caught up: back to UID order
		const quiet = await poll(after.state, { mailboxes: ['Renumber'] });
		expect(quiet.events).toEqual([]);
		const fresh = await append(replyTo('r3@contact.example', 403).raw, 'Renumber');
		const next = await poll(quiet.state, { mailboxes: ['Renumber'] });
		expect(next.events.map((e) => e.uid)).toEqual([fresh]);
	});

	it('survives a deleted and recreated folder (new UIDVALIDITY, UIDs restart at 1)', async () => {
		await appender.mailboxCreate('Leads');
		let state = (await poll(undefined, { mailboxes: ['Leads'] })).state;
		const a = replyTo('l1@contact.example', 500).raw;
		const b = replyTo('l2@contact.example', 501).raw;
		await append(a, 'Leads');
		await append(b, 'Leads');
		const first = await poll(state, { mailboxes: ['Leads'] });
		expect(first.events).toHaveLength(2);
		state = first.state;
		// Someone rebuilds the folder from a backup and a new message lands in it.
		await appender.mailboxDelete('Leads');
		await appender.mailboxCreate('Leads');
		await append(a, 'Leads');
		await append(b, 'Leads');
		const c = await append(replyTo('l3@contact.example', 502).raw, 'Leads');
		const after = await poll(state, { mailboxes: ['Leads'] });
		expect(after.mailboxes[0]).toMatchObject({ cursor: 'reset', duplicates: 2 });
		expect(after.events.map((e) => [e.uid, e.email])).toEqual([[c, 'l3@contact.example']]);
	});

	it('emits only the chosen kinds but moves the cursor past the others', async () => {
		await appender.mailboxCreate('Kinds');
		let state = (await poll(undefined, { mailboxes: ['Kinds'] })).state;
		await append(replyTo('k1@contact.example', 600).raw, 'Kinds');
		const bounceUid = await append(corpus('lhost-postfix-31.eml'), 'Kinds');
		const r = await poll(state, { mailboxes: ['Kinds'], kinds: ['bounce'] });
		expect(r.events.map((e) => [e.type, e.uid])).toEqual([['bounced', bounceUid]]);
		expect(r.state.mailboxes.Kinds.lastUid).toBe(bounceUid);
		state = r.state;
		expect((await poll(state, { mailboxes: ['Kinds'] })).events).toEqual([]);
	});

	it('flags and moves processed messages per kind, never deleting anything', async () => {
		await appender.mailboxCreate('Acts');
		let state = (await poll(undefined, { mailboxes: ['Acts'] })).state;
		const replyUid = await append(replyTo('a1@contact.example', 700).raw, 'Acts');
		await append(corpus('lhost-postfix-31.eml'), 'Acts');
		await append(corpus('arf-01.eml'), 'Acts');
		const r = await poll(state, {
			mailboxes: ['Acts'],
			actions: [
				{ kinds: INBOX_MESSAGE_KINDS, addFlags: ['$CadenceProcessed'] },
				{ kinds: ['bounce'], moveTo: 'Cadence-Bounces' },
				{ kinds: ['complaint'], addFlags: ['\\Flagged'], moveTo: 'Cadence-Complaints' },
			],
		});
		expect(r.mailboxes[0].warnings).toEqual([]);
		expect(r.events).toHaveLength(3);
		state = r.state;
		const lock = await appender.getMailboxLock('Acts');
		try {
			const left = [];
			for await (const m of appender.fetch('1:*', { uid: true, flags: true })) left.push(m);
			expect(left.map((m) => m.uid)).toEqual([replyUid]);
			expect([...left[0].flags!]).toContain('$CadenceProcessed');
			expect([...left[0].flags!]).not.toContain('\\Seen');
		} finally {
			lock.release();
		}
		const status = async (box: string) => ((await appender.status(box, { messages: true })) || undefined)?.messages;
		expect(await status('Cadence-Bounces')).toBe(1);
		expect(await status('Cadence-Complaints')).toBe(1);
		const lock2 = await appender.getMailboxLock('Cadence-Complaints');
		try {
			for await (const m of appender.fetch('1:*', { flags: true })) {
				expect([...m.flags!]).toEqual(expect.arrayContaining(['$CadenceProcessed', '\\Flagged']));
			}
		} finally {
			lock2.release();
		}
		// Moved mail does not come back, and nothing new is read twice.
		expect((await poll(state, { mailboxes: ['Acts'] })).events).toEqual([]);
	});

	it('starts from a date when asked, and reads several mailboxes with a cursor each', async () => {
		await appender.mailboxCreate('FromDate');
		await append(replyTo('old@contact.example', 800).raw, 'FromDate', new Date(Date.now() - 20 * 86_400_000));
		const recent = await append(replyTo('new@contact.example', 801).raw, 'FromDate', new Date(Date.now() - 2 * 86_400_000));
		const r = await poll(undefined, { mailboxes: ['FromDate', 'Kinds'], startFrom: new Date(Date.now() - 5 * 86_400_000) });
		expect(r.events.filter((e) => e.mailbox === 'FromDate').map((e) => e.uid)).toEqual([recent]);
		expect(Object.keys(r.state.mailboxes).sort()).toEqual(['FromDate', 'Kinds']);
		expect(r.state.mailboxes.FromDate.since).toBeUndefined();
	});

	it('reports a missing mailbox without touching the others', async () => {
		const start = await poll(undefined, { mailboxes: ['INBOX'] });
		const uid = await append(replyTo('m@contact.example', 900).raw);
		const r = await poll(start.state, { mailboxes: ['No-Such-Folder', 'INBOX'] });
		expect(r.mailboxes[0].error).toMatch(/exist|Command failed/i);
		expect(r.events.map((e) => e.uid)).toEqual([uid]);
		expect(r.state.mailboxes['No-Such-Folder']).toBeUndefined();
	});

	it('classifies a mailbox over a date range, read-only', async () => {
		await appender.mailboxCreate('Range');
		const day = 86_400_000;
		await append(replyTo('r-old@contact.example', 1000).raw, 'Range', new Date(Date.now() - 40 * day));
		const mid = await append(corpus('lhost-postfix-31.eml'), 'Range', new Date(Date.now() - 10 * day));
		const newer = await append(replyTo('r-new@contact.example', 1001).raw, 'Range', new Date(Date.now() - 3 * day));
		const r = await withInboxClient(conn, (client) =>
			classifyMailboxRange(client, {
				mailbox: 'Range',
				since: new Date(Date.now() - 15 * day),
				limit: 10,
				kinds: INBOX_MESSAGE_KINDS,
				classify: (raw) => classifyMessage(raw, { verifyToken: tracker.verifyToken }),
			}),
		);
		expect(r.matched).toBe(2);
		expect(r.events.map((e: InboxEvent) => e.uid)).toEqual([mid, newer]);
		const limited = await withInboxClient(conn, (client) =>
			classifyMailboxRange(client, {
				mailbox: 'Range',
				limit: 1,
				newestFirst: true,
				kinds: INBOX_MESSAGE_KINDS,
				classify: (raw) => classifyMessage(raw),
			}),
		);
		expect(limited.matched).toBe(3);
		expect(limited.events.map((e) => e.uid)).toEqual([newer]);
	});

	it('reads only the first maxBytes of a huge message, and still classifies it', async () => {
		await appender.mailboxCreate('Huge');
		const state = (await poll(undefined, { mailboxes: ['Huge'] })).state;
		// A delivery report dragging a 3 MB attachment behind it (after the report part).
		const dsn = corpus('lhost-postfix-31.eml').toString('latin1');
		const huge = dsn.replace(/\r?\n$/, '') + '\r\n' + 'X'.repeat(76).concat('\r\n').repeat(40_000);
		expect(huge.length).toBeGreaterThan(3_000_000);
		const uid = await append(huge, 'Huge');
		const seen: number[] = [];
		const r = await poll(state, {
			mailboxes: ['Huge'],
			maxBytes: 256 * 1024,
			classify: (raw) => {
				seen.push(raw.length);
				return classifyMessage(raw);
			},
		});
		expect(seen).toEqual([256 * 1024]);
		expect(r.events.map((e) => [e.type, e.uid, e.truncated])).toEqual([['bounced', uid, true]]);
	});

	it('the credential test logs in, and explains failures', async () => {
		expect(await testInboxConnection(conn)).toBeNull();
		expect(await testInboxConnection({ ...conn, password: 'wrong' })).toMatch(/authentication failed/i);
		expect(await testInboxConnection({ ...conn, port: 1 })).toMatch(/ECONNREFUSED|connect/i);
		expect(await testInboxConnection({ ...conn, host: '' })).toMatch(/host is empty/);
		// STARTTLS and implicit TLS with the server's self-signed certificate: refused unless allowed.
		expect(await testInboxConnection({ ...conn, tls: 'starttls' })).toMatch(/self-signed|certificate/i);
		expect(await testInboxConnection({ ...conn, tls: 'starttls', allowUnauthorizedCerts: true })).toBeNull();
		expect(await testInboxConnection({ ...conn, port: server.tlsPort, tls: 'tls', allowUnauthorizedCerts: true })).toBeNull();
		expect(await testInboxConnection({ ...conn, port: server.tlsPort, tls: 'tls' })).toMatch(/self-signed|certificate/i);
	});
});
