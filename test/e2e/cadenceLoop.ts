/**
 * The whole cadence, end to end, as one loop that runs on any n8n set-up and store: the Data-table templates on one
 * n8n process (cadence.e2e.test.ts), the Postgres templates on one n8n process (cadence-postgres.e2e.test.ts), and
 * the Postgres templates on n8n's queue mode with a webhook processor and two workers (queue.e2e.test.ts). The loop
 * reaches n8n only through the stack object (webhook URLs, executions), so it assumes nothing about processes. Real parts on loopback: Postfix (accepts the send, delivers to Dovecot over LMTP,
 * bounces an unknown recipient with a real DSN), Dovecot (mailboxes, a Sieve vacation responder), the pinned n8n
 * with the packed package installed as users get it, the templates as shipped, and headless Chromium reading a
 * delivered message like a person.
 *
 * The changes to the templates: the cadence and the report get a webhook start next to their schedule, so the
 * test can run them now; the inbox trigger starts from the test's start time; and the cadence's segments include one
 * named in Chinese, so one contact (LI) is tagged in the guide's own grammar (`法语-工程设备经销商-营销NN`) and every
 * tag the templates add to it must come out in that grammar (阅读NN, 风险-不感兴趣).
 */
import { createServer, type Server } from 'node:http';
import nodemailer from 'nodemailer';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, chromiumMissing } from '../helpers/chromium';
import { mailStackMissingPackages, startMailStack, type MailStack } from '../helpers/mailStack';
import { n8nDayOfMonth, type ExecutionRecord, type N8nInstance } from '../helpers/n8nInstance';
import { node, template, waitFor, withWebhookStart, type Json } from '../helpers/templates';

export { node, template, waitFor, withWebhookStart, type Json };

const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';

/** The contact tagged in Chinese; its domain is delivered by the mail stack like customer.test. */
const LI = 'li@chinese-dealer.test';
/** Its segment, named in Chinese as in the guide (seeds/004): French-language equipment dealers. */
const ZH_SEGMENT = { language: '法语', segment: '工程设备经销商' };
/** A plain not-interested reply ("thanks, we are not interested at the moment"): no request to stop mailing, which
 *  would be kind `unsubscribe` (风险-退订) instead. */
const LI_REPLY = '谢谢，我们目前不感兴趣。';

/** The JSON of every item a node output (first output) in an execution. */
function nodeOutput(run: ExecutionRecord, nodeName: string): Json[] {
	const runs = (run.data?.resultData?.runData?.[nodeName] as Json[] | undefined) ?? [];
	return runs.flatMap((r) => ((r.data?.main?.[0] ?? []) as Json[]).map((i) => i.json as Json));
}

/** A contact's tags as a list, whatever the store wrote (a list, or text with `,`). */
function tagList(value: unknown): string[] {
	return (Array.isArray(value) ? value.map(String) : String(value ?? '').split(/[,;\n]/)).map((t) => t.trim()).filter(Boolean);
}

/** Why the mail parts of the loop cannot run here (Debian packages, Chromium), or null. */
export function mailLoopMissing(): string | null {
	const missing = mailStackMissingPackages();
	if (missing.length) return `Debian packages missing: ${missing.join(', ')} (scripts/install-system-deps.sh installs them)`;
	return chromiumMissing();
}

export type StoreTable = 'contacts' | 'events' | 'follow_up_tasks';

/** Rows of the store with the Data tables' field names (camelCase), whatever the store. */
export interface CadenceStore {
	rows(table: StoreTable): Promise<Json[]>;
	insertContacts(rows: Json[]): Promise<void>;
	/** One contact by address; without it the loop looks the address up in rows('contacts'). */
	contact?(email: string): Promise<Json | undefined>;
}

