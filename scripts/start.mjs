#!/usr/bin/env node
// `npm start`: n8n with this package and its templates, on http://localhost:5678, from a fresh clone.
//  1. installs the repo's npm dependencies if they are missing, and the pinned n8n once (.n8n-runtime/, git-ignored)
//  2. builds and packs this package and installs the tarball into the user folder's .n8n/nodes, exactly as n8n's
//     community-package install does, so node types have their production names (n8n-nodes-mail-cadence.*)
//  3. on the first start only: imports every template (unpublished) and a Cadence Tracking credential
//  4. starts n8n, creates the owner account (no setup wizard), the data tables and sample contacts
// A second `npm start` reuses everything (cached n8n, cached package build, same user folder): seconds.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_OWNER, countRows, ensureDataTables, ensureOwner, insertRows, sampleContacts } from './cadence-setup.mjs';

// The newest tested n8n, the one users run, unless CADENCE_N8N names another (oldest, or a version). Set before the
// runtime module loads, because the version fixes its folders.
process.env.CADENCE_N8N ||= 'latest';
const { N8N_DIR, N8N_VERSION, REPO_ROOT, ensureN8n, n8nCommand, n8nEnv, packPackage, installPackage, startN8n } = await import('./n8n-runtime.mjs');

const PORT = Number(process.env.N8N_PORT ?? 5678);
const BROKER_PORT = Number(process.env.N8N_RUNNERS_BROKER_PORT ?? 5679);
// One home per n8n version: a database migrated by a newer n8n cannot be opened by an older one.
const USER_FOLDER = process.env.MAIL_CADENCE_USER_FOLDER ?? join(N8N_DIR, 'home');
// The workflows' day (caps, due batches, the report) is this zone's: the user's setting, else this machine's.
const TIME_ZONE = process.env.GENERIC_TIMEZONE || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const PUBLIC_URL = process.env.WEBHOOK_URL ?? `http://localhost:${PORT}/`;
const log = (m) => console.log(`[start] ${m}`);
const started = Date.now();

/** Stable ids for the templates, so a re-import updates instead of duplicating. */
export function templateId(file) {
	const n = file.match(/^(\d+)/)?.[1] ?? '0';
	return `mailCadenceTpl${n.padStart(2, '0')}`;
}

const TEMPLATES_DIR = join(REPO_ROOT, 'workflows');
const templateFiles = () =>
	readdirSync(TEMPLATES_DIR)
		.filter((f) => f.endsWith('.json'))
		.sort();

function loadTemplates() {
	return templateFiles().map((file) => ({ ...JSON.parse(readFileSync(join(TEMPLATES_DIR, file), 'utf8')), id: templateId(file), active: false }));
}

function n8n(args) {
	n8nCommand(args, {
		env: n8nEnv({ userFolder: USER_FOLDER, port: PORT, brokerPort: BROKER_PORT, env: { WEBHOOK_URL: PUBLIC_URL, GENERIC_TIMEZONE: TIME_ZONE } }),
		log,
	});
}

async function main() {
	if (!existsSync(join(REPO_ROOT, 'node_modules', '.package-lock.json'))) {
		log('installing npm dependencies');
		const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: REPO_ROOT, stdio: 'inherit' });
		if (r.status !== 0) process.exit(r.status ?? 1);
	}
	log(`n8n ${N8N_VERSION} (installed once into .n8n-runtime/; the first time takes several minutes; CADENCE_N8N=oldest for the oldest supported)`);
	ensureN8n({ log });
	log('building and packing the package');
	const tgz = packPackage({ log });
	mkdirSync(USER_FOLDER, { recursive: true });
	installPackage(USER_FOLDER, tgz, { log });

	const marker = join(USER_FOLDER, '.templates-imported');
	if (!existsSync(marker)) {
		const templates = loadTemplates();
		const importDir = join(USER_FOLDER, 'import');
		mkdirSync(importDir, { recursive: true });
		const trackingWebhook = templates.flatMap((t) => t.nodes).find((n) => n.type.endsWith('.cadenceTrackingTrigger'));
		const credentials = [
			{
				id: 'mailCadenceTrack',
				name: 'Cadence Tracking',
				type: 'cadenceTrackingApi',
				// The secret is made here and stored encrypted by n8n; the base URL is the tracking template's webhook.
				data: {
					baseUrl: `${PUBLIC_URL}webhook/${trackingWebhook?.webhookId ?? ''}/t`,
					secrets: randomBytes(32).toString('base64url'),
					maxAgeDays: 0,
				},
			},
		];
		writeFileSync(join(importDir, 'credentials.json'), JSON.stringify(credentials));
		n8n(['import:credentials', `--input=${join(importDir, 'credentials.json')}`]);
		writeFileSync(join(importDir, 'workflows.json'), JSON.stringify(templates));
		n8n(['import:workflow', `--input=${join(importDir, 'workflows.json')}`]);
		writeFileSync(marker, new Date().toISOString());
		log(`imported ${templates.length} templates (unpublished) and the Cadence Tracking credential`);
	}

	const instance = await startN8n({
		userFolder: USER_FOLDER,
		port: PORT,
		brokerPort: BROKER_PORT,
		// Data tables claim no cap atomically: the day's caps hold when scheduled executions run one at a time.
		env: {
			WEBHOOK_URL: PUBLIC_URL,
			GENERIC_TIMEZONE: TIME_ZONE,
			N8N_LOG_LEVEL: 'info',
			N8N_CONCURRENCY_PRODUCTION_LIMIT: process.env.N8N_CONCURRENCY_PRODUCTION_LIMIT ?? '1',
		},
		log,
	});
	const stop = async () => {
		log('stopping n8n');
		await instance.stop();
		process.exit(0);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);

	const api = await ensureOwner(instance.baseUrl);
	const { projectId, ids } = await ensureDataTables(api);
	if ((await countRows(api, projectId, ids.contacts)) === 0) {
		const rows = sampleContacts();
		await insertRows(api, projectId, ids.contacts, rows);
		log(`seeded ${rows.length} sample contacts`);
	}
	console.log(`
  n8n ${N8N_VERSION} with n8n-nodes-mail-cadence is running (ready in ${((Date.now() - started) / 1000).toFixed(0)} s)

    URL:       http://localhost:${PORT}/
    Login:     ${DEFAULT_OWNER.email}
    Password:  ${DEFAULT_OWNER.password}

  Next steps
    1. Workflows: the ${templateFiles().length} "Mail Cadence" templates are imported, unpublished. Open each one; its sticky note
       explains the set-up.
    2. Credentials: add "Cadence SMTP" (your sending server) and "Cadence IMAP" (the sender mailbox).
       "Cadence Tracking" exists with a fresh secret; its base URL is the tracking template's webhook URL.
       Behind a proxy, start with WEBHOOK_URL=https://your.domain/ so tracking links point there.
    3. Data tables: ${Object.keys(ids).join(', ')} (contacts: ${ids.contacts}). Import your contacts with template 1.
  Ctrl-C stops n8n. Data stays in ${USER_FOLDER}.
`);
}

main().catch((error) => {
	console.error(`[start] ${error.stack ?? error}`);
	process.exit(1);
});
