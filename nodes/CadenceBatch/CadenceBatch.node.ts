import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { DEFAULT_DUE_TAG_FORMS } from '../../core/select';
import { STATE_NAMES } from '../../core/tags';
import { contactFieldProperties, tagGrammarOption } from '../shared/contactFields';
import { addTags } from './operations/addTags';
import { assignBatches } from './operations/assignBatches';
import { calendarOptions } from './operations/common';
import { getDueTags } from './operations/getDueTags';
import { selectDueContacts } from './operations/selectDueContacts';
import { tagReaders } from './operations/tagReaders';

const forOperations = (...operation: string[]) => ({ show: { operation } });

export class CadenceBatch implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Batch',
		name: 'cadenceBatch',
		icon: { light: 'file:cadenceBatch.svg', dark: 'file:cadenceBatch.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] }}',
		description: 'Plan the 30-day and 10-day outreach cadence: due batch tags, due contacts, batch assignment and read tags',
		defaults: { name: 'Cadence Batch' },
		usableAsTool: true,
		inputs: `={{ $parameter["operation"] === "assignBatches" ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "New Contacts" }, { "type": "${NodeConnectionTypes.Main}", "displayName": "Existing Contacts", "required": false }] : ["${NodeConnectionTypes.Main}"] }}`,
		outputs: `={{ $parameter["operation"] === "assignBatches" ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Assigned" }, { "type": "${NodeConnectionTypes.Main}", "displayName": "Skipped" }] : ["${NodeConnectionTypes.Main}"] }}`,
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				default: 'getDueTags',
				options: [
					{
						name: 'Add Tags',
						value: 'addTags',
						description: 'Add tags, or risk and intent states in each contact\'s own tag language (Risk-Unsubscribed or 风险-退订), never removing any',
						action: 'Add tags to contacts',
					},
					{
						name: 'Assign Batches',
						value: 'assignBatches',
						description: 'Give new contacts the marketing tag of their batch, capped per domain',
						action: 'Assign new contacts to batches',
					},
					{
						name: 'Get Due Tags',
						value: 'getDueTags',
						description: 'Today\'s due tag names, so a store query fetches only those contacts',
						action: 'Get today s due tags',
					},
					{
						name: 'Select Due Contacts',
						value: 'selectDueContacts',
						description: 'Keep the input contacts whose batch is due today',
						action: 'Select due contacts',
					},
					{
						name: 'Tag Readers',
						value: 'tagReaders',
						description: 'Add the read tag that matches each contact\'s marketing tag, in the same language (营销21 → 阅读01)',
						action: 'Add read tags to readers',
					},
				],
			},
			{
				displayName: 'Cadence',
				name: 'cadence',
				type: 'options',
				default: 'silent',
				displayOptions: forOperations('getDueTags', 'selectDueContacts'),
				options: [
					{ name: 'Silent (30-Day Round)', value: 'silent', description: 'Marketing batches 01–30: batch = day of month' },
					{ name: 'Read (10-Day Round)', value: 'read', description: 'Read batches 01–10: batch = ((day − 1) mod 10) + 1' },
				],
			},
			{
				displayName: 'Segments',
				name: 'segments',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				placeholder: 'Add Segment',
				default: {},
				displayOptions: forOperations('getDueTags', 'selectDueContacts'),
				description: 'Language and segment pairs, e.g. English / Equipment Dealers. For Select Due Contacts: leave empty for all.',
				options: [
					{
						displayName: 'Segment',
						name: 'segment',
						values: [
							{ displayName: 'Language', name: 'language', type: 'string', default: '', placeholder: 'English' },
							{ displayName: 'Segment', name: 'segment', type: 'string', default: '', placeholder: 'Equipment Dealers' },
						],
					},
				],
			},
			{
				displayName: 'Output',
				name: 'outputMode',
				type: 'options',
				default: 'perTag',
				displayOptions: forOperations('getDueTags'),
				options: [
					{ name: 'One Item per Tag', value: 'perTag' },
					{ name: 'One Item With the List', value: 'list' },
				],
			},
			{
				displayName: 'Tag Forms',
				name: 'tagForms',
				type: 'options',
				default: DEFAULT_DUE_TAG_FORMS,
				displayOptions: forOperations('getDueTags'),
				options: [
					{ name: 'Segment\'s Own', value: 'own', description: 'One name per batch: Chinese markers (营销09) for a segment named in Chinese, else English (Marketing09)' },
					{
						name: 'Every Accepted Spelling',
						value: 'all',
						description: 'Each marker language, with and without a space before the number (Marketing09, Marketing 09, 营销09, 营销 09): for a store query that matches tags exactly',
					},
				],
			},
			{
				displayName: 'Tags to Add',
				name: 'tagsToAdd',
				type: 'string',
				default: '',
				placeholder: 'VIP, Fair 2026',
				displayOptions: forOperations('addTags'),
				description: 'Comma-separated tags added as written (expressions allowed). For risk and intent states use State Tags: they follow each contact\'s language.',
			},
			{
				displayName: 'State Tags',
				name: 'stateTags',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				placeholder: 'Add State Tag',
				default: {},
				displayOptions: forOperations('addTags'),
				description:
					'Risk or intent tags written in the language of each contact\'s own tags: Risk + Unsubscribed is Risk-Unsubscribed on an English contact and 风险-退订 on a Chinese one',
				options: [
					{
						displayName: 'State Tag',
						name: 'tag',
						values: [
							{
								displayName: 'Group',
								name: 'group',
								type: 'options',
								default: 'risk',
								options: [
									{ name: 'Intent', value: 'intent', description: 'Personal follow-up, no more bulk mail (Intent- / 意向-)' },
									{ name: 'Risk', value: 'risk', description: 'No more mail (Risk- / 风险-)' },
								],
							},
							{
								displayName: 'State',
								name: 'state',
								type: 'string',
								default: '',
								placeholder: 'Unsubscribed',
								description: `Translated when known (English or Chinese name): ${Object.values(STATE_NAMES)
									.map((n) => `${n.en} / ${n.zh}`)
									.join(', ')}. Any other name is added as written after the prefix.`,
							},
						],
					},
				],
			},
			{
				displayName: 'Language',
				name: 'language',
				type: 'string',
				default: '',
				required: true,
				placeholder: 'English',
				displayOptions: forOperations('assignBatches'),
				description: 'Language part of the batch tag; an expression can read it from each contact, e.g. {{ $JSON.language }}',
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
				default: 10,
				displayOptions: forOperations('assignBatches'),
				description: 'At most this many addresses of one domain per batch; the rest roll on to the next batches (30 wraps to 01)',
			},
			{
				displayName: 'Existing Flag Field',
				name: 'existingField',
				type: 'string',
				default: '',
				displayOptions: forOperations('assignBatches'),
				description: 'Optional: a field that is true on input items that are already contacts (e.g. from a store lookup). Existing contacts can also come in on the second input.',
			},
			...contactFieldProperties.map((p) => ({
				...p,
				displayOptions: p.name === 'emailField' ? forOperations('assignBatches') : forOperations('selectDueContacts', 'assignBatches', 'tagReaders', 'addTags'),
			})),
			{
				displayName: 'Calendar',
				name: 'calendar',
				type: 'collection',
				placeholder: 'Change Date or Time Zone',
				default: {},
				displayOptions: forOperations('getDueTags', 'selectDueContacts', 'assignBatches'),
				options: calendarOptions,
			},
			tagGrammarOption,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const operation = this.getNodeParameter('operation', 0) as string;
		const items = this.getInputData(0);
		switch (operation) {
			case 'getDueTags':
				return await getDueTags.call(this, items);
			case 'selectDueContacts':
				return await selectDueContacts.call(this, items);
			case 'assignBatches': {
				let existing: INodeExecutionData[] = [];
				try {
					existing = this.getInputData(1) ?? [];
				} catch {
					existing = []; // the second input is optional and may not be connected
				}
				return await assignBatches.call(this, items, existing);
			}
			case 'tagReaders':
				return await tagReaders.call(this, items);
			case 'addTags':
				return await addTags.call(this, items);
			default:
				throw new NodeOperationError(this.getNode(), `Unknown operation "${operation}"`);
		}
	}
}
