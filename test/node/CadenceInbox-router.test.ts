/**
 * Cadence Inbox's router and the lifetime of its classification worker: an unknown operation is a clear error,
 * and every worker an execution starts is ended when the execution ends, whether it succeeds or fails.
 */
import { NodeOperationError } from 'n8n-workflow';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CadenceInbox } from '../../nodes/CadenceInbox/CadenceInbox.node';
import { runNode } from '../helpers/n8n';

const pools = vi.hoisted(() => ({ created: 0, closed: 0 }));

vi.mock('../../transport/inbox', async (importOriginal) => {
	const original = await importOriginal<typeof import('../../transport/inbox')>();
	return {
		...original,
		createClassifierPool: (...args: Parameters<typeof original.createClassifierPool>) => {
			const pool = original.createClassifierPool(...args);
			pools.created++;
			let counted = false;
			return {
				...pool,
				close: async () => {
					if (!counted) pools.closed++;
					counted = true;
					await pool.close();
				},
			};
		},
	};
});

const inbox = new CadenceInbox();
const mail = (n: number) => [`From: <a${n}@x.example>`, 'To: <b@y.example>', `Subject: Hi ${n}`, '', 'Body', ''].join('\r\n');

afterEach(() => {
	pools.created = 0;
	pools.closed = 0;
});

describe('Cadence Inbox: router', () => {
	it('an unknown operation is a NodeOperationError naming it, not an empty result', async () => {
		const run = runNode(inbox, { parameters: { operation: 'deleteMailbox' }, items: [{ raw: mail(1) }] });
		await expect(run).rejects.toBeInstanceOf(NodeOperationError);
		await expect(runNode(inbox, { parameters: { operation: 'deleteMailbox' }, items: [{ raw: mail(1) }] })).rejects.toThrow(
			/operation "deleteMailbox" is not supported/,
		);
		expect(pools.created).toBe(0);
	});

	it('routes each known operation to its own execute', async () => {
		const { json } = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', rawField: 'raw', output: 'message' },
			items: [{ raw: mail(1) }],
		});
		expect(json).toHaveLength(1);
		expect(json[0]).toHaveProperty('kind');
		// Fetch and Classify needs its IMAP credential: reaching that check proves it ran, not Classify Message.
		await expect(runNode(inbox, { parameters: { operation: 'fetchAndClassify', mailbox: 'INBOX' }, items: [{}] })).rejects.toThrow(/cadenceImapApi/);
	});
});

describe('Cadence Inbox: the classification worker ends with the execution', () => {
	it('after a successful run, including a new worker when an item has other options', async () => {
		const items = [
			{ raw: mail(1), own: 'a@x.example' },
			{ raw: mail(2), own: 'a@x.example' },
			{ raw: mail(3), own: 'c@x.example' },
		];
		await runNode(inbox, { parameters: { operation: 'classifyMessage', rawField: 'raw', options: { ownAddresses: '={{ $json.own }}' } }, items });
		expect(pools.created).toBe(2);
		expect(pools.closed).toBe(2);
	});

	it('when an item fails the node (no Continue On Fail)', async () => {
		const items = [{ raw: mail(1) }, { raw: 42 }, { raw: mail(3) }];
		await expect(runNode(inbox, { parameters: { operation: 'classifyMessage', rawField: 'raw' }, items })).rejects.toMatchObject({
			context: { itemIndex: 1 },
		});
		expect(pools.created).toBe(1);
		expect(pools.closed).toBe(1);
	});

	it('under Continue On Fail, with the failed item kept as input fields plus error', async () => {
		const items = [{ raw: mail(1) }, { raw: 42, id: 'c-2' }];
		const { json } = await runNode(inbox, { parameters: { operation: 'classifyMessage', rawField: 'raw' }, items, continueOnFail: true });
		expect(json.at(-1)).toEqual({ raw: 42, id: 'c-2', error: 'Field "raw" must hold the raw message as text, got number' });
		expect(pools.created).toBe(1);
		expect(pools.closed).toBe(1);
	});

	it('when Fetch and Classify cannot reach the mailbox (a closed loopback port)', async () => {
		const imap = { host: '127.0.0.1', port: 1, secure: 'none', user: 'u@x.example', password: 'p' };
		await expect(
			runNode(inbox, { parameters: { operation: 'fetchAndClassify', mailbox: 'INBOX' }, items: [{}], credentials: { cadenceImapApi: imap } }),
		).rejects.toMatchObject({ context: { itemIndex: 0 } });
		expect(pools.created).toBe(1);
		expect(pools.closed).toBe(1);
	});
});
