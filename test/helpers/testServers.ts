/** Where the real servers started by the tests keep their config and data. */
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');

/** Can an unprivileged user (Postfix's daemons, Dovecot's mail uid) reach `dir`? Needs o+x on every ancestor. */
export function worldTraversable(dir: string): boolean {
	let d = resolve(dir);
	for (;;) {
		if (existsSync(d) && (statSync(d).mode & 0o001) === 0) return false;
		const up = dirname(d);
		if (up === d) return true;
		d = up;
	}
}

/**
 * The git-ignored `.test-servers/` of the repo, or a folder under the system temp dir when the clone sits somewhere
 * unprivileged users cannot enter (e.g. under /root, mode 700): the servers drop privileges and must reach their files.
 */
export function testServersRoot(): string {
	return worldTraversable(REPO_ROOT) ? join(REPO_ROOT, '.test-servers') : join(tmpdir(), 'cadence-test-servers');
}

/** A free loopback TCP port (the kernel's choice; free when this returns, so bind it soon). */
export async function freePort(): Promise<number> {
	return await new Promise((resolvePort, reject) => {
		const srv = createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const addr = srv.address();
			const port = typeof addr === 'object' && addr ? addr.port : 0;
			srv.close(() => resolvePort(port));
		});
	});
}
