/**
 * The sending-domain check against a real DNS server on loopback (dnsmasq, test/helpers/dnsServer.ts): a zone with
 * everything right, zones each missing one piece, a resolver that never answers; and the Check Sending Domain
 * operation of Cadence Send in n8n-core's real ExecuteContext.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';
import { dkimPublicKeyOf, dkimRecordFor, type DkimPublicKey, type DomainCheckTarget, type DomainFinding } from '../../core/domainCheck';
import { CadenceSend } from '../../nodes/CadenceSend/CadenceSend.node';
import { runDomainCheck } from '../../transport/domainCheck';
import { startDnsServer, startSilentDnsServer, type DnsRecord, type DnsServer } from '../helpers/dnsServer';
import { runNode } from '../helpers/n8n';

const HOST_IP = '192.0.2.10';
const pem = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEY = pem(2048);
const OTHER_KEY = pem(1024);
const publicOf = (k: string) => dkimPublicKeyOf(k) as DkimPublicKey;

interface Pieces {
	spf?: string | null;
	dkim?: string | null;
	dmarc?: string | null;
	bounceMx?: boolean;
}

/** The records of a sending domain `d` with everything right, unless a piece is changed or left out (null). */
function zone(d: string, p: Pieces = {}): DnsRecord[] {
	const spf = p.spf === undefined ? `v=spf1 a:smtp.${d} include:_spf.provider.test ~all` : p.spf;
	const dkim = p.dkim === undefined ? dkimRecordFor(publicOf(KEY)) : p.dkim;
	const dmarc = p.dmarc === undefined ? `v=DMARC1; p=quarantine; rua=mailto:dmarc@${d}` : p.dmarc;
	return [
		...(spf ? [{ name: d, type: 'TXT' as const, value: spf }] : []),
		{ name: d, type: 'TXT', value: `site-verification=${d}` },
		{ name: d, type: 'MX', value: `mx.${d}`, priority: 10 },
		{ name: `smtp.${d}`, type: 'A', value: HOST_IP },
		{ name: `mx.${d}`, type: 'A', value: '192.0.2.20' },
		{ name: `reply.${d}`, type: 'MX', value: `mx.${d}`, priority: 10 },
		{ name: `bounces.${d}`, type: 'TXT', value: `v=spf1 a:smtp.${d} -all` },
		...(p.bounceMx === false ? [] : [{ name: `bounces.${d}`, type: 'MX' as const, value: `mx.${d}`, priority: 10 }]),
		...(dkim ? [{ name: `s1._domainkey.${d}`, type: 'TXT' as const, value: dkim }] : []),
		...(dmarc ? [{ name: `_dmarc.${d}`, type: 'TXT' as const, value: dmarc }] : []),
	];
}

const TOO_MANY = Array.from({ length: 11 }, (_, i) => `include:inc${i}.toomany.test`).join(' ');
const RECORDS: DnsRecord[] = [
	{ name: '_spf.provider.test', type: 'TXT', value: 'v=spf1 ip4:198.51.100.0/24 -all' },
	...zone('good.test'),
	...zone('nospf.test', { spf: null }),
	...zone('nohost.test', { spf: 'v=spf1 ip4:203.0.113.5 -all' }),
	...zone('toomany.test', { spf: `v=spf1 a:smtp.toomany.test ${TOO_MANY} -all` }),
	...Array.from({ length: 11 }, (_, i): DnsRecord => ({ name: `inc${i}.toomany.test`, type: 'TXT', value: `v=spf1 ip4:10.9.${i}.0/24 -all` })),
	...zone('nodkim.test', { dkim: null }),
	...zone('wrongkey.test', { dkim: dkimRecordFor(publicOf(OTHER_KEY)) }),
	...zone('nodmarc.test', { dmarc: null }),
	...zone('dmarcnone.test', { dmarc: 'v=DMARC1; p=none; rua=mailto:dmarc@dmarcnone.test' }),
	...zone('badmarc.test', { dmarc: 'v=DMARC1; p=maybe' }),
	...zone('misaligned.test'),
	{ name: 's1._domainkey.signer.other.test', type: 'TXT', value: dkimRecordFor(publicOf(KEY)) },
	...zone('nobouncemx.test', { bounceMx: false }),
];

