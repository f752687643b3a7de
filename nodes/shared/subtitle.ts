import type { INodeProperties } from 'n8n-workflow';

/** A canvas subtitle that shows the chosen operation by its display name ("Get Due Tags"), not its internal value. */
export function operationSubtitle(operation: INodeProperties): string {
	const names = Object.fromEntries((operation.options ?? []).map((o) => ['value' in o ? String(o.value) : '', o.name]));
	return `={{ ${JSON.stringify(names)}[$parameter["operation"]] }}`;
}

/** A canvas subtitle naming the chosen values of a multi-option field ("by Campaign, Batch Tag"), or `none` when empty. */
export function multiOptionsSubtitle(field: INodeProperties, prefix: string, none: string): string {
	const names = Object.fromEntries((field.options ?? []).map((o) => ['value' in o ? String(o.value) : '', o.name]));
	const pick = `($parameter["${field.name}"] || []).map((v) => (${JSON.stringify(names)})[v] || v).join(", ")`;
	return `={{ ${JSON.stringify(prefix)} + (${pick} || ${JSON.stringify(none)}) }}`;
}
