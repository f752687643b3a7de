/**
 * Hostile inbound mail: the classifier finishes in time linear in its input, reports the limits that cut in, and
 * never throws. Each attack found so far is a regression test; fast-check generates more; the one-pass rewrites of
 * the old patterns are checked against those patterns (on inputs short enough for the old ones to finish).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	ADDRESS_LIST_MAX,
	classifyMessage,
	MIME_MAX_DEPTH,
	MIME_MAX_HEADER_VALUE,
	MIME_MAX_HEADERS,
	MIME_MAX_LINE,
	MIME_MAX_PARTS,
	NOTICE_MAX_RECIPIENTS,
	type MessageKind,
} from '../../core/classify';
import { addressField, parseDsnFields } from '../../core/classify/dsn';
import { guessBoundary, htmlWithoutTags, parseHeaderBlock, parseMime } from '../../core/classify/mime';
import { weakReasonFromText } from '../../core/classify/reasons';
import { emailsIn, findEmail, recipientsFromNotice, splitOriginal } from '../../core/classify/vendors/plaintext';
import {
	arbDeepEncodedRfc822,
	arbHostileMessage,
	arbHostileText,
	arbLongHeaders,
	arbLongLines,
	arbNestedMultipart,
	arbRandomBytes,
	dsnMessage,
	hostileMessages,
	nestedRfc822,
	utf8Bytes,
} from '../helpers/hostileInputs';

const KINDS: MessageKind[] = ['bounce', 'delay', 'delivered', 'auto_reply', 'complaint', 'unsubscribe', 'reply', 'inbound', 'other'];

/**
 * Generous ceiling for hostile input: 4 s per MB, and never under 2 s (a loaded machine, a cold JIT). The attacks it
 * guards against took tens of seconds to minutes; speed itself is measured by `npm run bench -- hostile`.
 */
function ceilingMs(bytes: number): number {
	return Math.max(2000, bytes / 250);
}

function timed<T>(fn: () => T): { value: T; ms: number } {
	const t = performance.now();
	const value = fn();
	return { value, ms: performance.now() - t };
}

function classifyTimed(raw: string | Buffer) {
	const { value, ms } = timed(() => classifyMessage(raw));
	return { c: value, ms };
}

