/**
 * The package installed the way users install it: n8n itself fetches it by name from an npm registry, here a
 * private one on loopback (verdaccio, test/helpers/registry.ts) holding the packed package and, from npm's cache,
 * everything its production install needs. Two n8n starts on one user folder:
 *
 * (a) Settings -> Community nodes -> Install, clicked in Chromium: the package and its nodes are installed, the
 *     tracking template imports with every node known and is published.
 * (b) A boot with the package recorded in n8n's database but missing on disk (a new container on an old database):
 *     N8N_REINSTALL_MISSING_PACKAGES makes n8n install it from the registry while it starts, and the published
 *     template's tracking URL answers from the reinstalled package.
 *
 * (c) Where n8n has them (2.21 and later): a new container on a new volume, N8N_COMMUNITY_PACKAGES_MANAGED_BY_ENV
 *     and N8N_COMMUNITY_PACKAGES declare the package, and n8n installs it from the registry while it starts; the
 *     tracking template then imports, publishes and records an open.
 *
 * What n8n reads (packages/cli/src/modules/community-packages/community-packages.config.ts):
 * N8N_COMMUNITY_PACKAGES_REGISTRY (default https://registry.npmjs.org; another URL needs the license feature
 * feat:communityNodes:customRegistry, community-packages.service.ts getNpmRegistry) and N8N_REINSTALL_MISSING_PACKAGES;
 * from 2.21 also the managed-by-env pair (packages/cli/src/instance-settings-loader/loaders/
 * community-packages.instance-settings-loader.ts). The license feature is granted for the test the way n8n's own e2e
 * suite does it in (a) (E2E_TESTS=true and PATCH /rest/e2e/feature), and in (b) and (c), where it must hold before the
 * server routes exist, by a preload that answers the License's isCustomNpmRegistryEnabled with true.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker } from '../../core/tracker';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../helpers/chromium';
// @ts-expect-error: plain ESM script without type declarations
import { DEFAULT_OWNER, ensureDataTables, ensureOwner, readRows } from '../../scripts/cadence-setup.mjs';
// @ts-expect-error: plain ESM script without type declarations
import { ensureN8n, N8N_DIR, N8N_VERSION, packPackage, startN8nProcess, USERS_DIR } from '../../scripts/n8n-runtime.mjs';
import { n8nAvailability, type Availability } from '../helpers/n8nInstance';
import { registryMissing, startRegistry, tarballManifest, type LocalRegistry } from '../helpers/registry';
import { freePort, testServersRoot } from '../helpers/testServers';
import { template, waitFor, type Json } from '../helpers/templates';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
	name: string;
	version: string;
	dependencies: Record<string, string>;
};
const PACKAGE = pkg.name;
const CUSTOM_REGISTRY_FEATURE = 'feat:communityNodes:customRegistry';
const USER_FOLDER = join(USERS_DIR as string, 'e2e-community-install');
/** (c): a new volume, so nothing of (a) and (b) is there. */
const ENV_USER_FOLDER = join(USERS_DIR as string, 'e2e-community-env');
const packageDir = (userFolder: string) => join(userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE);
const PACKAGE_DIR = packageDir(USER_FOLDER);
/** Whether this n8n reads N8N_COMMUNITY_PACKAGES (its configuration names the variable). */
const MANAGED_BY_ENV_CONFIG = join(N8N_DIR as string, 'node_modules', '@n8n', 'config', 'dist', 'configs', 'instance-settings-loader.config.js');
const hasManagedByEnv = () => existsSync(MANAGED_BY_ENV_CONFIG) && readFileSync(MANAGED_BY_ENV_CONFIG, 'utf8').includes("'N8N_COMMUNITY_PACKAGES'");
const SECRETS = ['community-install-secret-0123456789abcdef'];
const TRACKING_TEMPLATE = '4-tracking-events.json';
/** The production webhook id of the tracking template's trigger (its tracking URLs are `/webhook/<id>/t`). */
const TRACKING_WEBHOOK = String(
	(template('', TRACKING_TEMPLATE, 'unused').nodes as Json[]).find((n) => n.type === `${PACKAGE}.cadenceTrackingTrigger`)?.webhookId,
);

