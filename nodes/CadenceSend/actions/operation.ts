import type { INodeProperties } from 'n8n-workflow';

/** The operations of Cadence Send, as the `operation` parameter names them. */
export type SendOperation = 'send' | 'senderStatus' | 'resumeSending' | 'checkDomain' | 'decideAbWinner';

/** Saved workflows from before there were several operations have no `operation` parameter: they send. */
export const DEFAULT_SEND_OPERATION: SendOperation = 'send';

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: DEFAULT_SEND_OPERATION,
	options: [
		{
			name: 'Check Sending Domain',
			value: 'checkDomain',
			description: "SPF, DKIM, DMARC, alignment and MX of each sender mailbox's domains, each finding with the DNS record that fixes it",
			action: 'Check the sending domain',
		},
		{
			name: 'Decide A/B Winner',
			value: 'decideAbWinner',
			description: "The variant the rest of the batch gets, from the store's events of the A/B sample, as an event to record",
			action: 'Decide the A/B winner',
		},
		{
			name: 'Resume Sending',
			value: 'resumeSending',
			description: 'The event that resumes a paused mailbox or sending domain, to record in the store',
			action: 'Resume a paused mailbox',
		},
		{
			name: 'Send',
			value: 'send',
			description: 'One tracked message per item, within the day’s caps',
			action: 'Send tracked messages',
		},
		{
			name: 'Sender Status',
			value: 'senderStatus',
			description: "Today's counts per company, contact and mailbox, and the breaker of every mailbox and sending domain, from the store's events",
			action: 'Compute the sender status',
		},
	],
};

/** Shows a parameter for these operations only. */
export const forOperations = (...operations: SendOperation[]) => ({ show: { operation: operations } });
