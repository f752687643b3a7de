import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../core/classify';
import { plusAddress } from '../../core/sendRender';
import { ADDRESS_KEY_LENGTH, createTracker } from '../../core/tracker';

const tracker = createTracker({ baseUrl: 'https://t.ours.example/t', secrets: ['a-signing-secret-of-enough-length'] });
const token = tracker.token({ email: 'ann@client.example', campaign: 'spring', batchTag: 'b1', variant: 'A', sentAt: Date.now() });
const key = tracker.addressKey(token);

/** A reply (no quoted headers, so only the address can attribute it) sent to `to`. */
const reply = (to: string) =>
	['From: Ann <ann@client.example>', `To: ${to}`, 'Subject: Re: spring offer', 'Message-ID: <r1@client.example>', '', 'Yes, send prices.', ''].join(
		'\r\n',
	);

describe('a Reply-To plus-address written for an own address is attributed by its key', () => {
	it('inbox+KEY@domain, as Send writes it for the address form, gives the key when inbox@domain is ours', () => {
		const replyTo = plusAddress('inbox@ours.example', 'reply', key);
		expect(replyTo).toBe(`inbox+${key}@ours.example`);
		const c = classifyMessage(reply(replyTo), { ownAddresses: ['inbox@ours.example'] });
		expect(c.kind).toBe('reply');
		expect(c.addressKey).toBe(key);
	});

	it('the same form is no key when the address is not ours, or the tag is not a key in length', () => {
		expect(classifyMessage(reply(`inbox+${key}@ours.example`), { ownAddresses: ['sales@ours.example'] }).addressKey).toBeUndefined();
		expect(classifyMessage(reply(`inbox+${key}@other.example`), { ownAddresses: ['inbox@ours.example'] }).addressKey).toBeUndefined();
		expect(classifyMessage(reply(`inbox+${key.slice(1)}@ours.example`), { ownAddresses: ['inbox@ours.example'] }).addressKey).toBeUndefined();
	});

	it('the domain form reply+KEY@ still works, with or without own addresses', () => {
		const replyTo = plusAddress('ours.example', 'reply', key);
		expect(classifyMessage(reply(replyTo), {}).addressKey).toBe(key);
		expect(classifyMessage(reply(replyTo), { ownAddresses: ['inbox@ours.example'] }).addressKey).toBe(key);
	});

	it('any own local part and key round-trip, case-insensitively', () => {
		const local = fc.stringMatching(/^[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,2}$/);
		const keyArb = fc.stringMatching(new RegExp(`^[a-z2-7]{${ADDRESS_KEY_LENGTH}}$`));
		fc.assert(
			fc.property(local, keyArb, fc.boolean(), (l, k, upper) => {
				const own = `${l}@ours.example`;
				const to = plusAddress(own, 'reply', k);
				const c = classifyMessage(reply(upper ? to.toUpperCase() : to), { ownAddresses: [own] });
				expect(c.addressKey).toBe(k);
			}),
			{ numRuns: 100 },
		);
	});
});
