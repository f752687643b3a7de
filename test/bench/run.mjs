#!/usr/bin/env node
// Runs every benchmark under test/bench (files named *.bench.ts), one process each so one bench's heap and
// sockets cannot skew the next. Each bench prints its own figures and writes bench-results/<name>.json.
// `npm run bench -- send views` runs only the benches whose names contain one of the words.
import { spawnSync } from 'node:child_process';
import { readdirSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const filters = process.argv.slice(2);
const benches = readdirSync(here)
	.filter((f) => f.endsWith('.bench.ts'))
	.filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
	.sort();
mkdirSync(join(root, 'bench-results'), { recursive: true });
let failed = 0;
for (const file of benches) {
	console.log(`\n=== ${file}`);
	const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, file)], {
		cwd: root,
		stdio: 'inherit',
	});
	if (r.status !== 0) {
		failed++;
		console.log(`!!! ${file} exited with ${r.status ?? r.signal}`);
	}
}
process.exit(failed ? 1 : 0);
