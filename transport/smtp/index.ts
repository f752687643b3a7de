/**
 * The sending engine of Cadence Send: a pool of SMTP connections (nodemailer's SMTPConnection, one per worker,
 * reused for every message it sends), a shared rate limit, bounded retries of 4xx answers, reconnects after
 * dropped connections, and a stop-loss on the share of failed recipients.
 *
 * Exactly-once within a run, as far as SMTP allows: a message counts as handed over only on the server's 2xx reply
 * to the end of DATA. A connection that drops before the message body was fully handed to the socket cannot have
 * delivered it (a server only accepts a message at the final "."), so that message is resent on a new connection.
 * A drop after the whole body was written but before the reply is ambiguous (RFC 1047): the server may have
 * accepted it. Such a message is NOT resent (at most once): it ends `failed` with reason `unconfirmed`, and the
 * output says it may have been delivered, so the workflow can check rather than mail the contact twice.
 *
 * Files: types (options, results, defaults), connection (one SMTP session), pacing (rate limit, domain cap,
 * stop-loss rule), queue (jobs waiting for a worker), run (state the workers share), worker (one connection's
 * loop and how each answer is handled), batch (the entry point).
 */
export * from './types';
export { openSmtpConnection, verifySmtpServer } from './connection';
export { DEFAULT_DOMAIN_CAP, overDomainCap } from './pacing';
export { sendSmtpBatch } from './batch';