describe('regressions: each attack finishes well under its ceiling', () => {
	it('a multipart without boundary whose body starts with blank lines (was exponential: 34 lines took ~190 s)', () => {
		for (const n of [34, 60, 100_000]) {
			const raw = 'From: a@b.com\r\nContent-Type: multipart/mixed\r\n\r\n' + '\r\n'.repeat(n) + 'x';
			const { c, ms } = classifyTimed(raw);
			expect(ms).toBeLessThan(ceilingMs(raw.length));
			expect(c.kind).toBe('other');
			expect(c.problem).toMatch(/without boundary/);
		}
	});

	it('the boundary guess still finds a delimiter after blank lines, and only at a line start', () => {
		expect(guessBoundary('\n\n  \n--abc\nContent-Type: text/plain\n')).toBe('abc');
		expect(guessBoundary('--abc  \nx')).toBe('abc');
		expect(guessBoundary('  --abc\n')).toBe('');
		expect(guessBoundary('\n'.repeat(1500) + 'x')).toBe('');
	});

	it.each([
		['From', 'a'],
		['To', 'a'],
		['Cc', 'a.'],
		['Subject', '-'],
		['References', '<a@'],
	])('a %s header of 100,000 "%s" (From took 21 s, To 37 s): cut at the RFC 5322 line length and reported', (name, unit) => {
		const raw = `From: x@client.example\r\nSubject: s\r\n${name}: ${unit.repeat(100_000 / unit.length)}\r\n\r\nhello\r\n`;
		const { c, ms } = classifyTimed(raw);
		expect(ms).toBeLessThan(ceilingMs(raw.length));
		expect(c.problem).toContain(`header line longer than ${MIME_MAX_LINE} characters`);
		expect(KINDS).toContain(c.kind);
	});

	it('an HTML part of 250,000 "‹" or "<" (46 s)', () => {
		for (const body of [utf8Bytes('\u2039'.repeat(250_000)), '<'.repeat(250_000), '<script>'.repeat(30_000), '<a href="'.repeat(30_000)]) {
			const raw = `From: x@client.example\r\nSubject: s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${body}`;
			const { c, ms } = classifyTimed(raw);
			expect(ms).toBeLessThan(ceilingMs(raw.length));
			expect(c.kind).toBe('other');
		}
	});

	it('one text line of 200,000 "-" (over 90 s), and many separator-like lines', () => {
		for (const body of ['-'.repeat(200_000), '=-'.repeat(100_000), '---------- x\n'.repeat(20_000), '>>'.repeat(100_000)]) {
			const raw = `From: x@client.example\r\nSubject: Re: s\r\n\r\n${body}\r\n`;
			const { c, ms } = classifyTimed(raw);
			expect(ms).toBeLessThan(ceilingMs(raw.length));
			expect(KINDS).toContain(c.kind);
		}
	});

	it('a DSN Final-Recipient of 200,000 "a" (52 s): a bounce, the cut field reported', () => {
		const raw = dsnMessage(`Final-Recipient: rfc822; ${'a'.repeat(200_000)}\r\nAction: failed\r\nStatus: 5.1.1`);
		const { c, ms } = classifyTimed(raw);
		expect(ms).toBeLessThan(ceilingMs(raw.length));
		expect(c.kind).toBe('bounce');
		expect(c.problem).toContain(`longer than ${MIME_MAX_HEADER_VALUE} characters`);
	});

	it('address-like runs in DSN fields and notices', () => {
		const runs = ['a@'.repeat(50_000), '<' + 'a@'.repeat(50_000), 'a.'.repeat(50_000) + '@b', '<a@b'.repeat(25_000)];
		for (const run of runs) {
			for (const raw of [
				dsnMessage(
					`Final-Recipient: rfc822; ${run.slice(0, 15_000)}\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 ${run.slice(0, 15_000)}`,
				),
				`From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n\r\nTo: ${run}\r\n550 <${run}\r\nrecipient ${run}\r\n`,
			]) {
				const { c, ms } = classifyTimed(raw);
				expect(ms).toBeLessThan(ceilingMs(raw.length));
				expect(KINDS).toContain(c.kind);
			}
		}
	});

	it('the address field reader keeps its answers on ordinary fields', () => {
		expect(addressField('rfc822; <Ann@Client.Example>')).toBe('ann@client.example');
		expect(addressField('rfc822;ann@client.example.')).toBe('ann@client.example');
		expect(addressField('"Ann" ann@client.example (comment)')).toBe('ann@client.example');
		expect(addressField('rfc822; no address here')).toBe('no address here');
		expect(addressField('a'.repeat(200_000)).length).toBe(200_000);
	});

	it('a DSN with more recipients than read says so', () => {
		const block = Array.from({ length: 600 }, (_, i) => `Final-Recipient: rfc822; u${i}@v.example\r\nAction: failed\r\nStatus: 5.1.1\r\n`).join(
			'\r\n',
		);
		const report = parseDsnFields(block);
		expect(report?.recipients).toHaveLength(500);
		expect(report?.recipients[499]).toMatchObject({ recipient: 'u499@v.example', action: 'failed', status: '5.1.1' });
		expect(report?.limits.join()).toMatch(/more than 500 recipients/);
		const c = classifyMessage(dsnMessage(block));
		expect(c.kind).toBe('bounce');
		expect(c.problem).toMatch(/more than 500 recipients/);
	});
});

