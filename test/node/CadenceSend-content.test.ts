/**
 * Content per language and segment, and the unsubscribe-link check, in Cadence Send inside n8n-core's real
 * ExecuteContext with a real SMTP server on loopback: which subject and body each contact gets, who is not mailed
 * and why, and that those contacts take no place under the day's caps.
 */
import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import type { IDataObject } from 'n8n-workflow';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { description as sendProperties } from '../../nodes/CadenceSend/actions/send.operation';
import { DEFAULT_LANGUAGE_FIELD, DEFAULT_SEGMENT_FIELD, NO_CONTENT_REASON } from '../../core/content';
import { CadenceRenderError, hasUnsubscribeLink, NO_UNSUBSCRIBE_LINK_REASON, renderCadenceMessage } from '../../core/sendRender';
import { chooseVariant, createTracker } from '../../core/tracker';
import { DEFAULT_CONTENT_MODE } from '../../nodes/CadenceSend/send/content';
import { DEFAULT_REQUIRE_UNSUBSCRIBE_LINK } from '../../nodes/CadenceSend/send/settings';
import { runNode } from '../helpers/n8n';
import { useSmtpSink } from '../helpers/smtpSinkHooks';
import { sinkSmtpCredential, trackingCredential } from '../helpers/sendNode';

const node = new CadenceSend();
const SECRET = 'content-test-secret-0123456789abcdef';
const BASE_URL = 'https://track.example.com/webhook/abc123/t';
const UNSUB = '<a href="[[unsubscribeUrl]]">unsubscribe</a>';

const sink = useSmtpSink();

function credentials() {
	return { cadenceSmtpApi: sinkSmtpCredential(sink()), cadenceTrackingApi: trackingCredential(BASE_URL, SECRET) };
}

async function send(items: IDataObject[], parameters: IDataObject, continueOnFail = false) {
	return runNode(node, { parameters: { campaign: 'spring', ...parameters }, items, credentials: credentials(), continueOnFail });
}

const entry = (language: string, segment: string, subject: string, extra: IDataObject = {}) => ({
	language,
	segment,
	subject,
	html: `<p>${subject}</p>${UNSUB}`,
	...extra,
});

/** The subject and HTML of the message sent to `to`. */
async function mailTo(to: string): Promise<{ subject: string; html: string }> {
	const m = sink().messages.find((x) => x.rcptTo[0] === to);
	if (!m) throw new Error(`no message to ${to}`);
	const parsed = await simpleParser(m.raw);
	return { subject: String(parsed.subject), html: String(parsed.html) };
}

