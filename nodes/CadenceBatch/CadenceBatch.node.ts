import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';
import { tagGrammarOption } from '../shared/contactFields';
import * as addTags from './actions/addTags.operation';
import * as assignBatches from './actions/assignBatches.operation';
import * as followUp from './actions/followUp.operation';
import { cadenceProperty, calendarProperty, contactTagsProperty, segmentsProperty } from './actions/common';
import * as getDueTags from './actions/getDueTags.operation';
import { operationProperty } from './actions/operation';
import { router } from './actions/router';
import * as selectDueContacts from './actions/selectDueContacts.operation';
import * as tagReaders from './actions/tagReaders.operation';
import { operationSubtitle } from '../shared/subtitle';

// Deliberately not usable as an AI tool (see the comment on the description).
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
export class CadenceBatch implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Batch',
		name: 'cadenceBatch',
		icon: { light: 'file:cadenceBatch.svg', dark: 'file:cadenceBatch.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: operationSubtitle(operationProperty),
		description: 'Plan the 30-day and 10-day outreach cadence: due batch tags, due contacts, batch assignment, read tags and follow-up tasks',
		defaults: { name: 'Cadence Batch' },
		// Not usable as an AI tool (no usableAsTool): its operations set batch, read and risk tags, which decide who gets mail.
		inputs: `={{ $parameter["operation"] === "assignBatches" ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "New Contacts" }, { "type": "${NodeConnectionTypes.Main}", "displayName": "Existing Contacts", "required": false }] : $parameter["operation"] === "followUp" ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Events" }, { "type": "${NodeConnectionTypes.Main}", "displayName": "Recent Tasks", "required": false }] : ["${NodeConnectionTypes.Main}"] }}`,
		outputs: `={{ $parameter["operation"] === "assignBatches" ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Assigned" }, { "type": "${NodeConnectionTypes.Main}", "displayName": "Skipped" }] : $parameter["operation"] === "followUp" ? [{ "type": "${NodeConnectionTypes.Main}", "displayName": "Create" }, { "type": "${NodeConnectionTypes.Main}", "displayName": "Already Open" }] : ["${NodeConnectionTypes.Main}"] }}`,
		// The order users see: the cadence parameters, then each operation's own, then the contact and calendar settings.
		properties: [
			operationProperty,
			cadenceProperty,
			segmentsProperty,
			...getDueTags.description,
			...selectDueContacts.description,
			...addTags.description,
			...assignBatches.description,
			...tagReaders.description,
			...followUp.description,
			contactTagsProperty,
			calendarProperty,
			tagGrammarOption,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
