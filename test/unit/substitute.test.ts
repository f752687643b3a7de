import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMessage, type ClassifyOptions } from '../../core/classify';
import { DEFAULT_SUBSTITUTE_SEPARATORS, findSubstitute, type SubstituteOptions } from '../../core/classify/attribution';
import { classificationToEvents } from '../../core/inbox/events';
import {
	issueVisitorAddress,
	readVisitorTag,
	resolveVisitorAddress,
	VISITOR_LOCAL_PART_MAX,
	VISITOR_MAC_CHARS,
	visitorTag,
} from '../../core/visitorAddress';
import { parseSubstituteSeparators, parseVisitorSecret } from '../../nodes/shared/inbox/attribution';
import { crlfMessage } from '../helpers/bounceFixtures';

const SECRET = 'visitor-secret-0123456789';
const OTHER_SECRET = 'another-secret-0123456789';

const options: ClassifyOptions & SubstituteOptions = {
	ownAddresses: ['info@ours.example', 'first.last@ours.example', 'ours2.example'],
	substituteChannels: { ads: { channel: 'Google Ads', utm: { source: 'google', medium: 'cpc' } }, smith: { channel: 'Smith fair' } },
	dynamicTags: { k3f9: { channel: 'web', utm: { source: 'newsletter' } }, 'visitor-7': { utm: { term: 'pumps', source: 'mapped' } } },
	visitorSecret: SECRET,
};

describe('substitute addresses: plus and dotted forms', () => {
	it('recognises the plus and dotted forms of our own address', () => {
		expect(findSubstitute(['info+ads@ours.example'], options)).toMatchObject({ plusTag: 'ads', channel: 'Google Ads', separator: '+' });
		expect(findSubstitute(['info.ads@ours.example'], options)).toMatchObject({ plusTag: 'ads', channel: 'Google Ads', separator: '.' });
		expect(findSubstitute(['INFO.Ads@Ours.Example'], options)).toMatchObject({ plusTag: 'ads', utm: { source: 'google', medium: 'cpc' } });
		// A dotted base: the first dot is part of the base, the tag follows the address that is ours.
		expect(findSubstitute(['first.last+ads@ours.example'], options)).toMatchObject({ plusTag: 'ads', separator: '+' });
		expect(findSubstitute(['first.last.ads@ours.example'], options)).toMatchObject({ plusTag: 'ads', separator: '.' });
	});

	it('keeps unknown plus tags as leads (channel unknown) but never unknown dotted tags', () => {
		expect(findSubstitute(['info+zz9@ours.example'], options)).toEqual({ plusTag: 'zz9', separator: '+', address: 'info+zz9@ours.example' });
		expect(findSubstitute(['info.zz9@ours.example'], options)).toBeNull();
	});

	it('never reads a real dotted mailbox that is not ours as a tag', () => {
		// john@ is not ours: john.smith@ is a person even though "smith" is a known tag.
		expect(findSubstitute(['john.smith@ours.example'], options)).toBeNull();
		// A whole domain of ours counts for the plus form only.
		expect(findSubstitute(['john.ads@ours2.example'], options)).toBeNull();
		expect(findSubstitute(['john+ads@ours2.example'], options)).toMatchObject({ plusTag: 'ads', channel: 'Google Ads' });
		// Our own dotted address is our mailbox, not a tag of first@.
		expect(findSubstitute(['first.last@ours.example'], { ...options, ownAddresses: ['first@ours.example', 'first.last@ours.example'] })).toBeNull();
		// Another domain.
		expect(findSubstitute(['info.ads@elsewhere.example', 'info+ads@elsewhere.example'], options)).toBeNull();
		// reply+KEY@ and bounce+KEY@ belong to attribution by key.
		expect(findSubstitute(['reply+abcdefgh@ours.example', 'bounce.ads@ours.example'], { ...options, ownAddresses: ['ours.example'] })).toBeNull();
	});

	it('uses only the configured separators', () => {
		expect(DEFAULT_SUBSTITUTE_SEPARATORS).toBe('+.');
		expect(findSubstitute(['info.ads@ours.example'], { ...options, substituteSeparators: '+' })).toBeNull();
		expect(findSubstitute(['info+ads@ours.example'], { ...options, substituteSeparators: '.' })).toBeNull();
		expect(findSubstitute(['info-ads@ours.example'], { ...options, substituteSeparators: '+-' })).toMatchObject({ plusTag: 'ads', separator: '-' });
		// Characters outside the allowed set are ignored by the classifier and refused by the node parameter.
		expect(findSubstitute(['info#ads@ours.example'], { ...options, substituteSeparators: '#' })).toBeNull();
		expect(() => parseSubstituteSeparators('+#')).toThrow(/Substitute Separators may hold only.*"#"/);
		expect(parseSubstituteSeparators('')).toBe(DEFAULT_SUBSTITUTE_SEPARATORS);
		expect(parseSubstituteSeparators('+, . +')).toBe('+.');
	});

	it('bounds hostile local parts: never throws, never matches what is not ours', () => {
		const local = fc.stringMatching(/^[a-z0-9.+_=-]{0,200}$/);
		fc.assert(
			fc.property(local, fc.constantFrom('ours.example', 'ours2.example', 'evil.example'), (l, domain) => {
				const address = `${l}@${domain}`;
				const found = findSubstitute([address], options);
				if (found === null) return;
				expect(domain).not.toBe('evil.example');
				expect(l.length).toBeLessThanOrEqual(VISITOR_LOCAL_PART_MAX);
				const base = l.slice(0, l.length - found.plusTag.length - 1);
				if (found.separator !== '+' || domain === 'ours.example') expect(options.ownAddresses).toContain(`${base}@${domain}`);
			}),
			{ numRuns: 200 },
		);
		const started = Date.now();
		const hostile = [`info${'+v-'.repeat(400)}@ours.example`, `${'info.'.repeat(2000)}ads@ours.example`, '@@@', '', 'info+@ours.example'];
		expect(findSubstitute(hostile, options)).toBeNull();
		expect(Date.now() - started).toBeLessThan(2000);
	});
});

