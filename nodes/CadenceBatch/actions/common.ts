/**
 * Parameters several Batch operations share, each shown for the operations that read it, and their readers.
 */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { DEFAULT_SHORT_MONTH, type Cadence, type ShortMonthRule } from '../../../core/calendar';
import type { Segment } from '../../../core/select';
import { tagsFieldProperty } from '../../shared/contactFields';
import type { BatchOperation } from './operation';

/** Shows a parameter only for the given operations. */
export const forOperations = (...operation: BatchOperation[]) => ({ show: { operation } });

export const cadenceProperty: INodeProperties = {
	displayName: 'Cadence',
	name: 'cadence',
	type: 'options',
	default: 'silent',
	displayOptions: forOperations('getDueTags', 'selectDueContacts'),
	options: [
		{ name: 'Silent (30-Day Round)', value: 'silent', description: 'Marketing batches 01–30: batch = day of month' },
		{ name: 'Read (10-Day Round)', value: 'read', description: 'Read batches 01–10: batch = ((day − 1) mod 10) + 1' },
	],
};

export const segmentsProperty: INodeProperties = {
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
};

export const contactTagsProperty: INodeProperties = {
	...tagsFieldProperty,
	displayOptions: forOperations('selectDueContacts', 'assignBatches', 'tagReaders', 'addTags'),
};

export const calendarOptions: INodeProperties[] = [
	{
		displayName: 'Date',
		name: 'date',
		type: 'dateTime',
		default: '',
		description: 'The day to plan for. Empty: now. A date-time without an offset is taken in the time zone below.',
	},
	{
		displayName: 'Short Months',
		name: 'shortMonth',
		type: 'options',
		default: DEFAULT_SHORT_MONTH,
		options: [
			{
				name: 'Catch Up on the Last Day',
				value: 'catch-up',
				description: 'On 28 February, batches 28, 29 and 30 are all due, so no batch waits two months',
			},
			{ name: 'Strict Day Match', value: 'strict', description: 'Batch = day of month; batches 29 and 30 are skipped in February' },
		],
	},
	{
		displayName: 'Time Zone',
		name: 'timeZone',
		type: 'string',
		default: '',
		placeholder: 'Asia/Shanghai',
		description: "IANA time zone of the calendar day. Empty: the workflow's time zone (workflow settings).",
	},
];

export const calendarProperty: INodeProperties = {
	displayName: 'Calendar',
	name: 'calendar',
	type: 'collection',
	placeholder: 'Change Date or Time Zone',
	default: {},
	displayOptions: forOperations('getDueTags', 'selectDueContacts', 'assignBatches'),
	options: calendarOptions,
};

export interface CalendarSettings {
	cadence: Cadence;
	date: string | Date;
	timeZone: string;
	shortMonth: ShortMonthRule;
}

/** The Calendar option of item `itemIndex`: an empty date is now, an empty zone the workflow's time zone. */
export function readCalendarSettings(ctx: IExecuteFunctions, itemIndex: number, cadence: Cadence): CalendarSettings {
	const o = ctx.getNodeParameter('calendar', itemIndex, {}) as IDataObject;
	const date = o.date ? (o.date as string) : new Date();
	return {
		cadence,
		date,
		timeZone: o.timeZone ? String(o.timeZone) : ctx.getTimezone(),
		shortMonth: (o.shortMonth as ShortMonthRule) ?? DEFAULT_SHORT_MONTH,
	};
}

/** The Segments parameter of item `itemIndex`, as language and segment pairs (possibly empty). */
export function readSegments(ctx: IExecuteFunctions, itemIndex: number): Segment[] {
	return ((ctx.getNodeParameter('segments', itemIndex, {}) as IDataObject).segment ?? []) as Segment[];
}