type N8nProcess = { baseUrl: string; stop(): Promise<void>; logs(): string };

/** Stops n8n and keeps its output in .test-servers/ (`phase`: a or b) for a look after a failure. */
async function stopKeepingLogs(proc: N8nProcess | undefined, phase: string) {
	if (!proc) return;
	await proc.stop();
	writeFileSync(join(testServersRoot(), `community-install-n8n-${phase}.log`), proc.logs());
}

type Rest = { get(p: string): Promise<Json>; post(p: string, b?: unknown): Promise<Json>; patch(p: string, b?: unknown): Promise<Json> };

let availability: Availability = { ok: false, reason: 'not checked' };
let registry: LocalRegistry | undefined;
let n8n: N8nProcess | undefined;
let browser: Browser | undefined;
let workflowId = '';
let phase = 'a';
let port = 0;
/** The nodes the packed package declares (a local build may leave out a node that does not compile yet). */
let packedNodes: string[] = [];

/** Loopback only: n8n's package status check (api.n8n.io) goes to a closed port; the registry is not proxied. */
const LOOPBACK_ONLY = {
	HTTPS_PROXY: 'http://127.0.0.1:9',
	https_proxy: 'http://127.0.0.1:9',
	NO_PROXY: '127.0.0.1,localhost',
	no_proxy: '127.0.0.1,localhost',
};

/**
 * Test stand-in for a license with the custom-registry feature, in force from n8n's first line (a CommonJS preload):
 * n8n's License module answers isCustomNpmRegistryEnabled() with true.
 */
const LICENSE_PRELOAD = `
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
	const exported = load.call(this, request, ...rest);
	if (/(^|[\\/])license(\\.js)?$/.test(request) && exported && Object.prototype.hasOwnProperty.call(exported, 'License')) {
		const License = exported.License;
		if (typeof License === 'function' && typeof License.prototype.isCustomNpmRegistryEnabled === 'function') {
			License.prototype.isCustomNpmRegistryEnabled = () => true;
		}
	}
	return exported;
};
`;

function unavailable(): string | null {
	availability = n8nAvailability();
	const reasons = [availability.ok ? null : availability.reason, registryMissing(), chromiumMissing()].filter((r): r is string => Boolean(r));
	if (reasons.length && process.env.CI) throw new Error(`${reasons.join('; ')} (mandatory under CI)`);
	return reasons.length ? reasons.join('; ') : null;
}

async function startN8n(env: Record<string, string>, userFolder = USER_FOLDER): Promise<N8nProcess> {
	ensureN8n({ install: false });
	return (await startN8nProcess({
		command: 'start',
		userFolder,
		// One port for both starts: the tracking credential's base URL stays this trigger's URL.
		port,
		// n8n passes --registry to `npm pack` and `npm install` but not to `npm outdated`, its update check when it
		// lists the installed packages: npm's own registry setting points that one at the same registry.
		env: { N8N_COMMUNITY_PACKAGES_REGISTRY: registry!.url, npm_config_registry: `${registry!.url}/`, ...LOOPBACK_ONLY, ...env },
		log: (m: string) => console.log(`[n8n] ${m}`),
	})) as N8nProcess;
}

/**
 * The descriptions n8n serves for a workflow's `(type, typeVersion)` pairs, by their short names (`cadenceBatch`);
 * the REST call fails when one type or version is unknown.
 */
async function nodeTypes(api: Rest, nodes: Json[]): Promise<string[]> {
	const descriptions = (await api.post('/node-types', {
		nodeInfos: nodes.map((n) => ({ name: n.type, version: n.typeVersion })),
	})) as unknown as Json[];
	return descriptions.map((d) => String(d?.name));
}

