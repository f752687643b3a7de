import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
	logLevel: 'error',
	resolve: {
		// n8n-core loads n8n-workflow's CommonJS build; the nodes must see the same copy, or error classes and
		// global state differ between the node under test and the execution context running it (as in n8n).
		alias: { 'n8n-workflow': require.resolve('n8n-workflow') },
	},
	test: {
		include: ['test/**/*.test.ts'],
		globalSetup: ['test/setup/systemPackages.ts'],
		exclude: ['node_modules', 'dist', '.n8n-runtime', '.test-servers'],
		testTimeout: 30_000,
		hookTimeout: 600_000,
		// Integration and e2e suites start real servers: one file at a time keeps a 2-core machine predictable.
		fileParallelism: false,
		// Under CI a JSON report per n8n version as well, so .ci/run can end with the failures when the log is long.
		reporters: process.env.CI ? ['default', 'json'] : ['default'],
		outputFile: { json: `.test-servers/vitest-${process.env.CADENCE_N8N ?? 'oldest'}.json` },
	},
});
