/**
 * A private npm registry on loopback (verdaccio, a devDependency) for tests that let n8n install this package the
 * way users do: from a registry, by name. The registry has no uplink, so it never reaches the outside: the package
 * is published to it with `npm publish` (as a maintainer publishes to a private registry), and every package its
 * production install needs is published to it from npm's local cache (`mirrorDependencies`).
 *
 * Availability: `registryMissing()` names why verdaccio cannot run here (not installed), or returns null.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { freePort, testServersRoot } from './testServers';

const REPO_ROOT = resolve(__dirname, '..', '..');
export const VERDACCIO_SCRIPT = join(REPO_ROOT, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
/** How long verdaccio may take to answer its ping after the start. */
export const REGISTRY_START_TIMEOUT_MS = 60_000;
/** Registry publishes sent at once while mirroring (verdaccio shares the machine with n8n and the tests). */
export const MIRROR_CONCURRENCY = 4;
/** The account the registry's htpasswd auth creates for publishing. */
export const REGISTRY_USER = { name: 'cadence-publisher', password: 'cadence-registry-2026', email: 'publisher@mail-cadence.local' };

export interface LocalRegistry {
	/** http://127.0.0.1:PORT, no trailing slash (the form N8N_COMMUNITY_PACKAGES_REGISTRY takes). */
	url: string;
	/** The publisher's token (verdaccio's adduser answer). */
	token: string;
	/** The registry's folder under .test-servers/ (config, storage, htpasswd, npmrc). */
	dir: string;
	/** `npm publish <tgz>` to this registry with the publisher's token; returns npm's output. */
	publish(tgz: string): string;
	/** Publishes every registry package a production install of `tgz` needs, from npm's cache; returns how many. */
	mirrorDependencies(tgz: string): Promise<number>;
	/** The versions of `name` the registry serves (its packument), or [] when it has none. */
	versions(name: string): Promise<string[]>;
	logs(): string;
	stop(): Promise<void>;
}

