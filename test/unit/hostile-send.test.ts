/**
 * Hostile input against Cadence Send's renderer and the click redirect: pathological HTML and text render in
 * linear time, every tracked link is one the redirect follows (one rule at both ends), contact-field ranges keep
 * field links untracked, and no header value can carry a control character or set a node-owned header.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { checkLinkTarget, escapeHtml, linkOriginLength, outsideFields, scanHtml, type HtmlTag } from '../../core/links';
import {
	buildMimeBuffer,
	CadenceRenderError,
	cleanHeaderText,
	EXTRA_HEADER_VALUE_MAX_LENGTH,
	HEADER_NAME_MAX_LENGTH,
	htmlToTextPart,
	insertOpenPixel,
	NODE_OWNED_HEADERS,
	renderCadenceMessage,
	rewriteHtmlLinks,
	rewriteTextLinks,
	TRACKED_LINKS_MAX,
	type CadenceMessageInput,
	type RenderTrackingOptions,
} from '../../core/sendRender';
import { createTracker } from '../../core/tracker';
import { handleTrackingRequest, safeTrackingRedirect } from '../../core/trackingHttp';

const BASE = 'https://track.example.com/webhook/abc/t';
const SENT = Date.UTC(2026, 10, 22, 8);
const tracker = createTracker({ secrets: ['hostile send secret 0123'], baseUrl: BASE, now: () => SENT + 60_000 });

function input(over: Partial<CadenceMessageInput> = {}): CadenceMessageInput {
	return {
		from: 'Sales <sales@sender.example.com>',
		to: 'anna@example.com',
		subject: 'Hello',
		html: '<p>x</p>',
		campaign: 'spring',
		batchTag: 'English-Dealers-Marketing05',
		variant: '',
		sentAt: SENT,
		...over,
	};
}

const render = (over: Partial<CadenceMessageInput> = {}, opts: Partial<RenderTrackingOptions> = {}) =>
	renderCadenceMessage(input(over), { tracker, openPixel: false, ...opts });

function msSince(t0: bigint): number {
	return Number(process.hrtime.bigint() - t0) / 1e6;
}

function timed<T>(fn: () => T): { value: T; ms: number } {
	const t0 = process.hrtime.bigint();
	const value = fn();
	return { value, ms: msSince(t0) };
}

/** What the click endpoint answers for a tracking URL: the Location of its redirect, or undefined. */
function redirectOf(trackingUrl: string): string | undefined {
	const t = new URL(trackingUrl).searchParams.get('t');
	const r = handleTrackingRequest({ method: 'GET', query: { t }, headers: { accept: 'text/html' }, now: SENT + 60_000 }, tracker);
	return r.status === 302 ? r.headers.location : undefined;
}

const MB = 1 << 20;
const fill = (unit: string, bytes = MB) => unit.repeat(Math.ceil(bytes / unit.length));

describe('link rule: render and redirect agree', () => {
	const refused = [
		'https://ok.example/a b',
		'https://ok.example/a\tb',
		'https://ok.example/\nb',
		'https://ok.example\\@evil.example/',
		'https://ok.example/a\\b',
		'https://user@ok.example/',
		'https://user:pw@ok.example/',
		'https://ok.example/a\u0000b',
		'https://ok.example/\u007f',
		'https://ok.example/\u0085',
		'https://ok.example/\u00a0x',
		'https://ok.example/\u2028',
		'https://ok example/',
		'javascript:alert(1)',
		'https://',
		`https://ok.example/${'a'.repeat(5000)}`,
	];

	it('refuses the same links at both ends, and a refused link is left as written', () => {
		for (const target of refused) {
			expect(checkLinkTarget(target), JSON.stringify(target)).toBeUndefined();
			expect(safeTrackingRedirect(target), JSON.stringify(target)).toBeUndefined();
			const html = `<a href="${escapeHtml(target)}">x</a>`;
			const msg = render({ html });
			expect(msg.trackedLinks, JSON.stringify(target)).toEqual([]);
			expect(msg.html).toBe(html);
		}
	});

	it('leading and trailing controls and spaces of an href are dropped, as a browser drops them', () => {
		const msg = render({ html: '<a href=" \u0000https://ok.example/x\u0000\t ">x</a>' });
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://ok.example/x']);
	});

	it('a space in the query or fragment is tracked and redirects with %20', () => {
		const msg = render({ html: '<a href="https://shop.example.com/?ref=Anna Smith#a b">x</a>' });
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://shop.example.com/?ref=Anna Smith#a b']);
		expect(redirectOf(msg.trackedLinks[0].url)).toBe('https://shop.example.com/?ref=Anna%20Smith#a%20b');
	});

	it('tracked text-part links redirect too; refused ones stay in the text', () => {
		const msg = render({ html: '', text: 'Go https://ok.example/x\\y or https://u:p@ok.example/ or https://ok.example/fine.' });
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://ok.example/fine']);
		expect(msg.text).toContain('https://ok.example/x\\y or https://u:p@ok.example/ or ');
		expect(redirectOf(msg.trackedLinks[0].url)).toBe('https://ok.example/fine');
	});

	it(`tracks at most ${TRACKED_LINKS_MAX} distinct links per message; the rest stay as written`, () => {
		const html = Array.from({ length: TRACKED_LINKS_MAX + 20 }, (_, i) => `<a href="https://ok.example/${i}">${i}</a>`).join('');
		const msg = render({ html, text: 'plain' });
		expect(msg.trackedLinks).toHaveLength(TRACKED_LINKS_MAX);
		expect(msg.html).toContain(`href="https://ok.example/${TRACKED_LINKS_MAX + 5}"`);
	});
});

