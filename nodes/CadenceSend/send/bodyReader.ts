import { randomBytes } from 'node:crypto';
import type { IExecuteFunctions } from 'n8n-workflow';
import { escapeHtml, type FieldRanges } from '../../../core/sendRender';
import { JSON_FIELD_EXPRESSION, str, type ParamReader } from './paramReader';

/** A body read for one item: its text and the ranges of it that are expression results (contact fields). */
export interface BodyValue {
	text: string;
	fields: FieldRanges;
}

/** Reads an HTML body (expression results escaped unless marked raw) or a text body (results as they are). */
export type BodyReader = (name: string, i: number, kind: 'html' | 'text') => BodyValue;

// `{{ /*raw*/ expr }}`: the expression's result goes into the HTML as it is, not escaped.
export const RAW_HTML_MARK = '/*raw*/';
const RAW_MARK = /^\s*\/\*\s*raw\s*\*\//;

type BodyPlan =
	| { kind: 'constant' }
	| { kind: 'json'; field: string }
	| { kind: 'marked'; expression: string; mark: string }
	/** An expression n8n would not split cleanly (an unclosed `{{`): its whole result counts as a field. */
	| { kind: 'opaque' };

/**
 * `{{ ... }}` spans of an n8n expression (without its leading "="), found as n8n's own expression parser finds
 * them (`\{{` and `\}}` are escaped); null when a span is not closed.
 */
function expressionSpans(template: string): Array<{ start: number; end: number; code: string }> | null {
	// An opening or closing pair right after a backslash (one that lies inside the searched part) is escaped.
	const find = (pair: string, from: number): number => {
		for (let k = template.indexOf(pair, from); k >= 0; k = template.indexOf(pair, k + 2)) {
			if (!(k > from && template.charCodeAt(k - 1) === 92)) return k;
		}
		return -1;
	};
	const spans: Array<{ start: number; end: number; code: string }> = [];
	for (let pos = 0; ; ) {
		const open = find('{{', pos);
		if (open < 0) return spans;
		const close = find('}}', open + 2);
		if (close < 0) return null;
		spans.push({ start: open, end: close + 2, code: template.slice(open + 2, close) });
		pos = close + 2;
	}
}

/**
 * Reads bodies so that what came from expressions is known. n8n resolves `{{ }}` before a node sees a value, so
 * the node evaluates the template itself, in one call per item as n8n would: the raw template gets a marker
 * (with a random per-run nonce no field value can guess) around each `{{ }}` span, and the result is split at
 * the markers. Template text is kept as written; each expression result is HTML-escaped in an HTML body unless
 * the span starts with RAW_HTML_MARK, and its range is recorded, so links inside it are not tracked unless the
 * user opts in. A body without expressions is read once per run, and `={{ $json.field }}` straight from the item.
 */
export function createBodyReader(ctx: IExecuteFunctions, param: ParamReader): BodyReader {
	const plans = new Map<string, BodyPlan>();
	const items = ctx.getInputData();
	const marker = `\uE000${randomBytes(12).toString('hex')}`;
	const planFor = (name: string): BodyPlan => {
		let plan = plans.get(name);
		if (!plan) {
			plan = planBody(ctx.getNodeParameter(name, 0, '', { rawExpressions: true }), marker);
			plans.set(name, plan);
		}
		return plan;
	};
	return (name, i, kind) => {
		const html = kind === 'html';
		const plan = planFor(name);
		if (plan.kind === 'constant') return { text: str(param(name, i, '')), fields: [] };
		if (plan.kind === 'json') return wholeField(items[i]?.json[plan.field], html);
		if (plan.kind === 'opaque') return wholeField(ctx.getNodeParameter(name, i, ''), html);
		const value = ctx.evaluateExpression(plan.expression, i);
		if (typeof value !== 'string') return wholeField(value, html);
		return splitAtMarkers(value, plan.mark, html);
	};
}

/**
 * How a body parameter is read, from its raw value: text without expressions is constant, `={{ $json.field }}`
 * comes from the item, and any other expression gets `marker` + kind (`r` raw, `f` field) before each `{{ }}` span
 * and `marker` + `e` after it.
 */
function planBody(raw: unknown, marker: string): BodyPlan {
	if (typeof raw !== 'string' || !raw.startsWith('=')) return { kind: 'constant' };
	const field = JSON_FIELD_EXPRESSION.exec(raw)?.[1];
	if (field) return { kind: 'json', field };
	const template = raw.slice(1);
	const spans = expressionSpans(template);
	if (!spans) return { kind: 'opaque' };
	const parts: string[] = [];
	let at = 0;
	for (const span of spans) {
		const kind = RAW_MARK.test(span.code) ? 'r' : 'f';
		parts.push(template.slice(at, span.start), marker, kind, template.slice(span.start, span.end), marker, 'e');
		at = span.end;
	}
	parts.push(template.slice(at));
	return { kind: 'marked', expression: parts.join(''), mark: marker };
}

/** A value that is one expression result as a whole: all of it is a field (escaped in HTML). */
function wholeField(value: unknown, html: boolean): BodyValue {
	const text = html ? escapeHtml(str(value)) : str(value);
	return { text, fields: text ? [[0, text.length]] : [] };
}

/** Splits an evaluated marked expression: template text as written, each result a field (escaped in HTML unless raw). */
function splitAtMarkers(value: string, mark: string, html: boolean): BodyValue {
	const pieces = value.split(mark);
	const out: string[] = [pieces[0]];
	const fields: Array<[number, number]> = [];
	let length = pieces[0].length;
	for (let k = 1; k < pieces.length; k++) {
		const piece = pieces[k];
		const mode = piece[0];
		let text = piece.slice(1);
		if (mode === 'f' || mode === 'r') {
			if (html && mode === 'f') text = escapeHtml(text);
			if (text) fields.push([length, length + text.length]);
		}
		out.push(text);
		length += text.length;
	}
	return { text: out.join(''), fields };
}