const shortNames = (nodes: Json[]) => nodes.map((n) => String(n.type).split('.').pop());

/** Writes the license preload into `userFolder` and returns the NODE_OPTIONS that load it. */
function licensePreload(userFolder: string): string {
	const preload = join(userFolder, 'license-custom-registry.cjs');
	writeFileSync(preload, LICENSE_PRELOAD);
	return `--require ${preload}`;
}

/** Imports the tracking template with a Cadence Tracking credential for `baseUrl` and publishes it; returns its id. */
async function publishTrackingTemplate(api: Rest, baseUrl: string): Promise<string> {
	await ensureDataTables(api);
	const wf = template('', TRACKING_TEMPLATE, 'unused');
	const nodes = wf.nodes as Json[];
	const packageNodes = nodes.filter((n) => String(n.type).startsWith(`${PACKAGE}.`));
	expect(packageNodes.length).toBeGreaterThan(0);
	expect(await nodeTypes(api, nodes)).toEqual(shortNames(nodes));

	const credential = await api.post('/credentials', {
		name: 'Cadence Tracking',
		type: 'cadenceTrackingApi',
		data: { baseUrl: `${baseUrl}/webhook/${TRACKING_WEBHOOK}/t`, secrets: SECRETS.join('\n'), maxAgeDays: 90 },
	});
	for (const n of nodes) if (n.credentials?.cadenceTrackingApi) n.credentials.cadenceTrackingApi = { id: credential.id, name: credential.name };
	const created = await api.post('/workflows', { name: wf.name, nodes, connections: wf.connections, settings: wf.settings });
	const published = await api.post(`/workflows/${String(created.id)}/activate`, { versionId: created.versionId });
	expect(published.active).toBe(true);
	return String(created.id);
}

