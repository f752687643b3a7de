/** Versions of n8n's built-in nodes (n8n-nodes-base) from the pinned runtime, for tests that run them as n8n does. */
import type { INodeType } from 'n8n-workflow';
import { baseNodesRequire } from './n8nBaseNodes';

/**
 * A loader of built-in node versions: `load('./dist/nodes/Set/Set.node.js', 'Set', 3.4)`. The runtime is checked (and
 * installed on first use) once, when the loader is made; that throws with the reason when it cannot be.
 */
export function baseNodeVersions(): (path: string, name: string, version: number) => INodeType {
	const runtimeRequire = baseNodesRequire();
	return (path, name, version) => {
		const NodeClass = runtimeRequire(path)[name];
		return new NodeClass().nodeVersions[version] as INodeType;
	};
}