describe('visitor addresses', () => {
	it('issues a short signed address and resolves it to channel, visitor id and UTM fields', () => {
		const address = issueVisitorAddress({
			base: 'info@ours.example',
			channel: 'ads',
			visitorId: 'k3f9x2',
			utm: { source: 'google', medium: 'cpc', campaign: 'may20' },
			secret: SECRET,
		});
		expect(address).toMatch(new RegExp(`^info\\+v-ads_k3f9x2_google_cpc_may20_[a-z2-7]{${VISITOR_MAC_CHARS}}@ours\\.example$`));
		expect(address.length).toBeLessThanOrEqual(60);
		expect(resolveVisitorAddress(address, SECRET)).toEqual({
			base: 'info@ours.example',
			channel: 'ads',
			visitorId: 'k3f9x2',
			utm: { source: 'google', medium: 'cpc', campaign: 'may20' },
		});
		// Case changed by a mail client or a person typing it.
		expect(resolveVisitorAddress(address.toUpperCase(), SECRET)).toMatchObject({ channel: 'ads', visitorId: 'k3f9x2' });
		// Only a channel: a very short address.
		const short = issueVisitorAddress({ base: 'info@ours.example', channel: 'seo', secret: SECRET, separator: '.' });
		expect(short).toMatch(/^info\.v-seo_[a-z2-7]{10}@ours\.example$/);
		expect(resolveVisitorAddress(short, SECRET)).toEqual({ base: 'info@ours.example', channel: 'seo' });
	});

	it('round-trips any channel, visitor id and UTM text that fits', () => {
		const text = fc.string({ maxLength: 6, unit: fc.constantFrom('a', 'Z', '9', '_', '-', '.', ' ', 'é', '词', '+') });
		fc.assert(
			fc.property(
				text.filter((s) => s.trim() !== ''),
				text,
				text,
				text,
				(channel, visitorId, source, term) => {
					let address: string;
					try {
						address = issueVisitorAddress({ base: 'info@ours.example', channel, visitorId, utm: { source, term }, secret: SECRET });
					} catch (error) {
						expect((error as Error).message).toMatch(/over the 64 mail servers must accept/);
						return;
					}
					const back = resolveVisitorAddress(address, SECRET);
					expect(back?.channel).toBe(channel.trim());
					expect(back?.visitorId ?? '').toBe(visitorId.trim());
					expect(back?.utm?.source ?? '').toBe(source.trim());
					expect(back?.utm?.term ?? '').toBe(term.trim());
				},
			),
			{ numRuns: 150 },
		);
	});

	it('refuses forged, altered and truncated codes', () => {
		const tag = visitorTag({ channel: 'ads', visitorId: 'abc', secret: SECRET });
		expect(readVisitorTag(tag, SECRET)).toEqual({ channel: 'ads', visitorId: 'abc' });
		expect(readVisitorTag(tag, OTHER_SECRET)).toBeNull();
		expect(readVisitorTag(tag.replace('_abc_', '_abd_'), SECRET)).toBeNull();
		expect(readVisitorTag(tag.replace('v-ads', 'v-seo'), SECRET)).toBeNull();
		for (let cut = 1; cut < tag.length; cut++) expect(readVisitorTag(tag.slice(0, cut), SECRET)).toBeNull();
		expect(readVisitorTag(`${tag}x`, SECRET)).toBeNull();
		// A code with a MAC of another payload (moved between visitors).
		const other = visitorTag({ channel: 'ads', visitorId: 'xyz', secret: SECRET });
		expect(readVisitorTag(`${tag.slice(0, tag.lastIndexOf('_'))}${other.slice(other.lastIndexOf('_'))}`, SECRET)).toBeNull();
		expect(readVisitorTag(tag, 'short')).toBeNull();
		expect(readVisitorTag(undefined, SECRET)).toBeNull();
		// Random codes of the right shape are refused.
		fc.assert(
			fc.property(fc.stringMatching(/^v-[a-z0-9_-]{1,40}_[a-z2-7]{10}$/), (forged) => {
				expect(readVisitorTag(forged, SECRET)).toBeNull();
			}),
			{ numRuns: 200 },
		);
	});

	it('bounds hostile codes: never throws, only genuine codes resolve', () => {
		fc.assert(
			fc.property(fc.string({ maxLength: 300 }), (s) => {
				expect(readVisitorTag(s, SECRET)).toBeNull();
				expect(resolveVisitorAddress(`info+${s}@ours.example`, SECRET)).toBeNull();
			}),
			{ numRuns: 200 },
		);
		expect(resolveVisitorAddress(`info+v-${'-zz'.repeat(5000)}_aaaaaaaaaa@ours.example`, SECRET)).toBeNull();
	});

	it('explains bad input when issuing', () => {
		const ok = { base: 'info@ours.example', channel: 'ads', secret: SECRET };
		expect(() => issueVisitorAddress({ ...ok, secret: 'short' })).toThrow(/at least 16 characters/);
		expect(() => issueVisitorAddress({ ...ok, channel: ' ' })).toThrow(/channel is required/);
		expect(() => issueVisitorAddress({ ...ok, base: 'not an address' })).toThrow(/is not an email address/);
		expect(() => issueVisitorAddress({ ...ok, separator: '#' })).toThrow(/separator must be one of/);
		expect(() => issueVisitorAddress({ ...ok, base: 'in.fo@ours.example', separator: '.' })).toThrow(/already contains "."/);
		expect(() => issueVisitorAddress({ ...ok, utm: { campaign: 'a very long campaign name for the spring fair' } })).toThrow(
			/local part is \d+ characters, over the 64/,
		);
		expect(() => parseVisitorSecret('short')).toThrow(/at least 16 characters, got 5/);
		expect(parseVisitorSecret('')).toBeUndefined();
	});
});

