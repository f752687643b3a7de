/**
 * Verify Tracking Tokens on both Inbox nodes: an options field (Off / On) that n8n's editor shows, with the
 * Cadence Tracking credential asked for only when it is On; workflows that stored the field as the boolean `true`
 * keep verifying. The nodes run in n8n-core's real ExecuteContext / PollContext (the trigger against a Dovecot).
 */
import { NodeHelpers, type IDataObject, type INodeProperties, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTracker } from '../../core/tracker';
import { CadenceInbox } from '../../nodes/CadenceInbox/CadenceInbox.node';
import { CadenceInboxTrigger } from '../../nodes/CadenceInboxTrigger/CadenceInboxTrigger.node';
import {
	VERIFY_TOKENS_OFF,
	VERIFY_TOKENS_ON,
	VERIFY_TOKENS_ON_VALUES,
	verifyTokensOn,
	verifyTokensProperty,
} from '../../nodes/shared/inbox/attribution';
import { dovecotVersion, startDovecot, type DovecotServer, connectAppender } from '../helpers/dovecot';
import { buildWorkflow, runNode } from '../helpers/n8n';
import { runPoll } from '../helpers/n8nPoll';

const tracking = { baseUrl: 'https://track.sender.example/webhook/t', secrets: 'verify-option-secret', maxAgeDays: 0 };
const tracker = createTracker({ secrets: ['verify-option-secret'], baseUrl: tracking.baseUrl });
const inbox = new CadenceInbox();
const trigger = new CadenceInboxTrigger();

function tokenFor(email: string): string {
	return tracker.token({ email, campaign: 'spring', batchTag: 'English-Dealers-Marketing03', variant: 'B', sentAt: Date.now() - 60_000 });
}

function reply(email: string, token: string, n: number): string {
	return [
		`From: <${email}>`,
		'To: <sales@sender.example>',
		`Subject: Re: offer ${n}`,
		`Message-ID: <verify-option-${n}-${Date.now()}@contact.example>`,
		`In-Reply-To: <${token}@sender.example>`,
		'Date: Sat, 21 Nov 2026 09:00:00 +0000',
		'',
		`Thanks (${n})`,
		'',
	].join('\r\n');
}

/**
 * The editor's rule for the "main authentication field" (n8n editor-ui, nodeTypesUtils getMainAuthField and
 * findAlternativeAuthField): a parameter a credential's display depends on, all of whose option values appear in
 * the credentials' `show` lists, is taken for the authentication switch and removed from the parameter list. A
 * boolean has no options, so it always qualifies.
 */
function editorMainAuthField(description: INodeTypeDescription): INodeProperties | undefined {
	const shownFor: Record<string, string[]> = {};
	for (const cred of description.credentials ?? []) {
		for (const [field, values] of Object.entries(cred.displayOptions?.show ?? {})) {
			shownFor[field] = [...(shownFor[field] ?? []), ...(values ?? []).map((v) => (v ? String(v) : ''))];
		}
	}
	const dependencies = description.properties.filter((p) => p.name in shownFor);
	return dependencies.find((p) => (p.options ?? []).every((o) => 'value' in o && shownFor[p.name].includes(String(o.value))));
}

/** Whether n8n shows (editor) and hands out (execution) the tracking credential for these saved parameters. */
function trackingCredentialShown(nodeType: INodeType, parameters: IDataObject): boolean {
	const { node } = buildWorkflow(nodeType, { parameters });
	const cred = nodeType.description.credentials?.find((c) => c.name === 'cadenceTrackingApi');
	if (!cred) throw new Error('no tracking credential');
	return NodeHelpers.displayParameter(node.parameters, cred, node, nodeType.description, node.parameters);
}