describe('HTML and text scanning runs in linear time', () => {
	// Each input is about 1 MB; before the scanner, `<a ` x 50,000 alone took 102 s.
	const cases: Array<[string, string]> = [
		['<a  repeated', fill('<a ')],
		['<a href=" repeated', fill('<a href="')],
		['<area href= repeated', fill('<area href=')],
		['unclosed <', fill('<')],
		['< b repeated', fill('< b')],
		['</ repeated', fill('</')],
		['<!-- repeated', fill('<!--')],
		['<! repeated', fill('<!')],
		['<script> unclosed', `<script>${fill('<a href="https://x.example/">')}`],
		['</script repeated inside a script', `<script>${fill('</scrip')}`],
		['quotes in a tag', `<a ${fill('"\'')}`],
		['nested anchors', `${fill('<a href="https://x.example/abcdefghij">', MB / 2)}x${fill('</a>', MB / 4)}`],
		['many attributes', `<a ${fill('b=c ')}href="https://x.example/">x</a>`],
		['long attribute value', `<a href="https://x.example/${fill('a', MB)}">x</a>`],
		['href= then spaces', `<a href${fill(' ')}`],
		['entities', fill('&')],
		['numeric entities', fill('&#1234567;&#x')],
		['named-entity lookalikes', fill('&abcdefghijklmnopqrstuvwxyzabcdef')],
		['placeholder lookalikes', fill('{{ ')],
		['many distinct links', fill('<a href="https://x.example/?q=0">y</a>').replace(/q=0/g, () => `q=${Math.random()}`)],
		['body end tags', fill('</body>')],
		['images with alt', fill('<img alt="')],
		['heads', fill('<head>')],
	];
	for (const [name, html] of cases) {
		it(`${name}: renders 1 MB in well under a second`, () => {
			const { value: msg, ms } = timed(() => renderCadenceMessage(input({ html }), { tracker }));
			expect(msg.html).toBeDefined();
			expect(ms).toBeLessThan(5000);
		});
	}

	it('text part: 1 MB of trailing punctuation after a URL, and 1 MB of URL-looking text', () => {
		for (const text of [`https://a.example/${fill('.')}x`, fill('https://'), fill('http://a.example/ '), `https://a.example/${fill(')')}`]) {
			const { ms } = timed(() => renderCadenceMessage(input({ html: '', text }), { tracker }));
			expect(ms).toBeLessThan(5000);
		}
	});

	it('the text part of nested anchors stays linear in size (a new <a> ends the open one)', () => {
		const n = 20_000;
		const text = htmlToTextPart(`${'<a href="https://x.example/abcdefghij">l'.repeat(n)}${'</a>'.repeat(n)}`);
		expect(text.length).toBeLessThan(n * 40);
		expect(text.startsWith('l (https://x.example/abcdefghij) l (https://x.example/abcdefghij)')).toBe(true);
	});
});

