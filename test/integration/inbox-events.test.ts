/**
 * The pure parts of the inbox engine (no server): classification → events, the poll state's parsing and bounds,
 * UID set compression.
 */
import { describe, expect, it } from 'vitest';
import type { Classification } from '../../core/classify';
import { compressUidSet } from '../../transport/inbox';
import { inboxAddressOf, BoundedHashSet, classificationToEvents, loadInboxState, inboxMessageKey } from '../../core/inbox';

const data = { email: 'Contact@Buyer.example', campaign: 'autumn', batchTag: 'English-Dealers-Marketing05', variant: 'B', sentAt: 1 };
const row = (recipient: string, hard = true) => ({
	recipient,
	action: 'failed',
	status: hard ? '5.1.1' : '5.2.2',
	replyCode: hard ? '550' : '552',
	diagnostic: hard ? 'user unknown' : 'mailbox full',
	reason: hard ? 'userunknown' : 'mailboxfull',
	hard,
});

describe('classificationToEvents', () => {
	it('a bounce gives one event per recipient, attributed to the token when it names the contact', () => {
		const c: Classification = {
			kind: 'bounce',
			bounces: [row('contact@buyer.example')],
			token: 'TOK',
			tokenData: data,
			messageId: '<dsn-1@mx.example>',
		};
		const [e] = classificationToEvents(c, { mailbox: 'INBOX', uidValidity: '7', uid: 3 });
		expect(e).toMatchObject({
			type: 'bounced',
			email: 'contact@buyer.example',
			campaign: 'autumn',
			batchTag: 'English-Dealers-Marketing05',
			variant: 'B',
			token: 'TOK',
			recipient: 'contact@buyer.example',
			bounce: { hard: true, status: '5.1.1', reason: 'userunknown', diagnostic: 'user unknown', replyCode: '550' },
		});
		const two = classificationToEvents({ ...c, bounces: [row('contact@buyer.example'), row('other@buyer.example', false)] });
		expect(two.map((x) => [x.email, x.bounce?.hard])).toEqual([
			['contact@buyer.example', true],
			['other@buyer.example', false],
		]);
		expect(two[0].id).not.toBe(two[1].id);
		// The id follows the message (Message-ID) and the recipient, not where the message sits.
		expect(classificationToEvents(c, { mailbox: 'Other', uidValidity: '9', uid: 99 })[0].id).toBe(e.id);
	});

	it('without a Message-ID the id follows the mailbox position, else the bytes', () => {
		const c: Classification = { kind: 'reply', bounces: [], contact: 'a@b.example' };
		const a = classificationToEvents(c, { mailbox: 'INBOX', uidValidity: '1', uid: 5 })[0].id;
		expect(classificationToEvents(c, { mailbox: 'INBOX', uidValidity: '1', uid: 5 })[0].id).toBe(a);
		expect(classificationToEvents(c, { mailbox: 'INBOX', uidValidity: '1', uid: 6 })[0].id).not.toBe(a);
		const r1 = classificationToEvents(c, { raw: 'one' })[0].id;
		expect(classificationToEvents(c, { raw: 'one' })[0].id).toBe(r1);
		expect(classificationToEvents(c, { raw: 'two' })[0].id).not.toBe(r1);
	});

	it('resolves reply+KEY@ keys through the resolver, to a token or an address', () => {
		const c: Classification = { kind: 'reply', bounces: [], addressKey: 'abcdefghijklmnopqrst', from: 'Someone <someone@x.example>' };
		const viaToken = classificationToEvents(c, {}, { resolveAddressKey: () => ({ token: 'T2', data }) })[0];
		expect(viaToken).toMatchObject({ token: 'T2', campaign: 'autumn', email: 'contact@buyer.example', addressKey: 'abcdefghijklmnopqrst' });
		const viaEmail = classificationToEvents(c, {}, { resolveAddressKey: () => ({ email: 'Known@Contact.example' }) })[0];
		expect(viaEmail.email).toBe('known@contact.example');
		const unknown = classificationToEvents(c, {}, { resolveAddressKey: () => null })[0];
		expect(unknown).toMatchObject({ email: 'someone@x.example', addressKey: 'abcdefghijklmnopqrst' });
		expect(unknown.token).toBeUndefined();
	});

	it('time: the message date, else the server receipt time, else now', () => {
		const base: Classification = { kind: 'auto_reply', bounces: [], contact: 'a@b.example' };
		const now = new Date('2026-11-22T10:00:00Z');
		expect(classificationToEvents({ ...base, date: 'Sat, 21 Nov 2026 09:00:00 +0100' }, {}, { now })[0].at).toBe('2026-11-21T08:00:00.000Z');
		expect(classificationToEvents({ ...base, date: 'garbage' }, { receivedAt: new Date('2026-11-20T00:00:00Z') }, { now })[0].at).toBe(
			'2026-11-20T00:00:00.000Z',
		);
		expect(classificationToEvents(base, {}, { now })[0].at).toBe(now.toISOString());
	});

	it('maps every kind to its event type, with complaint and inbound details', () => {
		const types = (['delay', 'delivered', 'auto_reply', 'complaint', 'unsubscribe', 'reply', 'inbound', 'other'] as const).map(
			(kind) => classificationToEvents({ kind, bounces: [] })[0].type,
		);
		expect(types).toEqual(['delayed', 'delivered', 'auto_replied', 'complained', 'unsubscribed', 'replied', 'inbound', 'other']);
		expect(classificationToEvents({ kind: 'complaint', bounces: [], feedbackType: 'abuse' })[0].feedbackType).toBe('abuse');
		const seen = new Set<string>();
		const first = (email: string) => (seen.has(email) ? false : (seen.add(email), true));
		const lead: Classification = {
			kind: 'inbound',
			bounces: [],
			from: 'Lead <Lead@X.example>',
			channel: 'ads',
			utm: { source: 'google' },
			plusTag: 'ads',
		};
		const a = classificationToEvents(lead, {}, { firstInboundFrom: first })[0];
		const b = classificationToEvents(lead, {}, { firstInboundFrom: first })[0];
		expect([a.unique, b.unique]).toEqual([true, false]);
		expect(a).toMatchObject({ email: 'lead@x.example', channel: 'ads', utm: { source: 'google' }, plusTag: 'ads' });
	});

	it('reads addresses out of header values', () => {
		expect(inboxAddressOf('"Doe, John" <John.Doe@Example.com>')).toBe('john.doe@example.com');
		expect(inboxAddressOf('plain@example.com (Plain)')).toBe('plain@example.com');
		expect(inboxAddressOf('no address here')).toBe('');
		expect(inboxAddressOf(undefined)).toBe('');
	});
});

