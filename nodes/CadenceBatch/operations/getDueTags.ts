import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import type { Cadence } from '../../../core/calendar';
import { dueBatches } from '../../../core/calendar';
import { DEFAULT_DUE_TAG_FORMS, dueTagNames, type DueTagForms, type Segment } from '../../../core/select';
import { parseBatchTag, resolveGrammar } from '../../../core/tags';
import { readContactSettings } from '../../shared/contactFields';
import { readCalendarSettings } from './common';

/**
 * Per input item: today's due tag names for its segments, one item per tag or one item with the list; in the
 * segment's own spelling, or every accepted spelling for a store that matches tags exactly (Tag Forms).
 */
export async function getDueTags(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	const out: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const cadence = this.getNodeParameter('cadence', i) as Cadence;
			const calendar = readCalendarSettings(this, i, cadence);
			const { grammar } = readContactSettings(this, i);
			const segments = ((this.getNodeParameter('segments', i, {}) as IDataObject).segment ?? []) as Segment[];
			if (segments.length === 0)
				throw new NodeOperationError(this.getNode(), 'Add at least one segment (language and segment) to get due tags for', { itemIndex: i });
			for (const s of segments) {
				if (!s.language?.trim() || !s.segment?.trim())
					throw new NodeOperationError(this.getNode(), 'Every segment needs a language and a segment name', { itemIndex: i });
			}
			const forms = this.getNodeParameter('tagForms', i, DEFAULT_DUE_TAG_FORMS) as DueTagForms;
			const tags = dueTagNames(segments, { ...calendar, grammar, forms });
			const batches = dueBatches(calendar.date, calendar);
			if (this.getNodeParameter('outputMode', i, 'perTag') === 'perTag') {
				const resolved = resolveGrammar(grammar);
				for (const tag of tags) {
					const parts = parseBatchTag(tag, resolved);
					out.push({ json: { tag, cadence, ...parts }, pairedItem: { item: i } });
				}
			} else {
				out.push({ json: { cadence, dueTags: tags, batches }, pairedItem: { item: i } });
			}
		} catch (error) {
			if (this.continueOnFail()) {
				out.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
				continue;
			}
			// NodeOperationError hands back an error that already is one, keeping its itemIndex
			throw new NodeOperationError(this.getNode(), error as Error, { itemIndex: i });
		}
	}
	return [out];
}

