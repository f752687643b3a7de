/** The operation selector of the Cadence Inbox node. */
import type { INodeProperties } from 'n8n-workflow';

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: 'classifyMessage',
	options: [
		{
			name: 'Classify Message',
			value: 'classifyMessage',
			description: 'Classify raw messages coming from another node (IMAP, Gmail, a file)',
			action: 'Classify a raw message',
		},
		{
			name: 'Fetch and Classify',
			value: 'fetchAndClassify',
			description: 'Read a mailbox over a date range once and classify every message',
			action: 'Fetch and classify a mailbox',
		},
	],
};
