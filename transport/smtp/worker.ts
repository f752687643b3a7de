/**
 * One connection of the pool: it takes jobs from the run's queue and sends them one after the other over the same
 * connection, opening a new one when it has none (or the server closed it).
 */
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { describeSmtpError, isAuthError, isConnectionError, openSmtpConnection, resetSession, sendTransaction, type SmtpError } from './connection';
import { sleep } from './pacing';
import type { BatchRun, BuiltMessage } from './run';
import type { SmtpServerConfig } from './types';

export class SmtpWorker {
	private conn: SMTPConnection | null = null;
	private readonly dropConnection = () => this.drop();

	constructor(
		private readonly run: BatchRun,
		private readonly server: SmtpServerConfig,
	) {}

	/** Works until the queue has nothing left for it; says QUIT on its connection at the end. */
	async work(): Promise<void> {
		try {
			for (;;) {
				const i = await this.run.queue.take();
				if (i === null) return;
				await this.handle(i);
			}
		} finally {
			this.conn?.quit();
		}
	}

	/** One job to its result (or back to the queue); every path releases the job exactly once. */
	private async handle(i: number): Promise<void> {
		const run = this.run;
		if (run.halt) return this.endHalted(i);
		await run.takeSlot(run.signal);
		if (run.halt) return this.endHalted(i);
		// A server may close a connection that sat idle (e.g. while 4xx retries waited): open a new one.
		if (this.conn?.destroyed) this.conn = null;
		if (!this.conn && !(await this.connect(i))) return;
		const message = await this.build(i);
		if (message) await this.transmit(this.conn!, i, message);
	}

	/** Once the run halts, each job still handed out ends with the halt's outcome, unsent. */
	private endHalted(i: number): void {
		this.run.finishHalted(i);
		this.run.queue.release();
	}

	/** Closes the connection without QUIT; the next job opens a new one. */
	private drop(): void {
		this.conn?.close();
		this.conn = null;
	}

	/** Bad credentials halt the run; other failures put the job back after a backoff, until too many in a row halt it. */
	private async connect(i: number): Promise<boolean> {
		const run = this.run;
		try {
			this.conn = await openSmtpConnection(this.server);
			return true;
		} catch (err) {
			const e = err as SmtpError;
			if (isAuthError(e)) {
				run.haltWith({ status: 'failed', reason: 'auth', error: `SMTP authentication failed: ${describeSmtpError(e)}` });
			} else if (++run.connFailuresInARow > run.limits.maxConnectionFailures) {
				run.haltWith({
					status: 'failed',
					reason: 'connection',
					error: `Could not connect to ${this.server.host}:${this.server.port}: ${describeSmtpError(e)}`,
				});
			} else {
				run.queue.requeueFront(i);
				run.queue.release();
				await sleep(run.limits.reconnectBaseMs * 2 ** (run.connFailuresInARow - 1), run.signal);
				return false;
			}
			this.endHalted(i);
			return false;
		}
	}

	/** A message that cannot be built fails alone; a withdrawn one is skipped. Either way nothing is sent. */
	private async build(i: number): Promise<BuiltMessage | null> {
		const run = this.run;
		let message: BuiltMessage | null;
		try {
			message = await run.message(i);
		} catch (err) {
			run.finish(i, { status: 'failed', reason: 'message-error', error: `Could not build the message: ${(err as Error).message}`, attempts: 0 });
			run.queue.release();
			return null;
		}
		if (!message) {
			run.finish(i, { status: 'skipped', reason: 'withdrawn', error: 'The message was withdrawn before sending', attempts: 0 });
			run.queue.release();
		}
		return message;
	}

	/** Sent only on the 2xx to the end of DATA; any other answer or a drop is sorted below. */
	private async transmit(conn: SMTPConnection, i: number, { bytes, envelope }: BuiltMessage): Promise<void> {
		const run = this.run;
		const s = run.state[i];
		s.attempts++;
		const { err, info, bodyWritten } = await sendTransaction(conn, envelope, bytes);
		if (!err) {
			run.finish(i, { status: 'sent', response: String(info?.response ?? ''), attempts: s.attempts });
			run.queue.release();
			return;
		}
		const code = err.responseCode;
		if (code && code >= 500) return this.refused(conn, i, err, code);
		if (code && code >= 400) return this.deferred(conn, i, err, code);
		this.drop();
		if (isConnectionError(err)) return this.dropped(i, err, bodyWritten);
		run.finish(i, { status: 'failed', reason: 'message-error', error: describeSmtpError(err), attempts: s.attempts });
		run.queue.release();
	}

	/** 5xx: refused for good. The session stays usable after a refused transaction: reset it instead of reconnecting. */
	private async refused(conn: SMTPConnection, i: number, err: SmtpError, code: number): Promise<void> {
		const run = this.run;
		const attempts = run.state[i].attempts;
		run.finish(i, { status: 'failed', reason: 'rejected', error: describeSmtpError(err), response: err.response, responseCode: code, attempts });
		run.queue.release();
		await resetSession(conn, this.dropConnection);
	}

	/** 4xx: tried again after base × 2^(attempt-1) (capped) until the retries run out. 421 means the server closes the session. */
	private async deferred(conn: SMTPConnection, i: number, err: SmtpError, code: number): Promise<void> {
		const run = this.run;
		const s = run.state[i];
		const { maxTemporaryRetries, retryBaseMs, retryMaxMs } = run.limits;
		s.lastResponse = err.response ?? describeSmtpError(err);
		if (code === 421) this.drop();
		else await resetSession(conn, this.dropConnection);
		if (s.attempts > maxTemporaryRetries) {
			run.finish(i, {
				status: 'failed',
				reason: 'temporary-failure',
				error: describeSmtpError(err),
				response: err.response,
				responseCode: code,
				attempts: s.attempts,
			});
		} else {
			run.queue.retryLater(i, Math.min(retryBaseMs * 2 ** (s.attempts - 1), retryMaxMs));
		}
		run.queue.release();
	}

	/**
	 * A drop before the whole body was written cannot have delivered the message: it goes first in line for a new
	 * connection (a bounded number of times). After the body was written it may have been delivered: it ends
	 * `unconfirmed` and is never resent.
	 */
	private dropped(i: number, err: SmtpError, bodyWritten: boolean): void {
		const run = this.run;
		const s = run.state[i];
		if (bodyWritten) {
			run.finish(i, {
				status: 'failed',
				reason: 'unconfirmed',
				error: `The connection dropped after the message was sent but before the server confirmed it (${describeSmtpError(err)}); it may have been delivered, so it is not sent again`,
				attempts: s.attempts,
			});
		} else if (++s.resends > run.limits.maxConnectionFailures) {
			run.finish(i, {
				status: 'failed',
				reason: 'connection',
				error: `The connection kept dropping: ${describeSmtpError(err)}`,
				attempts: s.attempts,
			});
		} else {
			s.attempts--; // never reached the server as a message: not an attempt
			run.queue.requeueFront(i);
		}
		run.queue.release();
	}
}