describe('Verify Tracking Tokens is a field the editor shows, with the credential tied to On', () => {
	for (const nodeType of [inbox, trigger]) {
		const { name } = nodeType.description;
		it(`${name}: an Off/On options field, not taken for the authentication switch`, () => {
			const field = nodeType.description.properties.find((p) => p.name === 'verifyTokens');
			expect(field).toMatchObject({ type: 'options', default: VERIFY_TOKENS_OFF });
			expect(field?.options?.map((o) => ('value' in o ? o.value : undefined))).toEqual([VERIFY_TOKENS_OFF, VERIFY_TOKENS_ON]);
			expect(editorMainAuthField(nodeType.description)).toBeUndefined();
			// The same rule does hide the field when it is a boolean: the check above is not vacuous.
			const asBoolean = {
				...nodeType.description,
				properties: nodeType.description.properties.map((p) =>
					p.name === 'verifyTokens' ? { ...p, type: 'boolean' as const, options: undefined } : p,
				),
			};
			expect(editorMainAuthField(asBoolean)?.name).toBe('verifyTokens');
		});

		it(`${name}: the credential's displayOptions name the On value (and the stored boolean true)`, () => {
			const cred = nodeType.description.credentials?.find((c) => c.name === 'cadenceTrackingApi');
			expect(cred?.displayOptions?.show?.verifyTokens).toEqual(VERIFY_TOKENS_ON_VALUES);
			const base = name === 'cadenceInbox' ? { operation: 'classifyMessage' } : { mailboxes: 'INBOX' };
			expect(trackingCredentialShown(nodeType, { ...base, verifyTokens: VERIFY_TOKENS_ON })).toBe(true);
			expect(trackingCredentialShown(nodeType, { ...base, verifyTokens: true })).toBe(true);
			expect(trackingCredentialShown(nodeType, { ...base, verifyTokens: VERIFY_TOKENS_OFF })).toBe(false);
			expect(trackingCredentialShown(nodeType, base)).toBe(false);
		});
	}

	it('verifyTokensOn: On and the boolean true verify; Off, false, missing and other values do not', () => {
		expect([VERIFY_TOKENS_ON, true].map(verifyTokensOn)).toEqual([true, true]);
		expect([VERIFY_TOKENS_OFF, false, undefined, null, '', 'true', 1, {}].map(verifyTokensOn)).toEqual(Array(8).fill(false));
		expect(verifyTokensProperty.name).toBe('verifyTokens');
	});
});

describe('Cadence Inbox verifies tokens for On and for the stored boolean true', () => {
	const token = tokenFor('buyer@contact.example');
	const raw = reply('buyer@contact.example', token, 1);

	for (const verifyTokens of [VERIFY_TOKENS_ON, true] as const) {
		it(`verifyTokens = ${JSON.stringify(verifyTokens)}: the reply carries the signed campaign, batch tag and variant`, async () => {
			const { json } = await runNode(inbox, {
				parameters: { operation: 'classifyMessage', rawField: 'raw', verifyTokens },
				items: [{ raw }],
				credentials: { cadenceTrackingApi: tracking },
			});
			expect(json).toEqual([expect.objectContaining({ type: 'replied', email: 'buyer@contact.example', campaign: 'spring', variant: 'B', token })]);
			expect(json[0].batchTag).toBe('English-Dealers-Marketing03');
		});
	}

	it('Off needs no tracking credential and links nothing the token would have said', async () => {
		const { json } = await runNode(inbox, {
			parameters: { operation: 'classifyMessage', rawField: 'raw', verifyTokens: VERIFY_TOKENS_OFF },
			items: [{ raw }],
		});
		expect(json).toHaveLength(1);
		expect(json[0]).toMatchObject({ type: 'replied', email: 'buyer@contact.example' });
		expect(json[0].campaign).toBeUndefined();
		expect(json[0].variant).toBeUndefined();
	});
});

describe.skipIf(dovecotVersion() === null)('Cadence Inbox Trigger verifies tokens for On and for the stored boolean true (Dovecot)', () => {
	let server: DovecotServer;
	let imapCredential: IDataObject;

	beforeAll(async () => {
		server = await startDovecot({ users: { sales: 'sales-pw' } });
		imapCredential = { host: server.host, port: server.port, secure: 'none', user: 'sales', password: 'sales-pw', allowSelfSigned: false };
		const appender = await connectAppender(server, 'sales', 'sales-pw');
		await appender.append('INBOX', reply('lead@contact.example', tokenFor('lead@contact.example'), 2));
		await appender.logout();
	});
	afterAll(async () => {
		await server?.stop();
	});

	const pollWith = (verifyTokens: unknown, withTracking = true) =>
		runPoll(trigger, {
			parameters: { mailboxes: 'INBOX', startFrom: 'date', startDate: '2000-01-01T00:00:00Z', verifyTokens } as IDataObject,
			credentials: { cadenceImapApi: imapCredential as never, ...(withTracking ? { cadenceTrackingApi: tracking } : {}) },
		});

	for (const verifyTokens of [VERIFY_TOKENS_ON, true]) {
		it(`verifyTokens = ${JSON.stringify(verifyTokens)}: the reply event carries the signed campaign`, async () => {
			const { items } = await pollWith(verifyTokens);
			expect(items).toEqual([expect.objectContaining({ type: 'replied', email: 'lead@contact.example', campaign: 'spring', variant: 'B' })]);
		});
	}

	it('Off polls without the tracking credential and the event has no campaign', async () => {
		const { items } = await pollWith(VERIFY_TOKENS_OFF, false);
		expect(items).toHaveLength(1);
		expect(items[0]).toMatchObject({ type: 'replied', email: 'lead@contact.example' });
		expect(items[0].campaign).toBeUndefined();
	});
});
