/**
 * The day's caps and the sender mailboxes, decided for every planned message before any SMTP traffic: at most so
 * many messages per contact and per recipient company per calendar day, each mailbox within its daily cap (its
 * warm-up ramp), nothing from a paused mailbox or sending domain. The day's counts come from the store (the Sender
 * Status input, and the send ledger when there is one), never from this run alone; the ledger claims them again,
 * atomically, as each message goes out, so a run racing this one cannot push a count past its cap either.
 */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';
import { companyOf } from '../../../core/company';
import { parseMailbox } from '../../../core/sendRender';
import { mailboxCapOn, type DayCounts, type MailboxLimits, type MailboxStatus, type SenderStatus } from '../../../core/senderProtection';
import type { SendLedger } from '../../../core/sendLedger';
import type { Mailbox } from './mailboxes';
import type { Plan, SendPlan } from './types';

export type CapReason = 'contact-cap' | 'company-cap' | 'mailbox-cap' | 'paused';

export interface DayCaps {
	/** 0: no cap. */
	contact: number;
	company: number;
}

/** Reads the Sender Status parameter: empty gives null; anything else must be a status for `day`. */
export function readSenderStatus(ctx: IExecuteFunctions, day: string): SenderStatus | null {
	let raw = ctx.getNodeParameter('senderStatus', 0, '') as unknown;
	if (raw === '' || raw === null || raw === undefined) return null;
	const fail = (problem: string) =>
		new NodeOperationError(ctx.getNode(), `Sender Status: ${problem}`, {
			description: 'Nothing was sent. Set Sender Status to the output of a Cadence Send node with the Sender Status operation, or leave it empty.',
		});
	if (typeof raw === 'string') {
		try {
			raw = JSON.parse(raw);
		} catch {
			throw fail('not valid JSON');
		}
	}
	if (Array.isArray(raw)) raw = raw[0];
	const s = raw as Partial<SenderStatus> | null;
	if (!s || typeof s !== 'object' || typeof s.day !== 'string' || typeof s.companies !== 'object' || typeof s.mailboxes !== 'object') {
		throw fail('not a sender status (it needs day, companies, contacts, mailboxes and domains)');
	}
	// Yesterday's counts would let today's caps be passed.
	if (s.day !== day) throw fail(`it counts ${s.day}, but today is ${day} in the workflow's time zone; compute it in the same run`);
	return { contacts: {}, domains: {}, ...s } as SenderStatus;
}

/** Today's counts from the status and the ledger (both count the same messages, so the larger one holds). */
export async function storeDayCounts(status: SenderStatus | null, ledger: SendLedger | null, day: string): Promise<DayCounts> {
	const counts: DayCounts = {
		contacts: new Map(Object.entries(status?.contacts ?? {})),
		companies: new Map(Object.entries(status?.companies ?? {})),
		mailboxes: new Map(Object.entries(status?.mailboxes ?? {}).map(([id, m]) => [id, Number(m?.sentToday) || 0])),
	};
	if (ledger) {
		const usage = await ledger.usage(day);
		for (const key of ['contacts', 'companies', 'mailboxes'] as const) {
			for (const [k, n] of usage[key]) counts[key].set(k, Math.max(counts[key].get(k) ?? 0, n));
		}
	}
	return counts;
}

/** Why a mailbox may not send today: it or its sending domain is paused. */
function pausedBy(status: SenderStatus | null, m: Mailbox): MailboxStatus | undefined {
	const own = status?.mailboxes?.[m.id];
	if (own?.paused) return own;
	const domain = status?.domains?.[m.domain];
	return domain?.paused ? domain : undefined;
}

/** The single account sends as each item's From: each From address is a mailbox with the account's cap. */
function accountMailbox(account: Mailbox, from: string, known: Map<string, Mailbox>): Mailbox {
	let id: string;
	try {
		id = parseMailbox(from, 'From').address.toLowerCase();
	} catch {
		id = from.trim().toLowerCase();
	}
	let m = known.get(id);
	if (!m) known.set(id, (m = { ...account, id, domain: id.slice(id.lastIndexOf('@') + 1), from: '' }));
	return m;
}