describe('regressions: depth and part budget are global across transfer encodings', () => {
	it.each(['quoted-printable', 'base64', 'none'] as const)(
		'%s-encoded message/rfc822 nesting 1,500 and 2,000 levels (10.5 s, then a stack overflow)',
		(enc) => {
			for (const levels of [1500, 2000]) {
				const raw = 'Subject: deep\n' + nestedRfc822(levels, enc);
				const { c, ms } = classifyTimed(raw);
				expect(ms).toBeLessThan(ceilingMs(raw.length));
				expect(c.kind).toBe('other');
				expect(c.problem).toMatch(/too deep/);
				expect(c.problem).not.toMatch(/could not parse|call stack/);
			}
		},
	);

	it('an encoded level counts like any other: the limit cuts in at the same depth whatever the encoding', () => {
		const depthOf = (raw: string) => Math.max(...parseMime(raw, 1e7).parts.map((p) => p.depth));
		for (const enc of ['quoted-printable', 'none'] as const) {
			const under = nestedRfc822(MIME_MAX_DEPTH - 1, enc);
			expect(parseMime(under, 1e7).problems.join()).not.toMatch(/too deep/);
			const over = nestedRfc822(MIME_MAX_DEPTH + 3, enc);
			const msg = parseMime(over, 1e7);
			expect(msg.problems.join()).toMatch(/too deep/);
			expect(msg.limits.join()).toMatch(/too deep/);
			expect(depthOf(over)).toBe(MIME_MAX_DEPTH);
		}
		// Alternating plain and base64 levels.
		let inner = 'From: leaf@x.example\nSubject: leaf\n\nhello\n';
		for (let i = 0; i < MIME_MAX_DEPTH + 2; i++)
			inner =
				i % 2 === 0
					? `From: x@y.example\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n${Buffer.from(inner, 'latin1').toString('base64')}\n`
					: `From: x@y.example\nContent-Type: message/rfc822\n\n${inner}`;
		expect(parseMime(inner, 1e7).problems.join()).toMatch(/too deep/);
		expect(depthOf(inner)).toBe(MIME_MAX_DEPTH);
	});

	it('parts inside encoded attachments count against the same part budget', () => {
		const inner = 'From: x@y.example\nContent-Type: multipart/mixed; boundary=P\n\n' + '--P\nContent-Type: text/plain\n\nx\n'.repeat(150) + '--P--\n';
		const attach = `--O\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n${Buffer.from(inner, 'latin1').toString('base64')}\n`;
		const raw = 'From: a@b.example\nSubject: s\nContent-Type: multipart/mixed; boundary=O\n\n' + attach + attach + '--O--\n';
		const msg = parseMime(raw, 1e7);
		expect(msg.parts.length).toBeLessThanOrEqual(MIME_MAX_PARTS + 1);
		expect(msg.problems.join()).toMatch(/more than 200 MIME parts/);
		expect(classifyMessage(raw).problem).toMatch(/more than 200 MIME parts/);
	});

	it('text inside an encoded attachment is still read from its own decoded bytes', () => {
		const inner = 'From: me@ours.example\nTo: ann@client.example\nSubject: offer\n\nOur offer.\n';
		const raw = `From: a@b.example\nSubject: s\nContent-Type: multipart/mixed; boundary=O\n\n--O\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n${Buffer.from(inner).toString('base64')}\n--O--\n`;
		const msg = parseMime(raw, 1e7);
		const leaf = msg.parts.find((p) => p.headers.some(([n, v]) => n === 'subject' && v === 'offer'));
		expect(leaf).toBeDefined();
		expect((leaf as unknown as { bin: string }).bin.slice(leaf!.start, leaf!.end)).toBe('Our offer.\n');
	});
});

