/**
 * Pathological inbound messages for the classifier: fixed inputs (one per attack class, for regression tests, the
 * hostile-input benchmark and the end-to-end inbox test) and fast-check arbitraries that generate more of them.
 *
 * Every message is a binary string (one character per byte, latin1): pass it as is, or as
 * `Buffer.from(raw, 'latin1')`. The first messages of `hostileMessages()` are the ones a limit or a structural
 * check reports: classified as `other` with a problem (the end-to-end test relies on that for its first eight).
 */
import fc from 'fast-check';

/** Target size of the fixed messages that are not sized by the attack itself. */
export const HOSTILE_SIZE = 256 * 1024;

const CRLF = '\r\n';

/** UTF-8 bytes of a text as a binary string. */
export function utf8Bytes(text: string): string {
	return Buffer.from(text, 'utf8').toString('latin1');
}

function repeatTo(unit: string, bytes: number): string {
	return unit.repeat(Math.max(1, Math.ceil(bytes / unit.length)));
}

function headers(fields: Array<[string, string]>): string {
	return fields.map(([k, v]) => `${k}: ${v}`).join(CRLF) + CRLF + CRLF;
}

const BASIC: Array<[string, string]> = [
	['From', 'Sender <sender@attacker.example>'],
	['To', 'sales@sender.example'],
	['Subject', 'hello'],
	['Date', 'Fri, 04 Dec 2026 09:00:00 +0000'],
];

/** A message with the given extra header fields and body. */
function plain(extra: Array<[string, string]>, body: string, base = BASIC): string {
	const names = new Set(extra.map(([k]) => k.toLowerCase()));
	return headers([...base.filter(([k]) => !names.has(k.toLowerCase())), ...extra]) + body;
}

/** A delivery status notification whose per-recipient block holds `recipientBlock`. */
export function dsnMessage(recipientBlock: string, notice = 'Delivery to the following recipient failed permanently.'): string {
	return (
		headers([
			['From', 'Mail Delivery Subsystem <MAILER-DAEMON@mx.attacker.example>'],
			['To', 'sales@sender.example'],
			['Subject', 'Undelivered Mail Returned to Sender'],
			['Content-Type', 'multipart/report; report-type=delivery-status; boundary="RR"'],
		]) +
		[
			'--RR',
			'Content-Type: text/plain',
			'',
			notice,
			'--RR',
			'Content-Type: message/delivery-status',
			'',
			'Reporting-MTA: dns; mx.attacker.example',
			'',
			recipientBlock,
			'',
			'--RR--',
			'',
		].join(CRLF)
	);
}

/** A plain-text bounce notice from MAILER-DAEMON with the given subject and notice text. */
function noticeMessage(subject: string, notice: string, extra: Array<[string, string]> = []): string {
	return (
		headers([['From', 'MAILER-DAEMON@mx.attacker.example'], ['To', 'sales@sender.example'], ['Subject', subject], ...extra]) +
		notice +
		CRLF +
		'--- Original message follows' +
		CRLF +
		'From: sales@sender.example' +
		CRLF +
		'To: buyer@dealer.example' +
		CRLF +
		CRLF +
		'hello' +
		CRLF
	);
}

/**
 * `levels` attached messages inside each other, each `message/rfc822`: every `encodeEvery`-th level is transfer
 * encoded (quoted-printable without any `=`, so the size stays linear: the decoded text is the encoded one).
 */
export function nestedRfc822(levels: number, encoding: 'quoted-printable' | 'base64' | 'none' = 'quoted-printable'): string {
	if (encoding === 'base64') {
		// Base64 grows by 4/3 per level: encode every 8th level so 1,500 levels stay under 1 MB.
		let inner = 'From: leaf@attacker.example\nSubject: leaf\n\nhello\n';
		for (let i = 0; i < levels; i++) {
			inner =
				i % 8 === 7 && inner.length < 400_000
					? `From: x@attacker.example\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n${Buffer.from(inner, 'latin1').toString('base64')}\n`
					: `From: x@attacker.example\nContent-Type: message/rfc822\n\n${inner}`;
		}
		return inner;
	}
	const cte = encoding === 'none' ? '' : `Content-Transfer-Encoding: ${encoding}\n`;
	const level = `From: x@attacker.example\nContent-Type: message/rfc822\n${cte}\n`;
	return level.repeat(levels) + 'From: leaf@attacker.example\nSubject: leaf\n\nhello\n';
}

