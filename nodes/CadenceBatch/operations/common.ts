import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import type { Cadence, ShortMonthRule } from '../../../core/calendar';

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
		default: 'catch-up',
		options: [
			{ name: 'Catch Up on the Last Day', value: 'catch-up', description: 'On 28 February, batches 28, 29 and 30 are all due, so no batch waits two months' },
			{ name: 'Strict Day Match', value: 'strict', description: 'Batch = day of month; batches 29 and 30 are skipped in February' },
		],
	},
	{
		displayName: 'Time Zone',
		name: 'timeZone',
		type: 'string',
		default: '',
		placeholder: 'Asia/Shanghai',
		description: 'IANA time zone of the calendar day. Empty: the workflow\'s time zone (workflow settings).',
	},
];

export interface CalendarSettings {
	cadence: Cadence;
	date: string | Date;
	timeZone: string;
	shortMonth: ShortMonthRule;
}

export function readCalendarSettings(ctx: IExecuteFunctions, itemIndex: number, cadence: Cadence): CalendarSettings {
	const o = ctx.getNodeParameter('calendar', itemIndex, {}) as IDataObject;
	const date = o.date ? (o.date as string) : new Date();
	return {
		cadence,
		date,
		timeZone: o.timeZone ? String(o.timeZone) : ctx.getTimezone(),
		shortMonth: (o.shortMonth as ShortMonthRule) ?? 'catch-up',
	};
}