describe('the scanner reads tags as a browser does', () => {
	const tags = (html: string) => {
		const out: HtmlTag[] = [];
		scanHtml(html, { attributesOf: new Set(['a']), tag: (t) => out.push(t) });
		return out;
	};

	it('does not find links in comments, scripts, styles, titles or inside attribute values', () => {
		const html =
			'<!-- <a href="https://c.example/"> --><script>"<a href=\'https://s.example/\'>"</script><style>/*<a href=x>*/</style>' +
			'<title><a href="https://t.example/"></title><a title="<a href=https://q.example/>" href="https://real.example/">r</a>';
		const msg = render({ html });
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://real.example/']);
		expect(tags(html).filter((t) => t.name === 'a' && !t.closing)).toHaveLength(1);
	});

	it('the first of duplicate href attributes counts; a ">" inside quotes does not end the tag', () => {
		const out = rewriteHtmlLinks('<a data-x="a>b" href="https://one.example/" href="https://two.example/">x</a>', (t) =>
			t === 'https://one.example/' ? 'T' : null,
		);
		expect(out).toBe('<a data-x="a>b" href="T" href="https://two.example/">x</a>');
	});

	it('a tag left open at the end of the input is not a tag', () => {
		expect(tags('<p>ok</p><a href="https://x.example/" title="open')).toHaveLength(2);
		expect(render({ html: '<p>ok</p><a href="https://x.example/" title="open' }).trackedLinks).toEqual([]);
	});

	it('the open pixel goes before the real </body>, not one in a comment or script', () => {
		const html = '<body><p>x</p><script>"</body>"</script></BODY ><!-- </body> -->';
		expect(insertOpenPixel(html, 'https://o.example/')).toBe(
			'<body><p>x</p><script>"</body>"</script><img src="https://o.example/" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" /></BODY ><!-- </body> -->',
		);
		// Case folding that changes length (İ) does not shift the insertion point.
		expect(insertOpenPixel('İİİ<p>x</p></body>', 'u')).toMatch(/^İİİ<p>x<\/p><img src="u"[^>]*\/><\/body>$/);
	});
});

describe('contact-field ranges', () => {
	const TEMPLATE_LINK = '<a href="https://shop.example.com/">Shop</a>';

	function withField(before: string, field: string, after: string): Pick<CadenceMessageInput, 'html' | 'htmlFields'> {
		return { html: before + field + after, htmlFields: [[before.length, before.length + field.length]] };
	}

	it('links inside a field are not tracked unless trackFieldLinks; template links are', () => {
		const parts = withField(
			`<p>[[unsubscribeUrl]] ${TEMPLATE_LINK}</p>`,
			'<a href="https://evil.example/">x</a>',
			`<p>[[unsubscribeUrl]] ${TEMPLATE_LINK}</p>`,
		);
		const msg = render(parts);
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://shop.example.com/']);
		expect(msg.html).toContain('<a href="https://evil.example/">x</a>');
		expect(msg.html).not.toContain('[[unsubscribeUrl]]');
		const optIn = render(parts, { trackFieldLinks: true });
		expect(optIn.trackedLinks.map((l) => l.target)).toEqual(['https://shop.example.com/', 'https://evil.example/']);
	});

	it('a field may fill the path or query of a template link, never its scheme or host', () => {
		const cases: Array<[string, string, string, boolean]> = [
			['<a href="https://shop.example.com/p/', 'x?y=1', '">a</a>', true],
			['<a href="https://shop.example.com?ref=', 'anna', '">a</a>', true],
			['<a href="', 'https://evil.example/', '">a</a>', false],
			['<a href="https://', 'evil.example', '/x">a</a>', false],
			['<a href="https://shop.example.com', '.evil.example', '/x">a</a>', false],
			['<a href="https://shop.example.com&#4', '6;evil.example/', '">a</a>', false],
			['<a href="https://shop.example.com/&#4', '6;x', '">a</a>', true],
			['<a ', 'href="https://evil.example/"', '>a</a>', false],
			['<a title=', 'x href=https://evil.example/', ' href="https://shop.example.com/">a</a>', false],
		];
		for (const [before, field, after, tracked] of cases) {
			const msg = render(withField(before, field, after));
			expect(msg.trackedLinks.length > 0, before + field + after).toBe(tracked);
		}
	});

	it('text bodies: URLs from fields stay untracked', () => {
		const before = 'See https://shop.example.com/a and ';
		const field = 'https://evil.example/b';
		const msg = render({
			html: '',
			text: `${before}${field} and https://shop.example.com/c?u=`,
			textFields: [[before.length, before.length + field.length]],
		});
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://shop.example.com/a', 'https://shop.example.com/c?u=']);
		expect(msg.text).toContain(' and https://evil.example/b and ');
	});

	it('helpers: origin length and range checks', () => {
		expect(linkOriginLength('https://a.example/x')).toBe('https://a.example/'.length);
		expect(linkOriginLength('https://a.example?x')).toBe('https://a.example?'.length);
		expect(linkOriginLength('https://a.example')).toBe('https://a.example'.length);
		expect(linkOriginLength('https&#58;//a.example/')).toBe('https&#58;//a.example/'.length);
		expect(linkOriginLength('https://a.example&#47;x/y')).toBe('https://a.example&#47;x/y'.length);
		expect(outsideFields([[5, 10]], 0, 5)).toBe(true);
		expect(outsideFields([[5, 10]], 10, 12)).toBe(true);
		expect(outsideFields([[5, 10]], 9, 12)).toBe(false);
		expect(
			outsideFields(
				[
					[1, 2],
					[5, 10],
					[20, 30],
				],
				11,
				19,
			),
		).toBe(true);
		expect(
			outsideFields(
				[
					[1, 2],
					[5, 10],
					[20, 30],
				],
				11,
				21,
			),
		).toBe(false);
	});
});

