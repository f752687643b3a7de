/** The trigger's poll: parameters in, one transport poll, events out; state lives in the node's static data. */
import { NodeOperationError, type IDataObject, type INodeExecutionData, type IPollFunctions } from 'n8n-workflow';
import type { MessageKind } from '../../core/classify';
import { type InboxEvent } from '../../core/inbox';
import { splitList } from '../../core/tags';
import {
	runInboxPoll,
	sampleLatestMessages,
	withInboxClient,
	type ImapConnectionOptions,
	type InboxKindAction,
	type InboxPollResult,
} from '../../transport/inbox';
import { DEFAULT_MAILBOX, setupAttribution, VERIFY_TOKENS_OFF, verifyTokensOn, type AttributionSetup } from '../shared/inbox/attribution';
import { imapOptionsFromCredentials, trackingFromCredentials } from '../shared/inbox/credentials';
import { DEFAULT_MAX_MESSAGES_PER_POLL, DEFAULT_RESCAN_DAYS } from './properties';

/** How many of the latest messages a manual test run shows, per mailbox. */
const MANUAL_SAMPLE = 5;

interface PollSettings {
	mailboxes: string[];
	kinds: MessageKind[];
	maxMessages: number;
	options: IDataObject;
}

/** What every read of this poll shares: classifier, kinds to emit, size cap, key resolver. */
type ReadOptions = Pick<AttributionSetup, 'classifier' | 'classifyTimeLimitMs' | 'maxBytes'> & {
	kinds: MessageKind[];
	eventOptions: { resolveAddressKey: AttributionSetup['resolveAddressKey'] };
};

function toItems(events: InboxEvent[]): INodeExecutionData[][] | null {
	return events.length ? [events.map((e) => ({ json: e as unknown as IDataObject }))] : null;
}

function readSettings(fx: IPollFunctions): PollSettings {
	const node = fx.getNode();
	const mailboxes = splitList(fx.getNodeParameter('mailboxes', DEFAULT_MAILBOX), ',');
	if (mailboxes.length === 0) throw new NodeOperationError(node, 'No mailbox to watch: set Mailboxes (e.g. INBOX)');
	const kinds = fx.getNodeParameter('kinds', []) as MessageKind[];
	if (kinds.length === 0) throw new NodeOperationError(node, 'No kinds to emit: choose at least one in Kinds to Emit');
	const maxMessages = Number(fx.getNodeParameter('maxMessages', DEFAULT_MAX_MESSAGES_PER_POLL));
	return {
		mailboxes,
		kinds,
		maxMessages: Number.isFinite(maxMessages) && maxMessages > 0 ? maxMessages : DEFAULT_MAX_MESSAGES_PER_POLL,
		options: fx.getNodeParameter('options', {}) as IDataObject,
	};
}

/** Attribution from the options and, when tokens are verified, the tracking credential; bad input is a clear error. */
async function attributionFor(fx: IPollFunctions, mailboxUser: string, options: IDataObject): Promise<AttributionSetup> {
	try {
		const verify = verifyTokensOn(fx.getNodeParameter('verifyTokens', VERIFY_TOKENS_OFF));
		const tracking = verify ? trackingFromCredentials(await fx.getCredentials('cadenceTrackingApi')) : null;
		return setupAttribution(options, mailboxUser, tracking);
	} catch (error) {
		throw new NodeOperationError(fx.getNode(), (error as Error).message);
	}
}

function readStartFrom(fx: IPollFunctions): Date | undefined {
	if (fx.getNodeParameter('startFrom', 'now') !== 'date') return undefined;
	const raw = fx.getNodeParameter('startDate', '') as string;
	const startFrom = new Date(raw);
	if (!raw || Number.isNaN(startFrom.getTime())) throw new NodeOperationError(fx.getNode(), `Start Date "${raw}" is not a date`);
	return startFrom;
}

