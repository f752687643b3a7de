/**
 * Cadence Inbox (action node) inside n8n-core's real ExecuteContext: Classify Message from a field or a binary
 * property, per-item errors and continueOnFail, and Fetch and Classify against a real Dovecot.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ICredentialDataDecryptedObject, IDataObject, IPairedItemData } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker } from '../../core/tracker';
import { CadenceInbox } from '../../nodes/CadenceInbox/CadenceInbox.node';
import { dovecotVersion, startDovecot, type DovecotServer, connectAppender } from '../helpers/dovecot';
import { runNode } from '../helpers/n8n';

const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'bounces');
const corpus = (name: string) => readFileSync(join(CORPUS, name), 'latin1');
const inbox = new CadenceInbox();
const tracking = { baseUrl: 'https://track.sender.example/webhook/t', secrets: 'action-secret', maxAgeDays: 0 };
const tracker = createTracker({ secrets: ['action-secret'], baseUrl: tracking.baseUrl });

function message(from: string, to: string, n: number, headers: string[] = []): string {
	return [
		`From: <${from}>`,
		`To: <${to}>`,
		`Subject: Hello ${n}`,
		`Message-ID: <act-${n}@x.example>`,
		...headers,
		'Date: Fri, 20 Nov 2026 08:00:00 +0000',
		'',
		`Body ${n}`,
		'',
	].join('\r\n');
}

describe('Cadence Inbox: Classify Message', () => {
	it('turns raw messages from a field into events, one per bounced recipient, keeping pairedItem', async () => {
		const { json, outputs } = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', source: 'field', rawField: 'mail.raw' },
			items: [{ mail: { raw: corpus('lhost-postfix-13.eml') } }, { mail: { raw: corpus('arf-01.eml') } }],
		});
		expect(json.map((e) => e.type)).toEqual(['bounced', 'bounced', 'complained']);
		expect(outputs[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 0 }, { item: 1 }]);
		expect(json[0].bounce).toMatchObject({ hard: true, status: '5.2.1' });
		expect(json[1].bounce).toMatchObject({ hard: false, reason: 'mailboxfull' });
		expect(json[2]).toMatchObject({ kind: 'complaint', feedbackType: 'abuse' });
		// Same message, same ids (stable across runs).
		const again = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', source: 'field', rawField: 'raw' },
			items: [{ raw: corpus('lhost-postfix-13.eml') }],
		});
		expect(again.json.map((e) => e.id)).toEqual(json.slice(0, 2).map((e) => e.id));
	});

	it('reads a binary property (an .eml file) and verifies tokens with the tracking credential', async () => {
		const token = tracker.token({ email: 'b@contact.example', campaign: 'c1', batchTag: 'English-X-Marketing02', variant: 'A', sentAt: Date.now() });
		const raw = message('b@contact.example', 'sales@sender.example', 1, [`In-Reply-To: <${token}@sender.example>`]);
		const { json } = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', source: 'binary', binaryPropertyName: 'file', verifyTokens: true },
			items: [{ json: {}, binary: { file: { data: Buffer.from(raw).toString('base64'), mimeType: 'message/rfc822', fileName: 'a.eml' } } }],
			credentials: { cadenceTrackingApi: tracking },
		});
		expect(json).toEqual([expect.objectContaining({ type: 'replied', email: 'b@contact.example', campaign: 'c1', token })]);
	});

	it('one item per message when asked, with the kinds filter applied to its events', async () => {
		const { json } = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', rawField: 'raw', output: 'message', kinds: ['bounce'] },
			items: [{ raw: corpus('rfc3834-01.eml') }, { raw: corpus('lhost-postfix-31.eml') }],
		});
		expect(json.map((m) => [m.kind, (m.events as IDataObject[]).length])).toEqual([
			['auto_reply', 0],
			['bounce', 1],
		]);
	});

	it('a bad item fails alone: a clear error on that item, the others still classified', async () => {
		const items = [{ raw: corpus('lhost-postfix-31.eml') }, { raw: 42 }, { other: 'x' }, { raw: '' }];
		const { json, outputs } = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', rawField: 'raw' },
			items,
			continueOnFail: true,
		});
		expect(json[0].type).toBe('bounced');
		expect(json[1]).toEqual({ raw: 42, error: 'Field "raw" must hold the raw message as text, got number' });
		expect(json[2]).toEqual({ other: 'x', error: 'The item has no field "raw" with the raw message' });
		expect(json[3]).toMatchObject({ type: 'other', problem: expect.any(String) });
		expect(outputs[0].map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }, { item: 3 }]);

		await expect(runNode(inbox, { parameters: { operation: 'classifyMessage', rawField: 'raw' }, items })).rejects.toMatchObject({
			message: 'Field "raw" must hold the raw message as text, got number',
			context: { itemIndex: 1 },
		});
	});

	it('marks inbound leads unique or repeat by sender within the processed set', async () => {
		const options = {
			ownAddresses: 'info@company.example',
			dynamicTags: JSON.stringify({ k3f9: { channel: 'web', utm: { source: 'google', term: 'pumps' } } }),
		};
		const { json } = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', rawField: 'raw', options },
			items: [
				{ raw: message('lead@buyer.example', 'info+k3f9@company.example', 10) },
				{ raw: message('lead@buyer.example', 'info+k3f9@company.example', 11) },
				{ raw: message('new@buyer.example', 'info+k3f9@company.example', 12) },
			],
		});
		expect(json.map((e) => [e.type, e.email, e.unique])).toEqual([
			['inbound', 'lead@buyer.example', true],
			['inbound', 'lead@buyer.example', false],
			['inbound', 'new@buyer.example', true],
		]);
		expect(json[0]).toMatchObject({ channel: 'web', utm: { source: 'google', term: 'pumps' }, plusTag: 'k3f9' });
	});

	it('invalid option JSON is an error on the item, not a crash', async () => {
		const r = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', rawField: 'raw', options: { addressKeys: '[1,' } },
			items: [{ raw: corpus('arf-01.eml') }],
			continueOnFail: true,
		});
		expect(r.json[0].error).toMatch(/Address Keys is not valid JSON/);
	});
});

describe.skipIf(dovecotVersion() === null)('Cadence Inbox: Fetch and Classify (Dovecot)', () => {
	let server: DovecotServer;
	let imapCredential: ICredentialDataDecryptedObject;
	const day = 86_400_000;
	const uids: number[] = [];

	beforeAll(async () => {
		server = await startDovecot({ users: { sales: 'sales-pw' } });
		imapCredential = { host: server.host, port: server.port, secure: 'none', user: 'sales', password: 'sales-pw' };
		const client = await connectAppender(server, 'sales', 'sales-pw');
		for (const [raw, ageDays] of [
			[message('a@contact.example', 'sales@sender.example', 20), 30],
			[corpus('lhost-postfix-31.eml'), 6],
			[corpus('rfc3834-01.eml'), 2],
		] as Array<[string, number]>) {
			const r = await client.append('INBOX', raw, [], new Date(Date.now() - ageDays * day));
			uids.push((r || undefined)?.uid ?? 0);
		}
		await client.logout();
	});
	afterAll(async () => {
		await server?.stop();
	});

	it('classifies one mailbox over a date range, read-only', async () => {
		const { json, outputs } = await runNode(inbox, {
			parameters: { operation: 'fetchAndClassify', mailbox: 'INBOX', since: new Date(Date.now() - 10 * day).toISOString(), limit: 10 },
			items: [{}],
			credentials: { cadenceImapApi: imapCredential },
		});
		expect(json.map((e) => [e.type, e.uid])).toEqual([
			['bounced', uids[1]],
			['auto_replied', uids[2]],
		]);
		expect(outputs[0].every((i) => (i.pairedItem as IPairedItemData).item === 0)).toBe(true);
		const newest = await runNode(inbox, {
			parameters: { operation: 'fetchAndClassify', mailbox: 'INBOX', limit: 1, newestFirst: true },
			items: [{}],
			credentials: { cadenceImapApi: imapCredential },
		});
		expect(newest.json.map((e) => e.uid)).toEqual([uids[2]]);
	});

	it('errors name the item: missing folder, inverted range', async () => {
		const r = await runNode(inbox, {
			parameters: {
				operation: 'fetchAndClassify',
				mailbox: '={{ $json.box }}',
				since: '={{ $json.since }}',
				before: '={{ $json.before }}',
			},
			items: [
				{ box: 'Nope', since: '', before: '' },
				{ box: 'INBOX', since: '2026-11-10T00:00:00Z', before: '2026-11-01T00:00:00Z' },
				{ box: 'INBOX', since: '', before: '' },
			],
			credentials: { cadenceImapApi: imapCredential },
			continueOnFail: true,
		});
		expect(r.json[0].error).toMatch(/Nope|exist|Command failed/i);
		expect(r.json[1].error).toMatch(/earlier than/);
		expect(r.json.slice(2).map((e) => e.type)).toEqual(['other', 'bounced', 'auto_replied']);
	});
});
