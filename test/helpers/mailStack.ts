/**
 * A private mail system on loopback for end-to-end tests: Postfix (Debian `postfix`) accepts SMTP and hands every
 * message to Dovecot (Debian `dovecot-imapd`, `dovecot-lmtpd`, `dovecot-sieve`) over LMTP; Dovecot stores it in
 * Maildir mailboxes readable over IMAP and runs a Sieve vacation responder on one mailbox. Everything (config,
 * queue, logs, mail) lives under the git-ignored `.test-servers/mailstack-<random>/`; the system instances, port 25
 * and DNS are never used.
 *
 * Mail flow (all 127.0.0.1):
 *   client ──SMTP──▶ Postfix smtpd ──▶ qmgr ──LMTP──▶ Dovecot lmtp ──▶ Maildir (+ Sieve)
 *                          ▲                              │
 *                          └──── Sieve vacation reply ◀────┘ (Dovecot `submission_host` = our smtpd)
 *
 * - Both test domains are Postfix `relay_domains` routed by `transport_maps` to Dovecot LMTP, so Postfix accepts any
 *   recipient there and Dovecot LMTP decides: an unknown one gets `550 5.1.1`, which makes Postfix return a real
 *   delivery status notification (multipart/report, Status 5.1.1, original message attached) to the envelope sender.
 *   That is the asynchronous bounce an outreach sender sees from real-world servers.
 * - Relaying anywhere else is refused at RCPT (no `permit_mynetworks`), and anything that would still be routed
 *   elsewhere goes to Postfix's `error` transport: nothing leaves the machine.
 * - `bounce+KEY@`, `reply+KEY@` (and `postmaster@`) at the sender's domain are virtual aliases of the sender mailbox;
 *   Postfix keeps the `+KEY` (it reaches Dovecot as `outreach+KEY@`, stored in INBOX; the To header is untouched,
 *   and Postfix logs `orig_to=<bounce+KEY@...>`).
 * - Sieve vacation replies to the envelope sender (the VERP `bounce+KEY@` address for tracked mail), with
 *   `Auto-Submitted: auto-replied (vacation)`, `MAIL FROM:<>`, through our Postfix.
 * - SMTP offers no TLS; AUTH PLAIN/LOGIN with a mailbox's address and password is accepted but not required.
 * - Both masters (Postfix `master -d`, `dovecot -F`) are children of the test process; a stack whose test process
 *   died is killed and removed by the next `startMailStack`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { greets } from './greeting';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort, testServersRoot } from './testServers';

export interface MailStackOptions {
	/**
	 * Mailboxes as short name → address. Default: `anna`, `boris`, `vacation` at `customer.test` and `outreach` at
	 * `sender.test`. Every domain used here becomes a routed test domain.
	 */
	mailboxes?: Record<string, string>;
	/** Short name of the sender's mailbox (default `outreach`). */
	sender?: string;
	/**
	 * Local parts at the sender's domain that are delivered to the sender's mailbox, with any `+detail`
	 * (default `bounce`, `reply`, `postmaster`).
	 */
	senderAliases?: string[];
	/** Short name of the mailbox with the Sieve vacation responder (default `vacation`; `null` for none). */
	vacation?: string | null;
	vacationSubject?: string;
	vacationReason?: string;
	/** Fixed ports (default: free ones). */
	smtpPort?: number;
	imapPort?: number;
	lmtpPort?: number;
}

export interface MailStackMessage {
	uid: number;
	raw: Buffer;
	/** Header fields by lower-case name, unfolded; a repeated field keeps every value in order. */
	headers: Record<string, string[]>;
	/** First value of a header field (case-insensitive), or undefined. */
	header(name: string): string | undefined;
	subject: string;
	messageId: string;
	/** The MIME type of the top-level part, lower case (`multipart/report`, `text/plain`, ...). */
	contentType: string;
}

export interface MailStackMailbox {
	address: string;
	/** IMAP login (the full address). */
	user: string;
	pass: string;
}

