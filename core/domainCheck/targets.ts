/**
 * What to check for each sender: the targets of `checkSendingDomains`, from the node's mailboxes (the SMTP account
 * or a pool's mailboxes, which have this shape) and the operation's settings. Pure.
 */
import { parseMailbox } from '../sendRender';
import type { DomainCheckTarget } from './check';

/** The parts of a sender mailbox the check reads. */
export interface DomainCheckSender {
	/** The From address of a pool mailbox; '' for the single account, whose From is Default From or the setting. */
	id: string;
	defaultFrom: string;
	server: { host: string };
	replyTo?: string;
	replyPlusAddress?: string;
	verpAddress?: string;
	dkim?: { domainName: string; keySelector: string; privateKey: string };
}

/** The domain of `domain` or `local@domain` (as Reply-To plus-address and VERP take them); '' when empty. */
function domainOf(domainOrAddress: string | undefined): string {
	const s = (domainOrAddress ?? '').trim().replace(/^@/, '');
	return s
		.slice(s.lastIndexOf('@') + 1)
		.toLowerCase()
		.replace(/\.$/, '');
}

export interface DomainCheckSettings {
	/** From for the single account (empty: its Default From). */
	from?: string;
	replyTo?: string;
	replyPlusAddress?: string;
	verpAddress?: string;
	sendingIps?: string[];
}

/**
 * What to check for each mailbox: its From domain, its envelope (VERP, else From) and reply domains, the SMTP host
 * and its DKIM key. A mailbox's own Reply-To plus-address and VERP win over the settings, as they do in Send.
 * Throws Error when a From address is missing or invalid.
 */
export function domainCheckTargets(mailboxes: readonly DomainCheckSender[], s: DomainCheckSettings = {}): DomainCheckTarget[] {
	return mailboxes.map((m) => {
		const raw = m.id || s.from?.trim() || m.defaultFrom;
		if (!raw) throw new Error('No sender: set From, or Default From in the SMTP credential');
		const address = parseMailbox(raw, 'From').address.toLowerCase();
		const fromDomain = domainOf(address);
		const replyPlus = m.replyPlusAddress || s.replyPlusAddress;
		const replyTo = m.replyTo || s.replyTo;
		return {
			mailbox: address,
			fromDomain,
			envelopeDomain: domainOf(m.verpAddress || s.verpAddress) || fromDomain,
			replyDomain: domainOf(replyPlus) || (replyTo ? domainOf(parseMailbox(replyTo, 'Reply-To').address) : '') || fromDomain,
			sendingHost: m.server.host,
			sendingIps: s.sendingIps ?? [],
			...(m.dkim ? { dkim: m.dkim } : {}),
		};
	});
}