/** The Postgres store (workflows/postgres/schema.sql) under the Data tables' field names, over any pg pool. */
export function postgresCadenceStore(db: { query(sql: string, values?: unknown[]): Promise<{ rows: Json[] }> }): CadenceStore {
	const CONTACT = 'SELECT email, tags, language, segment, company, last_sent_at AS "lastSentAt" FROM contacts';
	const SELECT: Record<StoreTable, string> = {
		contacts: CONTACT,
		events: `SELECT event_id AS "eventId", type, at, email, campaign, batch_tag AS "batchTag", variant, message_id AS "messageId", token, class, url,
		         reason, bounce_hard AS "bounceHard", bounce_status AS "bounceStatus", channel, is_unique AS "unique" FROM events`,
		follow_up_tasks: 'SELECT event_id AS "eventId", email, kind, campaign, detail, status, owner, reason FROM follow_up_tasks',
	};
	const iso = (r: Json) => ({ ...r, ...('lastSentAt' in r ? { lastSentAt: r.lastSentAt?.toISOString?.() ?? r.lastSentAt } : {}) });
	return {
		rows: async (table) => (await db.query(SELECT[table])).rows.map(iso),
		contact: async (email) => (await db.query(`${CONTACT} WHERE email = lower($1)`, [email])).rows.map(iso)[0],
		async insertContacts(rows) {
			await db.query(
				`INSERT INTO contacts (email, tags, language, segment, company) SELECT lower(email), tags, language, segment, company
				 FROM jsonb_to_recordset($1::jsonb) AS c(email text, tags text, language text, segment text, company text)`,
				[JSON.stringify(rows)],
			);
		},
	};
}

export interface LoopWorkflows {
	silent: Json;
	tracking: Json;
	inbox: Json;
	report: Json;
}

export interface LoopEnvironment {
	n8n: N8nInstance;
	store: CadenceStore;
	stop(): Promise<void>;
}

export interface LoopOptions {
	/** Data-table set: ''; Postgres set: 'postgres'. */
	templateDir: string;
	/** Starts n8n (and the store) with these workflows and the shared credentials; `credentials(base)` needs the base URL
	 *  of the webhooks (port known only inside). */
	start(workflows: LoopWorkflows, credentials: (webhookBase: string) => Json[], mail: MailStack): Promise<LoopEnvironment>;
}

