/**
 * n8n's Docker image is Alpine (musl) on amd64 and arm64: a package that loads a platform binary works on the
 * developer's machine and fails there. The runtime dependency tree (what users install) must hold no native addon,
 * no native build step and no platform-only package.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');

function runtimePackages(): string[] {
	const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
	return out
		.split('\n')
		.map((l) => l.trim())
		.filter((l) => l && resolve(l) !== root);
}

/** Files of one package, not descending into its own node_modules (those are packages of their own in the list). */
function filesOf(dir: string, out: string[] = []): string[] {
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		if (entry.name === 'node_modules') continue;
		const path = join(dir, entry.name);
		if (entry.isDirectory()) filesOf(path, out);
		else out.push(path);
	}
	return out;
}

describe('the runtime dependency tree', () => {
	const packages = runtimePackages();

	it('is listed (the check would pass vacuously otherwise)', () => {
		expect(packages.length).toBeGreaterThan(10);
		expect(packages.some((p) => p.endsWith(join('node_modules', 'nodemailer')))).toBe(true);
	});

	it('holds no native addon, native build step or platform-only package', () => {
		const problems: string[] = [];
		for (const dir of packages) {
			const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
			if (manifest.os || manifest.cpu) problems.push(`${manifest.name}: platform-only (os/cpu in package.json)`);
			if (existsSync(join(dir, 'binding.gyp'))) problems.push(`${manifest.name}: builds a native addon (binding.gyp)`);
			for (const file of filesOf(dir)) if (file.endsWith('.node')) problems.push(`${manifest.name}: ships ${file.slice(dir.length + 1)}`);
		}
		expect(problems).toEqual([]);
	});
});
