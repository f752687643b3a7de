/**
 * The sender mailboxes of a run: the one SMTP account, or the mailboxes of a sender pool. A mailbox is known by
 * its From address (lower case): events carry it, and its daily cap, warm-up and breaker are counted per address.
 */
import { NodeOperationError, type ICredentialDataDecryptedObject, type IExecuteFunctions } from 'n8n-workflow';
import { parseMailbox } from '../../../core/sendRender';
import { DEFAULT_ACCOUNT_DAILY_CAP, DEFAULT_MAILBOX_DAILY_CAP, parseMailboxLimits, type MailboxLimits } from '../../../core/senderProtection';
import { DEFAULT_POOL_SIZE, DEFAULT_RATE_PER_SECOND, DEFAULT_SMTP_TLS, type SmtpTlsMode } from '../../../transport/smtp';
import { dkimFromFields, smtpAccountFromCredentials, type SmtpAccount } from './account';

/** Which credential the Send node sends through. */
export const SENDER_SOURCES = ['account', 'pool'] as const;
export type SenderSource = (typeof SENDER_SOURCES)[number];
export const DEFAULT_SENDER_SOURCE: SenderSource = 'account';
/** Most mailboxes one pool may hold: each may open its own connections. */
export const MAX_POOL_MAILBOXES = 200;

export interface Mailbox extends SmtpAccount {
	/** The From address, lower case: the mailbox's identity in events and counts. */
	id: string;
	/** The sending domain (domain of the From address): the breaker also counts per domain. */
	domain: string;
	/** From as written (with a name); empty for the single account, whose From comes from each item. */
	from: string;
	limits: MailboxLimits;
	replyTo?: string;
	replyPlusAddress?: string;
	verpAddress?: string;
}

/** What the single SMTP account adds to the account: its cap and warm-up, for every From address it sends as. */
export function accountLimits(c: ICredentialDataDecryptedObject): MailboxLimits {
	return parseMailboxLimits({ dailyCap: c.dailyCap ?? DEFAULT_ACCOUNT_DAILY_CAP, warmupStart: c.warmupStart ?? '' });
}

/** A fault in the pool's mailbox list; the node and the credential test each say it in their own way. */
export class SenderPoolError extends Error {}

/** The result of `read`, or a SenderPoolError that says where the fault is and what it is. */
function attempt<T>(read: () => T, where: string): T {
	let problem: string;
	try {
		return read();
	} catch (error) {
		problem = (error as Error).message;
	}
	throw new SenderPoolError(`${where}: ${problem}`);
}

const DKIM_FIELDS = ['dkimDomain', 'dkimSelector', 'dkimPrivateKey'] as const;
const TLS: readonly SmtpTlsMode[] = ['implicit', 'starttls', 'none'];
const text = (v: unknown) => (typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v).trim());

/** The mailboxes of a sender pool credential; any fault names the mailbox and what to fix. Throws Error. */
export function mailboxesFromPool(c: ICredentialDataDecryptedObject): Mailbox[] {
	const list =
		typeof c.mailboxes === 'string' ? attempt(() => JSON.parse(c.mailboxes as string) as unknown, 'Mailboxes is not valid JSON') : c.mailboxes;
	if (!Array.isArray(list) || list.length === 0) throw new SenderPoolError('Mailboxes must be a JSON list with at least one mailbox');
	if (list.length > MAX_POOL_MAILBOXES) throw new SenderPoolError(`Mailboxes holds ${list.length} mailboxes; at most ${MAX_POOL_MAILBOXES}`);
	const defaults = smtpAccountFromCredentials(c);
	const poolDkim = dkimFromFields(c);
	const seen = new Set<string>();
	return list.map((raw, k) => {
		const where = `Mailbox ${k + 1}`;
		if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SenderPoolError(`${where} is not an object`);
		const m = raw as Record<string, unknown>;
		const from = attempt(() => parseMailbox(text(m.from), 'From'), where);
		const id = from.address.toLowerCase();
		if (seen.has(id)) throw new SenderPoolError(`${where}: ${id} is in the pool twice`);
		seen.add(id);
		const limits: MailboxLimits = attempt(
			() => parseMailboxLimits({ dailyCap: m.dailyCap ?? DEFAULT_MAILBOX_DAILY_CAP, warmupStart: m.warmupStart ?? '' }),
			`${where} (${id})`,
		);
		const tls = text(m.tls) || defaults.server.tls || DEFAULT_SMTP_TLS;
		if (!TLS.includes(tls as SmtpTlsMode)) throw new SenderPoolError(`${where} (${id}): tls must be one of ${TLS.join(', ')}`);
		const host = text(m.host) || defaults.server.host;
		if (!host) throw new SenderPoolError(`${where} (${id}): no host (set host on the mailbox or in the credential)`);
		const port = m.port === undefined || m.port === '' ? defaults.server.port : Number(m.port);
		if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SenderPoolError(`${where} (${id}): port must be 1–65535`);
		const ownUser = text(m.user);
		// A mailbox with any DKIM field signs with its own three; mixing its selector with the pool's key would sign with the wrong key.
		const dkim = DKIM_FIELDS.some((f) => text(m[f]) !== '') ? attempt(() => dkimFromFields(m), `${where} (${id})`) : poolDkim;
		return {
			id,
			domain: id.slice(id.lastIndexOf('@') + 1),
			from: text(m.from),
			limits,
			server: {
				...defaults.server,
				host,
				port,
				tls: tls as SmtpTlsMode,
				// A mailbox with its own user brings its own password; one without takes both from the credential.
				user: ownUser || defaults.server.user,
				password: ownUser ? text(m.password) || undefined : defaults.server.password,
			},
			defaultFrom: text(m.from),
			poolSize: Math.max(1, Math.floor(Number(m.poolSize ?? defaults.poolSize) || DEFAULT_POOL_SIZE)),
			maxPerSecond: Math.max(0, Number(m.maxPerSecond ?? defaults.maxPerSecond) || DEFAULT_RATE_PER_SECOND),
			replyTo: text(m.replyTo) || undefined,
			replyPlusAddress: text(m.replyPlusAddress) || undefined,
			verpAddress: text(m.verpAddress) || undefined,
			...(dkim ? { dkim } : {}),
		};
	});
}

/** Which credential the node uses (a saved workflow without the parameter uses the single account). */
export function senderSource(ctx: IExecuteFunctions): SenderSource {
	const v = String(ctx.getNodeParameter('senders', 0, DEFAULT_SENDER_SOURCE));
	return (SENDER_SOURCES as readonly string[]).includes(v) ? (v as SenderSource) : DEFAULT_SENDER_SOURCE;
}

/** The pool's mailboxes; a pool that cannot be read fails the node before any mail. */
export async function readPool(ctx: IExecuteFunctions): Promise<Mailbox[]> {
	try {
		return mailboxesFromPool(await ctx.getCredentials('cadenceSenderPoolApi'));
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Cadence Sender Pool credential: ${(error as Error).message}`, {
			description: 'Nothing was sent. Fix the mailbox list in the credential.',
		});
	}
}