/** Registers the loop's tests in the current describe block. */
export function cadenceLoop(opts: LoopOptions): void {
	let mail: MailStack;
	let env: LoopEnvironment;
	let n8n: N8nInstance;
	let landing: Server;
	let landingUrl = '';
	const testStart = new Date();
	const dir = opts.templateDir;
	let liDue = '';
	let liRead = '';
	const trackingWebhookId = () => node(template(dir, '4-tracking-events.json', 'x'), 'Tracking hits').webhookId as string;

	const rows = async (table: StoreTable) => await env.store.rows(table);
	const contact = async (email: string) =>
		((env.store.contact ? await env.store.contact(email) : (await rows('contacts')).find((c) => c.email === email)) ?? {}) as Json;
	const runCadence = async () => {
		const res = await fetch(n8n.webhookUrl('e2e-silent'), { method: 'POST' });
		expect(res.status, await res.clone().text()).toBe(200);
		return res.json();
	};

	beforeAll(async () => {
		landing = createServer((req, res) => {
			res.writeHead(200, { 'content-type': 'text/html' });
			res.end(`<html><body><h1 id="landing">Catalogue</h1>${req.url}</body></html>`);
		});
		await new Promise<void>((r) => landing.listen(0, '127.0.0.1', () => r()));
		landingUrl = `http://127.0.0.1:${(landing.address() as { port: number }).port}/catalogue`;

		mail = await startMailStack({
			mailboxes: {
				anna: 'anna@customer.test',
				boris: 'boris@customer.test',
				hr: 'hr@customer.test',
				risky: 'risky@customer.test',
				vacation: 'vacation@customer.test',
				li: LI,
				outreach: 'outreach@sender.test',
			},
		});

		const silent = withWebhookStart(template(dir, '2-silent-cadence.json', 'e2eSilentCadence'), 'Every morning', 'e2e-silent');
		// The segment named in Chinese, added where the template's note says to (both batch nodes).
		for (const name of ['Due tags', 'Exactly due']) node(silent, name).parameters.segments.segment.push({ ...ZH_SEGMENT });
		const send = node(silent, 'Send');
		send.parameters.from = '"Anna from Acme" <outreach@sender.test>';
		send.parameters.html = `<html><body><p>Hello,</p><p>Our <a href="${landingUrl}">catalogue</a> has dealer prices.</p><p><a href="{{unsubscribeUrl}}">Unsubscribe</a></p></body></html>`;
		const tracking = template(dir, '4-tracking-events.json', 'e2eTrackingEvents');
		// A person reads and clicks within seconds here; in real life the scanner window is 30 s after sending.
		node(tracking, 'Tracking hits').parameters.options = { scannerClickSeconds: 2 };
		const inbox = template(dir, '5-inbox-attribution.json', 'e2eInboxAttribution');
		Object.assign(node(inbox, 'New mail').parameters, { startFrom: 'date', startDate: new Date(testStart.getTime() - 60_000).toISOString() });

		const report = withWebhookStart(template(dir, '6-daily-report.json', 'e2eDailyReport'), 'Every morning', 'e2e-report');
		Object.assign(node(report, 'Email the report').parameters, { fromEmail: 'reports@sender.test', toEmail: 'boris@customer.test' });

		env = await opts.start(
			{ silent, tracking, inbox, report },
			(webhookBase) => [
				{
					id: 'e2eSmtp',
					name: 'Cadence SMTP',
					type: 'cadenceSmtpApi',
					data: { host: mail.smtp.host, port: mail.smtp.port, tls: 'none', user: '', password: '', poolSize: 2, maxPerSecond: 0 },
				},
				{
					id: 'e2eImap',
					name: 'Cadence IMAP',
					type: 'cadenceImapApi',
					data: { host: mail.imap.host, port: mail.imap.port, secure: 'none', user: mail.users.outreach.user, password: mail.users.outreach.pass },
				},
				{
					id: 'e2eMail',
					name: 'SMTP account',
					type: 'smtp',
					data: { host: mail.smtp.host, port: mail.smtp.port, secure: false, disableStartTls: true, user: '', password: '' },
				},
				{
					id: 'e2eTrack',
					name: 'Cadence Tracking',
					type: 'cadenceTrackingApi',
					data: { baseUrl: `${webhookBase}/webhook/${trackingWebhookId()}/t`, secrets: 'e2e-secret-one-with-enough-entropy-2026', maxAgeDays: 0 },
				},
			],
			mail,
		);
		n8n = env.n8n;
		const nn = (n: number) => String(n).padStart(2, '0');
		const day = Math.min(n8nDayOfMonth(), 30);
		const due = `English-Equipment Dealers-Marketing${nn(day)}`;
		const notDue = `English-Equipment Dealers-Marketing${nn((day % 30) + 1)}`;
		// The same batch in the guide's grammar; a read batch is the marketing batch's last digit (营销21 → 阅读01).
		liDue = `${ZH_SEGMENT.language}-${ZH_SEGMENT.segment}-营销${nn(day)}`;
		liRead = `${ZH_SEGMENT.language}-${ZH_SEGMENT.segment}-阅读${nn(((day - 1) % 10) + 1)}`;
		await env.store.insertContacts([
			{ email: 'anna@customer.test', tags: due, language: 'English', segment: 'Equipment Dealers', company: 'Anna Trading' },
			{ email: 'vacation@customer.test', tags: due, language: 'English', segment: 'Equipment Dealers', company: 'Away GmbH' },
			{ email: 'nobody@customer.test', tags: due, language: 'English', segment: 'Equipment Dealers', company: 'Gone Ltd' },
			{ email: 'hr@customer.test', tags: due, language: 'English', segment: 'Equipment Dealers', company: 'No-send' },
			{ email: 'risky@customer.test', tags: `${due}, Risk-Competitor`, language: 'English', segment: 'Equipment Dealers', company: 'Rival' },
			{ email: 'boris@customer.test', tags: notDue, language: 'English', segment: 'Equipment Dealers', company: 'Tomorrow' },
			{ email: LI, tags: liDue, language: ZH_SEGMENT.language, segment: ZH_SEGMENT.segment, company: '李氏工程机械贸易' },
		]);
	}, 900_000);

	afterAll(async () => {
		await env?.stop();
		await mail?.stop();
		await new Promise((r) => landing?.close(r));
	});

	it('sends today’s batch to the right mailboxes; excluded and not-due contacts get nothing', async () => {
		await runCadence();
		await mail.waitForMessages('anna', 1, 30_000);
		await mail.waitForMessages('vacation', 1, 30_000);
		await mail.waitForMessages('li', 1, 30_000);
		const anna = (await mail.readMailbox('anna'))[0];
		expect(anna.header('list-unsubscribe')).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/webhook\/.+\?t=/);
		// RFC 8058 one-click needs an https URL; this loopback n8n is plain http, so the header must be absent
		expect(anna.header('list-unsubscribe-post')).toBeUndefined();
		expect(anna.header('x-cadence-token')).toBeTruthy();
		for (const excluded of ['hr', 'risky', 'boris']) expect(await mail.readMailbox(excluded), excluded).toHaveLength(0);
		const events = await rows('events');
		expect(
			events
				.filter((e) => e.type === 'sent')
				.map((e) => e.email)
				.sort(),
		).toEqual(['anna@customer.test', LI, 'nobody@customer.test', 'vacation@customer.test']);
		expect((await contact('anna@customer.test')).lastSentAt).toBeTruthy();
		// The Chinese-tagged contact: mailed once, for its own batch tag as written.
		expect(await mail.readMailbox('li')).toHaveLength(1);
		expect(events.filter((e) => e.type === 'sent' && e.email === LI)).toEqual([expect.objectContaining({ batchTag: liDue })]);
		expect((await contact(LI)).lastSentAt).toBeTruthy();
	}, 120_000);

	it('a person opens and clicks in Chromium: human open and click, read tag, follow-up task', async () => {
		const raw = (await mail.readMailbox('anna'))[0].raw.toString('utf8');
		const { simpleParser } = await import('mailparser');
		const parsed = await simpleParser(raw);
		const html = String(parsed.html);
		expect(html).toContain('/t?t=');
		const browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: CHROMIUM_ARGS,
		});
		try {
			const page = await (await browser.newContext({ userAgent: DESKTOP_UA })).newPage();
			await new Promise((r) => setTimeout(r, 2500)); // past the scanner window set above
			await page.setContent(html, { waitUntil: 'networkidle' });
			await Promise.all([page.waitForURL(/\/catalogue/), page.click('a:has-text("catalogue")')]);
			expect(await page.textContent('#landing')).toBe('Catalogue');
		} finally {
			await browser.close();
		}
		await waitFor('human open and click events', async () => {
			const ev = await rows('events');
			return (
				ev.some((e) => e.type === 'opened' && e.class === 'human' && e.email === 'anna@customer.test') &&
				ev.some((e) => e.type === 'clicked' && e.class === 'human' && e.email === 'anna@customer.test' && String(e.url).includes('/catalogue'))
			);
		});
		await waitFor('the read tag', async () => String((await contact('anna@customer.test')).tags).includes('English-Equipment Dealers-Read'));
		// The click is its own execution (on another worker in queue mode): wait for its task too.
		await waitFor('the follow-up task of the click', async () =>
			(await rows('follow_up_tasks')).some(
				(t) => t.email === 'anna@customer.test' && t.kind === 'click' && t.reason === 'clicked link' && t.status === 'open',
			),
		);
	}, 120_000);

	it('a Chinese-tagged contact opens in Chromium: its read tag is written in its own grammar (阅读NN)', async () => {
		const { simpleParser } = await import('mailparser');
		const html = String((await simpleParser((await mail.readMailbox('li'))[0].raw)).html);
		expect(html).toContain('/t?t=');
		const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
		try {
			const page = await (await browser.newContext({ userAgent: DESKTOP_UA })).newPage();
			await page.setContent(html, { waitUntil: 'networkidle' });
		} finally {
			await browser.close();
		}
		await waitFor('the human open of li', async () =>
			(await rows('events')).some((e) => e.type === 'opened' && e.class === 'human' && e.email === LI),
		);
		await waitFor('the Chinese read tag', async () => tagList((await contact(LI)).tags).includes(liRead));
		// Nothing in the English grammar was added to it, and an open alone opens no task.
		expect(tagList((await contact(LI)).tags)).toEqual([liDue, liRead]);
		expect((await rows('follow_up_tasks')).filter((t) => t.email === LI)).toEqual([]);
	}, 120_000);

	it('the inbox template attributes a reply, a real Postfix DSN and a Sieve vacation reply', async () => {
		const original = (await mail.readMailbox('anna'))[0];
		const replyTo = original.header('reply-to') ?? 'outreach@sender.test';
		const smtp = nodemailer.createTransport({ host: mail.smtp.host, port: mail.smtp.port, secure: false, ignoreTLS: true });
		await smtp.sendMail({
			from: 'anna@customer.test',
			to: replyTo.replace(/^.*</, '').replace(/>.*$/, ''),
			subject: `Re: ${original.subject}`,
			inReplyTo: original.messageId,
			references: [original.messageId],
			text: 'Yes, please send me your price list.\n\nOn Monday Anna from Acme wrote:\n> Hello,',
		});
		// li answers in Chinese, as a mail client writes it: the reply above the quoted original
		const liOriginal = (await mail.readMailbox('li'))[0];
		await smtp.sendMail({
			from: LI,
			to: (liOriginal.header('reply-to') ?? 'outreach@sender.test').replace(/^.*</, '').replace(/>.*$/, ''),
			subject: `回复: ${liOriginal.subject}`,
			inReplyTo: liOriginal.messageId,
			references: [liOriginal.messageId],
			text: `${LI_REPLY}\n\n李先生\n\n在 2026年12月4日 09:00，Anna from Acme 写道：\n> Hello,\n> Our catalogue has dealer prices.`,
		});
		smtp.close();
		// two replies, the DSN for nobody@, and the vacation auto-reply reach the sender's mailbox
		await mail.waitForMessages('outreach', 4, 60_000);
		// the inbox trigger polls every minute
		await waitFor(
			'replied, bounced and auto_replied events',
			async () => {
				const ev = await rows('events');
				return ['replied', 'bounced', 'auto_replied'].every((t) => ev.some((e) => e.type === t));
			},
			150_000,
		);
		const ev = await rows('events');
		await waitFor('li’s reply event', async () => (await rows('events')).some((e) => e.type === 'replied' && e.email === LI), 150_000);
		expect(
			(await rows('events'))
				.filter((e) => e.type === 'replied')
				.map((e) => e.email)
				.sort(),
		).toEqual(['anna@customer.test', LI]);
		const bounce = ev.find((e) => e.type === 'bounced')!;
		expect(bounce).toMatchObject({ email: 'nobody@customer.test', bounceHard: true });
		expect(String(bounce.bounceStatus)).toMatch(/^5\.1\.1/);
		expect(ev.find((e) => e.type === 'auto_replied')?.email).toBe('vacation@customer.test');
		await waitFor(
			'intent and risk tags',
			async () =>
				String((await contact('anna@customer.test')).tags).includes('Intent-Replied') &&
				String((await contact('nobody@customer.test')).tags).includes('Risk-Hard bounce'),
		);
		expect(String((await contact('vacation@customer.test')).tags)).not.toMatch(/Risk-|Intent-/);
		// Anna clicked minutes ago: her click's task is still open inside the window, so the reply opens no second one.
		expect((await rows('follow_up_tasks')).filter((t) => t.email === 'anna@customer.test' && t.status === 'open')).toEqual([
			expect.objectContaining({ kind: 'click', reason: 'clicked link' }),
		]);

		// li's plain "not interested": the risk tag in its own grammar, no intent tag, and (once the execution that read
		// the reply has finished) no follow-up task.
		await waitFor('li’s risk tag', async () => tagList((await contact(LI)).tags).includes('风险-不感兴趣'), 150_000);
		const liRun = await waitFor(
			'the finished inbox execution of li’s reply',
			async () =>
				n8n
					.executions({ workflowId: 'e2eInboxAttribution', withData: true })
					.find((x) => x.stoppedAt && nodeOutput(x, 'New mail').some((m) => m.email === LI)),
			60_000,
		);
		expect(nodeOutput(liRun, 'New mail').filter((m) => m.email === LI)).toEqual([
			expect.objectContaining({ type: 'replied', replyIntent: 'not_interested' }),
		]);
		expect(tagList((await contact(LI)).tags)).toEqual([liDue, liRead, '风险-不感兴趣']);
		expect((await rows('follow_up_tasks')).filter((t) => t.email === LI)).toEqual([]);
	}, 300_000);

	it('the report template’s figures match what happened in this run, and the report arrives by email', async () => {
		const res = await fetch(n8n.webhookUrl('e2e-report'), { method: 'POST' });
		expect(res.status, await res.clone().text()).toBe(200);
		const [run] = await n8n.waitForExecutions('e2eDailyReport', 1, { timeoutMs: 30_000 });
		const rowsOut = (run.data?.resultData?.runData?.Metrics as Json[])[0].data.main[0].map((i: Json) => i.json) as Json[];
		const total = (k: string) => rowsOut.reduce((a, r) => a + (Number(r[k]) || 0), 0);
		// anna, li, vacation and nobody@ (bounced); anna and li opened and replied, anna clicked
		expect(total('sent')).toBe(4);
		expect(total('bounced')).toBe(1);
		expect(total('hardBounced')).toBe(1);
		expect(total('delivered')).toBe(3);
		expect(total('humanUniqueOpens')).toBe(2);
		expect(total('humanUniqueClicks')).toBe(1);
		expect(total('replies')).toBe(2);
		expect(total('autoReplies')).toBe(1);
		expect(total('conversions')).toBe(0);
		// the report's other outputs: A/B Tests, List Health (every contact of the store), Report with every section
		const metricsOut = (run.data?.resultData?.runData?.Metrics as Json[])[0].data.main as Json[][];
		expect(metricsOut).toHaveLength(4);
		const health = metricsOut[2][0].json as Json;
		const contactCount = (await rows('contacts')).length;
		expect(health.contacts).toBe(contactCount);
		expect(health.effective + health.inRiskView).toBe(contactCount);
		const reportHtml = String(metricsOut[3][0].json.html);
		for (const section of ['List health', 'Effective contacts', 'below 500: too small for reliable rates', 'Leads by channel', 'Conversion rate'])
			expect(reportHtml, section).toContain(section);
		// boris is not due today, so the only mail in his mailbox is the report
		const mails = await mail.waitForMessages('boris', 1, 30_000);
		const reportMail = mails.find((m) => m.subject.startsWith('Mail cadence report'));
		expect(reportMail, 'the report email').toBeTruthy();
		expect(reportMail!.raw.toString('utf8')).toMatch(/image\/png/);
	}, 90_000);

	it('a second run of the silent cadence the same day sends nothing twice', async () => {
		const before = {
			anna: (await mail.readMailbox('anna')).length,
			vacation: (await mail.readMailbox('vacation')).length,
			li: (await mail.readMailbox('li')).length,
		};
		const sentBefore = (await rows('events')).filter((e) => e.type === 'sent').length;
		await runCadence();
		await new Promise((r) => setTimeout(r, 3000));
		expect((await mail.readMailbox('anna')).length).toBe(before.anna);
		expect((await mail.readMailbox('vacation')).length).toBe(before.vacation);
		expect((await mail.readMailbox('li')).length).toBe(before.li);
		expect((await rows('events')).filter((e) => e.type === 'sent').length).toBe(sentBefore);
	}, 60_000);
}
