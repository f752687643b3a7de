import { NodeConnectionTypes, type INodeExecutionData, type INodeType, type INodeTypeDescription, type IPollFunctions } from 'n8n-workflow';
import { VERIFY_TOKENS_ON } from '../shared/inbox/attribution';
import { cadenceImapConnectionTest, cadenceTrackingCredentialTest } from '../shared/inbox/credentials';
import { pollInbox } from './poll';
import { properties } from './properties';

export class CadenceInboxTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Cadence Inbox Trigger',
		name: 'cadenceInboxTrigger',
		icon: { light: 'file:cadenceInboxTrigger.svg', dark: 'file:cadenceInboxTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["mailboxes"] }}',
		description:
			'Polls the sender mailbox and emits one event per reply, bounce (per recipient), auto-reply, complaint, unsubscribe and inbound lead',
		defaults: { name: 'Cadence Inbox Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'cadenceImapApi', required: true, testedBy: 'cadenceImapConnectionTest' },
			{
				name: 'cadenceTrackingApi',
				required: true,
				testedBy: 'cadenceTrackingCredentialTest',
				// VERIFY_TOKENS_ON_VALUES: On, and true as stored by workflows saved with the boolean form of the field
				displayOptions: { show: { verifyTokens: [VERIFY_TOKENS_ON, true] } },
			},
		],
		properties,
	};

	methods = {
		credentialTest: { cadenceImapConnectionTest, cadenceTrackingCredentialTest },
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		return await pollInbox.call(this);
	}
}