describe('classifyMessage: inbound mail to a visitor address', () => {
	const lead = (to: string) =>
		crlfMessage({ From: 'Ivan <ivan@buyer.example>', To: to, Subject: 'уточняющий вопрос по услугам', 'Message-ID': '<m1@buyer.example>' }, 'Hello');

	it('gives the channel, UTM fields and visitor id the code carries, end to end to the event', () => {
		const to = issueVisitorAddress({
			base: 'info@ours.example',
			channel: 'ads',
			visitorId: 'k3f9x2',
			utm: { source: 'yandex', medium: 'cpc' },
			secret: SECRET,
		});
		const c = classifyMessage(lead(`Info <${to}>`), options);
		expect(c).toMatchObject({ kind: 'inbound', channel: 'ads', utm: { source: 'yandex', medium: 'cpc' }, contact: 'ivan@buyer.example' });
		expect(c.subject).toBe('уточняющий вопрос по услугам');
		expect(findSubstitute([to], options)?.visitorId).toBe('k3f9x2');
		const [event] = classificationToEvents(c);
		expect(event).toMatchObject({ type: 'inbound', email: 'ivan@buyer.example', channel: 'ads', utm: { source: 'yandex', medium: 'cpc' } });
		expect(event.subject).toBe('уточняющий вопрос по услугам');
	});

	it('fills UTM fields the code leaves out from the visitor id in Dynamic Plus-Tags', () => {
		const to = issueVisitorAddress({
			base: 'info@ours.example',
			channel: 'web',
			visitorId: 'visitor-7',
			utm: { source: 'google' },
			secret: SECRET,
			separator: '.',
		});
		const c = classifyMessage(lead(to), options);
		expect(c).toMatchObject({ kind: 'inbound', channel: 'web', utm: { source: 'google', term: 'pumps' } });
	});

	it('a forged code on our address is a lead without channel (plus form) or not a lead (dotted form)', () => {
		const forged = issueVisitorAddress({ base: 'info@ours.example', channel: 'ads', secret: OTHER_SECRET });
		const c = classifyMessage(lead(forged), options);
		expect(c.kind).toBe('inbound');
		expect(c.channel).toBeUndefined();
		expect(c.utm).toBeUndefined();
		const dotted = classifyMessage(lead(forged.replace('+', '.')), options);
		expect(dotted.kind).toBe('other');
		// Without the secret the code is an unknown tag.
		const { visitorSecret: _ignored, ...withoutSecret } = options;
		const genuine = issueVisitorAddress({ base: 'info@ours.example', channel: 'ads', secret: SECRET });
		expect(classifyMessage(lead(genuine), withoutSecret)).toMatchObject({ kind: 'inbound' });
		expect(classifyMessage(lead(genuine), withoutSecret).channel).toBeUndefined();
	});

	it("the dotted form reaches classifyMessage; a colleague's dotted mailbox does not", () => {
		expect(classifyMessage(lead('info.ads@ours.example'), options)).toMatchObject({ kind: 'inbound', channel: 'Google Ads' });
		expect(classifyMessage(lead('john.smith@ours.example'), options).kind).toBe('other');
	});
});
