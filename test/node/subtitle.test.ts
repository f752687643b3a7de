/** Canvas subtitles show the operation's display name, evaluated by n8n's own expression engine. */
import type { INodeType } from 'n8n-workflow';
import { describe, expect, it } from 'vitest';
import { CadenceBatch } from '../../nodes/CadenceBatch/CadenceBatch.node';
import { CadenceInbox } from '../../nodes/CadenceInbox/CadenceInbox.node';
import { CadenceMetrics } from '../../nodes/CadenceMetrics/CadenceMetrics.node';
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

describe('the Metrics subtitle names the Group By choices', () => {
	const metrics = new CadenceMetrics();
	const groupedBy = (groupBy: string[]) => {
		const { workflow, node } = buildWorkflow(metrics, { parameters: { groupBy } });
		return workflow.expression.getSimpleParameterValue(node, metrics.description.subtitle as string, 'manual', {});
	};
	it.each([
		[['campaign', 'batchTag', 'variant'], 'by Campaign, Batch Tag, Variant'],
		[['day'], 'by Day'],
		[[], 'by total'],
	])('%j → %s', (groupBy, text) => {
		expect(groupedBy(groupBy)).toBe(text);
	});
});
