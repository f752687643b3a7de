/**
 * UTM parameters and the sending window in Cadence Send, inside n8n-core's real ExecuteContext with a real SMTP
 * server on loopback: where a sent link's redirect leads, and which contacts are mailed at a given instant in
 * their own time zones (Date faked; timers real, so SMTP runs as usual).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { simpleParser } from 'mailparser';
import type { IDataObject } from 'n8n-workflow';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { description as sendProperties } from '../../nodes/CadenceSend/actions/send.operation';
import { UTM_DEFAULT_MEDIUM, UTM_DEFAULT_SOURCE } from '../../core/links';
import {
	DEFAULT_SENDING_WINDOW_ENABLED,
	DEFAULT_TIME_ZONE_FIELD,
	DEFAULT_WINDOW_DAYS,
	DEFAULT_WINDOW_END,
	DEFAULT_WINDOW_START,
} from '../../core/sendingWindow';
import { chooseVariant, createTracker } from '../../core/tracker';
import { DEFAULT_UTM_ENABLED } from '../../nodes/CadenceSend/send/settings';
import { runNode } from '../helpers/n8n';
import { useSmtpSink } from '../helpers/smtpSinkHooks';
import { sinkSmtpCredential, trackingCredential } from '../helpers/sendNode';

const node = new CadenceSend();
const SECRET = 'window-test-secret-0123456789abcdef';
const BASE_URL = 'https://track.example.com/webhook/abc123/t';
const tracker = createTracker({ secrets: [SECRET], baseUrl: BASE_URL });
/** Wednesday 9 December 2026, 10:00 UTC: 11:00 in Berlin, 18:00 in Shanghai, 05:00 in New York. */
const WEDNESDAY_10_UTC = new Date('2026-12-09T10:00:00Z');

const sink = useSmtpSink();
afterEach(() => {
	vi.useRealTimers();
});

async function send(items: IDataObject[], parameters: IDataObject = {}, timezone = 'Europe/Berlin') {
	const creds = { cadenceSmtpApi: sinkSmtpCredential(sink()), cadenceTrackingApi: trackingCredential(BASE_URL, SECRET) };
	return runNode(node, {
		parameters: {
			subject: 'Hello',
			html: '<p>Hi</p><a href="https://shop.example.com/spring?ref=mail#shoes">Shop</a> <a data-noutm href="https://docs.example.com/">Docs</a> <a href="[[unsubscribeUrl]]">unsubscribe</a>',
			campaign: 'spring',
			...parameters,
		},
		items,
		credentials: creds,
		timezone,
	});
}

/** The redirect target of every click link of a sent message's HTML, and its other hrefs. */
async function linksOf(to: string): Promise<{ redirects: string[]; hrefs: string[] }> {
	const raw = sink().messages.find((m) => m.rcptTo[0] === to)!.raw;
	const html = String((await simpleParser(raw)).html);
	const hrefs = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
	const redirects = hrefs
		.map((h) => tracker.parse(h))
		.filter((p) => p?.kind === 'click')
		.map((p) => p!.target!);
	return { redirects, hrefs };
}

describe('UTM parameters on tracked links', () => {
	it('a sent link redirects to its target with the UTM parameters (before the fragment); data-noutm and unsubscribe get none', async () => {
		const { json } = await send([{ email: 'anna@example.de' }]);
		expect(json[0].type).toBe('sent');
		const { redirects, hrefs } = await linksOf('anna@example.de');
		expect(redirects).toEqual([
			'https://shop.example.com/spring?ref=mail&utm_source=cadence&utm_medium=email&utm_campaign=spring#shoes',
			'https://docs.example.com/',
		]);
		const unsubscribe = hrefs.find((h) => tracker.parse(h)?.kind === 'unsubscribe');
		expect(unsubscribe).toBeDefined();
		expect(unsubscribe).not.toContain('utm_');
	});

	it('utm_content is the contact’s A/B variant; overrides replace source, medium and campaign', async () => {
		const email = 'ben@example.de';
		const variant = chooseVariant(email, 'spring', ['A', 'B']);
		const { json } = await send([{ email }], {
			variants: { variant: [{ name: 'A' }, { name: 'B' }] },
			utm: { source: 'outreach', medium: 'cold-email', campaign: '={{ "q4-" + $json.email.split("@")[1] }}' },
		});
		expect(json[0]).toMatchObject({ type: 'sent', variant });
		const { redirects } = await linksOf(email);
		expect(redirects[0]).toBe(
			`https://shop.example.com/spring?ref=mail&utm_source=outreach&utm_medium=cold-email&utm_campaign=q4-example.de&utm_content=${variant}#shoes`,
		);
	});

	it('turned off, links redirect to their targets as written', async () => {
		await send([{ email: 'cleo@example.de' }], { utm: { enabled: false } });
		expect((await linksOf('cleo@example.de')).redirects).toEqual(['https://shop.example.com/spring?ref=mail#shoes', 'https://docs.example.com/']);
	});

	it('parameters already in a link are kept, never doubled (dry run shows the redirect)', async () => {
		const { json } = await send([{ email: 'dora@example.de' }], {
			html: '<a href="https://s.example/?utm_source=newsletter&amp;utm_campaign=old">x</a> <a href="[[unsubscribeUrl]]">unsubscribe</a>',
			options: { dryRun: true },
		});
		const links = (json[0].message as IDataObject).trackedLinks as Array<{ target: string; redirect?: string }>;
		expect(links).toEqual([
			expect.objectContaining({
				target: 'https://s.example/?utm_source=newsletter&utm_campaign=old',
				redirect: 'https://s.example/?utm_source=newsletter&utm_campaign=old&utm_medium=email',
			}),
		]);
	});
});

