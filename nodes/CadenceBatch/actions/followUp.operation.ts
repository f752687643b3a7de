/**
 * Follow-up tasks: a click, reply or lead opens a task only when the contact has no open task created within the
 * window, however often they click or reply; the task names an owner (the first matching owner rule over the
 * contact's fields, else the default owner) and the reason. Input 1: the events (with the contact's fields at the top
 * level or in the Contact Field); input 2 (optional): the contacts' tasks from the store. Output 1: the events that
 * open a task, with `owner`, `reason`, `detail`, `kind` (the task columns), `windowDays` (for a store that re-checks
 * the window) and `email` in lower case; output 2: those a task already covers, with `existingTask`, and failed
 * events under Continue On Fail. Two events of one contact in one run open one task: each decision sees the tasks the
 * earlier events of the run open.
 */
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData, type INodeProperties } from 'n8n-workflow';
import {
	DEFAULT_TASK_WINDOW_DAYS,
	followUpDecision,
	OWNER_RULE_SYNTAX,
	ownerFor,
	parseOwnerRules,
	type FollowUpEvent,
	type OwnerRule,
} from '../../../core/senderProtection';
import { getField } from '../../shared/contactFields';
import { errorItem, itemError } from '../../shared/perItem';
import { forOperations } from './common';

export const description: INodeProperties[] = [
	{
		displayName: 'Window (Days)',
		name: 'windowDays',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: DEFAULT_TASK_WINDOW_DAYS,
		displayOptions: forOperations('followUp'),
		description:
			'A contact gets no new task while one of its open tasks is younger than this, however often they click or reply. Done tasks do not count. 0: every event opens a task.',
	},
	{
		displayName: 'Owner Rules',
		name: 'ownerRules',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		placeholder: 'language = French => marie@acme.example\nsegment ~ Dealers => ben@acme.example\ntags ~ VIP => anna@acme.example',
		displayOptions: forOperations('followUp'),
		description: `One rule a line, the first that matches the contact names the owner: ${OWNER_RULE_SYNTAX}. Fields are the contact's (a list such as tags matches when one item does); lines starting with # are notes.`,
	},
	{
		displayName: 'Default Owner',
		name: 'defaultOwner',
		type: 'string',
		default: '',
		placeholder: 'sales@acme.example',
		displayOptions: forOperations('followUp'),
		description: 'The owner when no rule matches',
	},
	{
		displayName: 'Contact Field',
		name: 'contactField',
		type: 'string',
		default: '',
		placeholder: 'contact',
		displayOptions: forOperations('followUp'),
		description: "The field of each event that holds the contact's fields (dot notation for nested fields). Empty: they are on the event itself.",
	},
];

interface Settings {
	windowDays: number;
	rules: OwnerRule[];
	defaultOwner: string;
	contactField: string;
}

/** Node-wide settings: a malformed rule or window fails the node before any item is judged. */
function readSettings(ctx: IExecuteFunctions): Settings {
	const windowDays = ctx.getNodeParameter('windowDays', 0, DEFAULT_TASK_WINDOW_DAYS) as number;
	if (typeof windowDays !== 'number' || !Number.isFinite(windowDays) || windowDays < 0)
		throw new NodeOperationError(ctx.getNode(), `Window (Days) must be a number ≥ 0, got ${JSON.stringify(windowDays)}`);
	let rules: OwnerRule[];
	try {
		rules = parseOwnerRules(String(ctx.getNodeParameter('ownerRules', 0, '') ?? ''));
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message, { description: 'Fix the Owner Rules parameter; no task was decided.' });
	}
	return {
		windowDays,
		rules,
		defaultOwner: String(ctx.getNodeParameter('defaultOwner', 0, '') ?? '').trim(),
		contactField: String(ctx.getNodeParameter('contactField', 0, '') ?? '').trim(),
	};
}

/** The second input, which is optional and may not be connected. */
function tasksInput(ctx: IExecuteFunctions): IDataObject[] {
	try {
		return (ctx.getInputData(1) ?? []).map((item) => item.json);
	} catch {
		return [];
	}
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');

/** The task's one-line detail: what the contact did. */
function detailOf(event: IDataObject, reason: string): string {
	const type = text(event.type).toLowerCase();
	if (type === 'clicked') return text(event.url) ? `Clicked ${text(event.url)}` : 'Clicked a link';
	const subject = text(event.subject);
	if (type === 'replied') return subject ? `Replied: ${subject}` : 'Replied';
	const label = reason.charAt(0).toUpperCase() + reason.slice(1);
	return subject ? `${label}: ${subject}` : label;
}

/** The task's kind column: click, reply, lead or the event type. */
function kindOf(event: IDataObject): string {
	const type = text(event.type).toLowerCase();
	if (type === 'clicked') return 'click';
	if (type === 'replied') return 'reply';
	if (type === 'inbound' || text(event.channel)) return 'lead';
	return type || 'follow-up';
}

/** The event as followUpDecision reads it; an event without a time happened now. */
function followUpEvent(json: IDataObject, now: Date): FollowUpEvent {
	const email = getField(json, 'email');
	if (typeof email !== 'string' || !email.trim()) throw new Error('The event has no email address in "email"');
	const at = json.at === undefined || json.at === null || json.at === '' ? now : (json.at as string);
	return { email, at, type: text(json.type), campaign: text(json.campaign), channel: text(json.channel) };
}

function contactOf(json: IDataObject, field: string): object {
	if (!field) return json;
	const contact = getField(json, field);
	return contact && typeof contact === 'object' ? contact : {};
}

export async function execute(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[][]> {
	if (items.length === 0) return [[], []];
	const settings = readSettings(this);
	// The store's tasks plus those this run opens, so a second event of the contact in this input sees the first.
	const tasks: unknown[] = tasksInput(this);
	const now = new Date();
	const create: INodeExecutionData[] = [];
	const alreadyOpen: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		const json = items[i].json;
		try {
			const event = followUpEvent(json, now);
			const decision = followUpDecision(tasks, event, { windowDays: settings.windowDays });
			const email = event.email.trim().toLowerCase();
			const owner = ownerFor(contactOf(json, settings.contactField), settings.rules, settings.defaultOwner);
			const task = {
				email,
				owner,
				reason: decision.reason,
				detail: detailOf(json, decision.reason),
				kind: kindOf(json),
				windowDays: settings.windowDays,
			};
			if (decision.create) {
				const createdAt = event.at instanceof Date ? event.at.toISOString() : event.at;
				tasks.push({ email, createdAt, status: 'open', id: '' });
				create.push({ json: { ...json, ...task }, pairedItem: { item: i } });
			} else {
				alreadyOpen.push({ json: { ...json, ...task, existingTask: decision.existing ?? {} }, pairedItem: { item: i } });
			}
		} catch (error) {
			if (!this.continueOnFail()) throw itemError(this, error, i);
			// A failed event opens no task: it goes with the events that open none.
			alreadyOpen.push(errorItem(error, { item: i }, json));
		}
	}
	return [create, alreadyOpen];
}
