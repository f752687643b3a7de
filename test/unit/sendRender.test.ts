import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { createTracker } from '../../core/tracker';
import {
	applySendVariant,
	buildMimeMessage,
	CadenceRenderError,
	htmlToTextPart,
	insertOpenPixel,
	plusAddress,
	renderCadenceMessage,
	rewriteHtmlLinks,
	type CadenceMessageInput,
} from '../../core/sendRender';
import { overDomainCap } from '../../transport/smtp';

const BASE = 'https://track.example.com/webhook/abc/t';
const tracker = createTracker({ secrets: ['render test secret'], baseUrl: BASE });

const HTML = `<!doctype html><html><head><title>x</title><style>p{color:red}</style></head><body>
<p>Hello Anna,</p>
<p>See <a href="https://shop.example.com/catalog?a=1&amp;b=2" class="btn">our catalog</a> and
<a href='http://example.org/plain'>this</a> or <a href=https://unquoted.example.com/x>that</a>.</p>
<p><a href="mailto:sales@sender.example.com?subject=hi">Mail us</a>, <a href="tel:+4930123">call</a>,
<a href="#top">top</a>, <a href="/relative">rel</a>, <a data-notrack href="https://keep.example.com/">kept</a>,
<a name="anchor">no href</a></p>
<p><a href="{{unsubscribeUrl}}">Unsubscribe</a></p>
</body></html>`;

function input(over: Partial<CadenceMessageInput> = {}): CadenceMessageInput {
	return {
		from: 'Sales Team <sales@sender.example.com>',
		to: 'Anna@Example.de',
		subject: 'Catalog 2026',
		html: HTML,
		campaign: 'spring',
		batchTag: 'English-Dealers-Marketing05',
		variant: 'A',
		sentAt: Date.UTC(2026, 10, 22, 8),
		...over,
	};
}

function hrefs(html: string): string[] {
	return [...html.matchAll(/<a\b[^>]*\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map((m) => (m[1] ?? m[2] ?? m[3]).replace(/&amp;/g, '&'));
}

describe('renderCadenceMessage', () => {
	const msg = renderCadenceMessage(input(), {
		tracker,
		unsubscribeMailto: 'unsubscribe@sender.example.com',
		replyPlusAddress: 'replies.sender.example.com',
		verpAddress: 'bounces@sender.example.com',
	});

	it('rewrites every http(s) link to a tracking URL that parses back to the original target', () => {
		const links = hrefs(msg.html!);
		const tracked = links.filter((h) => h.startsWith(`${BASE}?t=`));
		const targets = tracked
			.map((h) => tracker.parse(h))
			.filter((p) => p?.kind === 'click')
			.map((p) => p!.target);
		expect(targets).toEqual(['https://shop.example.com/catalog?a=1&b=2', 'http://example.org/plain', 'https://unquoted.example.com/x']);
		for (const p of tracked.map((h) => tracker.parse(h)!)) {
			expect(p.data).toEqual({
				email: 'anna@example.de',
				campaign: 'spring',
				batchTag: 'English-Dealers-Marketing05',
				variant: 'A',
				sentAt: Date.UTC(2026, 10, 22, 8),
			});
		}
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(targets);
	});

	it('leaves mailto:, tel:, anchors, relative, data-notrack links and the unsubscribe link alone', () => {
		const links = hrefs(msg.html!);
		expect(links).toContain('mailto:sales@sender.example.com?subject=hi');
		expect(links).toContain('tel:+4930123');
		expect(links).toContain('#top');
		expect(links).toContain('/relative');
		expect(links).toContain('https://keep.example.com/');
		expect(links).toContain(msg.unsubscribeUrl);
		expect(tracker.parse(msg.unsubscribeUrl)?.kind).toBe('unsubscribe');
		expect(msg.html).toContain('class="btn"');
		expect(msg.html).toContain('<a name="anchor">');
	});

	it('puts the open pixel right before </body>', () => {
		const m = /<img src="([^"]+)" width="1" height="1"[^>]*\/><\/body>/.exec(msg.html!);
		expect(m).not.toBeNull();
		expect(tracker.parse(m![1].replace(/&amp;/g, '&'))?.kind).toBe('open');
		expect(insertOpenPixel('<p>no body</p>', 'https://x.example.com/o')).toMatch(/<p>no body<\/p><img src="https:\/\/x.example.com\/o"/);
	});

	it('sets the token in Message-ID and X-Cadence-Token, and the unsubscribe headers', () => {
		expect(msg.messageId).toBe(`<${msg.token}@sender.example.com>`);
		expect(tracker.verifyToken(msg.token)?.email).toBe('anna@example.de');
		expect(msg.headers['X-Cadence-Token']).toBe(msg.token);
		expect(msg.headers['List-Unsubscribe']).toBe(
			`<${msg.unsubscribeUrl}>, <mailto:unsubscribe@sender.example.com?subject=unsubscribe%20${msg.addressKey}>`,
		);
		expect(msg.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
		expect(msg.replyTo).toBe(`reply+${msg.addressKey}@replies.sender.example.com`);
		expect(msg.envelope).toEqual({ from: `bounces+${msg.addressKey}@sender.example.com`, to: ['anna@example.de'] });
		expect(msg.addressKey).toBe(tracker.addressKey(msg.token));
	});

	it('generates a text part from the tracked HTML', () => {
		expect(msg.text).toContain('Hello Anna,');
		expect(msg.text).not.toMatch(/<|color:red|title/);
		const urls = [...msg.text!.matchAll(/https?:\/\/[^\s)]+/g)].map((m) => m[0]);
		expect(urls.some((u) => tracker.parse(u)?.target === 'https://shop.example.com/catalog?a=1&b=2')).toBe(true);
		expect(msg.text).toContain('Mail us (sales@sender.example.com)');
	});

	it('tracks URLs of a given text part and fills the placeholder there too', () => {
		const m = renderCadenceMessage(input({ html: '', text: 'Visit https://shop.example.com/x. Bye: [[unsubscribeUrl]]' }), { tracker });
		expect(m.html).toBeUndefined();
		const [first] = m.text!.match(/https:\/\/track\.example\.com\S+?(?=\.\s)/)!;
		expect(tracker.parse(first)?.target).toBe('https://shop.example.com/x');
		expect(m.text!.endsWith(m.unsubscribeUrl)).toBe(true);
	});

	it('turns each tracking feature off on request', () => {
		const m = renderCadenceMessage(input(), { tracker, openPixel: false, clickTracking: false, listUnsubscribe: false, generateText: false });
		expect(m.html).not.toContain('<img');
		expect(hrefs(m.html!)).toContain('https://shop.example.com/catalog?a=1&b=2');
		expect(m.headers['List-Unsubscribe']).toBeUndefined();
		expect(m.text).toBeUndefined();
		expect(m.messageId).toBe(`<${m.token}@sender.example.com>`);
	});

	it('fails bad input with a clear reason', () => {
		const fails = (over: Partial<CadenceMessageInput>, re: RegExp) => {
			try {
				renderCadenceMessage(input(over), { tracker });
			} catch (e) {
				expect(e).toBeInstanceOf(CadenceRenderError);
				expect((e as Error).message).toMatch(re);
				return;
			}
			throw new Error('expected a failure');
		};
		fails({ to: 'not-an-address' }, /recipient.*no "@"/);
		fails({ to: 'a@b' }, /recipient.*no dot/);
		fails({ from: 'nobody' }, /From/);
		fails({ html: '', text: '' }, /neither an HTML nor a text body/);
		fails({ headers: { Subject: 'x' } }, /set by the node/);
	});

	it('keeps CR/LF out of the subject', () => {
		expect(renderCadenceMessage(input({ subject: 'Hi\r\nBcc: x@y.com' }), { tracker }).subject).toBe('Hi Bcc: x@y.com');
	});
});