describe('content entries per language and segment', () => {
	const entries = {
		content: 'perLanguage',
		contentEntries: {
			entry: [
				entry('English', '', 'Hello'),
				entry('French', '', 'Bonjour'),
				entry('French', 'Dealers', 'Bonjour revendeur'),
				entry('法语', '工程设备经销商', '您好经销商'),
			],
		},
	};

	it("each contact gets its language's content, the segment's entry first; a language without content is skipped and says which have content", async () => {
		const items = [
			{ email: 'en@a.example', language: 'english' },
			{ email: 'fr@b.example', language: ' French ', segment: 'Retail' },
			{ email: 'dealer@c.example', language: 'FRENCH', segment: 'dealers' },
			{ email: 'de@d.example', language: 'German' },
			// No language field: the batch tag's language and segment.
			{ email: 'zh@e.example', batchTag: '法语-工程设备经销商-营销05' },
			{ email: 'none@f.example' },
		];
		const { json } = await send(items, entries, true);
		expect(json.map((e) => e.type)).toEqual(['sent', 'sent', 'sent', 'skipped', 'sent', 'skipped']);
		expect((await mailTo('en@a.example')).subject).toBe('Hello');
		expect((await mailTo('fr@b.example')).subject).toBe('Bonjour');
		expect((await mailTo('dealer@c.example')).subject).toBe('Bonjour revendeur');
		expect((await mailTo('zh@e.example')).subject).toBe('您好经销商');
		expect(json[3]).toMatchObject({
			reason: NO_CONTENT_REASON,
			error: 'No content for language "German"; content exists for "English", "French", "法语"',
		});
		expect(json[5]).toMatchObject({ reason: NO_CONTENT_REASON, error: expect.stringContaining('the contact has no language') });
		// The unsubscribe link was filled in and the contacts without content were not mailed.
		expect(
			sink()
				.messages.map((m) => m.rcptTo[0])
				.sort(),
		).toEqual(['dealer@c.example', 'en@a.example', 'fr@b.example', 'zh@e.example']);
		expect((await mailTo('en@a.example')).html).not.toContain('[[unsubscribeUrl]]');
	});

	it("contacts without content take no place under the day's caps", async () => {
		// Three German contacts first, then the company's cap (2) in French ones: both French ones go out.
		const items = [
			...[0, 1, 2].map((i) => ({ email: `de${i}@acme.example`, language: 'German' })),
			...[0, 1].map((i) => ({ email: `fr${i}@acme.example`, language: 'French' })),
		];
		const { json } = await send(items, { ...entries, options: { companyDailyCap: 2 } });
		expect(json.map((e) => e.reason ?? e.type)).toEqual([NO_CONTENT_REASON, NO_CONTENT_REASON, NO_CONTENT_REASON, 'sent', 'sent']);
	});

	it("A/B variants inside a language are chosen among that entry's variant names; a variant's empty fields come from the base entry", async () => {
		const params = {
			content: 'perLanguage',
			campaign: 'ab',
			contentEntries: {
				entry: [
					{ language: 'French', subject: 'Base', html: `<p>base</p>${UNSUB}`, text: 'base text [[unsubscribeUrl]]' },
					{ language: 'French', variant: 'A', subject: '', html: `<p>A body</p>${UNSUB}` },
					{ language: 'French', variant: 'B', subject: 'Subject B' },
					{ language: 'English', variant: 'X', subject: 'X', html: `<p>X</p>${UNSUB}` },
				],
			},
		};
		const emails = Array.from({ length: 8 }, (_, k) => `p${k}@v${k}.example`);
		const { json } = await send(
			emails.map((email) => ({ email, language: 'French' })),
			params,
		);
		const seen = new Set<string>();
		for (const [k, email] of emails.entries()) {
			const variant = chooseVariant(email, 'ab', ['A', 'B']);
			seen.add(variant);
			expect(json[k]).toMatchObject({ type: 'sent', variant });
			const mail = await mailTo(email);
			if (variant === 'A') expect(mail).toMatchObject({ subject: 'Base', html: expect.stringContaining('A body') });
			else expect(mail).toMatchObject({ subject: 'Subject B', html: expect.stringContaining('<p>base</p>') });
		}
		expect(seen.size).toBe(2);
	});

	it("entry bodies are read per item: expression results are escaped, the item's own fields fill them", async () => {
		const params = {
			content: 'perLanguage',
			contentEntries: { entry: [{ language: 'English', subject: '=Hi {{ $json.name }}', html: `=<p>Dear {{ $json.name }}</p>${UNSUB}` }] },
		};
		await send([{ email: 'x@a.example', language: 'English', name: 'Ann <b>' }], params);
		const mail = await mailTo('x@a.example');
		expect(mail.subject).toBe('Hi Ann <b>');
		expect(mail.html).toContain('Dear Ann &lt;b&gt;');
	});

	it('the language and segment fields can be renamed', async () => {
		const { json } = await send([{ email: 'x@a.example', lang: 'French', seg: 'Dealers', language: 'English' }], {
			...entries,
			languageField: 'lang',
			segmentField: 'seg',
		});
		expect(json[0].type).toBe('sent');
		expect((await mailTo('x@a.example')).subject).toBe('Bonjour revendeur');
	});

	it('bad entries fail the node before anything is sent', async () => {
		await expect(send([{ email: 'x@a.example', language: 'French' }], { content: 'perLanguage' })).rejects.toThrow(/no Content Entries are set/);
		await expect(
			send([{ email: 'x@a.example', language: 'French' }], {
				content: 'perLanguage',
				contentEntries: { entry: [entry('French', '', 'a'), entry('french', '', 'b')] },
			}),
		).rejects.toThrow(/Content row 2: a second row for language "french" without a variant name/);
		expect(sink().messages).toHaveLength(0);
	});
});

