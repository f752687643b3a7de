/**
 * The n8n version matrix of scripts/n8n-runtime.mjs: which version CADENCE_N8N selects, which Node an engines range
 * needs, and which workflows the start waits for (their webhooks must answer before a test may call them).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	minimumNodeMajor,
	N8N_LATEST_VERSION,
	N8N_OLDEST_VERSION,
	N8N_VERSION_VARIABLE,
	n8nVersionFor,
	webhookWorkflowIds,
	// @ts-expect-error: plain ESM script without type declarations
} from '../../scripts/n8n-runtime.mjs';

describe('n8nVersionFor (the CADENCE_N8N value)', () => {
	it('unset, empty and `oldest` select the oldest supported version; `latest` the newest tested', () => {
		expect(n8nVersionFor(undefined)).toBe(N8N_OLDEST_VERSION);
		expect(n8nVersionFor('')).toBe(N8N_OLDEST_VERSION);
		expect(n8nVersionFor(' oldest ')).toBe(N8N_OLDEST_VERSION);
		expect(n8nVersionFor('latest')).toBe(N8N_LATEST_VERSION);
		expect(N8N_OLDEST_VERSION).not.toBe(N8N_LATEST_VERSION);
	});

	it('an exact version is taken as is', () => {
		fc.assert(
			fc.property(fc.nat(99), fc.nat(999), fc.nat(99), (a, b, c) => {
				expect(n8nVersionFor(`${a}.${b}.${c}`)).toBe(`${a}.${b}.${c}`);
			}),
			{ numRuns: 100 },
		);
	});

	it('anything else is refused with an error naming the variable and the value', () => {
		for (const bad of ['newest', '2.41', 'v2.41.1', '2.41.1-beta', 'latest;rm', '^2.41.1']) {
			expect(() => n8nVersionFor(bad)).toThrow(new RegExp(`${N8N_VERSION_VARIABLE}=.*is not an n8n version`));
		}
	});
});

describe('minimumNodeMajor (n8n engines.node)', () => {
	it('reads the lower bound of the ranges n8n publishes', () => {
		expect(minimumNodeMajor('>=24.0.0')).toBe(24);
		expect(minimumNodeMajor('>=20.19 <= 24.x')).toBe(20);
		expect(minimumNodeMajor('>= 22')).toBe(22);
		expect(minimumNodeMajor(undefined)).toBeNull();
		expect(minimumNodeMajor('*')).toBeNull();
	});

	it('finds the major of any `>=X.Y.Z` range, whatever follows', () => {
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 99 }), fc.nat(99), fc.constantFrom('', ' <25', ' <= 30.x'), (major, minor, tail) => {
				expect(minimumNodeMajor(`>=${major}.${minor}.0${tail}`)).toBe(major);
			}),
			{ numRuns: 100 },
		);
	});
});

describe('webhookWorkflowIds', () => {
	const wf = (id: string, nodes: object[]) => ({ id, name: id, nodes, connections: {} });
	it('lists the workflows with an enabled Webhook node or webhook trigger, not Wait/Form steps or disabled nodes', () => {
		const ids = webhookWorkflowIds([
			wf('hook', [{ type: 'n8n-nodes-base.webhook', webhookId: 'a', parameters: { path: 'x' } }]),
			wf('track', [{ type: 'n8n-nodes-mail-cadence.cadenceTrackingTrigger', webhookId: 'b' }]),
			wf('form', [{ type: 'n8n-nodes-base.formTrigger', webhookId: 'c' }]),
			wf('schedule', [{ type: 'n8n-nodes-base.scheduleTrigger', parameters: {} }]),
			wf('wait', [{ type: 'n8n-nodes-base.wait', webhookId: 'd' }]),
			wf('off', [{ type: 'n8n-nodes-base.webhook', webhookId: 'e', disabled: true }]),
			{ id: 42, nodes: [{ type: 'n8n-nodes-base.webhook', webhookId: 'f' }] },
		]);
		expect(ids).toEqual(['hook', 'track', 'form', '42']);
	});
});
