import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { splitList, type TagGroup } from '../../core/tags';
import { DEFAULT_EXCLUDED_VIEWS, NO_SEND_DEFAULTS, presetViews, type ViewDefinition, type ViewRule, type ViewRuleType } from '../../core/views';

const csv = (list: string[]) => list.join(', ');

export const viewProperties: INodeProperties[] = [
	{
		displayName: 'Exclude For',
		name: 'cadence',
		type: 'options',
		default: 'silent',
		options: [
			{ name: 'Silent Cadence', value: 'silent', description: 'Exclude read, intent, risk and no-send contacts (a reader is not mailed twice a day)' },
			{ name: 'Read Cadence', value: 'read', description: 'Exclude intent, risk and no-send contacts' },
			{ name: 'Chosen Views', value: 'custom', description: 'Pick the preset views to exclude below' },
		],
	},
	{
		displayName: 'Preset Views to Exclude',
		name: 'excludePresets',
		type: 'multiOptions',
		default: ['intent', 'risk', 'no-send'],
		displayOptions: { show: { cadence: ['custom'] } },
		options: [
			{ name: 'Intent', value: 'intent', description: 'Any tag in the intent group' },
			{ name: 'No-Send', value: 'no-send', description: 'Addresses that never answer bulk mail (lists below)' },
			{ name: 'Read', value: 'read', description: 'Any tag in the read group' },
			{ name: 'Risk', value: 'risk', description: 'Any tag in the risk group' },
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
					{ displayName: 'Exclude', name: 'exclude', type: 'boolean', default: true, description: 'Whether contacts in this view are excluded; off: only reported under `views` on kept items' },
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
								default: [	],
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
									]
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
									]
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
												description: 'A domain like qq.com matches itself and its subdomains;	one starting with a dot, like	.cn, matches by suffix',
											},
											{
												name: 'Domain Has Label',
												value: 'domainHasLabel',
												description: 'A label of the domain equals a value: gov matches x.gov and agency.gov.uk, not governance.com nor mike.gov@acme.com',
											},
											{
												name: 'Has Tag',
												value: 'hasTag',
												description: 'Tag names;	a trailing	*	matches a prefix',
											},
											{
												name: 'Has Tag in Group',
												value: 'hasTagInGroup',
											},
											{
												name: 'Local Part Starts With',
												value: 'localPartStartsWith',
												description: 'A value ending in	@ (hr@) means exactly that local part;	without it (hr), any local part starting with it',
											},
											{
												name: 'Regular Expression',
												value: 'regex',
											},
									]
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
			{ displayName: 'Address Contains', name: 'addressContains', type: 'string', default: csv(NO_SEND_DEFAULTS.addressContains), description: 'Comma-separated text matched anywhere in the address, local part included' },
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
		default: 20,
		description: 'At most this many kept contacts per recipient domain in one run; the rest are excluded as domain-cap. 0: no cap.',
	},
];

export interface ViewSettings {
	views: ViewDefinition[];
	exclude: string[];
	domainCap: number;
}

const list = (v: unknown) => splitList(v, ',');

export function readViewSettings(ctx: IExecuteFunctions): ViewSettings {
	const cadence = ctx.getNodeParameter('cadence', 0) as 'silent' | 'read' | 'custom';
	const ns = ctx.getNodeParameter('noSend', 0, {}) as IDataObject;
	const noSend: Partial<typeof NO_SEND_DEFAULTS> = {};
	for (const key of Object.keys(NO_SEND_DEFAULTS) as Array<keyof typeof NO_SEND_DEFAULTS>) if (ns[key] !== undefined) noSend[key] = list(ns[key]);
	// A saved Address Contains list keeps meaning address contains; the domain labels apply unless edited.
	noSend.domainLabels ??= [...NO_SEND_DEFAULTS.domainLabels];
	const views = presetViews(noSend);
	const exclude: string[] =
		cadence === 'custom' ? [...((ctx.getNodeParameter('excludePresets', 0, []) as string[]) ?? [])] : [...DEFAULT_EXCLUDED_VIEWS[cadence]];
	const custom = ((ctx.getNodeParameter('customViews', 0, {}) as IDataObject).view ?? []) as IDataObject[];
	for (const v of custom) {
		const name = String(v.name ?? '').trim();
		const rules = (((v.rules as IDataObject)?.rule ?? []) as IDataObject[]).map(
			(r): ViewRule => ({
				type: r.type as ViewRuleType,
				values: list(r.values),
				groups: (r.groups ?? []) as TagGroup[],
				pattern: r.pattern as string | undefined,
				target: r.target as ViewRule['target'],
			}),
		);
		views.push({ name, match: v.match === 'all' ? 'all' : 'any', rules });
		if (v.exclude !== false) exclude.push(name);
	}
	return { views, exclude, domainCap: ctx.getNodeParameter('domainCap', 0, 20) as number };
}