describe('content table', () => {
	const rows = [
		{ language: 'English', subject: 'Hello', html: `<p>Hello <a href="https://shop.example.com/">shop</a></p>${UNSUB}`, id: 1 },
		{ language: 'Spanish', segment: 'Dealers', variant: '', subject: 'Hola', text: 'Hola [[unsubscribeUrl]]' },
	];

	it('reads rows from an expression and from JSON text; links in the table are tracked', async () => {
		for (const contentTable of [`={{ ${JSON.stringify(rows)} }}`, JSON.stringify(rows)]) {
			sink().messages.length = 0;
			const { json } = await send(
				[
					{ email: 'en@a.example', language: 'English' },
					{ email: 'es@b.example', batchTag: 'Spanish-Dealers-Marketing03' },
					{ email: 'es2@c.example', batchTag: 'Spanish-Retail-Marketing03' },
				],
				{ content: 'table', contentTable },
				true,
			);
			expect(json.map((e) => e.reason ?? e.type)).toEqual(['sent', 'sent', NO_CONTENT_REASON]);
			expect(json[2].error).toMatch(/No content for language "Spanish" and segment "Retail": that language has content only for segment "Dealers"/);
			const en = await mailTo('en@a.example');
			expect(en.subject).toBe('Hello');
			expect(en.html).not.toContain('https://shop.example.com/"');
			expect(en.html).toContain(BASE_URL);
			expect((await mailTo('es@b.example')).subject).toBe('Hola');
		}
	});

	it('a table that is not one fails the node before anything is sent', async () => {
		await expect(send([{ email: 'x@a.example' }], { content: 'table', contentTable: '={{ [{ "segment": "x" }] }}' })).rejects.toThrow(
			/Content row 1: the language is empty/,
		);
		await expect(send([{ email: 'x@a.example' }], { content: 'table', contentTable: '={{ [] }}' })).rejects.toThrow(/has no rows/);
		expect(sink().messages).toHaveLength(0);
	});
});

describe('the unsubscribe link is required', () => {
	it('a message whose HTML and Text both lack it fails its item with no-unsubscribe-link and is not sent', async () => {
		const { json } = await send(
			[{ email: 'a@x.example' }, { email: 'b@y.example', withLink: true }],
			{
				subject: 'Hi',
				html: '={{ $json.withLink ? "<p>Hi</p><a href=\\"[[unsubscribeUrl]]\\">stop</a>" : "<p>Hi</p>" }}',
			},
			true,
		);
		expect(json[0]).toMatchObject({ type: 'failed', reason: NO_UNSUBSCRIBE_LINK_REASON, error: expect.stringContaining('[[unsubscribeUrl]]') });
		expect(json[1].type).toBe('sent');
		expect(sink().messages.map((m) => m.rcptTo[0])).toEqual(['b@y.example']);
	});

	it('the link in the Text alone (either placeholder form) is enough; without Continue On Fail the node fails', async () => {
		const { json } = await send([{ email: 'a@x.example' }], { subject: 'Hi', html: '<p>Hi</p>', text: 'Hi. Stop: {{unsubscribeUrl}}' });
		expect(json[0].type).toBe('sent');
		await expect(send([{ email: 'b@x.example' }], { subject: 'Hi', html: '<p>Hi</p>', options: { dryRun: true } })).rejects.toThrow(
			/Neither the HTML nor the text body has the unsubscribe link/,
		);
	});

	it('turned off, a message without it is sent', async () => {
		const { json } = await send([{ email: 'a@x.example' }], { subject: 'Hi', html: '<p>Hi</p>', options: { requireUnsubscribeLink: false } });
		expect(json[0].type).toBe('sent');
	});

	it('content entries are checked the same way', async () => {
		const { json } = await send(
			[
				{ email: 'a@x.example', language: 'English' },
				{ email: 'b@y.example', language: 'French' },
			],
			{
				content: 'perLanguage',
				contentEntries: { entry: [entry('English', '', 'Hello'), { language: 'French', subject: 'Bonjour', html: '<p>Bonjour</p>' }] },
			},
			true,
		);
		expect(json.map((e) => e.reason ?? e.type)).toEqual(['sent', NO_UNSUBSCRIBE_LINK_REASON]);
	});
});

