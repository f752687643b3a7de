/**
 * A private PostgreSQL (Debian `postgresql`, 15.x) for integration tests, the queue-mode stack and benches: its
 * cluster lives under `.test-servers/postgres-<random>/` (git-ignored), listens on loopback only, on a free port,
 * and is started and stopped by the test itself. Nothing of the system's own cluster is used.
 *
 * PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` system user that the Debian
 * package creates, and its programs run through `runuser`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, testServersRoot } from './testServers';

export interface PostgresServer {
	host: string;
	port: number;
	user: string;
	password: string;
	database: string;
	/** `postgres://user:password@127.0.0.1:port/database` */
	url: string;
	dir: string;
	/** Creates another database in the cluster (owned by `user`). */
	createDatabase(name: string): void;
	/** Runs SQL through psql (for set-up; tests use `pg`). Throws with psql's output on failure. */
	psql(sql: string, database?: string): string;
	log(): string;
	stop(): Promise<void>;
}

/** The directory of the Debian PostgreSQL binaries (initdb, pg_ctl), newest version first, or null. */
export function postgresBinDir(): string | null {
	const base = '/usr/lib/postgresql';
	if (!existsSync(base)) return null;
	for (const v of readdirSync(base).sort((a, b) => Number(b) - Number(a))) {
		const bin = join(base, v, 'bin');
		if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
	}
	return null;
}

const isRoot = () => process.getuid?.() === 0;

function asOwner(cmd: string, args: string[], opts: { input?: string } = {}) {
	const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
	const r = spawnSync(file, argv, { encoding: 'utf8', input: opts.input, timeout: 120_000 });
	if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
	return r.stdout;
}

export interface PostgresOptions {
	/** Database created for the tests (default `cadence`). */
	database?: string;
	/** Extra postgresql.conf lines (e.g. `max_connections = 200`). */
	settings?: string[];
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
	const bin = postgresBinDir();
	if (!bin) throw new Error('PostgreSQL is not installed: apt-get install postgresql (scripts/install-system-deps.sh)');
	const dir = join(testServersRoot(), `postgres-${randomBytes(4).toString('hex')}`);
	const data = join(dir, 'data');
	mkdirSync(dir, { recursive: true });
	const user = 'cadence';
	const password = `pw-${randomBytes(8).toString('hex')}`;
	const database = options.database ?? 'cadence';
	const pwFile = join(dir, 'pwfile');
	writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
	if (isRoot()) {
		const { uid, gid } = ownerIds();
		chownSync(dir, uid, gid);
		chownSync(pwFile, uid, gid);
	}
	asOwner(join(bin, 'initdb'), [
		'-D',
		data,
		'-U',
		user,
		'--pwfile',
		pwFile,
		'--auth-local=trust',
		'--auth-host=scram-sha-256',
		'-E',
		'UTF8',
		'--no-sync',
		'--locale=C',
	]);
	const port = await freePort();
	const conf = [
		`port = ${port}`,
		`listen_addresses = '127.0.0.1'`,
		`unix_socket_directories = '${dir}'`,
		// test data is disposable: durability costs time and nothing else here
		'fsync = off',
		'synchronous_commit = off',
		'full_page_writes = off',
		'max_connections = 200',
		'shared_buffers = 256MB',
		...(options.settings ?? []),
	];
	writeFileSync(join(data, 'postgresql.auto.conf'), `${conf.join('\n')}\n`);
	if (isRoot()) {
		const { uid, gid } = ownerIds();
		chownSync(join(data, 'postgresql.auto.conf'), uid, gid);
	}
	const logFile = join(dir, 'postgres.log');
	asOwner(join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-w', '-t', '60', 'start']);
	const killOnExit = () => {
		try {
			asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
		} catch {
			// already stopped
		}
	};
	process.once('exit', killOnExit);
	const psql = (sql: string, db = database) =>
		asOwner('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', user, '-d', db, '-At'], { input: sql });
	try {
		psql(`CREATE DATABASE "${database}"`, 'postgres');
	} catch (error) {
		killOnExit();
		throw error;
	}
	return {
		host: '127.0.0.1',
		port,
		user,
		password,
		database,
		url: `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
		dir,
		createDatabase: (name) => void psql(`CREATE DATABASE "${name}"`, 'postgres'),
		psql,
		log: () => {
			const r = spawnSync('tail', ['-n', '200', logFile], { encoding: 'utf8' });
			return r.stdout ?? '';
		},
		async stop() {
			process.removeListener('exit', killOnExit);
			try {
				asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
			} catch {
				// already stopped
			}
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

function ownerIds(): { uid: number; gid: number } {
	const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
	const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
	if (!Number.isFinite(uid) || !uid) throw new Error('the postgres system user is missing (apt-get install postgresql creates it)');
	return { uid, gid };
}
