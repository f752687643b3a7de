import type { INodeProperties } from 'n8n-workflow';

/** The operations of Cadence Batch, as the `operation` parameter names them. */
export type BatchOperation = 'addTags' | 'assignBatches' | 'followUp' | 'getDueTags' | 'selectDueContacts' | 'tagReaders';

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'getDueTags',
	options: [
		{
			name: 'Add Tags',
			value: 'addTags',
			description: "Add tags, or risk and intent states in each contact's own tag language (Risk-Unsubscribed or 风险-退订), never removing any",
			action: 'Add tags to contacts',
		},
		{
			name: 'Assign Batches',
			value: 'assignBatches',
			description: 'Give new contacts the marketing tag of their batch, capped per domain',
			action: 'Assign new contacts to batches',
		},
		{
			name: 'Follow-Up Task',
			value: 'followUp',
			description:
				'Decide which clicks, replies and leads open a follow-up task (one open task per contact per window) and name its owner and reason',
			action: 'Decide which events open a task',
		},
		{
			name: 'Get Due Tags',
			value: 'getDueTags',
			description: "Today's due tag names, so a store query fetches only those contacts",
			action: 'Get the due tags for a day',
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
			description: "Add the read tag that matches each contact's marketing tag, in the same language (营销21 → 阅读01)",
			action: 'Add read tags to readers',
		},
	],
};
