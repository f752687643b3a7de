/**
 * Cadence Send with hostile contact data, run in n8n-core's real ExecuteContext: expression results are escaped in
 * HTML and their links stay untracked unless the user opts in; headers carry no control characters; node-owned
 * headers cannot be set as extra headers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import type { IDataObject } from 'n8n-workflow';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { description as cadenceSendProperties } from '../../nodes/CadenceSend/actions/send.operation';
import { DEFAULT_TRACK_FIELD_LINKS } from '../../core/sendRender';
import { createTracker } from '../../core/tracker';
import { runNode } from '../helpers/n8n';
import { startSmtpSink, type SmtpSink } from '../helpers/smtpSink';

const node = new CadenceSend();
const SECRET = 'hostile-node-secret-0123456789abcdef';
const BASE_URL = 'https://track.example.com/webhook/abc123/t';
const tracker = createTracker({ secrets: [SECRET], baseUrl: BASE_URL });

let sink: SmtpSink;
beforeAll(async () => {
	sink = await startSmtpSink({});
});
afterAll(async () => sink.close());
beforeEach(() => {
	sink.messages.length = 0;
});

function credentials() {
	return {
		cadenceSmtpApi: { host: sink.host, port: sink.port, tls: 'none', defaultFrom: 'Sales <sales@sender.example.com>', poolSize: 2, maxPerSecond: 0 },
		cadenceTrackingApi: { baseUrl: BASE_URL, secrets: SECRET, maxAgeDays: 0 },
	};
}

const EVIL_LINK = '<a href="https://evil.example">x</a>';
const SCRIPT = '<script>alert(1)</script>';
const hostile = { email: 'anna@example.com', name: `${EVIL_LINK}${SCRIPT}`, id: '7', url: 'https://evil.example/', host: 'evil.example' };

async function dryRun(parameters: IDataObject, items: IDataObject[] = [hostile]) {
	const { json } = await runNode(node, {
		parameters: {
			subject: 'Hi',
			campaign: 'c',
			...parameters,
			// These tests are about fields in the bodies, not the unsubscribe link.
			options: { dryRun: true, openTracking: false, requireUnsubscribeLink: false, ...((parameters.options as IDataObject) ?? {}) },
		},
		items,
		credentials: credentials(),
	});
	return json.map(
		(e) => e.message as IDataObject & { html: string; text: string; trackedLinks: Array<{ target: string }>; headers: Record<string, string> },
	);
}

/** Click targets of the tracking links in a body. */
function clickTargets(body: string): string[] {
	return [...body.matchAll(/https:\/\/track\.example\.com\/webhook\/abc123\/t\?t=[\w-]+/g)]
		.map((m) => tracker.parse(m[0]))
		.filter((p) => p?.kind === 'click')
		.map((p) => p!.target!);
}

