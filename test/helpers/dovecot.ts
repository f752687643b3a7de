/**
 * A private Dovecot (Debian `dovecot-imapd`, 2.3.x) for integration tests and benches: its whole configuration,
 * sockets, logs and Maildir mailboxes live under `.test-servers/dovecot-<random>/` (git-ignored), it listens on
 * loopback only, on free ports, and it is started and stopped by the test itself.
 *
 * Running as root (CI and this machine) needs three settings Dovecot does not default to:
 * - the internal services may run as root (`default_internal_user = root`), so no `dovecot` system user is needed;
 * - the login process refuses root, so it runs as `dovenull` when the package created it, else `nobody`;
 * - Dovecot refuses mail access as uid 0, so mail is stored under a numeric uid (65534 by default) that needs no
 *   passwd entry; the harness chowns the mail folder to it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { greets } from './greeting';
import { freePort, testServersRoot } from './testServers';

export interface DovecotOptions {
	/** user → password; default `{ cadence: 'cadence-test-pw' }`. */
	users?: Record<string, string>;
	/** Fixed IMAP port (default: a free one). */
	port?: number;
	/** Also listen with implicit TLS and offer STARTTLS, with a self-signed certificate (needs `openssl`). */
	tls?: boolean;
	/** Numeric uid/gid that owns the mail (default 65534). */
	mailUid?: number;
}

export interface DovecotServer {
	host: string;
	/** Plain IMAP (STARTTLS offered when `tls`). */
	port: number;
	/** Implicit TLS port when `tls`, else 0. */
	tlsPort: number;
	users: Record<string, string>;
	/** The first user, for the common case. */
	user: string;
	password: string;
	dir: string;
	confPath: string;
	/** Runs `doveadm -c <conf> ...args`; throws with its output on a non-zero exit unless `allowFail`. */
	doveadm(args: string[], allowFail?: boolean): { code: number; stdout: string; stderr: string };
	/** Folder of a mailbox on disk (`INBOX` or a folder name, Maildir++ layout). */
	maildirOf(user: string, mailbox?: string): string;
	/**
	 * Writes messages straight into a Maildir (fast bulk fill for benches); Dovecot assigns UIDs at its next sync,
	 * in file-name order, which follows the array order.
	 */
	writeMaildir(user: string, mailbox: string, messages: Array<Buffer | string>): void;
	log(): string;
	stop(): Promise<void>;
}

export function dovecotVersion(): string | null {
	const r = spawnSync('dovecot', ['--version'], { encoding: 'utf8' });
	return r.status === 0 ? r.stdout.trim() : null;
}

function systemUserExists(name: string): boolean {
	return spawnSync('id', ['-u', name]).status === 0;
}

async function waitForGreeting(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let lastError = '';
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`dovecot exited with ${child.exitCode}`);
		// Dovecot first says "Waiting for authentication process" while auth starts: wait for the real greeting.
		const ok = await greets(port, /\* OK \[CAPABILITY/, (e) => (lastError = e.message));
		if (ok) return;
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`dovecot did not greet on port ${port} within ${timeoutMs} ms (${lastError})`);
}

function makeCertificate(dir: string): { cert: string; key: string } {
	const cert = join(dir, 'cert.pem');
	const key = join(dir, 'key.pem');
	const r = spawnSync(
		'openssl',
		['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-keyout', key, '-out', cert],
		{ encoding: 'utf8' },
	);
	if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
	return { cert, key };
}