describe('header limits', () => {
	it('more header fields than read, a header block too long, a folded value too long: each reported', () => {
		const many = 'From: a@b.example\n' + Array.from({ length: MIME_MAX_HEADERS + 50 }, (_, i) => `X-H${i}: v`).join('\n') + '\n\nbody\n';
		const h1 = parseMime(many, 1e7);
		expect(h1.root.headers).toHaveLength(MIME_MAX_HEADERS);
		expect(classifyMessage(many).problem).toMatch(/more than 1000 header fields/);

		const block = 'From: a@b.example\n' + 'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n'.repeat(6000) + '\nbody\n';
		expect(classifyMessage(block).problem).toMatch(/header block longer than/);

		const folded = 'From: a@b.example\nTo: ' + Array.from({ length: 2000 }, (_, i) => `u${i}@client.example,`).join('\n ') + '\n\nbody\n';
		const h3 = parseMime(folded, 1e7);
		expect(h3.root.headers.find(([n]) => n === 'to')?.[1].length).toBe(MIME_MAX_HEADER_VALUE);
		expect(classifyMessage(folded).problem).toMatch(/header value longer than/);
	});

	it('a long line in a field the classifier does not read is cut silently; in one it reads, reported', () => {
		const silent = parseMime(`From: a@b.example\nX-Filter: ${'z'.repeat(2000)}\n\nbody\n`, 1e7);
		expect(silent.root.headers.find(([n]) => n === 'x-filter')?.[1].length).toBe(MIME_MAX_LINE - 'X-Filter: '.length);
		expect(silent.limits).toEqual([]);
		const log = { problems: [] as string[], limits: [] as string[] };
		const block = `Subject: ${'s'.repeat(2000)}\n`;
		parseHeaderBlock(block, 0, block.length, log);
		expect(log.limits.join()).toMatch(/cut for parsing \(subject\)/);
	});
});

describe('never throws', () => {
	it('on any type, any bytes, any string', () => {
		const odd: unknown[] = [
			undefined,
			null,
			0,
			42,
			{},
			[],
			new Uint8Array([1, 2, 3]),
			Symbol('x'),
			() => 1,
			'\ud800\udfff\ud800',
			'\u0000'.repeat(1000),
		];
		for (const v of odd) expect(() => classifyMessage(v as string)).not.toThrow();
		for (const v of odd) expect(KINDS).toContain(classifyMessage(v as string).kind);
	});

	it('property: generated hostile messages never throw, classify to a valid kind within 1 s per MB', () => {
		fc.assert(
			fc.property(arbHostileMessage, fc.boolean(), (raw, asBuffer) => {
				const input = asBuffer ? Buffer.from(raw, 'latin1') : raw;
				const { c, ms } = classifyTimed(input);
				expect(KINDS).toContain(c.kind);
				expect(Array.isArray(c.bounces)).toBe(true);
				expect(ms).toBeLessThan(ceilingMs(raw.length));
			}),
			{ numRuns: 120, seed: 20261204 },
		);
	});

	it.each([
		['long headers', arbLongHeaders],
		['long lines', arbLongLines],
		['nested multiparts', arbNestedMultipart],
		['deep encoded rfc822', arbDeepEncodedRfc822],
		['random bytes', arbRandomBytes],
	])('property: %s', (_name, arb) => {
		fc.assert(
			fc.property(arb, (raw) => {
				const { c, ms } = classifyTimed(raw);
				expect(KINDS).toContain(c.kind);
				expect(ms).toBeLessThan(ceilingMs(raw.length));
			}),
			{ numRuns: 40 },
		);
	});
});

describe('the fixed hostile set (shared with the benchmark and the end-to-end test)', () => {
	const all = hostileMessages();

	it('has 20 to 40 messages of 100 KB to 1 MB, one byte per character', () => {
		expect(all.length).toBeGreaterThanOrEqual(20);
		expect(all.length).toBeLessThanOrEqual(40);
		for (const m of all) {
			expect(m.raw.length, m.name).toBeGreaterThanOrEqual(70_000);
			expect(m.raw.length, m.name).toBeLessThanOrEqual(1024 * 1024);
			expect(/[^\u0000-\u00ff]/.test(m.raw), m.name).toBe(false);
		}
		expect(new Set(all.map((m) => m.name)).size).toBe(all.length);
	});

	it('each classifies within 1 s per MB; the first eight are other with a problem', () => {
		classifyMessage(all[0].raw); // warm the patterns once
		all.forEach((m, i) => {
			const { c, ms } = classifyTimed(Buffer.from(m.raw, 'latin1'));
			expect(ms, m.name).toBeLessThan(ceilingMs(m.raw.length));
			expect(KINDS).toContain(c.kind);
			if (i < 8) {
				expect(c.kind, m.name).toBe('other');
				expect(c.problem, m.name).toBeTruthy();
			}
		});
	});
});

