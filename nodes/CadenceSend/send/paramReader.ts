import type { IExecuteFunctions } from 'n8n-workflow';

/**
 * getNodeParameter per item, with two shortcuts that give the same values: a parameter without any expression in
 * it is read once for the run, and one that is exactly `={{ $json.field }}` (like To's and Batch Tag's defaults) is
 * read from the item. n8n resolves every other call through its expression machinery, which for thousands of items
 * costs more than rendering the mail.
 */
export type ParamReader = (name: string, i: number, fallback: unknown) => unknown;

/** A parameter that is exactly `={{ $json.field }}`; the group is the field's name. */
export const JSON_FIELD_EXPRESSION = /^=\{\{\s*\$json\.([A-Za-z_$][\w$]*)\s*\}\}$/;

function hasExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (Array.isArray(value)) return value.some(hasExpression);
	if (value && typeof value === 'object') return Object.values(value).some(hasExpression);
	return false;
}

/** `defaults`: the node's top-level parameter defaults (a parameter left at its default is absent from the node). */
export function createParamReader(ctx: IExecuteFunctions, defaults: Record<string, unknown>): ParamReader {
	const raw = ctx.getNode().parameters;
	const items = ctx.getInputData();
	const constant = new Map<string, unknown>();
	return (name, i, fallback) => {
		const top = name.split(/[.[]/)[0];
		const value = raw[top] ?? defaults[top];
		if (top === name && typeof value === 'string') {
			const field = JSON_FIELD_EXPRESSION.exec(value)?.[1];
			if (field) return items[i]?.json[field] ?? fallback;
		}
		if (value === undefined || hasExpression(value)) return ctx.getNodeParameter(name, i, fallback);
		if (!constant.has(name)) constant.set(name, ctx.getNodeParameter(name, 0, fallback));
		return constant.get(name);
	};
}

export function str(value: unknown): string {
	return value === undefined || value === null ? '' : String(value);
}