let dns: DnsServer;
beforeAll(async () => {
	dns = await startDnsServer({ records: RECORDS, localDomains: ['test'] });
});
afterAll(async () => dns?.stop());

const target = (d: string, extra: Partial<DomainCheckTarget> = {}): DomainCheckTarget => ({
	mailbox: `sales@${d}`,
	fromDomain: d,
	envelopeDomain: `bounces.${d}`,
	replyDomain: `reply.${d}`,
	sendingHost: `smtp.${d}`,
	sendingIps: [],
	dkim: { domainName: d, keySelector: 's1', privateKey: KEY },
	...extra,
});
const check = (targets: DomainCheckTarget[]) => runDomainCheck(targets, { dnsServer: dns.server, timeoutMs: 3000 });
const notOk = (findings: DomainFinding[]) => findings.filter((f) => f.status !== 'ok').map((f) => `${f.check} ${f.domain} ${f.status}`);

describe('a zone with everything right', () => {
	it('is ok on every check, and a pool on one domain asks each name once', async () => {
		const before = dns.queries().length;
		const findings = await check([
			target('good.test'),
			target('good.test', { mailbox: 'anna@good.test' }),
			target('good.test', { mailbox: 'ben@good.test' }),
		]);
		expect(findings.map((f) => `${f.check} ${f.domain} ${f.status}`).slice(0, 7)).toEqual([
			'spf good.test ok',
			'spf bounces.good.test ok',
			'dkim good.test ok',
			'dmarc good.test ok',
			'alignment good.test ok',
			'mx-reply reply.good.test ok',
			'mx-bounce bounces.good.test ok',
		]);
		expect(notOk(findings)).toEqual([]);
		expect(findings[0].detail).toMatch(/passes for 192\.0\.2\.10 \(pass by "a:smtp\.good\.test"/);
		const asked = dns
			.queries()
			.slice(before)
			.map((q) => `${q.type} ${q.name}`);
		expect(asked.length).toBeGreaterThan(10);
		expect(asked.length).toBe(new Set(asked).size);
	});
});

describe('zones each missing one piece', () => {
	const cases: Array<[string, string, Partial<DomainCheckTarget>, string[], RegExp, RegExp?]> = [
		['no SPF', 'nospf.test', {}, ['spf nospf.test fail'], /has no SPF record/, /TXT record at nospf\.test: v=spf1 ip4:192\.0\.2\.10 ~all/],
		[
			'SPF without the host',
			'nohost.test',
			{},
			['spf nohost.test fail'],
			/does not authorise.*192\.0\.2\.10: fail by "-all"/,
			/v=spf1 ip4:192\.0\.2\.10 ip4:203\.0\.113\.5 -all/,
		],
		['SPF with too many lookups', 'toomany.test', {}, ['spf toomany.test fail'], /permerror.*more than 10 DNS lookups/, /Flatten the SPF/],
		[
			'no DKIM key',
			'nodkim.test',
			{},
			['dkim nodkim.test fail', 'alignment nodkim.test warn'],
			/No DKIM key at s1\._domainkey\.nodkim\.test/,
			/TXT record at s1\._domainkey\.nodkim\.test: v=DKIM1; k=rsa; p=MIIB/,
		],
		[
			'a DKIM key that does not match',
			'wrongkey.test',
			{},
			['dkim wrongkey.test fail', 'alignment wrongkey.test warn'],
			/does not match the private key: the published key is another key/,
		],
		['no DMARC', 'nodmarc.test', {}, ['dmarc nodmarc.test fail'], /No DMARC record at _dmarc\.nodmarc\.test/, /v=DMARC1; p=none; rua=mailto:/],
		[
			'DMARC p=none',
			'dmarcnone.test',
			{},
			['dmarc dmarcnone.test warn'],
			/only monitors/,
			/v=DMARC1; p=quarantine; rua=mailto:dmarc@dmarcnone\.test/,
		],
		['a malformed DMARC record', 'badmarc.test', {}, ['dmarc badmarc.test fail'], /malformed: p=maybe is not none, quarantine or reject/],
		[
			'a misaligned DKIM domain',
			'misaligned.test',
			{ dkim: { domainName: 'signer.other.test', keySelector: 's1', privateKey: KEY } },
			['alignment misaligned.test warn'],
			/DMARC passes on SPF alone.*d=signer\.other\.test does not align with misaligned\.test/,
			/Sign with d=misaligned\.test/,
		],
		[
			'no MX for the bounce domain',
			'nobouncemx.test',
			{},
			['mx-bounce bounces.nobouncemx.test fail'],
			/has no MX \(nor A\) record: bounces cannot be delivered/,
		],
		[
			'no DKIM configured',
			'good.test',
			{ dkim: undefined },
			['dkim good.test warn', 'alignment good.test warn'],
			/not DKIM-signed/,
			/openssl genpkey/,
		],
	];
	for (const [title, domain, extra, expected, detail, fix] of cases) {
		it(`${title}: ${expected.join(', ')}`, async () => {
			const findings = await check([target(domain, extra)]);
			expect(notOk(findings)).toEqual(expected);
			const first = findings.find((f) => f.status !== 'ok')!;
			expect(first.detail).toMatch(detail);
			if (fix) expect(first.fix).toMatch(fix);
		});
	}

	it('the From address itself as envelope: SPF of the From domain is checked once, MX of From for replies', async () => {
		const findings = await check([target('good.test', { envelopeDomain: 'good.test', replyDomain: 'good.test' })]);
		expect(findings.map((f) => `${f.check} ${f.domain} ${f.status}`)).toEqual([
			'spf good.test ok',
			'dkim good.test ok',
			'dmarc good.test ok',
			'alignment good.test ok',
			'mx-reply good.test ok',
			'mx-bounce good.test ok',
		]);
	});
});

describe('a DNS server that does not answer', () => {
	it('every finding warns that the server did not answer, in bounded time', async () => {
		const silent = await startSilentDnsServer();
		try {
			const started = Date.now();
			const findings = await runDomainCheck([target('good.test'), target('nodkim.test')], { dnsServer: silent.server, timeoutMs: 400 });
			const elapsed = Date.now() - started;
			expect(findings).toHaveLength(14);
			for (const f of findings) {
				expect(f).toMatchObject({ status: 'warn', detail: expect.stringContaining(`DNS server ${silent.server} did not answer`) });
			}
			// One timeout ends every lookup of the run: far below one timeout per lookup (14 × 400 ms).
			expect(elapsed).toBeLessThan(4000);
		} finally {
			await silent.stop();
		}
	});

	it('a DNS server that is no address fails before any lookup', async () => {
		await expect(runDomainCheck([target('good.test')], { dnsServer: 'dns.example.com' })).rejects.toThrow(/is not an IP address/);
	});
});

describe('Cadence Send: Check Sending Domain in n8n', () => {
	const node = new CadenceSend();
	const account = (extra: IDataObject = {}): Record<string, ICredentialDataDecryptedObject> => ({
		cadenceSmtpApi: {
			host: 'smtp.good.test',
			port: 587,
			tls: 'starttls',
			defaultFrom: 'Sales <sales@good.test>',
			dkimDomain: 'good.test',
			dkimSelector: 's1',
			dkimPrivateKey: KEY,
			...extra,
		},
	});
	const params = (extra: IDataObject = {}) => ({
		operation: 'checkDomain',
		dnsServer: dns.server,
		checkOptions: { verpAddress: 'bounces.good.test', replyPlusAddress: 'reply.good.test' },
		...extra,
	});

	it('the SMTP and pool credentials show for the check, the tracking credential does not', () => {
		const creds = node.description.credentials!;
		const options = (name: string) => creds.find((c) => c.name === name)!.displayOptions!;
		// Send Through by `hide`: a field every credential shows by value would be hidden by the editor as an auth field.
		expect(options('cadenceSmtpApi')).toEqual({ show: { operation: ['send', 'checkDomain'] }, hide: { senders: ['pool'] } });
		expect(options('cadenceSenderPoolApi')).toEqual({ show: { operation: ['send', 'checkDomain'] }, hide: { senders: ['account'] } });
		expect(options('cadenceTrackingApi').show!.operation).toEqual(['send']);
	});

	it('one SMTP account: one item per finding, all ok, without a tracking credential', async () => {
		const { json, outputs } = await runNode(node, { parameters: params(), items: [{}], credentials: account() });
		expect(json.map((f) => `${f.check} ${f.status}`)).toEqual([
			'spf ok',
			'spf ok',
			'dkim ok',
			'dmarc ok',
			'alignment ok',
			'mx-reply ok',
			'mx-bounce ok',
		]);
		expect(json[0]).toMatchObject({ mailbox: 'sales@good.test', domain: 'good.test', fix: '' });
		expect(outputs[0].every((item) => JSON.stringify(item.pairedItem) === '[{"item":0}]')).toBe(true);
	});

	it('a From given in the operation is checked instead of Default From; a DKIM key of another domain shows', async () => {
		const { json } = await runNode(node, {
			parameters: params({
				from: 'Ben <ben@nodmarc.test>',
				checkOptions: { verpAddress: 'bounces.nodmarc.test', replyPlusAddress: 'reply.nodmarc.test' },
			}),
			items: [{}],
			credentials: account({ dkimDomain: 'nodmarc.test' }),
		});
		expect(json.filter((f) => f.status !== 'ok').map((f) => `${f.check} ${f.domain} ${f.status}`)).toEqual(['dmarc nodmarc.test fail']);
	});

	it('a pool: one item per mailbox with its worst status and findings', async () => {
		const mailboxes = [
			{ from: 'Anna <anna@good.test>', verpAddress: 'bounces.good.test', replyPlusAddress: 'reply.good.test' },
			{
				from: 'ben@wrongkey.test',
				verpAddress: 'bounces.wrongkey.test',
				replyPlusAddress: 'reply.wrongkey.test',
				dkimDomain: 'wrongkey.test',
				dkimSelector: 's1',
				dkimPrivateKey: KEY,
			},
		];
		const { json } = await runNode(node, {
			parameters: { operation: 'checkDomain', senders: 'pool', dnsServer: dns.server, domainCheckOutput: 'mailboxes' },
			items: [{}],
			credentials: {
				cadenceSenderPoolApi: {
					mailboxes: JSON.stringify(mailboxes),
					host: 'smtp.good.test',
					port: 587,
					tls: 'starttls',
					dkimDomain: 'good.test',
					dkimSelector: 's1',
					dkimPrivateKey: KEY,
				},
			},
		});
		expect(json.map((m) => [m.mailbox, m.status, m.ok, m.warn, m.fail])).toEqual([
			['anna@good.test', 'ok', 7, 0, 0],
			['ben@wrongkey.test', 'fail', 5, 1, 1],
		]);
		expect(json[1].summary).toMatch(/ben@wrongkey\.test dkim fail: The DKIM key at s1\._domainkey\.wrongkey\.test does not match/);
		expect((json[1].findings as IDataObject[]).map((f) => f.check)).toEqual(['spf', 'spf', 'dkim', 'dmarc', 'alignment', 'mx-reply', 'mx-bounce']);
	});

	it('an invalid DNS server fails the node with what to fix', async () => {
		await expect(runNode(node, { parameters: params({ dnsServer: 'not-an-ip' }), items: [{}], credentials: account() })).rejects.toThrow(
			/DNS server "not-an-ip" is not an IP address/,
		);
	});
});
