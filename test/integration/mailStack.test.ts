/**
 * The real mail stack of the end-to-end test (Postfix → Dovecot LMTP/Sieve → IMAP, all on loopback), proven on its
 * own: delivery, a real Postfix DSN for an unknown recipient, a real Sieve vacation reply to tracked mail, and a
 * reply travelling back to the sender. Needs Debian's postfix, dovecot-imapd, dovecot-lmtpd and dovecot-sieve:
 * skipped with the reason when they are missing, a failure when CI is set.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailStackMissingPackages, startMailStack, type MailStack, type MailStackMessage } from '../helpers/mailStack';

/** The queue once Postfix has removed what it just delivered (the entry can outlive the delivery by a moment). */
async function emptyQueue(stack: MailStack, timeoutMs = 10_000): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	let queue = stack.queue();
	while (!/Mail queue is empty/.test(queue) && Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, 200));
		queue = stack.queue();
	}
	return queue;
}

const missing = mailStackMissingPackages();
const skip = missing.length > 0 && !process.env.CI;
if (skip) {
	console.warn(`mailStack.test.ts skipped: missing Debian package(s) ${missing.join(', ')} (scripts/install-system-deps.sh installs them)`);
}

/** The part of a multipart/report DSN that carries the given content type, unparsed. */
function dsnPart(message: MailStackMessage, contentType: string): string {
	const boundary = /boundary="?([^";\s]+)"?/i.exec(message.header('content-type') ?? '')?.[1];
	if (!boundary) return '';
	const parts = message.raw.toString('utf8').split(`--${boundary}`);
	return parts.find((p) => new RegExp(`^\\s*content-type:\\s*${contentType}`, 'im').test(p.slice(0, 500))) ?? '';
}

