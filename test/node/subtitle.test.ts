/** Canvas subtitles show the operation's display name, evaluated by n8n's own expression engine. */
import type { INodeType } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import { CadenceInbox } from '../../nodes/CadenceInbox/CadenceInbox.node';
import { buildWorkflow } from '../helpers/n8n';

function subtitle(type: INodeType, operation: string): unknown {
	const { workflow, node } = buildWorkflow(type, { parameters: { operation } });
	return workflow.expression.getSimpleParameterValue(node, type.description.subtitle as string, 'manual', {});
}

describe('operation subtitles', () => {
	it.each([
		[new CadenceBatch(), 'getDueTags', 'Get Due Tags'],
		[new CadenceBatch(), 'tagReaders', 'Tag Readers'],
		[new CadenceInbox(), 'fetchAndClassify', 'Fetch and Classify'],
	])('%#: %s → %s', (type, operation, name) => {
		expect(subtitle(type, operation)).toBe(name);
	});
});