function readActions(fx: IPollFunctions): InboxKindAction[] {
	const rows = ((fx.getNodeParameter('actions', {}) as IDataObject).action ?? []) as IDataObject[];
	return rows.map((row) => ({
		kinds: (row.kinds ?? []) as MessageKind[],
		addFlags: splitList(row.addFlags, ','),
		moveTo: String(row.moveTo ?? '').trim() || undefined,
	}));
}

function optionalNumber(value: unknown): number | undefined {
	return value === undefined ? undefined : Number(value);
}

/** A test run shows recent mail and leaves the watch position alone, as n8n's own triggers do. */
async function sampleLatest(fx: IPollFunctions, connection: ImapConnectionOptions, read: ReadOptions, mailboxes: string[]): Promise<InboxEvent[]> {
	try {
		return await withInboxClient(connection, (client) => sampleLatestMessages(client, { ...read, mailboxes, count: MANUAL_SAMPLE }));
	} catch (error) {
		throw new NodeOperationError(fx.getNode(), error as Error);
	}
}

/** Reads what arrived since the last poll and keeps the new position in the node's static data. */
async function pollNewMail(
	fx: IPollFunctions,
	connection: ImapConnectionOptions,
	read: ReadOptions,
	settings: PollSettings,
): Promise<InboxPollResult> {
	const startFrom = readStartFrom(fx);
	const actions = readActions(fx);
	const { options } = settings;
	const staticData = fx.getWorkflowStaticData('node');
	let result: InboxPollResult;
	try {
		result = await withInboxClient(connection, (client) =>
			runInboxPoll(client, staticData.inbox, {
				...read,
				mailboxes: settings.mailboxes,
				maxMessages: settings.maxMessages,
				rescanDays: Number(options.rescanDays ?? DEFAULT_RESCAN_DAYS),
				startFrom,
				actions,
				rememberMessages: optionalNumber(options.rememberMessages),
				rememberSenders: optionalNumber(options.rememberSenders),
			}),
		);
	} catch (error) {
		throw new NodeOperationError(fx.getNode(), error as Error);
	}
	// Saved by n8n with the workflow when this poll emits; kept in memory for the next poll either way.
	staticData.inbox = result.state as unknown as IDataObject;
	return result;
}

/** Logs each mailbox's warnings; a mailbox that failed is an error only when no mailbox produced anything. */
function reportMailboxes(fx: IPollFunctions, result: InboxPollResult): void {
	for (const m of result.mailboxes) {
		for (const w of m.warnings) fx.logger.warn(`Cadence Inbox Trigger: ${m.mailbox}: ${w}`);
		if (m.error && result.events.length > 0) {
			fx.logger.warn(`Cadence Inbox Trigger: ${m.mailbox}: ${m.error} (the rest is read at the next poll)`);
		}
	}
	const failed = result.mailboxes.filter((m) => m.error);
	if (result.events.length === 0 && failed.length > 0) {
		throw new NodeOperationError(fx.getNode(), `Could not read ${failed.map((m) => `${m.mailbox}: ${m.error}`).join('; ')}`);
	}
}

export async function pollInbox(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
	const imap = imapOptionsFromCredentials(await this.getCredentials('cadenceImapApi'));
	const settings = readSettings(this);
	const attribution = await attributionFor(this, imap.user, settings.options);
	// Each poll classifies in its own worker thread, ended when the poll ends (runInboxPoll / sampleLatestMessages).
	const read: ReadOptions = {
		classifier: attribution.classifier,
		classifyTimeLimitMs: attribution.classifyTimeLimitMs,
		kinds: settings.kinds,
		maxBytes: attribution.maxBytes,
		eventOptions: { resolveAddressKey: attribution.resolveAddressKey },
	};
	// Fetches ask for at most Max Message Size: the server may send no larger literal.
	const connection = { ...imap, maxLiteralBytes: attribution.maxBytes };
	if (this.getMode() === 'manual') return toItems(await sampleLatest(this, connection, read, settings.mailboxes));
	const result = await pollNewMail(this, connection, read, settings);
	reportMailboxes(this, result);
	return toItems(result.events);
}
