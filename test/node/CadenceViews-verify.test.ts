/**
 * Cadence Views → Verify Addresses in n8n-core's real ExecuteContext, resolving against dnsmasq on loopback; and the
 * `undeliverable` view of Split by Views reading what it wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CadenceViews } from '../../nodes/CadenceViews/CadenceViews.node';
import { buildWorkflow, runNode } from '../helpers/n8n';
import { startDnsServer, type DnsServer } from '../helpers/dnsServer';

const node = new CadenceViews();
let dns: DnsServer;

beforeAll(async () => {
	dns = await startDnsServer({
		localDomains: ['node.test'],
		records: [
			{ name: 'acme.node.test', type: 'MX', value: 'mx.acme.node.test' },
			{ name: 'mx.acme.node.test', type: 'A', value: '127.0.0.1' },
			{ name: 'web.node.test', type: 'A', value: '127.0.0.5' },
		],
	});
});
afterAll(async () => {
	await dns?.stop();
});

const verify = (extra: Record<string, unknown> = {}) => ({ operation: 'verifyAddresses', dnsServer: dns.server, dnsTimeout: 2000, ...extra });

const contacts = [
	{ email: 'bob@acme.node.test', company: 'Acme' },
	{ email: 'ann@gone.node.test' },
	{ email: 'webmaster@acme.node.test' },
	{ email: 'eve@web.node.test' },
	{ email: 'temp@mailinator.com' },
	{ email: 'not an address' },
];

describe('Verify Addresses', () => {
	it('kept and undeliverable outputs, the result on each item, reason and detail on undeliverable ones, pairedItem kept', async () => {
		const { outputs } = await runNode(node, { parameters: verify(), items: contacts });
		const [kept, dead] = outputs;
		expect(kept.map((i) => [i.json.email, (i.json.verification as { status: string }).status, i.pairedItem])).toEqual([
			['bob@acme.node.test', 'deliverable', { item: 0 }],
			['webmaster@acme.node.test', 'risky', { item: 2 }],
			['eve@web.node.test', 'deliverable', { item: 3 }],
		]);
		expect(kept[0].json).toMatchObject({ company: 'Acme', verification: { reason: 'mx', mx: ['mx.acme.node.test'], domain: 'acme.node.test' } });
		expect(dead.map((i) => [i.json.email, i.json.reason, i.pairedItem])).toEqual([
			['ann@gone.node.test', 'nxdomain', { item: 1 }],
			['temp@mailinator.com', 'disposable', { item: 4 }],
			['not an address', 'invalid-syntax', { item: 5 }],
		]);
		expect(dead[0].json.detail).toMatch(/does not exist/);
		expect(dead[0].json.verification).toMatchObject({ status: 'undeliverable', reason: 'nxdomain' });
	});

	it('role accounts as undeliverable, a custom result field', async () => {
		const { outputs } = await runNode(node, {
			parameters: verify({ roleAccounts: 'undeliverable', resultField: 'check' }),
			items: contacts.slice(0, 3),
		});
		expect(outputs[1].map((i) => [i.json.email, i.json.reason])).toEqual([
			['ann@gone.node.test', 'nxdomain'],
			['webmaster@acme.node.test', 'role-account'],
		]);
		expect(outputs[0][0].json.check).toMatchObject({ status: 'deliverable' });
		expect(outputs[0][0].json.verification).toBeUndefined();
	});

	it('a fresh result already on the contact stands without a lookup; an old or unknown one is checked again', async () => {
		const fresh = { status: 'undeliverable', reason: 'no-mx', detail: 'stored', checkedAt: new Date(Date.now() - 60_000).toISOString() };
		const old = { ...fresh, checkedAt: '2020-01-01T00:00:00.000Z' };
		const before = dns.queries().length;
		const { outputs } = await runNode(node, {
			parameters: verify(),
			items: [
				{ email: 'x@stored.node.test', verification: fresh },
				{ email: 'y@acme.node.test', verification: old },
			],
		});
		expect(outputs[1].map((i) => [i.json.email, i.json.detail])).toEqual([['x@stored.node.test', 'stored']]);
		expect(outputs[0].map((i) => (i.json.verification as { reason: string }).reason)).toEqual(['mx']);
		const asked = dns
			.queries()
			.slice(before)
			.map((q) => q.name);
		expect(asked).not.toContain('stored.node.test');
		expect(asked).toContain('acme.node.test');
	});

	it('an item without the email field fails the node with its index, or under Continue On Fail goes to Undeliverable with the error', async () => {
		const items = [{ email: 'bob@acme.node.test' }, { mail: 'x@acme.node.test' }];
		await expect(runNode(node, { parameters: verify(), items })).rejects.toThrow(/no "email" field/);
		const err = await runNode(node, { parameters: verify(), items }).catch((e: { context?: { itemIndex?: number } }) => e);
		expect((err as { context: { itemIndex: number } }).context.itemIndex).toBe(1);
		const { outputs } = await runNode(node, { parameters: verify(), items, continueOnFail: true });
		expect(outputs[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }]);
		expect(outputs[1]).toEqual([{ json: { mail: 'x@acme.node.test', error: expect.stringMatching(/no "email" field/) }, pairedItem: { item: 1 } }]);
	});

	it('a DNS server that is no IP address fails the node with a clear message', async () => {
		await expect(runNode(node, { parameters: verify({ dnsServer: 'dns.example.com' }), items: contacts })).rejects.toThrow(/not an IP address/);
	});

	it('the canvas subtitle names the operation; outputs are Kept and Undeliverable', () => {
		const { workflow, node: n } = buildWorkflow(node, { parameters: { operation: 'verifyAddresses' } });
		expect(workflow.expression.getSimpleParameterValue(n, node.description.subtitle as string, 'manual', {})).toBe('Verify Addresses');
		const outs = workflow.expression.getSimpleParameterValue(n, node.description.outputs as string, 'manual', {}) as Array<{ displayName: string }>;
		expect(outs.map((o) => o.displayName)).toEqual(['Kept', 'Undeliverable']);
		const split = buildWorkflow(node, { parameters: { cadence: 'read' } });
		expect(split.workflow.expression.getSimpleParameterValue(split.node, node.description.subtitle as string, 'manual', {})).toBe('exclude for read');
	});
});

describe('Split by Views: the undeliverable view', () => {
	it('a saved workflow without an operation splits by views and excludes what verification marked undeliverable, with the reason', async () => {
		const verified = (await runNode(node, { parameters: verify(), items: contacts.slice(0, 4) })).outputs
			.flat()
			.sort((a, b) => (a.pairedItem as { item: number }).item - (b.pairedItem as { item: number }).item);
		const { outputs } = await runNode(node, { parameters: { cadence: 'silent', domainCap: 0 }, items: verified.map((i) => i.json) });
		const [kept, excluded] = outputs;
		expect(kept.map((i) => i.json.email)).toEqual(['bob@acme.node.test', 'webmaster@acme.node.test', 'eve@web.node.test']);
		expect(excluded.map((i) => [i.json.email, i.json.excludedBy, i.pairedItem])).toEqual([
			['ann@gone.node.test', [{ view: 'undeliverable', rule: 'verificationStatus', value: 'nxdomain' }], { item: 1 }],
		]);
	});

	it('reads the verification from the configured field, as JSON text too (a store column); chosen views may leave it out', async () => {
		const v = JSON.stringify({ status: 'undeliverable', reason: 'no-mx', detail: '', checkedAt: '2026-01-01T00:00:00.000Z' });
		const items = [{ email: 'a@x.example', check: v }];
		const { outputs } = await runNode(node, { parameters: { cadence: 'silent', verificationField: 'check' }, items });
		expect(outputs[1][0].json.excludedBy).toEqual([{ view: 'undeliverable', rule: 'verificationStatus', value: 'no-mx' }]);
		const chosen = await runNode(node, { parameters: { cadence: 'custom', excludePresets: ['no-send'], verificationField: 'check' }, items });
		expect(chosen.outputs[0]).toHaveLength(1);
	});
});