const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/**
 * Decides, in input order, which planned messages go out today and through which mailbox (kept on the plan as
 * its sender); the others become skipped plans with the cap or pause that held them. A pool rotates: each message goes to the next mailbox in
 * turn that still has room, so a day's batch spreads over the pool.
 */
export function assignSenders(
	plans: Plan[],
	opts: { pool: Mailbox[] | null; account: Mailbox | null; status: SenderStatus | null; counts: DayCounts; caps: DayCaps; day: string },
): void {
	const { pool, status, counts, caps, day } = opts;
	const accountBoxes = new Map<string, Mailbox>();
	const capOf = new Map<Mailbox, number>();
	const mailboxCap = (m: Mailbox) => {
		let cap = capOf.get(m);
		if (cap === undefined) capOf.set(m, (cap = mailboxCapOn(m.limits as MailboxLimits, day)));
		return cap;
	};
	const hasRoom = (m: Mailbox) => {
		// A pool mailbox with a daily cap of 0 is out of the rotation; the single account's 0 means no cap (a relay).
		if (pool && m.limits.dailyCap === 0) return false;
		const cap = mailboxCap(m);
		return cap === 0 || (counts.mailboxes.get(m.id) ?? 0) < cap;
	};
	let turn = 0;
	for (let i = 0; i < plans.length; i++) {
		const p = plans[i];
		if (p.kind !== 'send') continue;
		const { to } = p.head;
		const company = companyOf(to);
		const skip = (reason: CapReason, error: string) => void (plans[i] = { kind: 'skip', head: p.head, reason, error });
		const sentToContact = counts.contacts.get(to) ?? 0;
		if (caps.contact > 0 && sentToContact >= caps.contact) {
			skip('contact-cap', `${to} already got ${sentToContact} message(s) today; at most ${caps.contact} per contact per day`);
			continue;
		}
		const sentToCompany = counts.companies.get(company) ?? 0;
		if (caps.company > 0 && sentToCompany >= caps.company) {
			skip('company-cap', `${company} already got ${sentToCompany} messages today; at most ${caps.company} per company per day`);
			continue;
		}
		let mailbox: Mailbox | undefined;
		if (pool) {
			const open = pool.filter((m) => !pausedBy(status, m));
			if (open.length === 0) {
				const why = pausedBy(status, pool[0]);
				skip('paused', `Every mailbox of the pool is paused (${pool[0].id}: ${why?.reason ?? 'paused'}); resume one to send`);
				continue;
			}
			for (let k = 0; k < open.length && !mailbox; k++) {
				const m = open[(turn + k) % open.length];
				if (hasRoom(m)) {
					mailbox = m;
					turn = (turn + k + 1) % open.length;
				}
			}
			if (!mailbox) {
				skip('mailbox-cap', `Every open mailbox of the pool reached its daily cap (${open.map((m) => `${m.id} ${mailboxCap(m)}`).join(', ')})`);
				continue;
			}
		} else {
			mailbox = accountMailbox(opts.account!, p.head.input.from, accountBoxes);
			const why = pausedBy(status, mailbox);
			if (why) {
				skip('paused', `${why.mailbox} is paused since ${why.pausedAt ?? 'an earlier day'}: ${why.reason ?? ''}. Resume it to send.`);
				continue;
			}
			if (!hasRoom(mailbox)) {
				skip('mailbox-cap', `${mailbox.id} reached its daily cap of ${mailboxCap(mailbox)} today`);
				continue;
			}
		}
		add(counts.contacts, to);
		add(counts.companies, company);
		add(counts.mailboxes, mailbox.id);
		p.sender = { mailbox, company, mailboxCap: mailboxCap(mailbox) };
		if (pool) useMailbox(p, mailbox);
	}
}

/** A pool mailbox sends as itself: its From, and its Reply-To and bounce addresses where it has them. */
function useMailbox(p: SendPlan, m: Mailbox): void {
	p.head.input.from = m.from;
	if (m.replyTo) p.head.input.replyTo = m.replyTo;
	if (m.replyPlusAddress) p.head.tracking.replyPlusAddress = m.replyPlusAddress;
	if (m.verpAddress) p.head.tracking.verpAddress = m.verpAddress;
}
