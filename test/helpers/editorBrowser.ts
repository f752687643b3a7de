/**
 * Drives n8n's editor in Debian's Chromium (playwright-core, nothing downloaded) and reads what a user sees: canvas
 * nodes with their issue markers, and a node panel's labels and credential pickers. The selectors are the editor's
 * own test ids (n8n 2.8 editor-ui): `canvas-node` carries `data-node-name`/`data-node-type`; a node whose community
 * package is missing shows `node-not-installed`; a node with parameter, credential or unknown-type issues shows
 * `node-issues` (the red warning triangle); the panel is `ndv` with its fields in `node-parameters`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from './chromium';

export { chromiumMissing };

/** A DOM element as the page functions use it (the test build has no DOM typings; these functions run in the page). */
type Dom = any; // eslint-disable-line @typescript-eslint/no-explicit-any
export const EDITOR_SCREENSHOTS = join(__dirname, '..', '..', '.test-servers', 'editor');

export interface CanvasProblem {
	node: string;
	type: string;
	/**
	 * `not-installed`: the editor offers to install the package; `unknown-type`: n8n has no such node type (a question
	 * mark); `issues`: the red warning triangle.
	 */
	marker: 'not-installed' | 'unknown-type' | 'issues';
	/** The issue texts n8n holds for the node (what the triangle's tooltip lists), when readable. */
	issues: string[];
}

export interface CanvasNodeView {
	name: string;
	type: string;
	/** Text under the node's name on the canvas (n8n's subtitle), '' when none. */
	subtitle: string;
}

export interface PanelView {
	/** Lines of the parameters area, trimmed, required-marks removed. */
	lines: string[];
	/** Number of credential pickers shown. */
	credentialPickers: number;
	/** Text of the credentials area (labels and the selected credential names). */
	credentialsText: string;
}

export async function launchEditorBrowser(): Promise<{ browser: Browser; page: Page }> {
	const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
	const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
	mkdirSync(EDITOR_SCREENSHOTS, { recursive: true });
	return { browser, page };
}

/** Signs in through the sign-in form, as a user does. */
export async function signIn(page: Page, baseUrl: string, owner: { email: string; password: string }): Promise<void> {
	await page.goto(`${baseUrl}/signin`);
	await page.fill('input[type=email], input[name=emailOrLdapLoginId], input[name=email]', owner.email);
	await page.fill('input[type=password]', owner.password);
	await page.keyboard.press('Enter');
	await page.waitForURL((u) => !u.pathname.includes('signin'), { timeout: 30_000 });
}

/** Opens a workflow and waits until its nodes are on the canvas and the editor has computed their issues. */
export async function openWorkflow(page: Page, baseUrl: string, id: string): Promise<void> {
	await page.goto(`${baseUrl}/workflow/${id}`);
	await page.waitForSelector('[data-test-id="canvas-node"]', { timeout: 30_000 });
	// Issues are computed after the nodes render; a settle keeps the markers from being read too early (the detector's
	// negative check in the editor test reads them after the same wait).
	await page.waitForTimeout(1_200);
}

/**
 * The problems a user sees on the canvas: the detector the editor test relies on. A node whose type n8n does not know
 * is drawn with a question mark and, for a built-in type, no marker at all, so the type is also looked up in the
 * editor's node types (through the app's Pinia instance, readable in production builds).
 */
export async function canvasProblems(page: Page): Promise<CanvasProblem[]> {
	return page.evaluate(() => {
		const dom = (): Dom => (globalThis as Dom).document;
		const pinia = dom().querySelector('#app')?.__vue_app__?.config?.globalProperties?.$pinia;
		const store = (id: string): Dom => pinia?._s?.get(id);
		const workflows = store('workflows');
		const nodeTypes = store('nodeTypes');
		const storedNode = (name: string): Dom => {
			const nodes: Dom[] = workflows?.workflow?.nodes ?? workflows?.allNodes ?? [];
			return nodes.find((n) => n.name === name);
		};
		const issueTexts = (name: string): string[] => {
			const issues = storedNode(name)?.issues ?? {};
			const texts: string[] = [];
			if (issues.typeUnknown) texts.push('node type is not known');
			for (const group of ['parameters', 'credentials', 'execution', 'input']) {
				const g = issues[group];
				if (g && typeof g === 'object')
					for (const [k, v] of Object.entries(g)) texts.push(`${group}.${k}: ${Array.isArray(v) ? v.join('; ') : String(v)}`);
			}
			return texts;
		};
		const unknownType = (el: Dom, name: string, type: string): boolean => {
			const node = storedNode(name);
			if (nodeTypes?.getNodeType && node) return !nodeTypes.getNodeType(type, node.typeVersion);
			return String(el.innerText ?? '')
				.trim()
				.startsWith('?');
		};
		const out: Array<{ node: string; type: string; marker: 'not-installed' | 'unknown-type' | 'issues'; issues: string[] }> = [];
		for (const el of Array.from<Dom>(dom().querySelectorAll('[data-test-id="canvas-node"]'))) {
			const node = el.getAttribute('data-node-name') ?? '';
			const type = el.getAttribute('data-node-type') ?? '';
			if (el.querySelector('[data-test-id="node-not-installed"]')) out.push({ node, type, marker: 'not-installed', issues: issueTexts(node) });
			else if (unknownType(el, node, type)) out.push({ node, type, marker: 'unknown-type', issues: issueTexts(node) });
			else if (el.querySelector('[data-test-id="node-issues"]')) out.push({ node, type, marker: 'issues', issues: issueTexts(node) });
		}
		return out;
	});
}

