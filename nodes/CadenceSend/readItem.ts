import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import {
	CadenceRenderError,
	checkCadenceEnvelope,
	checkCadenceMessage,
	type CadenceMessageInput,
	type CheckedMessage,
	type RenderTrackingOptions,
} from '../core/sendRender';
import { chooseVariant } from '../core/tracker';
import { DEFAULT_STOP_LOSS } from '../core/smtp';
import type { SmtpAccount } from './credentials';

export interface RunSettings {
	dryRun: boolean;
	concurrency: number;
	ratePerSecond: number;
	domainCap: number;
	stopLoss: { threshold: number; minimum: number } | false;
	maxRetries: number;
	retryDelayMs: number;
	inputFields: 'nest' | 'merge' | 'drop';
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

/** Node options that hold for the whole run (read from the first item). */
export function readRunSettings(ctx: IExecuteFunctions, account: SmtpAccount): RunSettings {
	const o = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const concurrency = Math.max(1, Math.min(Math.floor(Number(o.concurrency ?? 5)) || 5, account.poolSize));
	const nodeRate = Math.max(0, Number(o.ratePerSecond ?? 0) || 0);
	// The credential's rate is the account's limit: the node may go slower, never faster.
	const ratePerSecond = account.maxPerSecond > 0 && nodeRate > 0 ? Math.min(nodeRate, account.maxPerSecond) : nodeRate || account.maxPerSecond;
	const percent = Number(o.stopLossPercent ?? DEFAULT_STOP_LOSS.threshold * 100);
	const inputFields = ['nest', 'merge', 'drop'].includes(str(o.inputFields)) ? (str(o.inputFields) as RunSettings['inputFields']) : 'nest';
	return {
		dryRun: o.dryRun === true,
		concurrency,
		ratePerSecond,
		domainCap: Math.max(0, Math.floor(Number(o.domainCap ?? 20))),
		stopLoss:
			percent > 0 ? { threshold: percent / 100, minimum: Math.max(1, Math.floor(Number(o.stopLossMinimum ?? DEFAULT_STOP_LOSS.minimum))) } : false,
		maxRetries: Math.max(0, Math.floor(Number(o.maxRetries ?? 3))),
		retryDelayMs: Math.max(0, Number(o.retryDelay ?? 2)) * 1000,
		inputFields,
		inputKey: str(o.inputKey).trim() || 'contact',
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
		if (str(h.name).trim()) headers[str(h.name).trim()] = str(h.value);
	}
	const tracking: ItemHead['tracking'] = {
		openPixel: o.openTracking !== false,
		clickTracking: o.clickTracking !== false,
		listUnsubscribe: o.listUnsubscribe !== false,
		unsubscribeMailto: str(o.unsubscribeMailto),
		replyPlusAddress: str(o.replyPlusAddress),
		verpAddress: str(o.verpAddress),
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

/**
 * Reads the item's subject and bodies (its variant's, falling back to the base fields) and checks the whole
 * message. Called when the message is about to be sent, so evaluating a large HTML template overlaps with the
 * network. Throws CadenceRenderError or an expression error.
 */
export function readItemMessage(param: ParamReader, i: number, head: ItemHead): ItemMessage {
	const field = (name: 'subject' | 'html' | 'text') => {
		if (head.variantIndex >= 0) {
			const own = str(param(`variants.variant[${head.variantIndex}].${name}`, i, ''));
			if (own.trim() !== '') return own;
		}
		return str(param(name, i, ''));
	};
	const input: ItemMessage['input'] = { ...head.input, subject: field('subject'), html: field('html'), text: field('text') };
	return { input, tracking: head.tracking, checked: checkCadenceMessage(input, head.tracking) };
}