/** The process exists and is not a zombie. */
function alive(pid: number | null): boolean {
	if (pid === null) return false;
	try {
		process.kill(pid, 0);
	} catch {
		return false;
	}
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

function smtpGreeting(port: number): Promise<string> {
	return new Promise((done, fail) => {
		const socket = connect(port, '127.0.0.1');
		socket.setTimeout(5000, () => fail(new Error('no SMTP greeting')));
		socket.once('data', (d) => {
			socket.destroy();
			done(d.toString());
		});
		socket.once('error', fail);
	});
}

describe.skipIf(skip)('mail stack (Postfix + Dovecot on loopback)', () => {
	let stack: MailStack;
	let transport: Transporter;

	beforeAll(async () => {
		stack = await startMailStack();
		console.info(`mail stack started in ${stack.startupMs} ms`);
		transport = nodemailer.createTransport({
			host: stack.smtp.host,
			port: stack.smtp.port,
			secure: false,
			ignoreTLS: true,
		});
	});

	afterAll(async () => {
		transport?.close();
		await stack?.stop();
	});

	it('delivers a message to a known recipient', async () => {
		const sent = await transport.sendMail({
			envelope: { from: 'bounce+a1@sender.test', to: ['anna@customer.test'] },
			from: 'Outreach <outreach@sender.test>',
			to: 'Anna <anna@customer.test>',
			subject: 'Hello Anna',
			text: 'Plain hello.',
		});
		const [msg] = await stack.waitForMessages('anna', 1);
		expect(msg.messageId).toBe(sent.messageId);
		expect(msg.subject).toBe('Hello Anna');
		// Dovecot stored the envelope sender: it is what a bounce or vacation reply goes back to.
		expect(msg.header('return-path')).toBe('<bounce+a1@sender.test>');
		// Only anna got it.
		expect(await stack.readMailbox('boris')).toHaveLength(0);
	});

	it('accepts SMTP AUTH with a mailbox password and refuses a wrong one', async () => {
		const { user, pass } = stack.users.outreach;
		const authed = nodemailer.createTransport({
			...stack.smtp,
			secure: false,
			ignoreTLS: true,
			auth: { user, pass },
		});
		await expect(authed.verify()).resolves.toBe(true);
		const sent = await authed.sendMail({
			envelope: { from: 'bounce+au@sender.test', to: ['boris@customer.test'] },
			from: user,
			to: 'boris@customer.test',
			subject: 'Authenticated hello',
			text: 'x',
		});
		expect(sent.accepted).toEqual(['boris@customer.test']);
		authed.close();
		const wrong = nodemailer.createTransport({
			...stack.smtp,
			secure: false,
			ignoreTLS: true,
			auth: { user, pass: 'not-the-password' },
		});
		await expect(wrong.verify()).rejects.toThrow(/535/);
		wrong.close();
		const [msg] = await stack.waitForMessages('boris', 1);
		expect(msg.messageId).toBe(sent.messageId);
	});

	it('refuses to relay outside the test domains', async () => {
		await expect(
			transport.sendMail({
				envelope: { from: 'outreach@sender.test', to: ['someone@example.com'] },
				from: 'outreach@sender.test',
				to: 'someone@example.com',
				subject: 'must not leave',
				text: 'x',
			}),
		).rejects.toThrow(/Relay access denied/i);
	});

	it('returns a real DSN (5.1.1, original headers inside) for an unknown recipient to the VERP sender', async () => {
		const before = (await stack.readMailbox('outreach')).length;
		const sent = await transport.sendMail({
			envelope: {
				from: 'bounce+k3y@sender.test',
				to: ['nobody@customer.test'],
			},
			from: 'Outreach <outreach@sender.test>',
			to: 'nobody@customer.test',
			subject: 'Hello nobody',
			text: 'Will bounce.',
		});
		// Postfix accepted it (the rejection happens later, at LMTP), like a real remote server would.
		expect(sent.accepted).toEqual(['nobody@customer.test']);

		const inbox = await stack.waitForMessages('outreach', before + 1);
		const dsn = inbox.find((m) => m.contentType === 'multipart/report' && m.raw.includes(sent.messageId));
		expect(dsn, 'a multipart/report in the sender mailbox').toBeDefined();
		const report = dsn!;
		expect(report.header('content-type')).toMatch(/report-type=delivery-status/i);
		expect(report.header('return-path')).toBe('<>');
		expect(report.header('from')).toMatch(/MAILER-DAEMON@/i);
		expect(report.header('to')).toBe('bounce+k3y@sender.test');

		const status = dsnPart(report, 'message/delivery-status');
		expect(status).toMatch(/^Final-Recipient: rfc822; ?nobody@customer\.test$/im);
		expect(status).toMatch(/^Action: failed$/im);
		expect(status).toMatch(/^Status: 5\.1\.1$/im);
		expect(status).toMatch(/^Diagnostic-Code: smtp; ?550 5\.1\.1/im);

		const original = dsnPart(report, '(message/rfc822|text/rfc822-headers)');
		expect(original).toContain(`Message-ID: ${sent.messageId}`);
		expect(original).toContain('Subject: Hello nobody');
		// The bounce was final: nothing left to retry.
		expect(await emptyQueue(stack)).toMatch(/Mail queue is empty/);
	});

	it('answers tracked mail (List-Unsubscribe, List-Unsubscribe-Post) with a real vacation auto-reply', async () => {
		const before = (await stack.readMailbox('outreach')).length;
		const sent = await transport.sendMail({
			envelope: {
				from: 'bounce+v4c@sender.test',
				to: ['vacation@customer.test'],
			},
			from: 'Outreach <outreach@sender.test>',
			to: 'Vera <vacation@customer.test>',
			replyTo: 'reply+v4c@sender.test',
			subject: 'Quarterly numbers',
			text: 'Tracked hello.',
			headers: {
				'List-Unsubscribe': '<https://track.sender.test/u/v4c>, <mailto:reply+v4c@sender.test?subject=unsubscribe>',
				'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
			},
		});

		// The recipient keeps the message as sent, list headers included.
		const [kept] = await stack.waitForMessages('vacation', 1);
		expect(kept.messageId).toBe(sent.messageId);
		expect(kept.header('list-unsubscribe')).toContain('https://track.sender.test/u/v4c');
		expect(kept.header('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

		const inbox = await stack.waitForMessages('outreach', before + 1);
		const reply = inbox.find((m) => m.header('in-reply-to') === sent.messageId);
		expect(reply, 'a vacation reply in the sender mailbox').toBeDefined();
		const auto = reply!;
		expect(auto.header('auto-submitted')).toMatch(/^auto-replied\b/);
		expect(auto.header('return-path')).toBe('<>');
		expect(auto.header('from')).toContain('vacation@customer.test');
		// Vacation answers the envelope sender (the VERP address), per RFC 5230.
		expect(auto.header('to')).toContain('bounce+v4c@sender.test');
		expect(auto.subject).toBe('Out of office');
		expect(auto.contentType).not.toBe('multipart/report');

		// One reply per sender and period: a second message from the same envelope sender gets none.
		await transport.sendMail({
			envelope: {
				from: 'bounce+v4c@sender.test',
				to: ['vacation@customer.test'],
			},
			from: 'outreach@sender.test',
			to: 'vacation@customer.test',
			subject: 'Second try',
			text: 'Again.',
		});
		await stack.waitForMessages('vacation', 2);
		expect(await emptyQueue(stack)).toMatch(/Mail queue is empty/);
		expect(stack.log().dovecot).toContain('discarded duplicate vacation response to <bounce+v4c@sender.test>');
		const after = await stack.readMailbox('outreach');
		expect(after.filter((m) => m.header('from')?.includes('vacation@customer.test'))).toHaveLength(1);
	});

	it('carries a reply from a recipient back through Postfix to the sender (reply+KEY@)', async () => {
		const before = (await stack.readMailbox('outreach')).length;
		const original = await transport.sendMail({
			envelope: { from: 'bounce+r9@sender.test', to: ['boris@customer.test'] },
			from: 'Outreach <outreach@sender.test>',
			to: 'boris@customer.test',
			replyTo: 'reply+r9@sender.test',
			subject: 'Intro',
			text: 'Shall we talk?',
		});
		const received = (await stack.waitForMessages('boris', 2)).find((m) => m.messageId === original.messageId)!;
		const replyTo = received.header('reply-to')!;
		expect(replyTo).toBe('reply+r9@sender.test');

		// Boris answers from his own address, as a mail client would: to Reply-To, threaded on the original.
		const answer = await transport.sendMail({
			envelope: { from: 'boris@customer.test', to: [replyTo] },
			from: 'Boris <boris@customer.test>',
			to: replyTo,
			subject: 'Re: Intro',
			inReplyTo: received.messageId,
			references: received.messageId,
			text: 'Yes, call me Tuesday.',
		});
		const inbox = await stack.waitForMessages('outreach', before + 1);
		const reply = inbox.find((m) => m.messageId === answer.messageId);
		expect(reply, 'the reply in the sender mailbox').toBeDefined();
		expect(reply!.header('in-reply-to')).toBe(original.messageId);
		expect(reply!.header('to')).toBe('reply+r9@sender.test');
		expect(reply!.header('return-path')).toBe('<boris@customer.test>');
		expect(reply!.header('auto-submitted')).toBeUndefined();
	});
});

describe.skipIf(skip)('mail stack lifecycle', () => {
	it('cleans up servers left by a test process that died without stop(), then starts and stops cleanly', async () => {
		// A separate test process starts a stack and is SIGKILLed: no exit handler runs, its servers stay behind.
		const helper = resolve(__dirname, '..', 'helpers', 'mailStack.ts');
		const script = `require(${JSON.stringify(helper)}).startMailStack().then(
			(s) => process.stdout.write(JSON.stringify({ dir: s.dir, pids: s.pids() }) + '\\n'),
			(e) => { console.error(e); process.exit(1); });
			setInterval(() => {}, 1000);`;
		const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '';
		let err = '';
		child.stderr.on('data', (d) => (err += d));
		const line = await new Promise<string>((done, fail) => {
			const timer = setTimeout(() => fail(new Error(`child stack did not start: ${err}`)), 30_000);
			child.stdout.on('data', (d) => {
				out += d;
				if (out.includes('\n')) {
					clearTimeout(timer);
					done(out.split('\n')[0]);
				}
			});
			child.once('exit', (code) => fail(new Error(`child exited ${code}: ${err}`)));
		});
		const crashed = JSON.parse(line) as {
			dir: string;
			pids: { postfix: number; dovecot: number };
		};
		const exited = new Promise((r) => child.once('exit', r));
		child.kill('SIGKILL');
		await exited;
		expect(alive(crashed.pids.postfix)).toBe(true);
		expect(alive(crashed.pids.dovecot)).toBe(true);

		const next = await startMailStack();
		let nextPids = next.pids();
		try {
			expect(existsSync(crashed.dir)).toBe(false);
			expect(alive(crashed.pids.postfix)).toBe(false);
			expect(alive(crashed.pids.dovecot)).toBe(false);
			expect(await smtpGreeting(next.smtp.port)).toMatch(/^220 /);
			nextPids = next.pids();
			expect(nextPids.postfix).not.toBeNull();
			expect(nextPids.dovecot).not.toBeNull();
		} finally {
			await next.stop();
		}
		expect(alive(nextPids.postfix)).toBe(false);
		expect(alive(nextPids.dovecot)).toBe(false);
		expect(existsSync(join(next.dir, 'pf-conf'))).toBe(false);
	}, 90_000);
});
