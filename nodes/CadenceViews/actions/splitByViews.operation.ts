/**
 * Splits contacts into kept and excluded by the exclusion views (presets, no-send lists and the user's own), each
 * excluded contact with the view and rule that excluded it. Whole-batch: the per-domain cap counts across all items.
 */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import { TagClassifier } from '../../../core/tags';
import {
	applyViews,
	createViewEvaluator,
	NO_SEND_DEFAULTS,
	PRESET_VIEW_NAMES,
	type ViewContact,
	type ViewEvaluatorOptions,
} from '../../../core/views';
import { emailFieldProperty, getField, readContactSettings, tagGrammarOption, tagsFieldProperty } from '../../shared/contactFields';
import { DEFAULT_VERIFICATION_FIELD } from '../../../core/verify/result';
import { forOperation } from './operation';
import { DEFAULT_VIEW_DOMAIN_CAP } from '../../../core/views';
import { readViewSettings, type ViewSettings } from './viewSettings';

const csv = (list: string[]) => list.join(', ');

const viewProperties: INodeProperties[] = [
	{
		displayName: 'Exclude For',
		name: 'cadence',
		type: 'options',
		default: 'silent',
		options: [
			{
				name: 'Silent Cadence',
				value: 'silent',
				description: 'Exclude read, intent, risk, no-send and undeliverable contacts (a reader is not mailed twice a day)',
			},
			{ name: 'Read Cadence', value: 'read', description: 'Exclude intent, risk, no-send and undeliverable contacts' },
			{ name: 'Chosen Views', value: 'custom', description: 'Pick the preset views to exclude below' },
		],
	},
	{
		displayName: 'Preset Views to Exclude',
		name: 'excludePresets',
		type: 'multiOptions',
		default: ['intent', 'risk', 'no-send', 'undeliverable'],
		displayOptions: { show: { cadence: ['custom'] } },
		options: [
			{ name: 'Intent', value: 'intent', description: 'Any tag in the intent group' },
			{ name: 'No-Send', value: 'no-send', description: 'Addresses that never answer bulk mail (lists below)' },
			{ name: 'Read', value: 'read', description: 'Any tag in the read group' },
			{ name: 'Risk', value: 'risk', description: 'Any tag in the risk group' },
			{
				name: 'Undeliverable',
				value: 'undeliverable',
				description: 'Addresses that Verify Addresses found undeliverable (the verification field below), with its reason',
			},
		],
	},
	{
		displayName: 'Custom Views',
		name: 'customViews',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add View',
		default: {},
		description: 'Your own exclusion views; contacts matching an excluded one go to the Excluded output with the view and rule named',
		options: [
			{
				displayName: 'View',
				name: 'view',
				values: [
					{ displayName: 'Name', name: 'name', type: 'string', default: '', placeholder: 'competitors', required: true },
					{
						displayName: 'Exclude',
						name: 'exclude',
						type: 'boolean',
						default: true,
						description: 'Whether contacts in this view are excluded; off: only reported under `views` on kept items',
					},
					{
						displayName: 'Match',
						name: 'match',
						type: 'options',
						default: 'any',
						options: [
							{ name: 'Any Rule', value: 'any' },
							{ name: 'All Rules', value: 'all' },
						],
					},
					{
						displayName: 'Rules',
						name: 'rules',
						type: 'fixedCollection',
						typeOptions: { multipleValues: true },
						placeholder: 'Add Rule',
						default: {},
						options: [
							{
								displayName: 'Rule',
								name: 'rule',
								values: [
									{
										displayName: 'Groups',
										name: 'groups',
										type: 'multiOptions',
										default: [],
										options: [
											{
												name: 'Intent',
												value: 'intent',
											},
											{
												name: 'Marketing',
												value: 'marketing',
											},
											{
												name: 'Read',
												value: 'read',
											},
											{
												name: 'Risk',
												value: 'risk',
											},
										],
									},
									{
										displayName: 'Pattern',
										name: 'pattern',
										type: 'string',
										default: '',
										placeholder: '^(ceo|owner)@',
										description: 'JavaScript regular expression, case-insensitive',
									},
									{
										displayName: 'Test Against',
										name: 'target',
										type: 'options',
										default: 'address',
										options: [
											{
												name: 'Address',
												value: 'address',
											},
											{
												name: 'Domain',
												value: 'domain',
											},
											{
												name: 'Local Part',
												value: 'local',
											},
											{
												name: 'Each Tag',
												value: 'tag',
											},
										],
									},
									{
										displayName: 'Type',
										name: 'type',
										type: 'options',
										default: 'domainEndsWith',
										options: [
											{
												name: 'Address Contains',
												value: 'addressContains',
												description: 'Any part of the address, local part included',
											},
											{
												name: 'Domain Ends With',
												value: 'domainEndsWith',
												description: 'A domain like qq.com matches itself and its subdomains; one starting with a dot, like .cn, matches by suffix',
											},
											{
												name: 'Domain Has Label',
												value: 'domainHasLabel',
												description:
													'A label of the domain equals a value: gov matches x.gov and agency.gov.uk, not governance.com nor mike.gov@acme.com',
											},
											{
												name: 'Has Tag',
												value: 'hasTag',
												description: 'Tag names; a trailing * matches a prefix',
											},
											{
												name: 'Has Tag in Group',
												value: 'hasTagInGroup',
											},
											{
												name: 'Local Part Starts With',
												value: 'localPartStartsWith',
												description: 'A value ending in @ (hr@) means exactly that local part; without it (hr), any local part starting with it',
											},
											{
												name: 'Regular Expression',
												value: 'regex',
											},
										],
									},
									{
										displayName: 'Values',
										name: 'values',
										type: 'string',
										default: '',
										placeholder: 'rival.com, competitor.de',
										description: 'Comma-separated; compared case-insensitively, surrounding spaces ignored',
									},
								],
							},
						],
					},
				],
			},
		],
	},
	{
		displayName: 'No-Send Lists',
		name: 'noSend',
		type: 'collection',
		placeholder: 'Edit No-Send Lists',
		default: {},
		description: 'The rules of the no-send view. Info@ and sales@ are kept on purpose: in small companies the owner reads them.',
		options: [
			{
				displayName: 'Address Contains',
				name: 'addressContains',
				type: 'string',
				default: csv(NO_SEND_DEFAULTS.addressContains),
				description: 'Comma-separated text matched anywhere in the address, local part included',
			},
			{ displayName: 'Domain Ends With', name: 'domainEndsWith', type: 'string', default: csv(NO_SEND_DEFAULTS.domainEndsWith) },
			{
				displayName: 'Domain Labels',
				name: 'domainLabels',
				type: 'string',
				default: csv(NO_SEND_DEFAULTS.domainLabels),
				description: 'Comma-separated domain labels: gov matches x.gov and agency.gov.uk, never a local part such as mike.gov@acme.com',
			},
			{ displayName: 'Local Part Starts With', name: 'localPartStartsWith', type: 'string', default: csv(NO_SEND_DEFAULTS.localPartStartsWith) },
			{ displayName: 'Region Domains', name: 'regionDomainEndsWith', type: 'string', default: csv(NO_SEND_DEFAULTS.regionDomainEndsWith) },
		],
	},
	{
		displayName: 'Per-Domain Cap',
		name: 'domainCap',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: DEFAULT_VIEW_DOMAIN_CAP,
		description:
			'At most this many kept contacts per recipient company (registrable domain: a.example.co.uk and b.example.co.uk are one) in one run; the rest are excluded as domain-cap. 0: no cap.',
	},
];