/** Deterministic bytes (xorshift), as a binary string. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): string {
	let x = seed >>> 0 || 1;
	const out = Buffer.alloc(length);
	for (let i = 0; i < length; i++) {
		x ^= x << 13;
		x >>>= 0;
		x ^= x >>> 17;
		x ^= x << 5;
		x >>>= 0;
		out[i] = x & 0xff;
	}
	return out.toString('latin1');
}

/**
 * Fixed pathological messages, 100 KB to 1 MB each, one or more per attack class. Deterministic; the first eight
 * are classified `other` with a problem.
 */
export function hostileMessages(): Array<{ name: string; raw: string }> {
	const S = HOSTILE_SIZE;
	const lt = utf8Bytes('\u2039');
	const list: Array<{ name: string; raw: string }> = [
		// Reported by a limit or a structural check (kind `other` with a problem).
		{ name: 'multipart-no-boundary-blank-lines', raw: 'From: a@b.com\r\nContent-Type: multipart/mixed\r\n\r\n' + '\r\n'.repeat(100_000) + 'x' },
		{ name: 'from-100k-letters', raw: plain([['From', 'a'.repeat(100_000)]], 'hello' + CRLF) },
		{ name: 'to-100k-letters', raw: plain([['To', 'a'.repeat(100_000)]], 'hello' + CRLF) },
		{
			name: 'encoded-rfc822-1500-levels',
			raw: plain([], '', [...BASIC, ['Content-Type', 'message/rfc822'], ['Content-Transfer-Encoding', 'quoted-printable']]) + nestedRfc822(1500),
		},
		{
			name: 'base64-rfc822-nesting',
			raw: plain(
				[
					['Content-Type', 'message/rfc822'],
					['Content-Transfer-Encoding', 'base64'],
				],
				Buffer.from(nestedRfc822(400, 'base64'), 'latin1').toString('base64'),
			),
		},
		{
			name: 'folded-header-flood',
			raw: plain(
				[['To', Array.from({ length: Math.ceil(S / 64) }, (_, i) => `<${'r'.repeat(40)}${i}@attacker.example>,`).join(CRLF + ' ')]],
				'hello' + CRLF,
			),
		},
		{
			name: 'header-count-flood',
			raw: headers([...BASIC, ...Array.from({ length: 20_000 }, (_, i): [string, string] => [`X-H${i}`, 'a@b.c <'])]) + 'hello' + CRLF,
		},
		{
			name: 'many-parts',
			raw: plain(
				[['Content-Type', 'multipart/mixed; boundary=M']],
				repeatTo(`--M${CRLF}Content-Type: text/plain${CRLF}${CRLF}x@y.z <a${CRLF}`, S) + `--M--${CRLF}`,
			),
		},
		// Super-linear patterns (no limit needed any more; classified by their content).
		{ name: 'html-250k-single-guillemet', raw: plain([['Content-Type', 'text/html; charset=utf-8']], lt.repeat(250_000 / 3 + 1)) },
		{ name: 'html-250k-lt', raw: plain([['Content-Type', 'text/html; charset=utf-8']], '<'.repeat(250_000)) },
		{ name: 'html-unclosed-script', raw: plain([['Content-Type', 'text/html']], repeatTo('<script>x', S)) },
		{ name: 'html-entities', raw: plain([['Content-Type', 'text/html']], repeatTo('&#x41&amp', S)) },
		{ name: 'text-line-200k-dashes', raw: plain([], '-'.repeat(200_000) + CRLF) },
		{ name: 'text-line-equals', raw: plain([], '='.repeat(S) + CRLF) },
		{ name: 'text-many-dash-lines', raw: plain([], repeatTo('---------- x' + CRLF, S)) },
		{ name: 'text-address-chars', raw: plain([['Subject', 'Re: hello']], repeatTo('a.', S) + CRLF) },
		{ name: 'text-at-signs', raw: plain([['Subject', 'Re: hello']], repeatTo('a@', S) + CRLF) },
		{ name: 'text-angle-at', raw: plain([['Subject', 'Re: hello']], '<' + repeatTo('a@', S) + CRLF) },
		{ name: 'qp-soft-breaks', raw: plain([['Content-Transfer-Encoding', 'quoted-printable']], repeatTo('=' + CRLF, S)) },
		{ name: 'base64-garbage', raw: plain([['Content-Transfer-Encoding', 'base64']], repeatTo('%%=?', S)) },
		{
			name: 'encoded-words-subject',
			raw: plain([['Subject', Array.from({ length: 4000 }, () => '=?utf-8?q?a=3D?=').join(CRLF + ' ')]], 'hello' + CRLF),
		},
		{ name: 'dsn-final-recipient-200k', raw: dsnMessage(`Final-Recipient: rfc822; ${'a'.repeat(200_000)}${CRLF}Action: failed${CRLF}Status: 5.1.1`) },
		{ name: 'dsn-bracketed-at-run', raw: dsnMessage(`Final-Recipient: rfc822; <${repeatTo('a@', S)}${CRLF}Action: failed${CRLF}Status: 5.1.1`) },
		{
			name: 'dsn-diagnostic-flood',
			raw: dsnMessage(
				`Final-Recipient: rfc822; u@v.example${CRLF}Action: failed${CRLF}Status: 5.1.1${CRLF}Diagnostic-Code: smtp; ${repeatTo('recipient ', S)}`,
			),
		},
		{
			name: 'dsn-many-recipients',
			raw: dsnMessage(repeatTo(`Final-Recipient: rfc822; u@v.example${CRLF}Action: failed${CRLF}Status: 5.1.1${CRLF}${CRLF}`, S)),
		},
		{ name: 'notice-recipient-words', raw: noticeMessage('Undelivered Mail', 'u@v.example' + CRLF + repeatTo('recipient ', S)) },
		{ name: 'notice-transcript-lines', raw: noticeMessage('Undelivered Mail', 'u@v.example' + CRLF + '550 x' + CRLF + '550 <' + repeatTo('a@', S)) },
		{
			name: 'notice-exchange2003-msexch',
			raw: noticeMessage('Undelivered', 'u@v.example' + CRLF + repeatTo('MSEXCH:', S), [['X-MS-Embedded-Report', '1']]),
		},
		{
			name: 'notice-notes-failure-reasons',
			raw: noticeMessage('Undeliverable message', '------- Failure Reasons --------' + CRLF + repeatTo(CRLF + ' ', S)),
		},
		{
			name: 'notice-sendmail-transcript',
			raw: noticeMessage('Returned mail: x', '----- Transcript of session follows -----' + CRLF + '-'.repeat(S)),
		},
		{ name: 'nested-multiparts', raw: nestedMultiparts(12, 16) },
		{ name: 'delimiter-like-lines', raw: plain([['Content-Type', 'multipart/mixed; boundary=B']], repeatTo(`--B${CRLF}--Bx${CRLF}--${CRLF}`, S)) },
		{ name: 'random-bytes', raw: pseudoRandomBytes(S) },
		{ name: 'random-bytes-after-headers', raw: plain([], pseudoRandomBytes(S, 12345)) },
	];
	return list;
}

