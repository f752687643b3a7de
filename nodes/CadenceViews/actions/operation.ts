import type { INodeProperties } from 'n8n-workflow';

/** The operations of Cadence Views, as the `operation` parameter names them. */
export type ViewsOperation = 'splitByViews' | 'verifyAddresses';

/** Workflows saved before the operation existed have no `operation`: they split by views, as they always did. */
export const DEFAULT_VIEWS_OPERATION: ViewsOperation = 'splitByViews';

export const operationProperty: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	default: DEFAULT_VIEWS_OPERATION,
	options: [
		{
			name: 'Split by Views',
			value: 'splitByViews',
			description: 'Split contacts into kept and excluded by the exclusion views, with the view and rule of each exclusion',
			action: 'Split contacts by views',
		},
		{
			name: 'Verify Addresses',
			value: 'verifyAddresses',
			description: 'Check syntax, the domain (MX, else A), disposable domains and role accounts; undeliverable addresses go to the second output',
			action: 'Verify email addresses',
		},
	],
};

/** Shows `properties` only for `operation` (copies; the shared originals stay as they are). */
export function forOperation(operation: ViewsOperation, properties: INodeProperties[]): INodeProperties[] {
	return properties.map((p) => ({
		...p,
		displayOptions: { ...p.displayOptions, show: { ...p.displayOptions?.show, operation: [operation] } },
	}));
}
