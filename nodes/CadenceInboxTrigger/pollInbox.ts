/** The trigger's poll: parameters in, one core poll, events out; state lives in the node's static data. */
import { NodeOperationError, type IDataObject, type INodeExecutionData, type IPollFunctions } from 'n8n-workflow';
import type { MessageKind } from '../../core/classify';
import { runInboxPoll, sampleLatestMessages, withInboxClient, type InboxKindAction, type InboxPollResult } from '../../transport/inbox';
import { type InboxEvent } from '../../core/inbox';
import { setupAttribution, type AttributionSetup } from '../shared/inbox/attribution';
import { imapOptionsFromCredentials, trackingFromCredentials, type TrackingSetup } from '../shared/inbox/credentials';

/** How many of the latest messages a manual test run shows, per mailbox. */
const MANUAL_SAMPLE = 5;

function splitList(value: unknown): string[] {
	return String(value ?? '')
		.split(',')
		.map((s) => s.trim())
		.filter(Boolean);
}

function toItems(events: InboxEvent[]): INodeExecutionData[] {
	return events.map((e) => ({ json: e as unknown as IDataObject }));
}

export async function pollInbox(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
	const node = this.getNode();
	const imap = imapOptionsFromCredentials(await this.getCredentials('cadenceImapApi'));
	const mailboxes = splitList(this.getNodeParameter('mailboxes', 'INBOX'));
	if (mailboxes.length === 0) throw new NodeOperationError(node, 'No mailbox to watch: set Mailboxes (e.g. INBOX)');
	const kinds = this.getNodeParameter('kinds', []) as MessageKind[];
	if (kinds.length === 0) throw new NodeOperationError(node, 'No kinds to emit: choose at least one in Kinds to Emit');
	const maxMessages = Number(this.getNodeParameter('maxMessages', 100));
	const options = this.getNodeParameter('options', {}) as IDataObject;

	let tracking: TrackingSetup | null = null;
	let attribution: AttributionSetup;
	try {
		if (this.getNodeParameter('verifyTokens', false) as boolean) {
			tracking = trackingFromCredentials(await this.getCredentials('cadenceTrackingApi'));
		}
		attribution = setupAttribution(options, imap.user, tracking);
	} catch (error) {
		throw new NodeOperationError(node, (error as Error).message);
	}
	// Each poll classifies in its own worker thread, ended when the poll ends (runInboxPoll / sampleLatestMessages).
	const read = {
		classifier: attribution.classifier,
		classifyTimeLimitMs: attribution.classifyTimeLimitMs,
		kinds,
		maxBytes: attribution.maxBytes,
		eventOptions: { resolveAddressKey: attribution.resolveAddressKey },
	};
	// Fetches ask for at most Max Message Size: the server may send no larger literal.
	const connection = { ...imap, maxLiteralBytes: attribution.maxBytes };

	if (this.getMode() === 'manual') {
		// A test run shows recent mail and leaves the watch position alone, as n8n's own triggers do.
		let sample: InboxEvent[];
		try {
			sample = await withInboxClient(connection, (client) => sampleLatestMessages(client, { ...read, mailboxes, count: MANUAL_SAMPLE }));
		} catch (error) {
			throw new NodeOperationError(node, error as Error);
		}
		return sample.length ? [toItems(sample)] : null;
	}

	let startFrom: Date | undefined;
	if (this.getNodeParameter('startFrom', 'now') === 'date') {
		const raw = this.getNodeParameter('startDate', '') as string;
		startFrom = new Date(raw);
		if (!raw || Number.isNaN(startFrom.getTime())) throw new NodeOperationError(node, `Start Date "${raw}" is not a date`);
	}
	const actionRows = ((this.getNodeParameter('actions', {}) as IDataObject).action ?? []) as IDataObject[];
	const actions: InboxKindAction[] = actionRows.map((row) => ({
		kinds: (row.kinds ?? []) as MessageKind[],
		addFlags: splitList(row.addFlags),
		moveTo: String(row.moveTo ?? '').trim() || undefined,
	}));

	const staticData = this.getWorkflowStaticData('node');
	let result: InboxPollResult;
	try {
		result = await withInboxClient(connection, (client) =>
			runInboxPoll(client, staticData.inbox, {
				...read,
				mailboxes,
				maxMessages: Number.isFinite(maxMessages) && maxMessages > 0 ? maxMessages : 100,
				rescanDays: Number(options.rescanDays ?? 7),
				startFrom,
				actions,
				rememberMessages: options.rememberMessages === undefined ? undefined : Number(options.rememberMessages),
				rememberSenders: options.rememberSenders === undefined ? undefined : Number(options.rememberSenders),
			}),
		);
	} catch (error) {
		throw new NodeOperationError(node, error as Error);
	}
	// Saved by n8n with the workflow when this poll emits; kept in memory for the next poll either way.
	staticData.inbox = result.state as unknown as IDataObject;

	const failed = result.mailboxes.filter((m) => m.error);
	for (const m of result.mailboxes) {
		for (const w of m.warnings) this.logger.warn(`Cadence Inbox Trigger: ${m.mailbox}: ${w}`);
		if (m.error && result.events.length > 0) {
			this.logger.warn(`Cadence Inbox Trigger: ${m.mailbox}: ${m.error} (the rest is read at the next poll)`);
		}
	}
	if (result.events.length === 0 && failed.length > 0) {
		throw new NodeOperationError(node, `Could not read ${failed.map((m) => `${m.mailbox}: ${m.error}`).join('; ')}`);
	}
	return result.events.length ? [toItems(result.events)] : null;
}
