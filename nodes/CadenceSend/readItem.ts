import { randomBytes } from 'node:crypto';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import {
	CadenceRenderError,
	checkCadenceEnvelope,
	checkCadenceMessage,
	DEFAULT_TRACK_FIELD_LINKS,
	escapeHtml,
	type CadenceMessageInput,
	type CheckedMessage,
	type FieldRanges,
	type RenderTrackingOptions,
} from '../../core/sendRender';
import { chooseVariant } from '../../core/tracker';
import {
	DEFAULT_DOMAIN_CAP,
	DEFAULT_MAX_TEMPORARY_RETRIES,
	DEFAULT_POOL_SIZE,
	DEFAULT_RATE_PER_SECOND,
	DEFAULT_RETRY_BASE_MS,
	DEFAULT_STOP_LOSS_MINIMUM,
	DEFAULT_STOP_LOSS_PERCENT,
} from '../../transport/smtp';
import type { SmtpAccount } from './credentials';

/** The Retry Pause parameter is in seconds. */
export const DEFAULT_RETRY_DELAY_SECONDS = DEFAULT_RETRY_BASE_MS / 1000;
/** Where the output event keeps the input item, when it nests it. */
export const DEFAULT_INPUT_KEY = 'contact';
export const INPUT_FIELD_MODES = ['nest', 'merge', 'drop'] as const;
export const DEFAULT_INPUT_FIELDS: RunSettings['inputFields'] = 'nest';

export interface RunSettings {
	dryRun: boolean;
	concurrency: number;
	ratePerSecond: number;
	domainCap: number;
	stopLoss: { threshold: number; minimum: number } | false;
	maxRetries: number;
	retryDelayMs: number;
	inputFields: (typeof INPUT_FIELD_MODES)[number];
	inputKey: string;
}

/** What is read and checked for every item before any SMTP traffic: sender, recipient, options, the variant. */
export interface ItemHead {
	input: Omit<CadenceMessageInput, 'sentAt' | 'subject' | 'html' | 'text'>;
	tracking: Omit<RenderTrackingOptions, 'tracker'>;
	/** The recipient, normalised. */
	to: string;
	/** Index of the chosen variant in the node's variant list, -1 without variants. */
	variantIndex: number;
}

/** One item's message, read from the parameters and checked, not yet rendered (no token yet). */
export interface ItemMessage {
	input: Omit<CadenceMessageInput, 'sentAt'>;
	tracking: Omit<RenderTrackingOptions, 'tracker'>;
	checked: CheckedMessage;
}

/**
 * getNodeParameter per item, with two shortcuts that give the same values: a parameter without any expression in
 * it is read once for the run, and one that is exactly `={{ $json.field }}` (like To's and Batch Tag's defaults) is
 * read from the item. n8n resolves every other call through its expression machinery, which for thousands of items
 * costs more than rendering the mail.
 */
export type ParamReader = (name: string, i: number, fallback: unknown) => unknown;

const JSON_FIELD_EXPRESSION = /^=\{\{\s*\$json\.([A-Za-z_$][\w$]*)\s*\}\}$/;

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

/** Node options that hold for the whole run (read from the first item); an option left out takes its default. */
export function readRunSettings(ctx: IExecuteFunctions, account: SmtpAccount): RunSettings {
	const o = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const concurrency = Math.max(1, Math.min(Math.floor(Number(o.concurrency ?? DEFAULT_POOL_SIZE)) || DEFAULT_POOL_SIZE, account.poolSize));
	const nodeRate = Math.max(0, Number(o.ratePerSecond ?? DEFAULT_RATE_PER_SECOND) || 0);
	// The credential's rate is the account's limit: the node may go slower, never faster.
	const ratePerSecond = account.maxPerSecond > 0 && nodeRate > 0 ? Math.min(nodeRate, account.maxPerSecond) : nodeRate || account.maxPerSecond;
	const percent = Number(o.stopLossPercent ?? DEFAULT_STOP_LOSS_PERCENT);
	const inputFields = (INPUT_FIELD_MODES as readonly string[]).includes(str(o.inputFields)) ? (str(o.inputFields) as RunSettings['inputFields']) : DEFAULT_INPUT_FIELDS;
	return {
		dryRun: o.dryRun === true,
		concurrency,
		ratePerSecond,
		domainCap: Math.max(0, Math.floor(Number(o.domainCap ?? DEFAULT_DOMAIN_CAP))),
		// A threshold of 0 turns the stop-loss off.
		stopLoss: percent > 0 ? { threshold: percent / 100, minimum: Math.max(1, Math.floor(Number(o.stopLossMinimum ?? DEFAULT_STOP_LOSS_MINIMUM))) } : false,
		maxRetries: Math.max(0, Math.floor(Number(o.maxRetries ?? DEFAULT_MAX_TEMPORARY_RETRIES))),
		retryDelayMs: Math.max(0, Number(o.retryDelay ?? DEFAULT_RETRY_DELAY_SECONDS)) * 1000,
		inputFields,
		inputKey: str(o.inputKey).trim() || DEFAULT_INPUT_KEY,
	};
}

