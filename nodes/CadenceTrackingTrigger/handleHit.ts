import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import type { EventType } from '../../core/events';
import type { Tracker } from '../../core/tracker';
import { DEFAULT_MACHINE_HITS, handleTrackingRequest, type MachineHitHandling, type TrackingHttpOptions } from '../../core/trackingHttp';
import { trackerFromCredentials } from '../shared/trackingCredential';

// A tracker that accepts nothing: used when the credential is missing or broken, so pixels still answer a GIF and
// links the error page instead of the request failing.
const REJECTING_TRACKER: Pick<Tracker, 'parseToken' | 'token'> = {
	parseToken: () => null,
	token: () => '',
};

function splitList(value: unknown): string[] {
	return typeof value === 'string'
		? value
				.split(/[\r\n,]+/)
				.map((s) => s.trim())
				.filter(Boolean)
		: [];
}

async function trackerFor(ctx: IWebhookFunctions): Promise<Pick<Tracker, 'parseToken' | 'token'>> {
	try {
		return trackerFromCredentials(await ctx.getCredentials('cadenceTrackingApi'));
	} catch (error) {
		ctx.logger.warn(`Cadence Tracking Trigger: the tracking credential is unusable, every token is refused: ${(error as Error).message}`);
		return REJECTING_TRACKER;
	}
}

function optionsFor(ctx: IWebhookFunctions): TrackingHttpOptions {
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const seconds = Number(options.scannerClickSeconds);
	return {
		machineHits: ctx.getNodeParameter('machineHits', DEFAULT_MACHINE_HITS) as MachineHitHandling,
		fallbackUrl: typeof options.fallbackUrl === 'string' ? options.fallbackUrl.trim() : undefined,
		senderName: typeof options.senderName === 'string' ? options.senderName : undefined,
		scannerClickSeconds: Number.isFinite(seconds) && options.scannerClickSeconds !== undefined ? seconds : undefined,
		extraScannerAgents: splitList(options.extraScannerAgents),
	};
}

/**
 * Answers one tracking request on the response itself and returns the event as workflow data only when an
 * execution should start; everything else (pixel, redirect, pages) never touches n8n's execution machinery.
 */
export async function handleTrackingHit(ctx: IWebhookFunctions): Promise<IWebhookResponseData> {
	const req = ctx.getRequestObject();
	const res = ctx.getResponseObject();
	const answer = handleTrackingRequest(
		{
			method: req.method,
			query: ctx.getQueryData() as Record<string, unknown>,
			body: req.body,
			headers: ctx.getHeaderData(),
			ip: req.ip ?? req.socket?.remoteAddress,
			now: Date.now(),
		},
		await trackerFor(ctx),
		optionsFor(ctx),
	);
	res.status(answer.status);
	for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
	res.end(answer.body);

	const wanted = ctx.getNodeParameter('events', []) as EventType[];
	if (!answer.startExecution || !answer.event || !wanted.includes(answer.event.type)) {
		return { noWebhookResponse: true };
	}
	return { noWebhookResponse: true, workflowData: [[{ json: answer.event as unknown as IDataObject }]] };
}