describe('the unsubscribe-link check in the library', () => {
	const tracker = createTracker({ secrets: [SECRET], baseUrl: BASE_URL });
	const input = { from: 'a@sender.example', to: 'b@x.example', subject: 'Hi', campaign: 'c', batchTag: '', variant: '', sentAt: 1 };

	it('is opt-in for renderCadenceMessage: on, a body without the link is refused with its reason', () => {
		expect(() => renderCadenceMessage({ ...input, html: '<p>x</p>' }, { tracker })).not.toThrow();
		let error: unknown;
		try {
			renderCadenceMessage({ ...input, html: '<p>x</p>', text: 'x' }, { tracker, requireUnsubscribeLink: true });
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(CadenceRenderError);
		expect((error as CadenceRenderError).reason).toBe(NO_UNSUBSCRIBE_LINK_REASON);
		const msg = renderCadenceMessage({ ...input, html: '<a href="[[ unsubscribeUrl ]]">stop</a>' }, { tracker, requireUnsubscribeLink: true });
		expect(hasUnsubscribeLink(msg.html, msg.unsubscribeUrl)).toBe(true);
		expect(hasUnsubscribeLink(msg.text, msg.unsubscribeUrl)).toBe(true);
	});

	it('hasUnsubscribeLink knows both placeholders and the rendered URL, as written or HTML-escaped', () => {
		expect(hasUnsubscribeLink('x [[unsubscribeUrl]]')).toBe(true);
		expect(hasUnsubscribeLink('x {{ unsubscribeUrl }}')).toBe(true);
		expect(hasUnsubscribeLink('x [unsubscribeUrl]')).toBe(false);
		expect(hasUnsubscribeLink(undefined)).toBe(false);
		const url = 'https://t.example/u?t=a&b=c';
		expect(hasUnsubscribeLink(`<a href="https://t.example/u?t=a&amp;b=c">`, url)).toBe(true);
		expect(hasUnsubscribeLink(`see ${url}`, url)).toBe(true);
		expect(hasUnsubscribeLink('see https://t.example/u?t=other', url)).toBe(false);
	});
});

describe('parameters', () => {
	const param = (name: string) => sendProperties.find((p) => p.name === name)!;
	it('show the named defaults', () => {
		expect(param('content').default).toBe(DEFAULT_CONTENT_MODE);
		expect(DEFAULT_CONTENT_MODE).toBe('single');
		expect(param('languageField').default).toBe(DEFAULT_LANGUAGE_FIELD);
		expect(param('segmentField').default).toBe(DEFAULT_SEGMENT_FIELD);
		const options = param('options').options as Array<{ name: string; default: unknown }>;
		expect(options.find((o) => o.name === 'requireUnsubscribeLink')!.default).toBe(DEFAULT_REQUIRE_UNSUBSCRIBE_LINK);
		expect(DEFAULT_REQUIRE_UNSUBSCRIBE_LINK).toBe(true);
	});

	it('Subject, HTML, Text and A/B Variants show only for one message; the per-language fields only per language', () => {
		for (const name of ['subject', 'html', 'text', 'variants']) expect(param(name).displayOptions?.show?.content).toEqual(['single']);
		expect(param('contentEntries').displayOptions?.show?.content).toEqual(['perLanguage']);
		expect(param('contentTable').displayOptions?.show?.content).toEqual(['table']);
	});
});