describe('headers', () => {
	function fails(over: Partial<CadenceMessageInput>, re: RegExp) {
		let error: unknown;
		try {
			render(over);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(CadenceRenderError);
		expect((error as CadenceRenderError).reason).toBe('invalid-header');
		expect((error as Error).message).toMatch(re);
	}

	it('node-owned headers cannot be set as extra headers, in any case', () => {
		for (const name of [
			'Content-Type',
			'content-transfer-encoding',
			'MIME-Version',
			'Content-Disposition',
			'Return-Path',
			'DKIM-Signature',
			'Received',
			'ARC-Seal',
			'Resent-From',
			'Sender',
			'list-unsubscribe-post',
			'X-CADENCE-TOKEN',
		]) {
			fails({ headers: { [name]: 'x' } }, new RegExp(`The header "${name}" is set by the node`));
		}
		expect(NODE_OWNED_HEADERS).toContain('content-*');
		expect(render({ headers: { 'X-Campaign': 'spring', 'List-Id': '<spring.example.com>', 'In-Reply-To': '<a@b.example>' } }).headers).toMatchObject({
			'X-Campaign': 'spring',
			'List-Id': '<spring.example.com>',
		});
	});

	it('header names are RFC 5322 field names of bounded length', () => {
		for (const name of ['Bad Name', 'X:Y', 'X-\u00e9', 'X-\u0000', '', 'x'.repeat(HEADER_NAME_MAX_LENGTH + 1), '__proto__'])
			fails({ headers: { [name]: 'v' } }, /Invalid header name/);
		fails({ headers: { 'X-Long': 'v'.repeat(EXTRA_HEADER_VALUE_MAX_LENGTH + 1) } }, /X-Long.*longer than/);
	});

	it('NUL and other control characters are removed from subject, names and extra headers', async () => {
		const msg = render({
			subject: 'Hi\u0000 there\r\nBcc: x@evil.example\u007f\u0085',
			from: '"Sa\u0000les\u0007" <sales@sender.example.com>',
			headers: { 'X-Note': 'a\u0000b\r\nContent-Type: text/plain\tc' },
		});
		expect(msg.subject).toBe('Hi there Bcc: x@evil.example');
		expect(msg.fromName).toBe('Sales');
		expect(msg.headers['X-Note']).toBe('ab Content-Type: text/plain c');
		const raw = buildMimeBuffer(msg).toString('latin1');
		const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
		expect(head.replace(/\r\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f]/);
		const parsed = await simpleParser(Buffer.from(raw, 'latin1'));
		expect(parsed.subject).toBe('Hi there Bcc: x@evil.example');
		expect(parsed.bcc).toBeUndefined();
		// The message keeps its own structure: the injected Content-Type is text inside X-Note.
		expect(parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
		expect(parsed.headers.get('x-note')).toBe('ab Content-Type: text/plain c');
	});

	it('a subject of one 10,000-character word still folds into lines under 998 octets', async () => {
		const msg = render({ subject: 'x'.repeat(10_000) });
		const raw = buildMimeBuffer(msg).toString('latin1');
		for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
		expect((await simpleParser(Buffer.from(raw, 'latin1'))).subject).toBe('x'.repeat(10_000));
	});

	it('cleanHeaderText keeps printable text and turns line breaks and tabs into one space', () => {
		expect(cleanHeaderText('a\r\n\r\nb\tc\u0000d\u009fé')).toBe('a b cdé');
		expect(cleanHeaderText(undefined)).toBe('');
	});
});

describe('properties (fast-check)', () => {
	const anyText = fc.oneof(
		fc.string({ unit: 'binary-ascii', maxLength: 300 }),
		fc.string({ unit: 'binary', maxLength: 300 }),
		fc.constantFrom('\r\nBcc: x@evil.example', '\u0000', 'a\rb\nc', '=?utf-8?q?=0D=0A?=', ' '.repeat(200), 'x'.repeat(1200)),
	);

	it('any subject and extra header value: no CR, LF or NUL inside the built MIME headers, no extra header line', () => {
		fc.assert(
			fc.property(anyText, anyText, anyText, (subject, value, name) => {
				const msg = render({
					subject,
					from: `${JSON.stringify(name)} <sales@sender.example.com>`,
					headers: { 'X-Note': value.slice(0, EXTRA_HEADER_VALUE_MAX_LENGTH) },
				});
				const raw = buildMimeBuffer(msg).toString('latin1');
				const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
				const lines = head.split('\r\n');
				for (const line of lines) {
					// eslint-disable-next-line no-control-regex
					expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
					expect(line.length).toBeLessThanOrEqual(998);
				}
				// Every line is a continuation (starts with a space) or one of the headers the node writes.
				const names = lines.filter((l) => !/^[ \t]/.test(l)).map((l) => l.slice(0, l.indexOf(':')));
				expect(names).toEqual([
					'From',
					'To',
					'Subject',
					'Message-ID',
					'Date',
					'MIME-Version',
					'X-Cadence-Token',
					'List-Unsubscribe',
					'List-Unsubscribe-Post',
					'X-Note',
					'Content-Type',
				]);
			}),
			{ numRuns: 150 },
		);
	});

	const url = fc.oneof(
		fc.constantFrom(
			'https://shop.example.com/',
			'https://ok.example/a b',
			'https://ok.example/?q=a b',
			'https://ok.example/\tx',
			'https://ok.example\\@evil.example',
			'https://u:p@ok.example/',
			'HTTP://OK.example',
			'https://ok.example/&amp;x=1&lt;',
			'https://ok.example/&#x9;',
			'https://[::1]/x',
			'https://xn--bcher-kva.example/',
			'https://bücher.example/ä',
			'javascript:alert(1)',
			'//evil.example/',
			`${BASE}?t=abc`,
		),
		fc.webUrl({ withQueryParameters: true, withFragments: true }),
		fc.string({ maxLength: 40 }).map((s) => `https://ok.example/${s}`),
	);
	const piece = fc.oneof(
		url.map((u) => `<a href="${u}">l</a>`),
		url.map((u) => `<a href='${u}'>`),
		url.map((u) => `<A HREF=${u}>`),
		url.map((u) => `<area href="${u}">`),
		url.map((u) => ` ${u} `),
		fc.constantFrom(
			'<a ',
			'<a href="',
			'<',
			'</',
			'<!--',
			'-->',
			'<script>',
			'</script>',
			'"',
			"'",
			'&',
			'&#',
			'&amp;',
			'>',
			'<a data-notrack href="https://n.example/">',
			'</a>',
			'<body>',
			'</body>',
			'[[unsubscribeUrl]]',
			'{{ unsubscribeUrl }}',
		),
		fc.string({ maxLength: 20 }),
	);
	const hostileHtml = fc.tuple(fc.array(piece, { maxLength: 30 }), fc.integer({ min: 1, max: 400 })).map(([ps, times]) => ps.join('').repeat(times));

	it('any HTML renders in bounded time per byte, and every tracked link redirects to the rule-normalised target', () => {
		fc.assert(
			fc.property(hostileHtml, fc.boolean(), (html, asText) => {
				const body = asText ? { html: '', text: html || 'x' } : { html: html || 'x' };
				const { value: msg, ms } = timed(() => renderCadenceMessage(input(body), { tracker }));
				// Generous: 500 ms plus 20 µs per byte (quadratic scanning of these inputs took seconds).
				expect(ms).toBeLessThan(500 + (html.length * 20) / 1000);
				for (const link of msg.trackedLinks) {
					const expected = checkLinkTarget(link.target);
					expect(expected, link.target).toBeDefined();
					expect(redirectOf(link.url)).toBe(expected);
				}
			}),
			{ numRuns: 120 },
		);
	});

	it('rewriting the text and HTML never throws on any input', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (s) => {
				rewriteHtmlLinks(s, () => 'https://t.example/');
				rewriteTextLinks(s, () => 'https://t.example/');
				htmlToTextPart(s);
				insertOpenPixel(s, 'https://t.example/');
			}),
			{ numRuns: 200 },
		);
	});
});