export interface MailStack {
	smtp: { host: string; port: number };
	imap: { host: string; port: number };
	lmtp: { host: string; port: number };
	/** Short name → mailbox, e.g. `users.anna.user` / `users.anna.pass`. */
	users: Record<string, MailStackMailbox>;
	/** Short name of the sender's mailbox. */
	sender: string;
	domains: string[];
	dir: string;
	/** Milliseconds from the call to `startMailStack` until both servers answered. */
	startupMs: number;
	/** Messages of a mailbox (short name or address), oldest first, read over IMAP. */
	readMailbox(user: string, folder?: string): Promise<MailStackMessage[]>;
	/** Polls until the mailbox holds at least `count` messages; the error names the queue and log tails. */
	waitForMessages(user: string, count: number, timeoutMs?: number, folder?: string): Promise<MailStackMessage[]>;
	/** `postqueue -p` output ("Mail queue is empty" when nothing waits). */
	queue(): string;
	/** Asks Postfix to retry deferred mail now. */
	flushQueue(): void;
	log(): { postfix: string; dovecot: string };
	/** Master process ids (null when not running), e.g. to check that `stop()` left nothing behind. */
	pids(): { postfix: number | null; dovecot: number | null };
	/** Stops both servers (graceful, then SIGKILL after 5 s) and removes the folder unless KEEP_TEST_SERVERS is set. */
	stop(): Promise<void>;
}

export class MailStackUnavailableError extends Error {
	constructor(readonly missingPackages: string[]) {
		super(
			`mail stack unavailable: missing Debian package(s) ${missingPackages.join(', ')}; install them with ` +
				`apt-get install -y ${missingPackages.join(' ')} (postfix preseeded with ` +
				`"postfix postfix/main_mailer_type select No configuration"), or run scripts/install-system-deps.sh`,
		);
		this.name = 'MailStackUnavailableError';
	}
}

const POSTFIX_MASTER = '/usr/lib/postfix/sbin/master';
const HOST = '127.0.0.1';
/** Mail is stored under this numeric uid/gid, which needs no passwd entry (Dovecot refuses uid 0 for mail). */
const MAIL_UID = 65534;

const DEFAULT_MAILBOXES: Record<string, string> = {
	anna: 'anna@customer.test',
	boris: 'boris@customer.test',
	vacation: 'vacation@customer.test',
	outreach: 'outreach@sender.test',
};

const REQUIRED_FILES: Array<[pkg: string, files: string[]]> = [
	['postfix', ['/usr/sbin/postqueue', POSTFIX_MASTER]],
	['dovecot-imapd', ['/usr/sbin/dovecot', '/usr/lib/dovecot/imap']],
	['dovecot-lmtpd', ['/usr/lib/dovecot/lmtp']],
	['dovecot-sieve', ['/usr/lib/dovecot/modules/lib90_sieve_plugin.so']],
];