// The rewrites must read legitimate text exactly as the patterns they replace. These are the old patterns, run on
// short inputs where their backtracking is harmless.
const OLD_EMAIL_RE = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const OLD_SEPARATOR_RE =
	/^[ \t]*(?:[-=_*#>]{2,}(?!.*(?:transcript|error|reason|diagnostic|recipient|address))[^\n]*(?:original|copy of|unsent|returned|rejected|undelivered|headers? (?:of|are|is)|header (?:of )?the|message (?:header|text|body|follows)|below this line|follows|attached|mail (?:header|body))|(?:original|returned|unsent) (?:message|mail)(?: follows| headers)?:?[ \t]*$|-{3,}[ \t]*(?:begin|start)|the (?:original|returned) message(?: headers)? (?:follows|is attached)|message headers follow|content-type: message\/(?:rfc822|partial)|received: from .*(?:by|with) |return-path: ?<|message-id: ?<|x-cadence-token:)/im;

function oldEmailsIn(text: string, limit = 50): string[] {
	const out: string[] = [];
	OLD_EMAIL_RE.lastIndex = 0;
	let m: RegExpExecArray | null;
	while ((m = OLD_EMAIL_RE.exec(text)) !== null && out.length < limit) out.push(m[0].replace(/\.+$/, '').toLowerCase());
	return out;
}

function oldAddressField(value: string): string {
	let v = value.trim();
	const semi = v.indexOf(';');
	if (semi >= 0 && semi < 12) v = v.slice(semi + 1).trim();
	const m = /<([^<>\s]+@[^<>\s]+)>/.exec(v) ?? /([^\s<>"'()[\],;:]+@[^\s<>"'()[\],;:]+)/.exec(v);
	return (m ? m[1] : v).replace(/\.$/, '').toLowerCase();
}

function oldHtmlToText(html: string): string {
	return html
		.replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
		.replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d|table|blockquote)>/gi, '\n')
		.replace(/<[^>]*>/g, '');
}

const ADDRESSY = [
	'a',
	'B',
	'1',
	'.',
	'-',
	'@',
	'<',
	'>',
	' ',
	'\n',
	'"',
	';',
	':',
	'(',
	'_',
	'+',
	'é',
	'x.com',
	'b.c',
	'..',
	'rfc822;',
	'a@b.c',
	'<a@b.co>',
	'@x.y',
	'u@',
	'@',
	'\t',
];
const HTMLY = [
	'<',
	'>',
	'/',
	'script',
	'SCRIPT',
	'style',
	'head',
	'header',
	'br',
	'p',
	'div',
	' ',
	'\n',
	'x',
	'</script >',
	'<script>',
	'</p>',
	'<br/>',
	'</STYLE\t>',
	'<style',
	'<head>',
	'</head>',
];
const LINEY = [
	'--',
	'==',
	'-',
	'>',
	'*',
	'_',
	'#',
	' ',
	'\t',
	'\n',
	'\n--',
	'\n==',
	'original',
	'message follows',
	'follows',
	'error',
	'recipient',
	'Returned mail',
	'Received: from x by ',
	'--- begin',
	'x',
	'copy of',
	':',
	'headers of',
	'\u2028',
	'\r',
	'\n\n',
];
const WEAKY = [
	'recipient',
	' ',
	'invalid',
	'unknown',
	'\n',
	'x',
	'recipients',
	'arecipient',
	'.',
	'INVALID',
	'\u2028',
	'sender',
	'rcpt_to',
	' recipient ',
	' unknown',
	'\r',
];

const arbFrom = (units: string[], max = 30) => fc.array(fc.constantFrom(...units), { maxLength: max }).map((a) => a.join(''));

describe('one-pass readers agree with the patterns they replace', () => {
	it('address finder (emailsIn, findEmail)', () => {
		fc.assert(
			fc.property(arbFrom(ADDRESSY, 20), (t) => {
				expect(emailsIn(t, 1000)).toEqual(oldEmailsIn(t, 1000));
				OLD_EMAIL_RE.lastIndex = 0;
				const m = OLD_EMAIL_RE.exec(t);
				expect(findEmail(t)).toEqual(m ? [m.index, m.index + m[0].length] : null);
			}),
			{ numRuns: 3000 },
		);
	});

	it('DSN address field', () => {
		fc.assert(
			fc.property(arbFrom(ADDRESSY), (t) => {
				expect(addressField(t)).toBe(t ? oldAddressField(t) : '');
			}),
			{ numRuns: 3000 },
		);
	});

	it('tag stripping', () => {
		fc.assert(
			fc.property(arbFrom(HTMLY, 25), (t) => {
				expect(htmlWithoutTags(t)).toBe(oldHtmlToText(t));
			}),
			{ numRuns: 3000 },
		);
	});

	it('separator before the copy of the original', () => {
		fc.assert(
			fc.property(arbFrom(LINEY, 16), (t) => {
				const m = OLD_SEPARATOR_RE.exec(t);
				const expected = !m || m.index < 1 ? { notice: t, original: m ? t : '' } : { notice: t.slice(0, m.index), original: t.slice(m.index) };
				expect(splitOriginal(t)).toEqual(expected);
			}),
			{ numRuns: 3000 },
		);
	});

	it('"recipient ... invalid/unknown" on one line', () => {
		const oldRule = /(?:recipient|destination mailbox) address rejected|recipient rejected|rcpt_to|\brecipient\b.*\b(?:invalid|unknown)/;
		fc.assert(
			fc.property(arbFrom(WEAKY, 10), (t) => {
				const got = weakReasonFromText(t) === 'userunknown';
				expect(got).toBe(oldRule.test(t.toLowerCase()));
			}),
			{ numRuns: 3000 },
		);
	});

	it('boundary guess', () => {
		const oldGuess = (head: string) => /^(?:\s*\n)*--([^\s]{1,200})[ \t]*\n/.exec(head)?.[1] ?? '';
		fc.assert(
			fc.property(arbFrom([' ', '\n', '\t', '\r', '--', 'b', '-', '\u00a0', 'x'], 14), (t) => {
				expect(guessBoundary(t)).toBe(oldGuess(t));
			}),
			{ numRuns: 3000 },
		);
	});

	it('recipients in a notice (hostile text mixed in)', () => {
		fc.assert(
			fc.property(arbHostileText(300), (t) => {
				expect(() => recipientsFromNotice(t, new Set())).not.toThrow();
			}),
			{ numRuns: 200 },
		);
	});
});

describe('recipient limits', () => {
	it('a To list longer than read is reported; one within the limit is not', () => {
		const to = (n: number) => Array.from({ length: n }, (_, i) => `u${i}@client.example`).join(',\n ');
		const long = classifyMessage(`From: a@b.example\nTo: ${to(ADDRESS_LIST_MAX + 5)}\nSubject: s\n\nbody\n`);
		expect(long.to).toHaveLength(ADDRESS_LIST_MAX);
		expect(long.problem).toMatch(/more than 50 addresses in To/);
		const fits = classifyMessage(`From: a@b.example\nTo: ${to(ADDRESS_LIST_MAX)}\nSubject: s\n\nbody\n`);
		expect(fits.to).toHaveLength(ADDRESS_LIST_MAX);
		expect(fits.problem).toBeUndefined();
	});

	it('a notice naming more recipients than read is reported', () => {
		const lines = Array.from({ length: NOTICE_MAX_RECIPIENTS + 20 }, (_, i) => `<u${i}@client.example>: 550 5.1.1 user unknown`).join('\n');
		const c = classifyMessage(`From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender\n\n${lines}\n`);
		expect(c.kind).toBe('bounce');
		expect(c.bounces).toHaveLength(NOTICE_MAX_RECIPIENTS);
		expect(c.problem).toMatch(/more than 500 recipients/);
	});
});
