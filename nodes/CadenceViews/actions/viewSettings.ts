/**
 * Reads the view parameters into the views to evaluate and the names of those that exclude.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { splitList, type TagGroup } from '../../../core/tags';
import {
	DEFAULT_EXCLUDED_VIEWS,
	DEFAULT_VIEW_DOMAIN_CAP,
	NO_SEND_DEFAULTS,
	presetViews,
	type ViewDefinition,
	type ViewRule,
	type ViewRuleType,
} from '../../../core/views';

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
	return { views, exclude, domainCap: ctx.getNodeParameter('domainCap', 0, DEFAULT_VIEW_DOMAIN_CAP) as number };
}
