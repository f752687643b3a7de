import {
	NodeConnectionTypes,
	NodeOperationError,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { TagClassifier } from '../../core/tags';
import { applyViews, createViewEvaluator, type ViewContact } from '../../core/views';
import { contactFieldProperties, getField, readContactSettings, tagGrammarOption } from '../shared/contactFields';
import { readViewSettings, viewProperties } from './viewParameters';

export class CadenceViews implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Views',
		name: 'cadenceViews',
		icon: { light: 'file:cadenceViews.svg', dark: 'file:cadenceViews.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ "exclude for " + $parameter["cadence"] }}',
		description: 'Split contacts into kept and excluded by exclusion views (read, intent, risk, no-send, your own), with the reason for each',
		defaults: { name: 'Cadence Views' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [
			{ type: NodeConnectionTypes.Main, displayName: 'Kept' },
			{ type: NodeConnectionTypes.Main, displayName: 'Excluded' },
		],
		properties: [...viewProperties, ...contactFieldProperties, tagGrammarOption],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		if (items.length === 0) return [[], []];
		const contactSettings = readContactSettings(this, 0);
		const tags = new TagClassifier(contactSettings.grammar);
		const settings = readViewSettings(this);
		// The core reads each contact's tags field itself: a contact whose tags break a limit is excluded as
		// invalid-tags with the problem, never kept with part of its tags.
		const contacts = items.map((item) => ({ email: getField(item.json, contactSettings.emailField), tags: getField(item.json, contactSettings.tagsField) }));
		const evaluatorOptions = { tagClassifier: tags, tagDelimiters: contactSettings.delimiter };
		let result;
		let reportOnly: ((c: ViewContact) => Array<{ view: string }>) | undefined;
		try {
			result = applyViews(contacts, { views: settings.views, exclude: settings.exclude, domainCap: settings.domainCap, ...evaluatorOptions });
			const informational = settings.views.filter((v) => !settings.exclude.includes(v.name) && !['read', 'intent', 'risk', 'no-send'].includes(v.name));
			if (informational.length) reportOnly = createViewEvaluator(informational, evaluatorOptions);
		} catch (error) {
			throw new NodeOperationError(this.getNode(), error as Error, { description: 'Check the views and their rules' });
		}
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
}