describe('inbox poll state', () => {
	it('drops malformed static data instead of trusting it', () => {
		const s = loadInboxState({
			mailboxes: {
				INBOX: { uidValidity: '123', lastUid: 40, since: 'not a date', rescan: 'yes' },
				Bad: { uidValidity: 'x', lastUid: 1 },
				Neg: { uidValidity: '1', lastUid: -3 },
				Num: { uidValidity: 77, lastUid: '5' },
			},
			emitted: ['a', 3, null, 'b'],
			senders: 'nope',
		});
		expect(s.mailboxes).toEqual({ INBOX: { uidValidity: '123', lastUid: 40 }, Num: { uidValidity: '77', lastUid: 5 } });
		expect(s.emitted).toEqual(['a', 'b']);
		expect(s.senders).toEqual([]);
		expect(loadInboxState('garbage')).toEqual({ version: 1, mailboxes: {}, emitted: [], senders: [] });
	});

	it('remembers at most N hashes, forgetting the oldest first', () => {
		const list = ['x', 'y', 'z'];
		const set = new BoundedHashSet(list, 2);
		expect(list).toEqual(['y', 'z']);
		set.add('w');
		set.add('w');
		expect(list).toEqual(['z', 'w']);
		expect(set.has('y')).toBe(false);
		expect(set.has('w')).toBe(true);
	});

	it('a message key is its Message-ID (any case, brackets or not), else its bytes', () => {
		expect(inboxMessageKey('<ABC@x.example>', 'one')).toBe(inboxMessageKey('abc@x.example', 'two'));
		expect(inboxMessageKey(undefined, 'one')).not.toBe(inboxMessageKey(undefined, 'two'));
		expect(inboxMessageKey('  ', 'one')).toBe(inboxMessageKey(undefined, 'one'));
	});

	it('compresses UID lists into IMAP sets', () => {
		expect(compressUidSet([5, 1, 2, 3, 7, 8, 9, 9, 0, -1, 1.5])).toBe('1:3,5,7:9');
		expect(compressUidSet([])).toBe('');
	});
});