/**
 * Reads and checks what every item needs before sending starts: From, To, campaign, batch tag, options and the
 * variant (from the variant names only). Throws CadenceRenderError or an expression error.
 */
export function readItemHead(ctx: IExecuteFunctions, param: ParamReader, i: number, account: SmtpAccount): ItemHead {
	const from = str(param('from', i, '')).trim() || account.defaultFrom;
	if (!from) throw new CadenceRenderError('No sender: set From, or Default From in the SMTP credential', 'invalid-address');
	const to = str(param('to', i, ''));
	const campaign = str(param('campaign', i, '')).trim();
	const batchTag = str(param('batchTag', i, '')).trim();
	const o = param('options', i, {}) as IDataObject;
	const headers: Record<string, string> = {};
	for (const h of ((o.headers as IDataObject | undefined)?.header as IDataObject[] | undefined) ?? []) {
		const name = str(h.name).trim();
		// An own property whatever the name (`__proto__` too), so the check sees and refuses every bad name.
		if (name) Object.defineProperty(headers, name, { value: str(h.value), enumerable: true, writable: true, configurable: true });
	}
	const tracking: ItemHead['tracking'] = {
		openPixel: o.openTracking !== false,
		clickTracking: o.clickTracking !== false,
		listUnsubscribe: o.listUnsubscribe !== false,
		unsubscribeMailto: str(o.unsubscribeMailto),
		replyPlusAddress: str(o.replyPlusAddress),
		verpAddress: str(o.verpAddress),
		trackFieldLinks: typeof o.trackFieldLinks === 'boolean' ? o.trackFieldLinks : DEFAULT_TRACK_FIELD_LINKS,
	};
	const checked = checkCadenceEnvelope({ from, to, replyTo: str(o.replyTo), headers }, tracking);
	// Only the names are read here (the variants' content is read when the message is rendered).
	const raw = (ctx.getNode().parameters.variants as IDataObject | undefined)?.variant as IDataObject[] | undefined ?? [];
	const names = raw.map((_, k) => str(param(`variants.variant[${k}].name`, i, '')).trim());
	const named = names.flatMap((name, k) => (name ? [{ name, k }] : []));
	const variant = chooseVariant(checked.to, campaign, named.map((v) => v.name));
	const variantIndex = named.find((v) => v.name === variant)?.k ?? -1;
	return { input: { from, to, campaign, batchTag, variant, replyTo: str(o.replyTo), headers }, tracking, to: checked.to, variantIndex };
}

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

/**
 * Reads the item's subject and bodies (its variant's, falling back to the base fields) and checks the whole
 * message. Called when the message is about to be sent, so evaluating a large HTML template overlaps with the
 * network. Throws CadenceRenderError or an expression error.
 */
export function readItemMessage(param: ParamReader, body: BodyReader, i: number, head: ItemHead): ItemMessage {
	const variant = (name: string) => `variants.variant[${head.variantIndex}].${name}`;
	let subject = head.variantIndex >= 0 ? str(param(variant('subject'), i, '')) : '';
	if (subject.trim() === '') subject = str(param('subject', i, ''));
	const content = (name: 'html' | 'text'): BodyValue => {
		if (head.variantIndex >= 0) {
			const own = body(variant(name), i, name);
			if (own.text.trim() !== '') return own;
		}
		return body(name, i, name);
	};
	const html = content('html');
	const text = content('text');
	const input: ItemMessage['input'] = {
		...head.input,
		subject,
		html: html.text,
		text: text.text,
		htmlFields: html.fields,
		textFields: text.fields,
	};
	return { input, tracking: head.tracking, checked: checkCadenceMessage(input, head.tracking) };
}
