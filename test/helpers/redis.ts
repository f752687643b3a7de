/**
 * A private Redis (Debian `redis-server`) for the queue-mode stack: loopback only, a free port, no persistence,
 * its files under `.test-servers/redis-<random>/`, started and stopped by the test itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, testServersRoot } from './testServers';

export interface RedisServer {
	host: string;
	port: number;
	dir: string;
	log(): string;
	stop(): Promise<void>;
}

export function redisVersion(): string | null {
	const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
	return r.status === 0 ? r.stdout.trim() : null;
}

const ping = (port: number) =>
	new Promise<boolean>((done) => {
		const s = connect(port, '127.0.0.1');
		s.setTimeout(1000, () => (s.destroy(), done(false)));
		s.on('connect', () => s.write('PING\r\n'));
		s.on('data', (d) => (s.destroy(), done(d.toString().startsWith('+PONG'))));
		s.on('error', () => done(false));
	});

export async function startRedis(): Promise<RedisServer> {
	if (!redisVersion()) throw new Error('redis-server is not installed: apt-get install redis-server (scripts/install-system-deps.sh)');
	const dir = join(testServersRoot(), `redis-${randomBytes(4).toString('hex')}`);
	mkdirSync(dir, { recursive: true });
	const port = await freePort();
	const child = spawn(
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes'],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	let output = '';
	child.stdout?.on('data', (d) => (output = (output + d).slice(-100_000)));
	child.stderr?.on('data', (d) => (output = (output + d).slice(-100_000)));
	const killOnExit = () => child.kill('SIGKILL');
	process.once('exit', killOnExit);
	const deadline = Date.now() + 20_000;
	while (!(await ping(port))) {
		if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${output}`);
		if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}: ${output}`);
		await new Promise((r) => setTimeout(r, 100));
	}
	return {
		host: '127.0.0.1',
		port,
		dir,
		log: () => output,
		async stop() {
			process.removeListener('exit', killOnExit);
			if (child.exitCode === null) {
				const gone = new Promise((r) => child.once('exit', r));
				child.kill('SIGTERM');
				await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
				if (child.exitCode === null) child.kill('SIGKILL');
			}
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