/** Debian packages the stack needs that are not installed (empty when it can start). */
export function mailStackMissingPackages(): string[] {
	return REQUIRED_FILES.filter(([, files]) => files.some((f) => !existsSync(f))).map(([pkg]) => pkg);
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { code: number; out: string } {
	const r = spawnSync(cmd, args, {
		encoding: 'utf8',
		env: env ? { ...process.env, ...env } : process.env,
	});
	return {
		code: r.status ?? -1,
		out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`,
	};
}

/** True while the process exists and is not a zombie (a killed orphan lingers until init reaps it). */
function pidAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch (e) {
		return (e as NodeJS.ErrnoException).code === 'EPERM';
	}
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

function sleepSync(ms: number): void {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readPid(file: string): number | null {
	try {
		const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
		return Number.isInteger(pid) && pid > 1 ? pid : null;
	} catch {
		return null;
	}
}

/** Kills a pid from a pid file only if it still runs the expected program (pids get reused). */
function killPidFile(file: string, program: RegExp): void {
	const pid = readPid(file);
	if (pid === null || !pidAlive(pid)) return;
	let cmdline = '';
	try {
		cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
	} catch {
		return;
	}
	if (!program.test(cmdline)) return;
	try {
		process.kill(pid, 'SIGKILL');
	} catch {
		return; // already gone
	}
	// SIGKILL is asynchronous: wait (briefly) until the process is really gone, so callers can rely on it.
	for (let waited = 0; waited < 3000 && pidAlive(pid); waited += 20) sleepSync(20);
}

/** Layout of one stack folder; short names keep unix socket paths under the 108-byte limit. */
function paths(dir: string) {
	return {
		dir,
		owner: join(dir, 'owner.pid'),
		// Kept apart: postfix check warns about anything under config_directory that root does not own.
		pfConf: join(dir, 'pf-conf'),
		pfQueue: join(dir, 'pf-q'),
		pfData: join(dir, 'pf-data'),
		pfLog: join(dir, 'postfix.log'),
		dcBase: join(dir, 'dc', 'run'),
		dcState: join(dir, 'dc', 'state'),
		dcConf: join(dir, 'dc', 'dovecot.conf'),
		dcUsers: join(dir, 'dc', 'users'),
		dcLog: join(dir, 'dovecot.log'),
		mail: join(dir, 'mail'),
	};
}

function stopLeftover(dir: string): void {
	const p = paths(dir);
	// Both masters' children notice their master is gone and exit on their own.
	killPidFile(join(p.pfQueue, 'pid', 'master.pid'), /postfix\/sbin\/master/);
	killPidFile(join(p.dcBase, 'master.pid'), /dovecot/);
}

/**
 * Removes stacks left by test processes that died without `stop()` (crash, SIGKILL). A folder whose owner process
 * still runs belongs to a parallel test run and is left alone.
 */
function cleanLeftovers(root: string): void {
	if (!existsSync(root)) return;
	for (const name of readdirSync(root)) {
		if (!name.startsWith('mailstack-')) continue;
		const dir = join(root, name);
		const owner = readPid(join(dir, 'owner.pid'));
		if (owner !== null && pidAlive(owner)) continue;
		// No owner file yet: another process may be creating this stack right now.
		if (owner === null && Date.now() - statSync(dir).mtimeMs < 60_000) continue;
		stopLeftover(dir);
		rmSync(dir, { recursive: true, force: true });
	}
}

function stackRoot(): string {
	return testServersRoot();
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, failFast?: () => string | null) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const fatal = failFast?.();
		if (fatal) throw new Error(`${what}: ${fatal}`);
		if (await probe()) return;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`${what}: not ready within ${timeoutMs} ms`);
}

async function terminate(child: ChildProcess | undefined): Promise<void> {
	if (!child || child.exitCode !== null || child.signalCode !== null) return;
	const gone = new Promise<void>((r) => child.once('exit', () => r()));
	child.kill('SIGTERM');
	const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
	await gone;
	clearTimeout(timer);
}

function idOf(kind: 'user' | 'group', name: string): number {
	const r = spawnSync('id', [kind === 'user' ? '-u' : '-g', name], {
		encoding: 'utf8',
	});
	const group = kind === 'group' ? spawnSync('getent', ['group', name], { encoding: 'utf8' }) : null;
	const value = kind === 'user' ? r.stdout : group?.stdout.split(':')[2];
	const id = Number.parseInt(value ?? '', 10);
	if (!Number.isInteger(id)) {
		throw new Error(`mail stack: Debian's postfix package creates the ${kind} "${name}", which is missing`);
	}
	return id;
}

/** The queue layout of Postfix's postfix-files (owner, group, mode), for an empty queue. */
function createPostfixQueue(p: ReturnType<typeof paths>): void {
	const owner = idOf('user', 'postfix');
	const postdrop = idOf('group', 'postdrop');
	const dirs: Array<[string, number, number, number]> = [
		[p.pfQueue, 0, 0, 0o755],
		[join(p.pfQueue, 'pid'), 0, 0, 0o755],
		[join(p.pfQueue, 'maildrop'), owner, postdrop, 0o730],
		[join(p.pfQueue, 'public'), owner, postdrop, 0o710],
		[p.pfData, owner, 0, 0o700],
		...['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold', 'incoming', 'private', 'saved', 'trace'].map(
			(d): [string, number, number, number] => [join(p.pfQueue, d), owner, 0, 0o700],
		),
	];
	for (const [dir, uid, gid, mode] of dirs) {
		mkdirSync(dir, { recursive: true });
		chownSync(dir, uid, gid);
		chmodSync(dir, mode);
	}
}

function systemUserExists(name: string): boolean {
	return spawnSync('id', ['-u', name]).status === 0;
}

function mainCf(p: ReturnType<typeof paths>, o: { smtpPort: number; domains: string[]; senderDomain: string }): string {
	return `# generated by test/helpers/mailStack.ts: a private Postfix for the end-to-end tests
compatibility_level = 3.6
queue_directory = ${p.pfQueue}
data_directory = ${p.pfData}
mail_owner = postfix
setgid_group = postdrop
maillog_file = ${p.pfLog}
maillog_file_prefixes = ${p.dir}
myhostname = mx.${o.senderDomain}
mydomain = ${o.senderDomain}
myorigin = ${o.senderDomain}
inet_interfaces = ${HOST}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = $myhostname ESMTP cadence test mail stack
smtpd_peername_lookup = no
biff = no

# No local delivery and no way out: only the test domains are routed (to Dovecot LMTP).
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:5.1.1 local delivery is disabled in the test mail stack
default_transport = error:5.7.1 delivery outside the test domains is disabled in the test mail stack
relay_transport = error:5.7.1 relay transport is disabled in the test mail stack
relay_domains = ${o.domains.join(', ')}
relay_recipient_maps =
transport_maps = texthash:${join(p.pfConf, 'transport')}
virtual_alias_maps = texthash:${join(p.pfConf, 'virtual')}
recipient_delimiter = +
# Relaying needs a test-domain recipient even from 127.0.0.1 or when authenticated (no permit_* on purpose).
smtpd_relay_restrictions = reject_unauth_destination
# SMTP AUTH (PLAIN/LOGIN, no TLS) against Dovecot's users, optional: a send node's credential test can log in.
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = ${join(p.dcBase, 'auth-postfix')}
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
# No tarpit for the tests' deliberate mistakes (wrong password, refused relay).
smtpd_error_sleep_time = 0s
smtpd_recipient_restrictions =
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
lmtp_host_lookup = native

# Fast, final answers: a 5xx from LMTP bounces at once; a 4xx is retried every second and given up quickly.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 30s
bounce_queue_lifetime = 30s
notify_classes =
`;
}

function masterCf(smtpPort: number): string {
	// chroot "n" everywhere: the daemons read the private queue directly, no copy of /etc or libs needed.
	return `# generated by test/helpers/mailStack.ts
# service type  private unpriv  chroot  wakeup  maxproc command
${HOST}:${smtpPort} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
}

function dovecotConf(
	p: ReturnType<typeof paths>,
	o: {
		imapPort: number;
		lmtpPort: number;
		smtpPort: number;
		instance: string;
		postmaster: string;
	},
): string {
	const loginUser = systemUserExists('dovenull') ? 'dovenull' : 'nobody';
	return `# generated by test/helpers/mailStack.ts: a private Dovecot for the end-to-end tests
base_dir = ${p.dcBase}
state_dir = ${p.dcState}
instance_name = ${o.instance}
log_path = ${p.dcLog}
protocols = imap lmtp
listen = ${HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# The tests try a wrong password on purpose: no 2 s penalty.
auth_failure_delay = 0
# Runs as root (CI); the login process may not, and mail is stored under a numeric uid needing no passwd entry.
default_internal_user = root
default_internal_group = root
default_login_user = ${loginUser}
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
hostname = mx.customer.test
postmaster_address = ${o.postmaster}
# outreach+KEY@ (what Postfix hands over for bounce+KEY@ / reply+KEY@) is the mailbox outreach@, INBOX.
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
# Sieve's vacation replies go back through our Postfix.
submission_host = ${HOST}:${o.smtpPort}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu ${p.dcUsers}
}
userdb {
  driver = passwd-file
  args = username_format=%Lu ${p.dcUsers}
  default_fields = uid=${MAIL_UID} gid=${MAIL_UID} home=${p.mail}/%Ld/%Ln
}
service imap-login {
  inet_listener imap {
    address = ${HOST}
    port = ${o.imapPort}
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service lmtp {
  inet_listener lmtp {
    address = ${HOST}
    port = ${o.lmtpPort}
  }
}
service anvil {
  chroot =
  # No auth penalty: after a deliberate wrong password, logins from 127.0.0.1 would be delayed for seconds.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  # Postfix's smtpd (user postfix) asks Dovecot to check SMTP AUTH passwords here.
  unix_listener auth-postfix {
    mode = 0666
  }
}
protocol lmtp {
  mail_plugins = $mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_extensions = +editheader
  # Defaults, stated because the tests depend on them: reply from <> to the envelope sender, and only when the
  # recipient's address is in To/Cc/Bcc.
  sieve_vacation_send_from_recipient = no
  sieve_vacation_dont_check_recipient = no
}
`;
}

/**
 * The vacation script. Pigeonhole never answers a message that has any List-* header (it takes it for a mailing
 * list, with no setting to change that), but tracked outreach carries List-Unsubscribe/List-Unsubscribe-Post
 * (RFC 8058) on one-to-one mail, and common autoresponders (Exchange, most hosted mail) answer it. `keep` first stores
 * the message as received; the headers are then removed only from the copy the vacation action inspects.
 */
function vacationScript(subject: string, reason: string): string {
	const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
	return `require ["vacation", "editheader"];
keep;
deleteheader "List-Unsubscribe";
deleteheader "List-Unsubscribe-Post";
vacation :days 1 :subject ${quote(subject)} ${quote(reason)};
`;
}

function parseHeaders(raw: Buffer): Record<string, string[]> {
	const text = raw.toString('latin1');
	const end = text.search(/\r?\n\r?\n/);
	const block = end < 0 ? text : text.slice(0, end);
	const headers: Record<string, string[]> = {};
	for (const field of block.split(/\r?\n(?![ \t])/)) {
		const colon = field.indexOf(':');
		if (colon <= 0) continue;
		const name = field.slice(0, colon).trim().toLowerCase();
		const value = field
			.slice(colon + 1)
			.replace(/\r?\n[ \t]+/g, ' ')
			.trim();
		(headers[name] ??= []).push(value);
	}
	return headers;
}

function toMessage(uid: number, raw: Buffer): MailStackMessage {
	const headers = parseHeaders(raw);
	const header = (name: string) => headers[name.toLowerCase()]?.[0];
	return {
		uid,
		raw,
		headers,
		header,
		subject: header('subject') ?? '',
		messageId: header('message-id') ?? '',
		contentType: (header('content-type') ?? 'text/plain').split(';')[0].trim().toLowerCase(),
	};
}

export async function startMailStack(options: MailStackOptions = {}): Promise<MailStack> {
	const started = Date.now();
	const missing = mailStackMissingPackages();
	if (missing.length > 0) throw new MailStackUnavailableError(missing);

	const mailboxes = options.mailboxes ?? DEFAULT_MAILBOXES;
	const sender = options.sender ?? 'outreach';
	const vacation = options.vacation === undefined ? 'vacation' : options.vacation;
	if (!mailboxes[sender]) throw new Error(`mail stack: sender mailbox "${sender}" is not among the mailboxes`);
	if (vacation !== null && !mailboxes[vacation]) {
		throw new Error(`mail stack: vacation mailbox "${vacation}" is not among the mailboxes`);
	}
	const senderAddress = mailboxes[sender].toLowerCase();
	const senderDomain = senderAddress.split('@')[1];
	const domains = [...new Set(Object.values(mailboxes).map((a) => a.toLowerCase().split('@')[1]))];

	const root = stackRoot();
	cleanLeftovers(root);
	const dir = join(root, `mailstack-${randomBytes(4).toString('hex')}`);
	const p = paths(dir);
	for (const d of [p.pfConf, p.pfQueue, p.dcBase, p.dcState, p.mail]) mkdirSync(d, { recursive: true });
	writeFileSync(p.owner, `${process.pid}\n`);

	const [smtpPort, imapPort, lmtpPort] = [
		options.smtpPort ?? (await freePort()),
		options.imapPort ?? (await freePort()),
		options.lmtpPort ?? (await freePort()),
	];

	const users: Record<string, MailStackMailbox> = {};
	for (const [name, address] of Object.entries(mailboxes)) {
		users[name] = {
			address: address.toLowerCase(),
			user: address.toLowerCase(),
			pass: `mailstack-${name}-pw`,
		};
	}

	// Postfix configuration.
	writeFileSync(join(p.pfConf, 'main.cf'), mainCf(p, { smtpPort, domains, senderDomain }));
	writeFileSync(join(p.pfConf, 'master.cf'), masterCf(smtpPort));
	writeFileSync(join(p.pfConf, 'transport'), domains.map((d) => `${d} lmtp:inet:${HOST}:${lmtpPort}\n`).join(''));
	const aliases = options.senderAliases ?? ['bounce', 'reply', 'postmaster'];
	writeFileSync(join(p.pfConf, 'virtual'), aliases.map((local) => `${local}@${senderDomain} ${senderAddress}\n`).join(''));

	// Postfix re-reads a table file until its mtime is older than the current second (a guard against reading a
	// half-written file): date them back so the master does not idle for up to a second.
	const past = new Date(Date.now() - 60_000);
	for (const f of ['main.cf', 'master.cf', 'transport', 'virtual']) utimesSync(join(p.pfConf, f), past, past);

	// Dovecot configuration, users and the vacation script.
	writeFileSync(
		p.dcConf,
		dovecotConf(p, {
			imapPort,
			lmtpPort,
			smtpPort,
			instance: `mailstack-${smtpPort}`,
			postmaster: `postmaster@${senderDomain}`,
		}),
	);
	writeFileSync(
		p.dcUsers,
		Object.values(users)
			.map((u) => `${u.user}:{PLAIN}${u.pass}::::::\n`)
			.join(''),
		{ mode: 0o600 },
	);
	for (const u of Object.values(users)) {
		const [local, domain] = u.address.split('@');
		mkdirSync(join(p.mail, domain, local, 'Maildir'), { recursive: true });
	}
	if (vacation !== null) {
		const [local, domain] = users[vacation].address.split('@');
		writeFileSync(
			join(p.mail, domain, local, '.dovecot.sieve'),
			vacationScript(
				options.vacationSubject ?? 'Out of office',
				options.vacationReason ?? 'I am out of the office until Monday and will read your message then.',
			),
		);
	}
	run('chown', ['-R', `${MAIL_UID}:${MAIL_UID}`, p.mail]);

	const pfEnv = { MAIL_CONFIG: p.pfConf };
	const readLog = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
	const logTail = () => `--- postfix.log ---\n${readLog(p.pfLog).slice(-3000)}\n--- dovecot.log ---\n${readLog(p.dcLog).slice(-3000)}`;

	let dovecot: ChildProcess | undefined;
	let dovecotOutput = '';
	let postfix: ChildProcess | undefined;
	let postfixOutput = '';
	let stopped = false;
	const killAllSync = () => {
		if (stopped) return;
		postfix?.kill('SIGKILL');
		dovecot?.kill('SIGKILL');
	};
	process.once('exit', killAllSync);

	try {
		dovecot = spawn('dovecot', ['-F', '-c', p.dcConf], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		dovecot.stdout?.on('data', (d) => (dovecotOutput += d));
		dovecot.stderr?.on('data', (d) => (dovecotOutput += d));
		const dc = dovecot;
		const dovecotExited = () => (dc.exitCode !== null ? `dovecot exited with ${dc.exitCode}: ${dovecotOutput}` : null);
		// Postfix's smtpd dies (and its master throttles it for a minute) if Dovecot's auth socket is not there yet.
		const authSocket = join(p.dcBase, 'auth-postfix');
		await waitFor('dovecot auth socket', 15_000, async () => existsSync(authSocket), dovecotExited);

		// Postfix's master runs in the foreground as our child (like Dovecot): `postfix start` would spend ~2 s in
		// its shell checks for a queue that was created a moment ago.
		createPostfixQueue(p);
		postfix = spawn(POSTFIX_MASTER, ['-c', p.pfConf, '-d'], {
			env: { ...process.env, ...pfEnv },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		postfix.stdout?.on('data', (d) => (postfixOutput += d));
		postfix.stderr?.on('data', (d) => (postfixOutput += d));
		const pf = postfix;
		const postfixExited = () => (pf.exitCode !== null ? `postfix master exited with ${pf.exitCode}: ${postfixOutput}` : null);

		await Promise.all([
			waitFor('postfix smtpd', 15_000, () => greets(smtpPort, /^220 .*\r?\n/m), postfixExited),
			// Dovecot first answers "Waiting for authentication process" while auth starts: wait for the real greeting.
			waitFor('dovecot imap', 15_000, () => greets(imapPort, /\* OK \[CAPABILITY/), dovecotExited),
			waitFor('dovecot lmtp', 15_000, () => greets(lmtpPort, /^220 /m), dovecotExited),
		]);
	} catch (e) {
		killAllSync();
		stopped = true;
		process.removeListener('exit', killAllSync);
		throw new Error(`${(e as Error).message}\n${logTail()}`);
	}
	const startupMs = Date.now() - started;

	const userOf = (nameOrAddress: string): MailStackMailbox => {
		const found = users[nameOrAddress] ?? Object.values(users).find((u) => u.address === nameOrAddress.toLowerCase());
		if (!found) throw new Error(`mail stack: no mailbox "${nameOrAddress}" (have ${Object.keys(users).join(', ')})`);
		return found;
	};

	const readMailbox = async (user: string, folder = 'INBOX'): Promise<MailStackMessage[]> => {
		const u = userOf(user);
		const client = new ImapFlow({
			host: HOST,
			port: imapPort,
			secure: false,
			auth: { user: u.user, pass: u.pass },
			logger: false,
		});
		await client.connect();
		try {
			const lock = await client.getMailboxLock(folder);
			try {
				const box = client.mailbox;
				if (!box || box.exists === 0) return [];
				const fetched = await client.fetchAll('1:*', {
					uid: true,
					source: true,
				});
				return fetched
					.filter((m) => m.source)
					.map((m) => toMessage(m.uid, m.source as Buffer))
					.sort((a, b) => a.uid - b.uid);
			} finally {
				lock.release();
			}
		} finally {
			await client.logout().catch(() => client.close());
		}
	};

	const queue = () => run('postqueue', ['-c', p.pfConf, '-p'], pfEnv).out.trim();

	return {
		smtp: { host: HOST, port: smtpPort },
		imap: { host: HOST, port: imapPort },
		lmtp: { host: HOST, port: lmtpPort },
		users,
		sender,
		domains,
		dir,
		startupMs,
		readMailbox,
		async waitForMessages(user, count, timeoutMs = 10_000, folder = 'INBOX') {
			const deadline = Date.now() + timeoutMs;
			let last: MailStackMessage[] = [];
			for (;;) {
				last = await readMailbox(user, folder);
				if (last.length >= count) return last;
				if (Date.now() > deadline) break;
				await new Promise((r) => setTimeout(r, 100));
			}
			throw new Error(
				`mail stack: ${user} has ${last.length} message(s) in ${folder}, expected ${count} within ${timeoutMs} ms\n` +
					`--- queue ---\n${queue()}\n${logTail()}`,
			);
		},
		queue,
		flushQueue() {
			run('postqueue', ['-c', p.pfConf, '-f'], pfEnv);
		},
		log: () => ({ postfix: readLog(p.pfLog), dovecot: readLog(p.dcLog) }),
		pids: () => {
			const alive = (pid: number | null) => (pid !== null && pidAlive(pid) ? pid : null);
			return {
				postfix: alive(readPid(join(p.pfQueue, 'pid', 'master.pid'))),
				dovecot: alive(dovecot?.pid ?? null),
			};
		},
		async stop() {
			if (stopped) return;
			stopped = true;
			process.removeListener('exit', killAllSync);
			// SIGTERM: Postfix's master and Dovecot both stop their own children; SIGKILL whatever hangs.
			await Promise.all([postfix, dovecot].map((child) => terminate(child)));
			// Belt and braces: nothing may outlive the folder it runs from.
			stopLeftover(dir);
			if (!process.env.KEEP_TEST_SERVERS) rmSync(dir, { recursive: true, force: true });
		},
	};
}