export async function startDovecot(options: DovecotOptions = {}): Promise<DovecotServer> {
	if (!dovecotVersion()) {
		throw new Error('dovecot is not installed: apt-get install dovecot-imapd (scripts/install-system-deps.sh)');
	}
	const users = options.users ?? { cadence: 'cadence-test-pw' };
	const mailUid = options.mailUid ?? 65534;
	const dir = join(testServersRoot(), `dovecot-${randomBytes(4).toString('hex')}`);
	const mailRoot = join(dir, 'mail');
	for (const sub of ['run', 'state', 'mail']) mkdirSync(join(dir, sub), { recursive: true });
	const port = options.port ?? (await freePort());
	const tlsPort = options.tls ? await freePort() : 0;
	const loginUser = systemUserExists('dovenull') ? 'dovenull' : 'nobody';

	writeFileSync(
		join(dir, 'passwd'),
		Object.entries(users)
			.map(([u, p]) => `${u}:{PLAIN}${p}`)
			.join('\n') + '\n',
		{ mode: 0o600 },
	);
	let ssl = 'ssl = no';
	if (options.tls) {
		const { cert, key } = makeCertificate(dir);
		ssl = `ssl = yes\nssl_cert = <${cert}\nssl_key = <${key}`;
	}
	const conf = `# generated by test/helpers/dovecot.ts
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = cadence-test-${port}
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
${ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = root
default_internal_group = root
default_login_user = ${loginUser}
first_valid_uid = 1
mail_location = maildir:${mailRoot}/%u/Maildir
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${mailUid} gid=${mailUid} home=${mailRoot}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort}
  }
  chroot =
}
service anvil {
  chroot =
  # mode 0 removes the auth penalty socket: failed logins in tests then earn no growing delay.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
	const confPath = join(dir, 'dovecot.conf');
	writeFileSync(confPath, conf);
	for (const u of Object.keys(users)) mkdirSync(join(mailRoot, u, 'Maildir'), { recursive: true });
	chownTree(mailRoot, mailUid);

	const child = spawn('dovecot', ['-F', '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
	let output = '';
	child.stdout?.on('data', (d) => (output += d));
	child.stderr?.on('data', (d) => (output += d));
	const exited = new Promise<void>((r) => child.once('exit', () => r()));
	const killOnExit = () => child.kill('SIGKILL');
	process.once('exit', killOnExit);
	try {
		await waitForGreeting(port, 15_000, child);
	} catch (e) {
		child.kill('SIGKILL');
		throw new Error(`${(e as Error).message}\n${output}\n${readLog(dir)}`);
	}

	const [user, password] = Object.entries(users)[0];
	const maildirOf = (u: string, mailbox = 'INBOX') =>
		mailbox.toUpperCase() === 'INBOX' ? join(mailRoot, u, 'Maildir') : join(mailRoot, u, 'Maildir', `.${mailbox}`);
	let seq = 0;
	return {
		host: '127.0.0.1',
		port,
		tlsPort,
		users,
		user,
		password,
		dir,
		confPath,
		doveadm(args, allowFail = false) {
			const r = spawnSync('doveadm', ['-c', confPath, ...args], { encoding: 'utf8' });
			const res = { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
			if (res.code !== 0 && !allowFail) {
				throw new Error(`doveadm ${args.join(' ')} exited ${res.code}: ${res.stderr}${res.stdout}`);
			}
			return res;
		},
		maildirOf,
		writeMaildir(u, mailbox, messages) {
			const folder = maildirOf(u, mailbox);
			for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(folder, sub), { recursive: true });
			if (mailbox.toUpperCase() !== 'INBOX') writeFileSync(join(folder, 'maildirfolder'), '');
			const host = hostname().replace(/[/:]/g, '_');
			const base = Math.floor(Date.now() / 1000);
			for (const m of messages) {
				const data = typeof m === 'string' ? Buffer.from(m) : m;
				// Zero-padded sequence keeps Dovecot's scan order equal to the array order.
				const name = `${base}.M${String(seq++).padStart(8, '0')}P${process.pid}.${host},S=${data.length}:2,`;
				const file = join(folder, 'cur', name);
				writeFileSync(file, data);
				chownSync(file, mailUid, mailUid);
			}
			chownTree(folder, mailUid, false);
		},
		log: () => readLog(dir),
		async stop() {
			process.removeListener('exit', killOnExit);
			if (child.exitCode === null) {
				child.kill('SIGTERM');
				const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(timer);
			}
			if (!process.env.KEEP_TEST_SERVERS) rmSync(dir, { recursive: true, force: true });
		},
	};
}

function readLog(dir: string): string {
	const p = join(dir, 'dovecot.log');
	return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

function chownTree(path: string, uid: number, recursive = true): void {
	chownSync(path, uid, uid);
	if (!recursive) {
		for (const sub of ['cur', 'new', 'tmp']) if (existsSync(join(path, sub))) chownSync(join(path, sub), uid, uid);
		return;
	}
	spawnSync('chown', ['-R', `${uid}:${uid}`, path]);
}

export interface DropProxy {
	port: number;
	/**
	 * Cuts the next connection that streams FETCH responses: after `afterFetches` complete `* n FETCH` responses
	 * have gone to the client, the rest is withheld and both sockets are destroyed (a connection dropped mid-fetch).
	 */
	dropAfterFetches(afterFetches: number): void;
	/** Connections cut so far. */
	drops: number;
	close(): Promise<void>;
}

/** A loopback TCP proxy in front of the test server that can drop a connection in the middle of a FETCH. */
export async function startDropProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<DropProxy> {
	let armed: number | null = null;
	const sockets = new Set<import('node:net').Socket>();
	const FETCH_RE = /(?:^|\r\n)\* \d+ FETCH \(/g;
	const proxy: DropProxy = {
		port: 0,
		drops: 0,
		dropAfterFetches(n) {
			armed = n;
		},
		async close() {
			for (const s of sockets) s.destroy();
			await new Promise<void>((r) => server.close(() => r()));
		},
	};
	const server = createServer((client) => {
		const upstream = connect(targetPort, targetHost);
		sockets.add(client);
		sockets.add(upstream);
		const closeBoth = () => {
			client.destroy();
			upstream.destroy();
		};
		client.on('close', () => {
			sockets.delete(client);
			upstream.destroy();
		});
		upstream.on('close', () => {
			sockets.delete(upstream);
			client.destroy();
		});
		client.on('error', closeBoth);
		upstream.on('error', closeBoth);
		client.on('data', (d) => upstream.write(d));
		// Server → client: while armed, watch the stream for FETCH responses and cut before the (n+1)th begins.
		let watched = '';
		let forwarded = 0;
		let cutOff = false;
		upstream.on('data', (d: Buffer) => {
			if (cutOff) return;
			if (armed === null) {
				client.write(d);
				return;
			}
			watched += d.toString('latin1');
			const starts: number[] = [];
			for (const m of watched.matchAll(FETCH_RE)) starts.push(m.index! + (m[0].startsWith('\r\n') ? 2 : 0));
			if (starts.length > armed) {
				const cut = starts[armed];
				if (cut > forwarded) client.write(Buffer.from(watched.slice(forwarded, cut), 'latin1'));
				armed = null;
				cutOff = true;
				proxy.drops++;
				// Let the kept bytes reach the client before the reset.
				setTimeout(closeBoth, 50);
				return;
			}
			client.write(Buffer.from(watched.slice(forwarded), 'latin1'));
			forwarded = watched.length;
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
	const addr = server.address();
	proxy.port = typeof addr === 'object' && addr ? addr.port : 0;
	return proxy;
}

/** A logged-in IMAP client for one of the server's users, without TLS (loopback), for tests that drop mail in. */
export async function connectAppender(server: Pick<DovecotServer, 'host' | 'port'>, user: string, pass: string): Promise<ImapFlow> {
	const client = new ImapFlow({ host: server.host, port: server.port, secure: false, doSTARTTLS: false, auth: { user, pass }, logger: false });
	await client.connect();
	return client;
}
