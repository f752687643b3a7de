/**
 * Before any suite: the Debian packages of the real servers the tests start (Dovecot, Postfix, PostgreSQL, Redis,
 * Chromium, …) are installed, or the run stops with one line saying what to run. A suite is skipped for missing
 * packages only when the user asks for it with CADENCE_SKIP_SYSTEM_TESTS=1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'install-system-deps.sh');
export const SKIP_VARIABLE = 'CADENCE_SKIP_SYSTEM_TESTS';

function missingPackages(): string[] {
	return execFileSync('bash', [SCRIPT, '--check'], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
}

function canInstall(): boolean {
	if (process.getuid?.() === 0) return true;
	return spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
}

export default function setup(): void {
	if (process.env[SKIP_VARIABLE] === '1') return;
	if (spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status !== 0) {
		throw new Error(
			`npm test runs real servers from Debian packages and this is no Debian system: use Debian/Ubuntu, or set ${SKIP_VARIABLE}=1 to skip those suites`,
		);
	}
	let missing = missingPackages();
	if (missing.length === 0) return;
	if (canInstall()) {
		console.log(`[setup] installing Debian packages for the test servers: ${missing.join(' ')}`);
		const r = spawnSync('bash', [SCRIPT], { stdio: 'inherit' });
		missing = r.status === 0 ? missingPackages() : missing;
	}
	if (missing.length > 0) {
		throw new Error(
			`npm test needs Debian packages (${missing.join(' ')}): run "sudo bash scripts/install-system-deps.sh", or set ${SKIP_VARIABLE}=1 to skip the suites that need them`,
		);
	}
}
