import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{ ignores: ['test/**', 'scripts/**', 'gulpfile.js', '.n8n-runtime/**', '.test-servers/**', 'vitest.config.mts'] },
	{
		rules: {
			// This is a self-hosted package: SMTP, IMAP and MIME parsing need nodemailer, imapflow and mailparser,
			// and the calendar needs luxon. n8n Cloud only installs packages without runtime dependencies, which
			// is why the rule exists; self-hosted n8n installs them with the package.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
];