const verificationFieldProperty: INodeProperties = {
	displayName: 'Verification Field',
	name: 'verificationField',
	type: 'string',
	default: DEFAULT_VERIFICATION_FIELD,
	description:
		'Field holding the result of Verify Addresses (object or its JSON text); the undeliverable view excludes contacts whose result is undeliverable, naming its reason. A contact without it is never in that view.',
};

/** The Email Field is shared with Verify Addresses, so it is shown for every operation. */
export const description: INodeProperties[] = [
	...forOperation('splitByViews', viewProperties),
	emailFieldProperty,
	...forOperation('splitByViews', [tagsFieldProperty, verificationFieldProperty, tagGrammarOption]),
];

type ReportOnly = (c: ViewContact) => Array<{ view: string }>;

/** The decisions of the excluded views, and an evaluator of the views kept contacts are only tagged with. */
function decide(ctx: IExecuteFunctions, contacts: ViewContact[], settings: ViewSettings, evaluatorOptions: ViewEvaluatorOptions) {
	try {
		const result = applyViews(contacts, { views: settings.views, exclude: settings.exclude, domainCap: settings.domainCap, ...evaluatorOptions });
		const presets: readonly string[] = PRESET_VIEW_NAMES;
		const informational = settings.views.filter((v) => !settings.exclude.includes(v.name) && !presets.includes(v.name));
		const reportOnly: ReportOnly | undefined = informational.length ? createViewEvaluator(informational, evaluatorOptions) : undefined;
		return { result, reportOnly };
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), error as Error, { description: 'Check the views and their rules' });
	}
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	if (items.length === 0) return [[], []];
	const contactSettings = readContactSettings(this, 0);
	const tags = new TagClassifier(contactSettings.grammar);
	const settings = readViewSettings(this);
	// The core reads each contact's tags field itself: a contact whose tags break a limit is excluded as
	// invalid-tags with the problem, never kept with part of its tags.
	const verificationField =
		(this.getNodeParameter('verificationField', 0, DEFAULT_VERIFICATION_FIELD) as string).trim() || DEFAULT_VERIFICATION_FIELD;
	const contacts = items.map((item) => ({
		email: getField(item.json, contactSettings.emailField),
		tags: getField(item.json, contactSettings.tagsField),
		verification: getField(item.json, verificationField),
	}));
	const { result, reportOnly } = decide(this, contacts, settings, { tagClassifier: tags, tagDelimiters: contactSettings.delimiter });
	const kept: INodeExecutionData[] = result.kept.map((i) => {
		const views = reportOnly?.(contacts[i]).map((m) => m.view);
		return { json: views?.length ? { ...items[i].json, views: [...new Set(views)] } : items[i].json, pairedItem: { item: i } };
	});
	const excluded: INodeExecutionData[] = result.excluded.map(({ index, excludedBy }) => ({
		json: { ...items[index].json, excludedBy },
		pairedItem: { item: index },
	}));
	return [kept, excluded];
}
