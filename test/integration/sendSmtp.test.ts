/**
 * The sending engine against a real SMTP server (smtp-server on 127.0.0.1): pooling, tracked content as received,
 * 4xx retries, 5xx failures, dropped connections (resent only when the message cannot have been accepted), the
 * stop-loss, rate limit, authentication and cancellation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { createServer } from 'node:net';
import { createTracker } from '../../core/tracker';
import { buildMimeMessage, renderCadenceMessage } from '../../core/sendRender';
import { sendSmtpBatch, verifySmtpServer, type SmtpJob, type SmtpServerConfig } from '../../transport/smtp';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../helpers/smtpSink';

const tracker = createTracker({ secrets: ['integration secret'], baseUrl: 'https://track.example.com/webhook/w1/t' });
const FAST = { retryBaseMs: 20, retryMaxMs: 100, reconnectBaseMs: 10 };

let sink: SmtpSink | undefined;
afterEach(async () => {
	await sink?.close();
	sink = undefined;
});

async function start(opts: SmtpSinkOptions = {}): Promise<SmtpServerConfig> {
	sink = await startSmtpSink(opts);
	return { host: sink.host, port: sink.port, tls: 'none' };
}

function plainJob(to: string, n = 0): SmtpJob {
	return {
		envelope: { from: 'sender@sender.example.com', to: [to] },
		message: Buffer.from(
			`From: sender@sender.example.com\r\nTo: ${to}\r\nSubject: test ${n}\r\nMessage-ID: <m${n}@sender.example.com>\r\n\r\nHello ${n}\r\n`,
		),
	};
}

const recipients = (n: number, domain = 'example.com') => Array.from({ length: n }, (_, i) => `user${i}@${domain}`);

describe('sendSmtpBatch', () => {
	it('sends tracked messages over a few reused connections; the received mail carries the tracking', async () => {
		const server = await start();
		const html =
			'<html><body><p>Hi</p><a href="https://shop.example.com/a?x=1&amp;y=2">A</a> <a href="https://shop.example.com/b">B</a> ' +
			'<a href="mailto:me@sender.example.com">me</a> <a href="{{unsubscribeUrl}}">Unsubscribe</a></body></html>';
		const rendered = recipients(30).map((to) =>
			renderCadenceMessage(
				{
					from: 'Sender <sender@sender.example.com>',
					to,
					subject: 'Hello',
					html,
					campaign: 'c1',
					batchTag: 'Marketing05',
					variant: 'A',
					sentAt: Date.now(),
				},
				{ tracker, replyPlusAddress: 'sender.example.com', verpAddress: 'bounces.sender.example.com', unsubscribeMailto: 'unsub@sender.example.com' },
			),
		);
		const results = await sendSmtpBatch(
			server,
			rendered.map((m) => ({ envelope: m.envelope, message: () => buildMimeMessage(m) })),
			{ poolSize: 3 },
		);
		expect(results.every((r) => r.status === 'sent')).toBe(true);
		expect(results[0]).toMatchObject({ status: 'sent', attempts: 1, response: expect.stringMatching(/^250 /) });
		expect(sink!.accepted).toBe(30);
		expect(sink!.connections).toBeLessThanOrEqual(3);

		for (const received of sink!.messages) {
			const parsed = await simpleParser(received.raw);
			const to = received.rcptTo[0];
			const m = rendered.find((r) => r.to === to)!;
			// Envelope sender is the VERP address; Reply-To the plus-address; both carry the address key.
			expect(received.mailFrom).toBe(`bounce+${m.addressKey}@bounces.sender.example.com`);
			expect(parsed.replyTo?.value[0].address).toBe(`reply+${m.addressKey}@sender.example.com`);
			// Token in Message-ID and X-Cadence-Token, resolving to this recipient.
			const token = /^<([^@]+)@sender\.example\.com>$/.exec(parsed.messageId!)![1];
			expect(tracker.verifyToken(token)).toMatchObject({ email: to, campaign: 'c1', batchTag: 'Marketing05', variant: 'A' });
			expect(parsed.headers.get('x-cadence-token')).toBe(token);
			// One-click unsubscribe headers.
			const header = (k: string) => parsed.headerLines.find((h) => h.key === k)?.line;
			expect(header('list-unsubscribe')).toMatch(
				/^List-Unsubscribe: <https:\/\/track\.example\.com\/webhook\/w1\/t\?t=[\w-]+>, <mailto:unsub@sender\.example\.com\?subject=unsubscribe%20[a-z2-7]{20}>$/,
			);
			expect(tracker.parse(/<(https:[^>]+)>/.exec(header('list-unsubscribe')!)![1])).toMatchObject({ kind: 'unsubscribe', data: { email: to } });
			expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
			// Pixel before </body>, every http(s) link tracked and resolving to its target, mailto and unsubscribe not clicks.
			const body = String(parsed.html);
			const pixel = /<img src="([^"]+)" width="1" height="1"[^>]*\/><\/body>/.exec(body);
			expect(tracker.parse(pixel![1].replace(/&amp;/g, '&'))).toMatchObject({ kind: 'open', data: { email: to } });
			const links = [...body.matchAll(/href="([^"]+)"/g)].map((x) => x[1].replace(/&amp;/g, '&'));
			const parsedLinks = links.map((l) => tracker.parse(l));
			expect(parsedLinks.filter((p) => p?.kind === 'click').map((p) => p!.target)).toEqual([
				'https://shop.example.com/a?x=1&y=2',
				'https://shop.example.com/b',
			]);
			expect(parsedLinks.filter((p) => p?.kind === 'unsubscribe')).toHaveLength(1);
			expect(links).toContain('mailto:me@sender.example.com');
			expect(parsed.text).toContain('Hi');
		}
	});

	it('a 5xx fails that item with the server reply; the batch goes on over the same connection', async () => {
		const server = await start({ onRcptTo: (a) => (a === 'user3@example.com' ? { code: 550, message: 'No such user here' } : undefined) });
		const results = await sendSmtpBatch(server, recipients(8).map(plainJob), { poolSize: 1 });
		expect(results[3]).toMatchObject({ status: 'failed', reason: 'rejected', responseCode: 550, attempts: 1 });
		expect((results[3] as { response: string }).response).toMatch(/550.*No such user here/);
		expect(results.filter((r) => r.status === 'sent')).toHaveLength(7);
		expect(sink!.connections).toBe(1);
		expect(sink!.receivedFor('user3@example.com')).toBe(0);
	});

	it('a 4xx is retried with backoff and delivered once; a 4xx that persists fails after the retries', async () => {
		const server = await start({
			onRcptTo: (a, ctx) => {
				if (a === 'user1@example.com' && ctx.rcptCount <= 2) return { code: 451, message: 'Greylisted, try later' };
				if (a === 'user2@example.com') return { code: 452, message: 'Mailbox busy' };
				return undefined;
			},
		});
		const results = await sendSmtpBatch(server, recipients(4).map(plainJob), { poolSize: 2, maxTemporaryRetries: 3, ...FAST });
		expect(results[1]).toMatchObject({ status: 'sent', attempts: 3 });
		expect(sink!.receivedFor('user1@example.com')).toBe(1);
		expect(results[2]).toMatchObject({ status: 'failed', reason: 'temporary-failure', responseCode: 452, attempts: 4 });
		expect(sink!.receivedFor('user2@example.com')).toBe(0);
		expect(results[0].status).toBe('sent');
		expect(results[3].status).toBe('sent');
	});

	it('a connection dropped before the message was handed over is reopened and the message sent exactly once', async () => {
		const server = await start({ onRcptTo: (a, ctx) => (a === 'user2@example.com' && ctx.rcptCount === 1 ? 'drop' : undefined) });
		const results = await sendSmtpBatch(server, recipients(6).map(plainJob), { poolSize: 1, ...FAST });
		expect(results.map((r) => r.status)).toEqual(Array(6).fill('sent'));
		expect(results[2].attempts).toBe(1);
		for (const to of recipients(6)) expect(sink!.receivedFor(to)).toBe(1);
		expect(sink!.connections).toBe(2);
	});

	it('a drop after the whole message was sent is not resent: failed, reason unconfirmed', async () => {
		const server = await start({ onData: (_raw, ctx) => (ctx.rcptTo[0] === 'user1@example.com' ? 'drop' : undefined) });
		const results = await sendSmtpBatch(server, recipients(5).map(plainJob), { poolSize: 1, ...FAST });
		expect(results[1]).toMatchObject({ status: 'failed', reason: 'unconfirmed' });
		expect((results[1] as { error: string }).error).toMatch(/may have been delivered/);
		expect(sink!.receivedFor('user1@example.com')).toBe(1);
		expect(results.filter((r) => r.status === 'sent')).toHaveLength(4);
		for (const to of recipients(5)) expect(sink!.receivedFor(to)).toBe(1);
	});

	it('stop-loss: past the failure share, the rest is skipped and never reaches the server', async () => {
		// every 5th recipient is refused: 20% > 5%, checked from the 20th answer on
		const server = await start({ onRcptTo: (a) => (Number(/\d+/.exec(a)![0]) % 5 === 4 ? { code: 550 } : undefined) });
		const results = await sendSmtpBatch(server, recipients(100).map(plainJob), { poolSize: 2, stopLoss: { threshold: 0.05, minimum: 20 } });
		const skipped = results.filter((r) => r.status === 'skipped');
		const answered = results.filter((r) => r.status !== 'skipped');
		expect(answered.length).toBeGreaterThanOrEqual(20);
		expect(answered.length).toBeLessThanOrEqual(22); // the in-flight ones finish
		expect(skipped.length).toBe(100 - answered.length);
		expect(skipped[0]).toMatchObject({ reason: 'failure-rate', error: expect.stringMatching(/Stopped: \d+ of \d+ recipients failed/) });
		expect(sink!.accepted + results.filter((r) => r.status === 'failed').length).toBe(answered.length);
		results.forEach((r, i) => {
			if (r.status === 'skipped') expect(sink!.receivedFor(`user${i}@example.com`)).toBe(0);
		});
	});

	it('stop-loss waits for its minimum and can be turned off', async () => {
		const server = await start({ onRcptTo: (a) => (a === 'user0@example.com' ? { code: 550 } : undefined) });
		const results = await sendSmtpBatch(server, recipients(10).map(plainJob), { poolSize: 2 });
		expect(results.filter((r) => r.status === 'sent')).toHaveLength(9); // 10% failed but below the 50-message minimum
		const off = await sendSmtpBatch(server, recipients(10).map(plainJob), { poolSize: 2, stopLoss: false });
		expect(off.filter((r) => r.status === 'sent')).toHaveLength(9);
	});

	it('spaces messages by the rate limit', async () => {
		const server = await start();
		const started = Date.now();
		const results = await sendSmtpBatch(server, recipients(6).map(plainJob), { poolSize: 3, ratePerSecond: 20 });
		expect(results.every((r) => r.status === 'sent')).toBe(true);
		expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 50 - 5); // 6 starts at 20/s: at least 250 ms
	});

	it('authenticates; wrong credentials fail every item with reason auth and verifySmtpServer says why', async () => {
		const server = await start({ auth: { user: 'mailer', pass: 'right' } });
		const ok = await sendSmtpBatch({ ...server, user: 'mailer', password: 'right' }, recipients(3).map(plainJob), { poolSize: 2 });
		expect(ok.every((r) => r.status === 'sent')).toBe(true);
		await expect(verifySmtpServer({ ...server, user: 'mailer', password: 'right' })).resolves.toBeUndefined();
		await expect(verifySmtpServer({ ...server, user: 'mailer', password: 'wrong' })).rejects.toThrow(/535|credentials/i);
		const bad = await sendSmtpBatch({ ...server, user: 'mailer', password: 'wrong' }, recipients(3).map(plainJob), { poolSize: 2 });
		expect(bad.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
		expect(bad[0]).toMatchObject({ reason: 'auth', error: expect.stringMatching(/authentication failed/i) });
		expect(sink!.accepted).toBe(3);
	});

	it('an unreachable server fails every item with reason connection after bounded reconnects', async () => {
		const port = await new Promise<number>((resolve) => {
			const s = createServer();
			s.listen(0, '127.0.0.1', () => {
				const p = (s.address() as { port: number }).port;
				s.close(() => resolve(p));
			});
		});
		const results = await sendSmtpBatch({ host: '127.0.0.1', port, tls: 'none' }, recipients(4).map(plainJob), {
			poolSize: 2,
			maxConnectionFailures: 2,
			...FAST,
		});
		expect(results.every((r) => r.status === 'failed' && r.reason === 'connection')).toBe(true);
		expect((results[0] as { error: string }).error).toMatch(/ECONNREFUSED|connect/i);
	});

	it('cancelling skips what was not sent yet', async () => {
		const server = await start();
		const controller = new AbortController();
		let n = 0;
		const results = await sendSmtpBatch(server, recipients(20).map(plainJob), {
			poolSize: 1,
			signal: controller.signal,
			onResult: () => {
				if (++n === 5) controller.abort();
			},
		});
		expect(results.filter((r) => r.status === 'sent')).toHaveLength(5);
		expect(results.slice(5).every((r) => r.status === 'skipped' && r.reason === 'cancelled')).toBe(true);
		expect(sink!.accepted).toBe(5);
	});

	it('a message that cannot be built fails alone', async () => {
		const server = await start();
		const jobs = recipients(3).map(plainJob);
		jobs[1] = { ...jobs[1], message: () => Promise.reject(new Error('template broke')) };
		const results = await sendSmtpBatch(server, jobs, { poolSize: 1 });
		expect(results.map((r) => r.status)).toEqual(['sent', 'failed', 'sent']);
		expect(results[1]).toMatchObject({ reason: 'message-error', error: expect.stringMatching(/template broke/) });
	});
});