/** The nodes on the canvas with their subtitles (the subtitle element carries a CSS-module class named subtitle). */
export async function canvasNodes(page: Page): Promise<CanvasNodeView[]> {
	return page.evaluate(() => {
		const dom = (): Dom => (globalThis as Dom).document;
		return Array.from<Dom>(dom().querySelectorAll('[data-test-id="canvas-node"]')).map((el) => ({
			name: el.getAttribute('data-node-name') ?? '',
			type: el.getAttribute('data-node-type') ?? '',
			subtitle: String(el.querySelector('[class*="_subtitle_"]')?.innerText ?? '').trim(),
		}));
	});
}

/** Stickies whose text is taller than the sticky (the rest is cut off or needs scrolling), by their first line. */
export async function clippedStickies(page: Page): Promise<Array<{ title: string; textHeight: number; stickyHeight: number }>> {
	return page.evaluate(() => {
		const dom = (): Dom => (globalThis as Dom).document;
		return Array.from<Dom>(dom().querySelectorAll('.n8n-sticky'))
			.map((sticky) => {
				const wrapper = sticky.firstElementChild;
				return {
					title: String(sticky.innerText ?? '')
						.trim()
						.split('\n')[0],
					textHeight: Number(wrapper?.scrollHeight ?? 0),
					stickyHeight: Number(wrapper?.clientHeight ?? 0),
				};
			})
			.filter((x) => x.textHeight > x.stickyHeight + 4);
	});
}

/** Pairs of canvas nodes (not stickies) whose boxes overlap on screen. */
export async function overlappingNodes(page: Page): Promise<Array<[string, string]>> {
	return page.evaluate(() => {
		const dom = (): Dom => (globalThis as Dom).document;
		const boxes = Array.from<Dom>(dom().querySelectorAll('[data-test-id="canvas-node"]')).map((el) => ({
			name: el.getAttribute('data-node-name') ?? '',
			r: el.getBoundingClientRect(),
		}));
		const pairs: Array<[string, string]> = [];
		for (let i = 0; i < boxes.length; i++)
			for (let j = i + 1; j < boxes.length; j++) {
				const a = boxes[i].r;
				const b = boxes[j].r;
				if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) pairs.push([boxes[i].name, boxes[j].name]);
			}
		return pairs;
	});
}

/**
 * Opens a node's panel by double-clicking it on the canvas. Returns whether something covered the node (the click
 * had to be forced), which is a layout trap of its own.
 */
export async function openPanel(page: Page, nodeName: string): Promise<{ covered: boolean }> {
	const node = page.locator(`[data-test-id="canvas-node"][data-node-name="${nodeName.replace(/"/g, '\\"')}"]`);
	let covered = false;
	try {
		await node.dblclick({ timeout: 4_000 });
	} catch {
		covered = true;
		await node.dblclick({ force: true, timeout: 4_000 });
	}
	await page.waitForSelector('[data-test-id="ndv"] [data-test-id="node-parameters"]', { timeout: 15_000 });
	await page.waitForTimeout(400);
	return { covered };
}

export async function readPanel(page: Page): Promise<PanelView> {
	return page.evaluate(() => {
		const dom = (): Dom => (globalThis as Dom).document;
		const ndv = dom().querySelector('[data-test-id="ndv"]');
		const params = ndv?.querySelector('[data-test-id="node-parameters"]') as Dom | null;
		const lines = String(params?.innerText ?? '')
			.split('\n')
			.map((l: string) => l.replace(/\s*\*\s*$/, '').trim())
			.filter(Boolean);
		const pickers = Array.from<Dom>(ndv?.querySelectorAll('[data-test-id="node-credentials-select"]') ?? []);
		const credentialsText = pickers
			.map((p) => {
				const box = p.closest('[class*="credential"]') ?? p.parentElement;
				const label = String(box?.innerText ?? '');
				const selected = String(p.querySelector('input')?.value ?? '');
				return `${label} ${selected}`.replace(/\s+/g, ' ').trim();
			})
			.join(' | ');
		return { lines, credentialsText, credentialPickers: pickers.length };
	});
}

export async function closePanel(page: Page): Promise<void> {
	const close = page.locator('[data-test-id="ndv-close-button"]');
	if (await close.count())
		await close
			.first()
			.click({ timeout: 3_000 })
			.catch(() => page.keyboard.press('Escape'));
	else await page.keyboard.press('Escape');
	await page.waitForSelector('[data-test-id="ndv"]', { state: 'detached', timeout: 5_000 }).catch(() => page.keyboard.press('Escape'));
}

export async function screenshot(page: Page, name: string): Promise<string> {
	const path = join(EDITOR_SCREENSHOTS, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
	await page.screenshot({ path });
	return path;
}

/** The expected labels the panel lacks (a label may carry a hint or a required mark after it on the same line). */
export function missingLabels(panel: PanelView, expected: string[]): string[] {
	return expected.filter((label) => !panel.lines.some((line) => line === label || line.startsWith(`${label} `) || line.startsWith(`${label}*`)));
}