/** A signed open of the published tracking template answers a pixel, and the template writes the `opened` row. */
async function expectTrackedOpen(baseUrl: string, campaign: string): Promise<void> {
	const tracker = createTracker({ secrets: SECRETS, baseUrl: `${baseUrl}/webhook/${TRACKING_WEBHOOK}/t` });
	const email = `reader-${campaign}@customer.test`;
	const url = tracker.openUrl({ email, campaign, batchTag: 'English-Dealers-Marketing01', variant: 'A', sentAt: Date.now() - 60_000 });
	// n8n 2.41 registers a workflow published through the REST API a moment after answering: 404 until then.
	const res = await waitFor('the tracking webhook', async () => {
		const r = await fetch(url);
		if (r.status !== 404) return r;
		await r.arrayBuffer();
		return undefined;
	});
	expect(res.status).toBe(200);
	expect(res.headers.get('content-type')).toMatch(/^image\//);
	const api = (await ensureOwner(baseUrl)) as Rest;
	const { projectId, ids } = (await ensureDataTables(api)) as { projectId: string; ids: Record<string, string> };
	const opened = await waitFor('the open event row', async () =>
		((await readRows(api, projectId, ids.events)) as Json[]).find((r) => r.type === 'opened' && r.email === email),
	);
	expect(opened.campaign).toBe(campaign);
}

describe('installed from a registry by n8n itself', () => {
	let skipReason: string | null = null;

	beforeAll(async () => {
		skipReason = unavailable();
		if (skipReason) {
			console.warn(`SKIPPED community install e2e: ${skipReason}`);
			return;
		}
		registry = await startRegistry();
		const tgz = packPackage({ log: (m: string) => console.log(`[pack] ${m}`) }) as string;
		packedNodes = (tarballManifest(readFileSync(tgz)).n8n as { nodes: string[] }).nodes;
		await registry.mirrorDependencies(tgz);
		registry.publish(tgz);
		port = await freePort();
		rmSync(USER_FOLDER, { recursive: true, force: true });
		mkdirSync(USER_FOLDER, { recursive: true });
		n8n = await startN8n({ E2E_TESTS: 'true' });
	});

	afterAll(async () => {
		await browser?.close();
		await stopKeepingLogs(n8n, phase);
		await registry?.stop();
		if (registry && !process.env.KEEP_TEST_SERVERS) rmSync(registry.dir, { recursive: true, force: true });
	});

	const live = (ctx: { skip: (note?: string) => void }) => {
		if (skipReason) ctx.skip(skipReason);
		return { n8n: n8n!, registry: registry! };
	};

	it('the registry serves the package and its dependencies, and never fetches from outside', async (ctx) => {
		const { registry } = live(ctx);
		expect(await registry.versions(PACKAGE)).toEqual([pkg.version]);
		for (const dependency of Object.keys(pkg.dependencies)) expect(await registry.versions(dependency), dependency).not.toEqual([]);
		// No uplink: a package nobody published here is unknown, not proxied from npmjs.
		expect(await registry.versions('left-pad')).toEqual([]);
	});

	it('n8n refuses a private registry without the license feature, and installs nothing', async (ctx) => {
		const { n8n } = live(ctx);
		const api = (await ensureOwner(n8n.baseUrl)) as Rest;
		const refused = await api.post('/community-packages', { name: PACKAGE }).then(
			() => null,
			(e: Error) => e,
		);
		expect(refused?.message).toContain(CUSTOM_REGISTRY_FEATURE);
		expect(existsSync(PACKAGE_DIR)).toBe(false);
		// n8n's own e2e switch for license features (routes mounted with E2E_TESTS=true).
		const r = await fetch(`${n8n.baseUrl}/rest/e2e/feature`, {
			method: 'PATCH',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ feature: CUSTOM_REGISTRY_FEATURE, enabled: true }),
		});
		expect(r.status).toBe(200);
	});

	it('(a) Settings -> Community nodes -> Install in Chromium installs it from the registry', async (ctx) => {
		const { n8n } = live(ctx);
		browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
		const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
		try {
			await page.goto(`${n8n.baseUrl}/signin`);
			await page.locator('input[name="emailOrLdapLoginId"]').fill(DEFAULT_OWNER.email);
			await page.locator('input[name="password"]').fill(DEFAULT_OWNER.password);
			await page.locator('[data-test-id="form-submit-button"]').click();
			await page.waitForURL((url) => !url.pathname.includes('signin'), { timeout: 30_000 });
			await page.goto(`${n8n.baseUrl}/settings/community-nodes`);
			await page
				.getByRole('button', { name: /install/i })
				.first()
				.click();
			await page.locator('[data-test-id="package-name-input"] input, input[data-test-id="package-name-input"]').first().fill(PACKAGE);
			await page.locator('[data-test-id="user-agreement-checkbox"]').click();
			await page.locator('[data-test-id="install-community-package-button"]').click();
			await page.locator('[data-test-id="community-package-card"]', { hasText: PACKAGE }).waitFor({ timeout: 150_000 });
		} catch (error) {
			await page.screenshot({ path: join(testServersRoot(), 'community-install-failure.png'), fullPage: true }).catch(() => {});
			throw error;
		}

		const api = (await ensureOwner(n8n.baseUrl)) as Rest;
		const installed = (await api.get('/community-packages')) as unknown as Json[];
		expect(installed.map((p) => [p.packageName, p.installedVersion])).toEqual([[PACKAGE, pkg.version]]);
		expect(installed[0].installedNodes).toHaveLength(packedNodes.length);
		// Installed where n8n keeps community packages, with its dependencies, all from the registry.
		expect(JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')).version).toBe(pkg.version);
		expect(existsSync(join(PACKAGE_DIR, 'node_modules', 'nodemailer', 'package.json'))).toBe(true);
		expect(n8n.logs()).toContain(`Community package installed: ${PACKAGE}`);
	}, 240_000);

	it('(a) the tracking template imports with every node known, and publishes', async (ctx) => {
		const { n8n } = live(ctx);
		workflowId = await publishTrackingTemplate((await ensureOwner(n8n.baseUrl)) as Rest, n8n.baseUrl);
	}, 60_000);

	it('(b) at boot, N8N_REINSTALL_MISSING_PACKAGES installs it from the registry again', async (ctx) => {
		live(ctx);
		await stopKeepingLogs(n8n, 'a');
		phase = 'b';
		// A new container on the old database: the package is recorded as installed but its files are gone.
		rmSync(PACKAGE_DIR, { recursive: true, force: true });
		n8n = await startN8n({ N8N_REINSTALL_MISSING_PACKAGES: 'true', NODE_OPTIONS: licensePreload(USER_FOLDER) });
		const logs = n8n.logs();
		expect(logs).toContain('Attempting to reinstall missing packages');
		expect(logs).toContain(`Community package installed: ${PACKAGE}`);
		expect(logs).not.toContain('Failed to reinstall community package');
		expect(JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')).version).toBe(pkg.version);

		const api = (await ensureOwner(n8n.baseUrl)) as Rest;
		const wf = template('', TRACKING_TEMPLATE, 'unused');
		expect(await nodeTypes(api, wf.nodes as Json[])).toEqual(shortNames(wf.nodes as Json[]));
		expect((await api.get(`/workflows/${workflowId}`)).active).toBe(true);
	}, 240_000);

	it('(b) the reinstalled package answers a signed tracking URL and the template records the open', async (ctx) => {
		const { n8n } = live(ctx);
		await expectTrackedOpen(n8n.baseUrl, 'community-reinstall');
	}, 90_000);

	it.skipIf(!hasManagedByEnv())(
		`(c) a new volume: N8N_COMMUNITY_PACKAGES makes n8n ${N8N_VERSION} install it at start; the template records an open`,
		async (ctx) => {
			live(ctx);
			await stopKeepingLogs(n8n, 'b');
			phase = 'c';
			const newVolume = () => {
				rmSync(ENV_USER_FOLDER, { recursive: true, force: true });
				mkdirSync(ENV_USER_FOLDER, { recursive: true });
				return {
					N8N_COMMUNITY_PACKAGES_MANAGED_BY_ENV: 'true',
					N8N_COMMUNITY_PACKAGES: JSON.stringify([{ name: PACKAGE, version: pkg.version }]),
					NODE_OPTIONS: licensePreload(ENV_USER_FOLDER),
				};
			};
			// Unverified packages off (n8n 3.0's announced default): this package has no vetted checksum, so n8n
			// refuses to start rather than start without it.
			await expect(startN8n({ ...newVolume(), N8N_UNVERIFIED_PACKAGES_ENABLED: 'false' }, ENV_USER_FOLDER)).rejects.toThrow(
				`no checksum available for '${PACKAGE}@${pkg.version}' and unverified packages are disabled`,
			);
			expect(existsSync(packageDir(ENV_USER_FOLDER))).toBe(false);
			n8n = await startN8n(newVolume(), ENV_USER_FOLDER);
			expect(n8n.logs()).toContain(`Installed community package '${PACKAGE}@${pkg.version}' from env`);
			expect(JSON.parse(readFileSync(join(packageDir(ENV_USER_FOLDER), 'package.json'), 'utf8')).version).toBe(pkg.version);
			const api = (await ensureOwner(n8n.baseUrl)) as Rest;
			const installed = (await api.get('/community-packages')) as unknown as Json[];
			expect(installed.map((p) => [p.packageName, p.installedVersion])).toEqual([[PACKAGE, pkg.version]]);
			await publishTrackingTemplate(api, n8n.baseUrl);
			await expectTrackedOpen(n8n.baseUrl, 'community-env');
		},
		240_000,
	);
});
