import type { INodeProperties } from 'n8n-workflow';

/** A canvas subtitle that shows the chosen operation by its display name ("Get Due Tags"), not its internal value. */
export function operationSubtitle(operation: INodeProperties): string {
	const names = Object.fromEntries((operation.options ?? []).map((o) => ['value' in o ? String(o.value) : '', o.name]));
	return `={{ ${JSON.stringify(names)}[$parameter["operation"]] }}`;
}