describe('MIME', () => {
	it('builds a message whose headers and parts survive parsing', async () => {
		const msg = renderCadenceMessage(input(), { tracker, replyPlusAddress: 'sender.example.com' });
		const parsed = await simpleParser(await buildMimeMessage(msg));
		expect(parsed.messageId).toBe(msg.messageId);
		expect(parsed.headers.get('x-cadence-token')).toBe(msg.token);
		expect(parsed.headerLines.find((h) => h.key === 'list-unsubscribe-post')!.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
		const lu = parsed.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
		expect(lu).toBe(`List-Unsubscribe: <${msg.unsubscribeUrl}>`);
		expect(parsed.replyTo?.value[0].address).toBe(`reply+${msg.addressKey}@sender.example.com`);
		expect(parsed.html).toBe(msg.html);
		expect(parsed.text?.trim()).toBe(msg.text?.trim());
	});
});

describe('MIME edge cases (parsed back with mailparser)', () => {
	const build = async (over: Partial<CadenceMessageInput>, opts = {}) => {
		const msg = renderCadenceMessage(input(over), { tracker, ...opts });
		const raw = await buildMimeMessage(msg, new Date(Date.UTC(2026, 10, 22, 9, 5, 7)));
		return { msg, raw, parsed: await simpleParser(raw) };
	};

	it('encodes non-ASCII and special display names, subjects and extra headers', async () => {
		const long = `Ваш каталог 2026 — ${'очень длинная тема '.repeat(8)}`.trim();
		const { raw, parsed } = await build({
			from: '"Müller, Sales" <sales@sender.example.com>',
			subject: long,
			headers: { 'X-Campaign-Note': 'Grüße' },
		});
		expect(parsed.from?.value[0]).toEqual({ name: 'Müller, Sales', address: 'sales@sender.example.com' });
		expect(parsed.subject).toBe(long);
		expect(parsed.headerLines.find((h) => h.key === 'x-campaign-note')?.line).toBe('X-Campaign-Note: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=');
		expect(parsed.date?.toISOString()).toBe('2026-11-22T09:05:07.000Z');
		const text = raw.toString('latin1');
		expect(/[^\x00-\x7f]/.test(text)).toBe(false);
		for (const line of text.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
		expect(text.includes('\n') && !text.replace(/\r\n/g, '').includes('\n')).toBe(true);
		const plain = await build({ from: 'Plain Name <sales@sender.example.com>', subject: 'Hello' });
		expect(plain.parsed.from?.value[0]).toEqual({ name: 'Plain Name', address: 'sales@sender.example.com' });
		const quoted = await build({ from: 'Dr. "Q" Smith <sales@sender.example.com>' });
		expect(quoted.parsed.from?.value[0].address).toBe('sales@sender.example.com');
	});

	it('keeps bodies byte-exact through quoted-printable: long lines, "=", dots, trailing spaces, Unicode, LF input', async () => {
		const text = `Line one with = sign and trailing spaces   \n.starts with a dot\n${'x'.repeat(300)}\nÜmlaut ✓ 中文\n\nlast`;
		const html = `<html><body><p>${'y'.repeat(200)} = ✓</p>\n<p>.dot</p></body></html>`;
		const { parsed, msg } = await build({ text, html }, { clickTracking: false, openPixel: false });
		expect(parsed.text).toBe(text.replace(/\n/g, '\n'));
		expect(parsed.html).toBe(msg.html);
	});

	it('a single part when there is only HTML or only text', async () => {
		const htmlOnly = await build({}, { generateText: false });
		expect(htmlOnly.raw.toString().match(/^Content-Type: .*$/gm)).toEqual(['Content-Type: text/html; charset=utf-8']);
		expect(String(htmlOnly.parsed.html).trimEnd()).toBe(htmlOnly.msg.html);
		const textOnly = await build({ html: '', text: 'just text' });
		expect(textOnly.raw.toString().match(/^Content-Type: .*$/gm)).toEqual(['Content-Type: text/plain; charset=utf-8']);
		expect(textOnly.parsed.text?.trim()).toBe('just text');
	});
});

describe('helpers', () => {
	it('rewriteHtmlLinks keeps the rest of the tag', () => {
		const out = rewriteHtmlLinks('<A HREF="https://a.example.com/" target=_blank>x</A>', () => 'https://t.example.com/?t=1&x=2');
		expect(out).toBe('<A HREF="https://t.example.com/?t=1&amp;x=2" target=_blank>x</A>');
	});

	it('htmlToTextPart handles lists, breaks, entities and images', () => {
		const t = htmlToTextPart(
			'<ul><li>One &amp; two</li><li>3 &lt; 4</li></ul>line<br>next<img src="x" alt="Logo"> <a href="https://x.example.com/">https://x.example.com/</a>',
		);
		expect(t).toBe('- One & two\n- 3 < 4\n\nline\nnext Logo https://x.example.com/');
	});

	it('plusAddress from a domain or an address', () => {
		expect(plusAddress('example.com', 'reply', 'abc')).toBe('reply+abc@example.com');
		expect(plusAddress('@example.com', 'reply', 'abc')).toBe('reply+abc@example.com');
		expect(plusAddress('Inbox@Example.com', 'reply', 'abc')).toBe('inbox+abc@example.com');
		expect(() => plusAddress('not a domain', 'reply', 'abc')).toThrow(/plus-address/);
	});

	it('applySendVariant is deterministic and falls back to the base content', () => {
		const base = { subject: 'Base', html: '<p>base</p>' };
		const variants = [
			{ name: 'A', subject: 'Subject A' },
			{ name: 'B', html: '<p>B</p>' },
		];
		const seen = new Set<string>();
		for (let i = 0; i < 40; i++) {
			const r = applySendVariant(base, variants, `u${i}@example.com`, 'c');
			expect(applySendVariant(base, variants, `U${i}@Example.com`, 'c')).toEqual(r);
			seen.add(r.variant);
			if (r.variant === 'A') expect(r).toEqual({ variant: 'A', subject: 'Subject A', html: '<p>base</p>', text: undefined });
			else expect(r).toEqual({ variant: 'B', subject: 'Base', html: '<p>B</p>', text: undefined });
		}
		expect(seen).toEqual(new Set(['A', 'B']));
		expect(applySendVariant(base, [], 'x@example.com', 'c')).toEqual({ variant: '', ...base });
	});

	it('overDomainCap marks the overflow of each domain in input order', () => {
		const emails = ['a@x.com', 'b@x.com', 'c@y.com', 'd@X.com', 'e@x.com'];
		expect(overDomainCap(emails, 2)).toEqual([false, false, false, true, true]);
		expect(overDomainCap(emails, 0)).toEqual([false, false, false, false, false]);
	});
});