describe('contact fields in the HTML', () => {
	it('a field holding a link and a script is escaped and not tracked; the template link is tracked', async () => {
		const [msg] = await dryRun({
			html: '=<html><body><p>Hi {{ $json.name }}</p><a href="https://shop.example.com/?ref={{ $json.id }}">Shop</a></body></html>',
		});
		expect(msg.html).toContain('&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
		expect(msg.html).not.toContain('<script');
		expect(msg.html).not.toContain('<a href="https://evil.example"');
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://shop.example.com/?ref=7']);
		expect(clickTargets(msg.html)).toEqual(['https://shop.example.com/?ref=7&utm_source=cadence&utm_medium=email&utm_campaign=c']);
		// The text part shows the field as the recipient sees it in the HTML: as text, its link not tracked.
		expect(msg.text).toContain('Hi <a href="https://evil.example">x</a><script>alert(1)</script>');
		expect(clickTargets(msg.text)).toEqual(['https://shop.example.com/?ref=7&utm_source=cadence&utm_medium=email&utm_campaign=c']);
	});

	it('the Track Links From Fields option defaults to the core default (off)', () => {
		const options = cadenceSendProperties.find((p) => p.name === 'options')!.options as Array<{ name: string; default: unknown }>;
		expect(options.find((o) => o.name === 'trackFieldLinks')!.default).toBe(DEFAULT_TRACK_FIELD_LINKS);
		expect(DEFAULT_TRACK_FIELD_LINKS).toBe(false);
	});

	it('a whole-body expression ({{ $json.body }}) is escaped too', async () => {
		const [msg] = await dryRun({ html: '={{ $json.name }}' });
		expect(msg.html).toBe('&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
		expect(msg.trackedLinks).toEqual([]);
	});

	it('{{ /*raw*/ ... }} inserts HTML as it is; its links stay untracked unless Track Links from Fields is on', async () => {
		const html = '=<p>{{ /*raw*/ $json.name }}</p><a href="https://shop.example.com/">Shop</a>';
		const [plain] = await dryRun({ html });
		expect(plain.html).toContain(`<p>${EVIL_LINK}${SCRIPT}</p>`);
		expect(plain.trackedLinks.map((l) => l.target)).toEqual(['https://shop.example.com/']);
		const [optIn] = await dryRun({ html, options: { trackFieldLinks: true } });
		expect(optIn.trackedLinks.map((l) => l.target).sort()).toEqual(['https://evil.example', 'https://shop.example.com/']);
		expect(optIn.html).not.toContain('href="https://evil.example"');
	});

	it('a field that decides where a template link leads (whole href, or its host) is not tracked', async () => {
		const [msg] = await dryRun({
			html: '=<a href="{{ $json.url }}">a</a> <a href="https://{{ $json.host }}/x">b</a> <a href="https://ok.example{{ $json.id }}/">c</a> <a href="https://ok.example/p/{{ $json.id }}">d</a>',
		});
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://ok.example/p/7']);
		expect(msg.html).toContain('href="https://evil.example/"');
		expect(msg.html).toContain('href="https://evil.example/x"');
		const [optIn] = await dryRun({ html: '=<a href="{{ $json.url }}">a</a>', options: { trackFieldLinks: true } });
		expect(optIn.trackedLinks.map((l) => l.target)).toEqual(['https://evil.example/']);
	});

	it('a fixed template without expressions is tracked as before; the text body keeps field URLs untracked', async () => {
		const [msg] = await dryRun({
			html: '<a href="https://shop.example.com/">Shop</a>',
			text: '=Hi, see https://shop.example.com/t and {{ $json.url }} or https://{{ $json.host }}/y.',
		});
		expect(msg.trackedLinks.map((l) => l.target)).toEqual(['https://shop.example.com/', 'https://shop.example.com/t']);
		expect(msg.text).toContain(' and https://evil.example/ or https://evil.example/y.');
	});

	it('each item gets its own escaped fields, in variant bodies too', async () => {
		const items = [
			{ email: 'anna@example.com', name: 'Anna & <b>Co</b>' },
			{ email: 'ben@example.com', name: '"Ben"' },
			{ email: 'cleo@example.com', name: "O'Neil" },
		];
		const html = '=<p>Hi {{ $json.name }}</p>';
		const msgs = await dryRun({ html, variants: { variant: [{ name: 'A', html: '=<p>A: {{ $json.name }}</p>' }, { name: 'B' }] } }, items);
		const bodies = msgs.map((m) => m.html);
		for (const [k, expected] of ['Anna &amp; &lt;b&gt;Co&lt;/b&gt;', '&quot;Ben&quot;', 'O&#39;Neil'].entries()) {
			expect(bodies[k]).toMatch(new RegExp(`^<p>(A: |Hi )${expected.replace(/[&;]/g, (c) => c)}</p>$`));
		}
		expect(bodies.some((b) => b.startsWith('<p>A: '))).toBe(true);
		expect(bodies.some((b) => b.startsWith('<p>Hi '))).toBe(true);
	});

	it('escaped braces and text around expressions stay as n8n renders them', async () => {
		const [msg] = await dryRun({ html: '=<p>{{ "a" }}-{{ $json.id }}-{{ 1 + 1 }}</p>' });
		expect(msg.html).toBe('<p>a-7-2</p>');
	});

	it('a link the redirect would refuse is left as written', async () => {
		const [msg] = await dryRun({
			html: '<a href="https://ok.example/a b">1</a><a href="https://user:pw@ok.example/">2</a><a href="https://ok.example\\x">3</a>',
		});
		expect(msg.trackedLinks).toEqual([]);
		expect(msg.html).toContain('href="https://ok.example/a b"');
	});
});

describe('headers', () => {
	it('control characters from fields never reach the headers; the message is sent with a clean subject', async () => {
		const items = [{ email: 'anna@example.com', name: 'Anna\u0000\r\nBcc: victim@evil.example\u0007' }];
		const { json } = await runNode(node, {
			parameters: {
				subject: '={{ "Hello " + $json.name }}',
				html: '<p>x</p><a href="[[unsubscribeUrl]]">unsubscribe</a>',
				campaign: 'c',
				options: { headers: { header: [{ name: 'X-Note', value: '={{ "a\\u0000b\\r\\nX-Injected: 1 " + $json.name }}' }] } },
			},
			items,
			credentials: credentials(),
		});
		expect(json[0].type).toBe('sent');
		const raw = sink.messages[0].raw.toString('latin1');
		const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
		// eslint-disable-next-line no-control-regex
		expect(head.replace(/\r\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f]/);
		expect(head).not.toMatch(/^Bcc:/im);
		expect(head).not.toMatch(/^X-Injected:/im);
		const parsed = await simpleParser(sink.messages[0].raw);
		expect(parsed.subject).toBe('Hello Anna Bcc: victim@evil.example');
		expect(parsed.headers.get('x-note')).toBe('ab X-Injected: 1 Anna Bcc: victim@evil.example');
		expect(parsed.bcc).toBeUndefined();
	});

	it('an extra header the node owns fails the run before anything is sent, naming the header', async () => {
		for (const name of ['Content-Type', 'MIME-Version', 'Content-Transfer-Encoding', 'return-path', 'DKIM-Signature']) {
			await expect(
				runNode(node, {
					parameters: { subject: 'x', html: '<p>x</p>', options: { headers: { header: [{ name, value: 'text/plain' }] } } },
					items: [{ email: 'anna@example.com' }],
					credentials: credentials(),
				}),
			).rejects.toThrow(new RegExp(`The header "${name}" is set by the node`));
		}
		expect(sink.messages).toHaveLength(0);
		const { json } = await runNode(node, {
			parameters: { subject: 'x', html: '<p>x</p>', options: { headers: { header: [{ name: 'Bad Name', value: 'v' }] } } },
			items: [{ email: 'anna@example.com' }],
			credentials: credentials(),
			continueOnFail: true,
		});
		expect(json[0]).toMatchObject({ type: 'failed', reason: 'invalid-header', error: expect.stringMatching(/Invalid header name "Bad Name"/) });
		const proto = await runNode(node, {
			parameters: { subject: 'x', html: '<p>x</p>', options: { headers: { header: [{ name: '__proto__', value: 'v' }] } } },
			items: [{ email: 'anna@example.com' }],
			credentials: credentials(),
			continueOnFail: true,
		});
		expect(proto.json[0]).toMatchObject({ type: 'failed', reason: 'invalid-header' });
	});
});