describe('the sending window', () => {
	const on = (extra: IDataObject = {}) => ({ sendingWindow: { enabled: true, ...extra } });

	it('a Shanghai contact at 18:00 local is skipped until 09:00 tomorrow; a Berlin contact at 11:00 is sent', async () => {
		vi.useFakeTimers({ toFake: ['Date'] });
		vi.setSystemTime(WEDNESDAY_10_UTC);
		const { json } = await send(
			[
				{ email: 'li@example.cn', timezone: 'Asia/Shanghai' },
				{ email: 'jonas@example.de', timezone: 'Europe/Berlin' },
			],
			on(),
		);
		expect(json[0]).toMatchObject({
			type: 'skipped',
			email: 'li@example.cn',
			reason: 'outside-window',
			error: expect.stringContaining('09:00-17:00 mon,tue,wed,thu,fri in Asia/Shanghai); it opens next at 2026-12-10T09:00:00+08:00'),
		});
		expect(json[0].token).toBeUndefined();
		expect(json[1]).toMatchObject({ type: 'sent', email: 'jonas@example.de' });
		expect(sink().messages.map((m) => m.rcptTo[0])).toEqual(['jonas@example.de']);
	});

	it("a missing or invalid zone uses the workflow's, and the event says so", async () => {
		vi.useFakeTimers({ toFake: ['Date'] });
		vi.setSystemTime(WEDNESDAY_10_UTC);
		const { json } = await send(
			[{ email: 'a@example.com', tz: 'Mars/Olympus' }, { email: 'b@example.com' }, { email: 'c@example.de', tz: 'Europe/Berlin' }],
			on({ timeZoneField: 'tz' }),
			'America/New_York',
		);
		expect(json.map((e) => e.reason ?? e.type)).toEqual(['outside-window', 'outside-window', 'sent']);
		expect(json[0].error).toBe(
			`Outside the sending window (09:00-17:00 mon,tue,wed,thu,fri in America/New_York, the workflow's zone: the item's tz "Mars/Olympus" is not an IANA time zone); it opens next at 2026-12-09T09:00:00-05:00`,
		);
		expect(json[1].error).toContain("in America/New_York, the workflow's zone: the item has no tz");
	});

	it("contacts outside their window take no place under the day's caps", async () => {
		vi.useFakeTimers({ toFake: ['Date'] });
		vi.setSystemTime(WEDNESDAY_10_UTC);
		// Three Shanghai contacts first, then the company's cap (2) in Berlin contacts: the Berlin ones all go out.
		const items = [
			...[0, 1, 2].map((i) => ({ email: `far${i}@acme.example`, timezone: 'Asia/Shanghai' })),
			...[0, 1].map((i) => ({ email: `near${i}@acme.example`, timezone: 'Europe/Berlin' })),
		];
		const { json } = await send(items, { ...on(), options: { companyDailyCap: 2 } });
		expect(json.map((e) => e.reason ?? e.type)).toEqual(['outside-window', 'outside-window', 'outside-window', 'sent', 'sent']);
	});

	it('is off by default: the Shanghai contact is mailed at 18:00 its time', async () => {
		vi.useFakeTimers({ toFake: ['Date'] });
		vi.setSystemTime(WEDNESDAY_10_UTC);
		const { json } = await send([{ email: 'li@example.cn', timezone: 'Asia/Shanghai' }]);
		expect(json[0].type).toBe('sent');
	});

	it('a weekend window, and a dry run, hold back the same way', async () => {
		vi.useFakeTimers({ toFake: ['Date'] });
		vi.setSystemTime(WEDNESDAY_10_UTC);
		const { json } = await send([{ email: 'w@example.de', timezone: 'Europe/Berlin' }], {
			...on({ days: ['sat', 'sun'], start: '10:00', end: '12:00' }),
			options: { dryRun: true },
		});
		expect(json[0]).toMatchObject({
			reason: 'outside-window',
			error: expect.stringContaining('10:00-12:00 sat,sun in Europe/Berlin); it opens next at 2026-12-12T10:00:00+01:00'),
		});
	});

	it('a window that is not one fails the node before anything is sent', async () => {
		await expect(send([{ email: 'x@example.de' }], on({ start: '18:00', end: '08:00' }))).rejects.toThrow(
			/end time \(08:00\) must be after the start time \(18:00\)/,
		);
		await expect(send([{ email: 'x@example.de' }], on({ start: 'noon' }))).rejects.toThrow(/start time "noon" is not a time of day/);
		expect(sink().messages).toHaveLength(0);
	});
});

describe('parameters', () => {
	const collection = (name: string) => sendProperties.find((p) => p.name === name)!.options as Array<{ name: string; default: unknown }>;
	const def = (name: string, option: string) => collection(name).find((o) => o.name === option)!.default;

	it('show the named defaults', () => {
		expect(def('utm', 'enabled')).toBe(DEFAULT_UTM_ENABLED);
		expect(DEFAULT_UTM_ENABLED).toBe(true);
		expect(def('utm', 'source')).toBe(UTM_DEFAULT_SOURCE);
		expect(def('utm', 'medium')).toBe(UTM_DEFAULT_MEDIUM);
		expect(def('sendingWindow', 'enabled')).toBe(DEFAULT_SENDING_WINDOW_ENABLED);
		expect(def('sendingWindow', 'start')).toBe(DEFAULT_WINDOW_START);
		expect(def('sendingWindow', 'end')).toBe(DEFAULT_WINDOW_END);
		expect(def('sendingWindow', 'days')).toEqual(DEFAULT_WINDOW_DAYS);
		expect(def('sendingWindow', 'timeZoneField')).toBe(DEFAULT_TIME_ZONE_FIELD);
	});
});