/** Why verdaccio cannot run here, or null. */
export function registryMissing(): string | null {
	return existsSync(VERDACCIO_SCRIPT) ? null : `verdaccio is not installed (${VERDACCIO_SCRIPT} missing: npm install in the repo)`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An environment for npm without the npm_config_* a test runner started through npm passes down. */
function npmEnv(): NodeJS.ProcessEnv {
	return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

function runNpm(args: string[], cwd: string): string {
	const r = spawnSync('npm', args, { cwd, env: npmEnv(), encoding: 'utf8', timeout: 5 * 60_000, maxBuffer: 64 << 20 });
	if (r.error) throw new Error(`npm ${args.join(' ')}: ${r.error.message}`);
	if (r.status !== 0)
		throw new Error(`npm ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${`${r.stdout}\n${r.stderr}`.trim().slice(-3000)}`);
	return r.stdout;
}

function registryConfig(dir: string, port: number): string {
	// No uplinks and no `proxy:` on any package: a name the registry lacks is a 404, never a fetch from npmjs.
	return [
		`storage: ${JSON.stringify(join(dir, 'storage'))}`,
		'auth:',
		'  htpasswd:',
		`    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
		'    max_users: 10',
		// A cheap hash (tests only): verdaccio checks the password of the legacy token on every publish.
		'    rounds: 4',
		'uplinks: {}',
		'packages:',
		"  '@*/*':",
		'    access: $all',
		'    publish: $authenticated',
		'    unpublish: $authenticated',
		"  '**':",
		'    access: $all',
		'    publish: $authenticated',
		'    unpublish: $authenticated',
		`listen: 127.0.0.1:${port}`,
		'web:',
		'  enable: false',
		'server:',
		'  keepAliveTimeout: 60',
		'max_body_size: 200mb',
		'log:',
		'  type: stdout',
		'  format: pretty',
		'  level: warn',
		'',
	].join('\n');
}

/** Starts verdaccio on a free loopback port with a fresh storage and a publisher account. */
export async function startRegistry(): Promise<LocalRegistry> {
	const missing = registryMissing();
	if (missing) throw new Error(missing);
	const root = testServersRoot();
	mkdirSync(root, { recursive: true });
	const dir = mkdtempSync(join(root, 'verdaccio-'));
	const port = await freePort();
	const configPath = join(dir, 'config.yaml');
	writeFileSync(configPath, registryConfig(dir, port));
	const child: ChildProcess = spawn(process.execPath, [VERDACCIO_SCRIPT, '--config', configPath, '--listen', `127.0.0.1:${port}`], {
		cwd: dir,
		env: { ...npmEnv(), NODE_ENV: 'production' },
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	let output = '';
	const collect = (chunk: Buffer) => {
		output = (output + chunk.toString()).slice(-200_000);
	};
	child.stdout?.on('data', collect);
	child.stderr?.on('data', collect);
	let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
	child.on('exit', (code, signal) => {
		exited = { code, signal };
	});
	const url = `http://127.0.0.1:${port}`;
	const stop = async () => {
		if (exited || child.pid === undefined) return;
		try {
			process.kill(-child.pid, 'SIGTERM');
		} catch {
			return;
		}
		for (let i = 0; i < 50 && !exited; i++) await sleep(100);
		if (!exited) {
			try {
				process.kill(-child.pid, 'SIGKILL');
			} catch {
				// already gone
			}
		}
	};

	const deadline = Date.now() + REGISTRY_START_TIMEOUT_MS;
	for (;;) {
		const ok = await fetch(`${url}/-/ping`)
			.then((r) => r.ok)
			.catch(() => false);
		if (ok) break;
		if (exited) throw new Error(`verdaccio exited while starting:\n${output.slice(-3000)}`);
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`verdaccio did not answer ${url}/-/ping within ${REGISTRY_START_TIMEOUT_MS / 1000}s:\n${output.slice(-3000)}`);
		}
		await sleep(200);
	}

	let token: string;
	try {
		token = await addUser(url);
	} catch (error) {
		await stop();
		throw error;
	}
	const npmrc = join(dir, 'npmrc');
	writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${token}\n`);

	return {
		url,
		token,
		dir,
		publish: (tgz) =>
			runNpm(['publish', resolve(tgz), '--registry', `${url}/`, '--userconfig', npmrc, '--ignore-scripts', '--no-audit', '--loglevel=error'], dir),
		mirrorDependencies: async (tgz) => await mirrorDependencies(url, token, dir, tgz),
		versions: async (name) => {
			const r = await fetch(`${url}/${encodeName(name)}`, { headers: { accept: 'application/json' } });
			if (r.status === 404) return [];
			if (!r.ok) throw new Error(`GET ${url}/${name} answered ${r.status}`);
			return Object.keys(((await r.json()) as { versions?: Record<string, unknown> }).versions ?? {});
		},
		logs: () => output,
		stop,
	};
}

/** Creates the publisher account through the registry's CouchDB-style user endpoint; returns its token. */
async function addUser(url: string): Promise<string> {
	const r = await fetch(`${url}/-/user/org.couchdb.user:${encodeURIComponent(REGISTRY_USER.name)}`, {
		method: 'PUT',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({
			_id: `org.couchdb.user:${REGISTRY_USER.name}`,
			...REGISTRY_USER,
			type: 'user',
			roles: [],
			date: new Date().toISOString(),
		}),
	});
	const body = (await r.json().catch(() => ({}))) as { token?: string; error?: string };
	if (!r.ok || !body.token) throw new Error(`creating the registry user answered ${r.status}: ${JSON.stringify(body)}`);
	return body.token;
}

const encodeName = (name: string) => name.replace('/', '%2f');

interface LockEntry {
	version?: string;
	resolved?: string;
	integrity?: string;
	name?: string;
	link?: boolean;
}

/**
 * The registry packages a production install of `tgz` pulls in, resolved as npm resolves them (a lockfile-only
 * install, from the cache where it can), as { name, version, integrity }.
 */
function dependencyClosure(dir: string, tgz: string): Array<{ name: string; version: string; integrity: string }> {
	const work = join(dir, 'closure');
	rmSync(work, { recursive: true, force: true });
	mkdirSync(work, { recursive: true });
	writeFileSync(join(work, 'package.json'), '{ "name": "closure", "private": true }\n');
	runNpm(
		[
			'install',
			resolve(tgz),
			'--package-lock-only',
			'--omit=dev',
			'--legacy-peer-deps',
			'--prefer-offline',
			'--ignore-scripts',
			'--no-audit',
			'--no-fund',
			'--loglevel=error',
		],
		work,
	);
	const lock = JSON.parse(readFileSync(join(work, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
	const out = new Map<string, { name: string; version: string; integrity: string }>();
	for (const [path, entry] of Object.entries(lock.packages)) {
		// The root, links and the local tarball itself are not registry packages (npm may omit `resolved` for those that are).
		if (!path || entry.link || !entry.version || !entry.integrity || (entry.resolved !== undefined && !/^https?:/.test(entry.resolved))) continue;
		const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
		out.set(`${name}@${entry.version}`, { name, version: entry.version, integrity: entry.integrity });
	}
	return [...out.values()];
}

/** A tarball from npm's content-addressed cache by its integrity, or null when the cache lacks it. */
function cachedTarball(cacheDir: string, integrity: string): Buffer | null {
	for (const one of integrity.split(/\s+/)) {
		const dash = one.indexOf('-');
		const algo = one.slice(0, dash);
		const hex = Buffer.from(one.slice(dash + 1), 'base64').toString('hex');
		const file = join(cacheDir, '_cacache', 'content-v2', algo, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
		if (existsSync(file)) return readFileSync(file);
	}
	return null;
}

/** The package.json at the top folder of an npm tarball (gzip'd ustar, with pax or GNU long names). */
export function tarballManifest(tgz: Buffer): Record<string, unknown> {
	const tar = gunzipSync(tgz);
	let longName: string | null = null;
	for (let off = 0; off + 512 <= tar.length; ) {
		const header = tar.subarray(off, off + 512);
		if (header.every((b) => b === 0)) break;
		const field = (start: number, len: number) =>
			header
				.subarray(start, start + len)
				.toString('utf8')
				.replace(/\0.*$/s, '');
		const size = parseInt(field(124, 12).trim() || '0', 8);
		const type = field(156, 1);
		const prefix = field(345, 155);
		const body = tar.subarray(off + 512, off + 512 + size);
		off += 512 + Math.ceil(size / 512) * 512;
		if (type === 'x') {
			const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
			longName = path ? path[1] : null;
			continue;
		}
		if (type === 'L') {
			longName = body.toString('utf8').replace(/\0.*$/s, '');
			continue;
		}
		const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
		longName = null;
		if (/^[^/]+\/package\.json$/.test(name)) return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
	}
	throw new Error('the tarball has no package.json in its top folder');
}

function compareVersions(a: string, b: string): number {
	const parts = (v: string) => v.split(/[.+-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
	const pa = parts(a);
	const pb = parts(b);
	for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
		const x = pa[i] ?? -1;
		const y = pb[i] ?? -1;
		if (x === y) continue;
		if (typeof x === 'number' && typeof y === 'number') return x - y;
		return String(x) < String(y) ? -1 : 1;
	}
	return 0;
}

/** One version published through the registry's npm publish endpoint, as `npm publish` sends it. */
async function putVersion(url: string, token: string, tarball: Buffer, expect: { name: string; version: string }) {
	const manifest = tarballManifest(tarball);
	if (manifest.name !== expect.name || manifest.version !== expect.version) {
		throw new Error(`the cached tarball of ${expect.name}@${expect.version} holds ${String(manifest.name)}@${String(manifest.version)}`);
	}
	const file = `${expect.name}-${expect.version}.tgz`;
	const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
	const shasum = createHash('sha1').update(tarball).digest('hex');
	const body = {
		_id: expect.name,
		name: expect.name,
		'dist-tags': { latest: expect.version },
		versions: {
			[expect.version]: {
				...manifest,
				_id: `${expect.name}@${expect.version}`,
				dist: { integrity, shasum, tarball: `${url}/${expect.name}/-/${file}` },
			},
		},
		access: null,
		_attachments: { [file]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length } },
	};
	const r = await fetch(`${url}/${encodeName(expect.name)}`, {
		method: 'PUT',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
		body: JSON.stringify(body),
	});
	if (!r.ok) throw new Error(`publishing ${expect.name}@${expect.version} answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
}

async function mirrorDependencies(url: string, token: string, dir: string, tgz: string): Promise<number> {
	const closure = dependencyClosure(dir, tgz);
	const cacheDir = runNpm(['config', 'get', 'cache'], dir).trim();
	const byName = new Map<string, Array<{ name: string; version: string; integrity: string }>>();
	for (const p of closure) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
	const names = [...byName.keys()];
	// Versions of one name go in ascending order, so `latest` ends on the highest, as on npmjs.
	const publishName = async (name: string) => {
		for (const p of (byName.get(name) ?? []).sort((a, b) => compareVersions(a.version, b.version))) {
			let tarball = cachedTarball(cacheDir, p.integrity);
			if (!tarball) {
				runNpm(['cache', 'add', `${p.name}@${p.version}`, '--loglevel=error'], dir);
				tarball = cachedTarball(cacheDir, p.integrity);
			}
			if (!tarball) throw new Error(`${p.name}@${p.version} (${p.integrity}) is not in npm's cache at ${cacheDir}`);
			await putVersion(url, token, tarball, p);
		}
	};
	for (let i = 0; i < names.length; i += MIRROR_CONCURRENCY) await Promise.all(names.slice(i, i + MIRROR_CONCURRENCY).map(publishName));
	return closure.length;
}