/** Multiparts nested `depth` deep, each level with `width` text parts before the next level. */
export function nestedMultiparts(depth: number, width: number): string {
	let inner = 'Content-Type: text/plain\r\n\r\nleaf u@v.example\r\n';
	for (let d = 0; d < depth; d++) {
		const b = `b${d}`;
		let body = '';
		for (let i = 0; i < width; i++) body += `--${b}\r\nContent-Type: text/plain\r\n\r\n${'----- x\r\n'.repeat(50)}\r\n`;
		inner = `Content-Type: multipart/mixed; boundary=${b}\r\n\r\n${body}--${b}\r\n${inner}--${b}--\r\n`;
	}
	return 'From: a@attacker.example\r\nSubject: nested\r\n' + inner;
}

/** Byte sequences that defeat naive patterns: delimiters, address and tag characters, encodings, line ends. */
export const HOSTILE_UNITS = [
	'a',
	'1',
	'-',
	'<',
	'>',
	'@',
	'.',
	' ',
	'\t',
	'\n',
	'\r\n',
	'=',
	'?',
	'\u00e2\u0080\u00b9',
	'"',
	':',
	';',
	'(',
	'--',
	'=?utf-8?q?',
	'<a',
	'a@',
	'a.',
	'&#',
	'&a',
	'recipient ',
	'550 ',
	'\u0000',
	'\u00ff',
	'MSEXCH:',
	'>>> ',
];

/** One unit repeated: a long run of one pathological pattern. */
export const arbRun = (maxLength = 20_000): fc.Arbitrary<string> =>
	fc
		.tuple(fc.constantFrom(...HOSTILE_UNITS), fc.integer({ min: 1, max: maxLength }))
		.map(([u, n]) => u.repeat(Math.max(1, Math.floor(n / u.length))));

/** A short mix of units: where two patterns meet. */
export const arbMix = (maxUnits = 40): fc.Arbitrary<string> =>
	fc.array(fc.constantFrom(...HOSTILE_UNITS), { maxLength: maxUnits }).map((a) => a.join(''));

/** Text made of runs and mixes. */
export const arbHostileText = (maxLength = 20_000): fc.Arbitrary<string> =>
	fc.array(fc.oneof(arbRun(maxLength), arbMix()), { minLength: 1, maxLength: 4 }).map((a) => a.join(''));

