/**
 * n8n's own built-in nodes (n8n-nodes-base) from the pinned runtime, for tests that run a template's Crypto, Set,
 * Filter or Data table node as n8n does. The runtime is installed on first use, as the end-to-end suites do.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { n8nAvailability } from './n8nInstance';

const ROOT = join(__dirname, '..', '..');

/** `require` inside the runtime's n8n-nodes-base; throws with the reason when n8n cannot be installed. */
export function baseNodesRequire(): NodeJS.Require {
	const available = n8nAvailability();
	if (!available.ok) throw new Error(available.reason);
	return createRequire(join(ROOT, '.n8n-runtime', 'node_modules', 'n8n-nodes-base', 'package.json'));
}
