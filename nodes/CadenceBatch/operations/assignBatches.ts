import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import { planBatchAssignment, type ExistingContact } from '../../../core/assign';
import { formatBatchTag, segmentTagLanguage, TagClassifier, tagKey } from '../../../core/tags';
import { getField, readContactSettings, readTagList, readTags, withTags } from '../../shared/contactFields';
import { readCalendarSettings } from './common';

/**
 * New contacts get the marketing tag of their batch (day of import, rolled on per domain past the cap), with the
 * Chinese marker when the segment is named in Chinese. Existing
 * contacts come from the second input, or from a field that marks an item as existing. Output 1: assigned, output
 * 2: skipped (existing, duplicate or invalid address) with the reason.
 */
export async function assignBatches(
	this: IExecuteFunctions,
	items: INodeExecutionData[],
	existingItems: INodeExecutionData[],
): Promise<INodeExecutionData[][]> {
	if (items.length === 0) return [[], []];
	const settings = readContactSettings(this, 0);
	const tags = new TagClassifier(settings.grammar);
	const perDomainCap = this.getNodeParameter('perDomainCap', 0, 10) as number;
	const existingField = this.getNodeParameter('existingField', 0, '') as string;
	let calendar;
	try {
		calendar = readCalendarSettings(this, 0, 'silent');
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error);
	}

	// Existing contacts' tags only tell which batch already holds them: the tags read before a limit are enough.
	const existing: ExistingContact[] = existingItems.map((item) => ({
		email: String(getField(item.json, settings.emailField) ?? ''),
		tags: readTagList(item.json, settings).tags,
	}));
	const candidates: unknown[] = [];
	const flaggedExisting = new Set<number>();
	items.forEach((item, i) => {
		candidates.push(getField(item.json, settings.emailField));
		if (existingField && getField(item.json, existingField)) flaggedExisting.add(i);
	});
	for (const i of flaggedExisting) existing.push({ email: String(candidates[i] ?? ''), tags: readTagList(items[i].json, settings).tags });

	let plan;
	try {
		plan = planBatchAssignment(candidates, { date: calendar.date, timeZone: calendar.timeZone, perDomainCap, existing, grammar: settings.grammar });
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error);
	}

	const assigned: INodeExecutionData[] = [];
	const skipped: INodeExecutionData[] = [];
	for (const a of plan.assigned) {
		const i = a.index;
		try {
			const language = String(this.getNodeParameter('language', i) ?? '').trim();
			const segment = String(this.getNodeParameter('segment', i) ?? '').trim();
			if (!language || !segment)
				throw new NodeOperationError(this.getNode(), `Language and segment are needed to name the batch tag of ${a.email}`, { itemIndex: i });
			// written in the segment's language: 法语 / 工程设备经销商 → 法语-工程设备经销商-营销05
			const batchTag = formatBatchTag({ language, segment, group: 'marketing', batch: a.batch }, tags.grammar, {
				language: segmentTagLanguage({ language, segment }, tags),
			});
			const current = readTags(items[i].json, settings);
			const batchKey = tagKey(batchTag);
			const has = current.some((t) => tagKey(t) === batchKey);
			const json = withTags(items[i].json, has ? current : [...current, batchTag], settings);
			json[settings.emailField.includes('.') ? 'email' : settings.emailField] = a.email;
			Object.assign(json, { batch: a.batch, batchTag, ...(a.overCap ? { overCap: true } : {}) });
			assigned.push({ json, pairedItem: { item: i } });
		} catch (error) {
			if (this.continueOnFail()) {
				skipped.push({ json: { ...items[i].json, reason: 'error', error: (error as Error).message }, pairedItem: { item: i } });
				continue;
			}
			// NodeOperationError hands back an error that already is one, keeping its itemIndex
			throw new NodeOperationError(this.getNode(), error as Error, { itemIndex: i });
		}
	}
	for (const s of plan.skipped) {
		const reason = flaggedExisting.has(s.index) ? 'existing' : s.reason;
		skipped.push({ json: { ...items[s.index].json, reason, detail: s.detail }, pairedItem: { item: s.index } });
	}
	return [assigned, skipped];
}
