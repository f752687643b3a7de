/**
 * Reading one item: what is checked for every item before any SMTP traffic (its head), and its subject and bodies,
 * read at the message's turn.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { CadenceRenderError, checkCadenceEnvelope, checkCadenceMessage, DEFAULT_TRACK_FIELD_LINKS, type UtmOptions } from '../../../core/sendRender';
import { chooseVariant } from '../../../core/tracker';
import type { BodyReader, BodyValue } from './bodyReader';
import { DEFAULT_CONTENT_MODE, readContent } from './content';
import type { SmtpAccount } from './account';
import { str, type ParamReader } from './paramReader';
import { DEFAULT_REQUIRE_UNSUBSCRIBE_LINK, DEFAULT_UTM_ENABLED } from './settings';
import type { ItemHead, ItemMessage } from './types';

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
		utm: readUtm(param, i),
		requireUnsubscribeLink: typeof o.requireUnsubscribeLink === 'boolean' ? o.requireUnsubscribeLink : DEFAULT_REQUIRE_UNSUBSCRIBE_LINK,
	};
	const checked = checkCadenceEnvelope({ from, to, replyTo: str(o.replyTo), headers }, tracking);
	// Only the names are read here (the variants' content is read when the message is rendered). With content per
	// language and segment, the variant is chosen among the contact's content rows (applyContent).
	const single = str(param('content', i, DEFAULT_CONTENT_MODE)) === DEFAULT_CONTENT_MODE;
	const raw = single ? (((ctx.getNode().parameters.variants as IDataObject | undefined)?.variant as IDataObject[] | undefined) ?? []) : [];
	const names = raw.map((_, k) => str(param(`variants.variant[${k}].name`, i, '')).trim());
	const named = names.flatMap((name, k) => (name ? [{ name, k }] : []));
	const variant = chooseVariant(
		checked.to,
		campaign,
		named.map((v) => v.name),
	);
	const variantIndex = named.find((v) => v.name === variant)?.k ?? -1;
	return { input: { from, to, campaign, batchTag, variant, replyTo: str(o.replyTo), headers }, tracking, to: checked.to, variantIndex };
}

/** The UTM Parameters option: false when turned off, else its overrides (empty ones take the defaults). */
function readUtm(param: ParamReader, i: number): UtmOptions | false {
	const u = (param('utm', i, {}) ?? {}) as IDataObject;
	if ((typeof u.enabled === 'boolean' ? u.enabled : DEFAULT_UTM_ENABLED) !== true) return false;
	return { source: str(u.source).trim(), medium: str(u.medium).trim(), campaign: str(u.campaign).trim() };
}

/**
 * Reads the item's subject and bodies (its content row's, or its variant's falling back to the base fields) and
 * checks the whole message. Called when the message is about to be sent, so evaluating a large HTML template
 * overlaps with the network. Throws CadenceRenderError or an expression error.
 */
export function readItemMessage(param: ParamReader, body: BodyReader, i: number, head: ItemHead): ItemMessage {
	if (head.content) {
		const c = readContent(param, body, i, head.content);
		return messageOf(head, c.subject, c.html, c.text);
	}
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
	return messageOf(head, subject, content('html'), content('text'));
}

function messageOf(head: ItemHead, subject: string, html: BodyValue, text: BodyValue): ItemMessage {
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
