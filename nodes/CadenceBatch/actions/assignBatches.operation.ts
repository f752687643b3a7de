/**
 * New contacts get the marketing tag of their batch (day of import, rolled on per domain past the cap), with the
 * Chinese marker when the segment is named in Chinese. Existing contacts come from the second input, or from a
 * field that marks an item as existing. Output 1: assigned, output 2: skipped (existing, duplicate or invalid
 * address) with the reason. Whole-batch: the plan needs every address at once.
 */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { DEFAULT_PER_DOMAIN_CAP, planBatchAssignment, type AssignResult, type BatchAssignment, type ExistingContact } from '../../../core/assign';
import { formatBatchTag, segmentTagLanguage, TagClassifier, tagKey } from '../../../core/tags';
import { emailFieldProperty, getField, readContactSettings, readTagList, readTags, withTags, type ContactSettings } from '../../shared/contactFields';
import { errorItem, itemError } from '../../shared/perItem';
import { forOperations, readCalendarSettings } from './common';

export const description: INodeProperties[] = [
	{
		displayName: 'Language',
		name: 'language',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'English',
		displayOptions: forOperations('assignBatches'),
		description: 'Language part of the batch tag; an expression can read it from each contact (its language field)',
	},
	{
		displayName: 'Segment',
		name: 'segment',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'Equipment Dealers',
		displayOptions: forOperations('assignBatches'),
		description: 'Segment part of the batch tag',
	},
	{
		displayName: 'Per-Domain Cap',
		name: 'perDomainCap',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: DEFAULT_PER_DOMAIN_CAP,
		displayOptions: forOperations('assignBatches'),
		description:
			'At most this many addresses of one company (registrable domain: a.example.co.uk and b.example.co.uk are one) per batch, counting existing contacts; the rest roll on to the next batches (30 wraps to 01)',
	},
	{
		displayName: 'Existing Flag Field',
		name: 'existingField',
		type: 'string',
		default: '',
		displayOptions: forOperations('assignBatches'),
		description:
			'Optional: a field that is true on input items that are already contacts (e.g. from a store lookup). Existing contacts can also come in on the second input.',
	},
	{ ...emailFieldProperty, displayOptions: forOperations('assignBatches') },
];

interface Plan {
	settings: ContactSettings;
	tags: TagClassifier;
	result: AssignResult;
	/** Input items marked existing by the Existing Flag Field. */
	flaggedExisting: Set<number>;
}

/** The second input, which is optional and may not be connected. */
function existingInput(ctx: IExecuteFunctions): INodeExecutionData[] {
	try {
		return ctx.getInputData(1) ?? [];
	} catch {
		return [];
	}
}

/** Plans the batches of all new contacts at once; existing contacts' tags only tell which batch already holds them. */
function planAssignment(ctx: IExecuteFunctions, items: INodeExecutionData[]): Plan {
	const settings = readContactSettings(ctx, 0);
	const tags = new TagClassifier(settings.grammar);
	const perDomainCap = ctx.getNodeParameter('perDomainCap', 0, DEFAULT_PER_DOMAIN_CAP) as number;
	const existingField = ctx.getNodeParameter('existingField', 0, '') as string;
	let calendar;
	try {
		calendar = readCalendarSettings(ctx, 0, 'silent');
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error);
	}
	// The tags read before a limit cut in are enough to tell an existing contact's batch.
	const existing: ExistingContact[] = existingInput(ctx).map((item) => ({
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
	try {
		const result = planBatchAssignment(candidates, {
			date: calendar.date,
			timeZone: calendar.timeZone,
			perDomainCap,
			existing,
			grammar: settings.grammar,
		});
		return { settings, tags, result, flaggedExisting };
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error);
	}
}

/** The assigned contact with its batch tag added, written in the segment's language (法语 / 工程设备经销商 → 法语-工程设备经销商-营销05). */
function assignedItem(
	ctx: IExecuteFunctions,
	item: INodeExecutionData,
	a: BatchAssignment,
	settings: ContactSettings,
	tags: TagClassifier,
): INodeExecutionData {
	const i = a.index;
	const language = String(ctx.getNodeParameter('language', i) ?? '').trim();
	const segment = String(ctx.getNodeParameter('segment', i) ?? '').trim();
	if (!language || !segment)
		throw new NodeOperationError(ctx.getNode(), `Language and segment are needed to name the batch tag of ${a.email}`, { itemIndex: i });
	const batchTag = formatBatchTag({ language, segment, group: 'marketing', batch: a.batch }, tags.grammar, {
		language: segmentTagLanguage({ language, segment }, tags),
	});
	const current = readTags(item.json, settings);
	const batchKey = tagKey(batchTag);
	const has = current.some((t) => tagKey(t) === batchKey);
	const json = withTags(item.json, has ? current : [...current, batchTag], settings);
	json[settings.emailField.includes('.') ? 'email' : settings.emailField] = a.email;
	Object.assign(json, { batch: a.batch, batchTag, ...(a.overCap ? { overCap: true } : {}) });
	return { json, pairedItem: { item: i } };
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	if (items.length === 0) return [[], []];
	const { settings, tags, result, flaggedExisting } = planAssignment(this, items);
	const assigned: INodeExecutionData[] = [];
	const skipped: INodeExecutionData[] = [];
	for (const a of result.assigned) {
		try {
			assigned.push(assignedItem(this, items[a.index], a, settings, tags));
		} catch (error) {
			if (!this.continueOnFail()) throw itemError(this, error, a.index);
			skipped.push(errorItem(error, { item: a.index }, { ...items[a.index].json, reason: 'error' }));
		}
	}
	for (const s of result.skipped) {
		const reason = flaggedExisting.has(s.index) ? 'existing' : s.reason;
		skipped.push({ json: { ...items[s.index].json, reason, detail: s.detail }, pairedItem: { item: s.index } });
	}
	return [assigned, skipped];
}