const FIELD_NAMES = [
	'From',
	'To',
	'Cc',
	'Subject',
	'References',
	'In-Reply-To',
	'Message-ID',
	'Content-Type',
	'Return-Path',
	'X-Failed-Recipients',
	'Received',
	'X-Cadence-Token',
	'Auto-Submitted',
];

/** A header field with a long or odd value, sometimes folded. */
export const arbHeaderField: fc.Arbitrary<string> = fc
	.tuple(fc.constantFrom(...FIELD_NAMES), arbHostileText(30_000), fc.boolean())
	.map(([name, value, fold]) => `${name}: ${fold ? value.replace(/(.{70})/g, '$1\r\n ') : value}`);

/** A message with hostile header fields and a hostile body. */
export const arbLongHeaders: fc.Arbitrary<string> = fc
	.tuple(fc.array(arbHeaderField, { minLength: 1, maxLength: 4 }), arbHostileText())
	.map(([fields, body]) => `From: a@attacker.example\r\n${fields.join('\r\n')}\r\n\r\n${body}`);

/** Long lines and repeated delimiter-like lines in a (possibly HTML, possibly encoded) body. */
export const arbLongLines: fc.Arbitrary<string> = fc
	.tuple(
		fc.constantFrom('text/plain', 'text/html', 'multipart/mixed', 'multipart/mixed; boundary=B', 'message/delivery-status'),
		fc.constantFrom('', '7bit', 'quoted-printable', 'base64'),
		fc.array(
			fc.oneof(
				arbRun(),
				fc.constantFrom('--B', '--B--', '--', '--Bx', '------ Original message ------', 'Final-Recipient: rfc822; ', 'Status: 5.1.1', ''),
			),
			{ maxLength: 20 },
		),
	)
	.map(
		([type, cte, lines]) =>
			`From: MAILER-DAEMON@attacker.example\r\nSubject: Undelivered Mail\r\nContent-Type: ${type}\r\n${cte ? `Content-Transfer-Encoding: ${cte}\r\n` : ''}\r\n${lines.join('\r\n')}`,
	);

/** A tree of multiparts and attached messages, with missing, wrong or repeated boundaries. */
export const arbNestedMultipart: fc.Arbitrary<string> = fc
	.letrec<{ node: string }>((tie) => ({
		node: fc.oneof(
			{ depthSize: 'small', withCrossShrink: true },
			arbHostileText(2000).map((t) => `Content-Type: text/plain\r\n\r\n${t}`),
			fc
				.tuple(fc.constantFrom('b', 'bb', '', 'b b', '-'), fc.array(tie('node'), { maxLength: 4 }), fc.boolean())
				.map(
					([b, kids, close]) =>
						`Content-Type: multipart/mixed${b ? `; boundary="${b}"` : ''}\r\n\r\n` +
						kids.map((k) => `--${b || 'b'}\r\n${k}\r\n`).join('') +
						(close ? `--${b || 'b'}--\r\n` : ''),
				),
			fc
				.tuple(fc.constantFrom('', 'base64', 'quoted-printable'), tie('node'))
				.map(([cte, inner]) =>
					cte === 'base64'
						? `Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`From: x@y.z\r\n${inner}`, 'latin1').toString('base64')}`
						: `Content-Type: message/rfc822\r\n${cte ? `Content-Transfer-Encoding: ${cte}\r\n` : ''}\r\nFrom: x@y.z\r\n${inner}`,
				),
		),
	}))
	.node.map((n) => `From: a@attacker.example\r\nSubject: tree\r\n${n}`);

/** Attached messages nested far deeper than the limit, some levels transfer encoded. */
export const arbDeepEncodedRfc822: fc.Arbitrary<string> = fc
	.tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom<'quoted-printable' | 'base64' | 'none'>('quoted-printable', 'base64', 'none'))
	.map(
		([levels, enc]) =>
			`From: a@attacker.example\nSubject: deep\n` +
			nestedRfc822(enc === 'base64' ? Math.min(levels, 200) : levels, enc).replace(/^From: [^\n]*\n/, ''),
	);

/** Arbitrary bytes, alone or after a plausible header block. */
export const arbRandomBytes: fc.Arbitrary<string> = fc
	.tuple(fc.uint8Array({ maxLength: 65_536 }), fc.boolean())
	.map(([bytes, withHeaders]) => (withHeaders ? 'From: a@attacker.example\r\nSubject: x\r\n\r\n' : '') + Buffer.from(bytes).toString('latin1'));

/** Any of the generators above. */
export const arbHostileMessage: fc.Arbitrary<string> = fc.oneof(
	arbLongHeaders,
	arbLongLines,
	arbNestedMultipart,
	arbDeepEncodedRfc822,
	arbRandomBytes,
);
