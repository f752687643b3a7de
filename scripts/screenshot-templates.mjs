#!/usr/bin/env node
// Screenshots of the imported templates in a running `npm start` n8n (docs/templates/*.png for the README).
// Debian's Chromium, driven by playwright-core; nothing is downloaded. Usage: node scripts/screenshot-templates.mjs
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { DEFAULT_OWNER } from './cadence-setup.mjs';
import { REPO_ROOT } from './n8n-runtime.mjs';

const base = process.env.N8N_URL ?? 'http://localhost:5678';
const out = join(REPO_ROOT, 'docs', 'templates');
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
await page.goto(`${base}/signin`);
await page.fill('input[type=email], input[name=emailOrLdapLoginId], input[name=email]', DEFAULT_OWNER.email);
await page.fill('input[type=password]', DEFAULT_OWNER.password);
await page.keyboard.press('Enter');
await page.waitForURL((u) => !u.pathname.includes('signin'), { timeout: 30_000 });
const ids = process.argv.slice(2).length ? process.argv.slice(2) : ['01', '02', '03', '04', '05', '06'].map((n) => `mailCadenceTpl${n}`);
for (const id of ids) {
	const res = await page.goto(`${base}/workflow/${id}`);
	if (!res || res.status() >= 400) continue;
	await page.waitForSelector('.vue-flow__node', { timeout: 30_000 }).catch(() => {});
	await page.waitForTimeout(1500);
	await page.keyboard.press('Shift+1').catch(() => {}); // zoom to fit
	await page.waitForTimeout(800);
	await page.screenshot({ path: join(out, `${id}.png`) });
	console.log(`docs/templates/${id}.png`);
}
await browser.close();
