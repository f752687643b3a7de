/**
 * The sending window in Send: an item whose contact is outside the window (in the contact's time zone, else the
 * workflow's) is skipped with `outside-window` before the day's caps are assigned, so it takes no place under them.
 */
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { describeWindow, resolveTimeZone, windowStatus, type ResolvedTimeZone, type WindowStatus } from '../../../core/sendingWindow';
import type { Plan } from './types';
import type { WindowSettings } from './settings';

/** The skip reason of an item outside its window. */
export const OUTSIDE_WINDOW_REASON = 'outside-window';

/** The item's value at `field`: an own property of that name, else a dotted path of own properties. */
export function fieldValue(json: IDataObject | undefined, field: string): unknown {
	if (!json) return undefined;
	if (Object.prototype.hasOwnProperty.call(json, field)) return json[field];
	if (!field.includes('.')) return undefined;
	let value: unknown = json;
	for (const key of field.split('.')) {
		if (!value || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) return undefined;
		value = (value as IDataObject)[key];
	}
	return value;
}

/**
 * Skips, at instant `now` (epoch ms), every planned message whose contact is outside the window; each one kept
 * records the zone its window was read in (`head.timeZone`). The skipped item's error says when its window opens
 * next (ISO, in its zone) and which zone was used, and why when the item's own value was not a time zone.
 */
export function applySendingWindow(
	plans: Plan[],
	items: readonly INodeExecutionData[],
	settings: WindowSettings,
	workflowZone: string,
	now: number,
): void {
	const shown = describeWindow(settings.window);
	// One instant for the whole run: each distinct value is resolved, and each zone's answer computed, once
	// (checking a zone name costs about 0.1 ms).
	const byZone = new Map<string, WindowStatus>();
	const byValue = new Map<string, ResolvedTimeZone>();
	const none = resolveTimeZone(undefined, workflowZone);
	const resolve = (value: unknown) => {
		if (value === undefined || value === null) return none;
		if (typeof value !== 'string') return resolveTimeZone(value, workflowZone);
		let zone = byValue.get(value);
		if (!zone) byValue.set(value, (zone = resolveTimeZone(value, workflowZone)));
		return zone;
	};
	for (let i = 0; i < plans.length; i++) {
		const p = plans[i];
		if (p.kind !== 'send') continue;
		const zone = resolve(fieldValue(items[p.index]?.json, settings.timeZoneField));
		p.head.timeZone = zone;
		let status = byZone.get(zone.zone);
		if (!status) byZone.set(zone.zone, (status = windowStatus(settings.window, now, zone.zone)));
		if (status.inside) continue;
		plans[i] = {
			kind: 'skip',
			head: p.head,
			reason: OUTSIDE_WINDOW_REASON,
			error: `Outside the sending window (${shown} in ${zone.zone}${zoneNote(zone, settings.timeZoneField)}); it opens next at ${status.opensAt}`,
		};
	}
}

/** Why the workflow's zone was used, when the item did not give a usable one. */
function zoneNote(zone: ResolvedTimeZone, field: string): string {
	if (zone.source === 'item') return '';
	if (zone.invalid !== undefined) return `, the workflow's zone: the item's ${field} "${zone.invalid}" is not an IANA time zone`;
	return `, the workflow's zone: the item has no ${field}`;
}
