/**
 * The tracking webhook: answers every hit (pixel, redirect, unsubscribe page) on the response itself and starts an
 * execution only for the events the trigger is set to emit.
 */
import type { IDataObject, IWebhookDescription, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import type { EventType } from '../../core/events';
import {
	CONVERSION_SECRET_MIN_LENGTH,
	DEFAULT_MACHINE_HITS,
	handleTrackingRequest,
	type MachineHitHandling,
	type TrackingHttpOptions,
	type TrackingHttpTracker,
} from '../../core/trackingHttp';
import { splitList } from '../../core/tags';
import { trackerFromCredentials } from '../shared/trackingCredential';
import { DEFAULT_TRACKING_EVENTS, TRACKING_WEBHOOK_PATH } from './properties';

/** Separators of the Extra Scanner User Agents option: commas and line breaks. */
const AGENT_LIST_DELIMITERS: readonly string[] = [',', '\r', '\n'];

// One path for every method: the token says whether a hit is an open, a click or an unsubscribe, so the URL that
// n8n shows is the one base URL the credential needs.
const webhookFor = (httpMethod: 'GET' | 'HEAD' | 'POST'): IWebhookDescription => ({
	name: 'default',
	httpMethod,
	responseMode: 'onReceived',
	path: TRACKING_WEBHOOK_PATH,
	isFullPath: false,
});

/** GET and HEAD answer pixels, links and the unsubscribe page; POST confirms an unsubscribe (a person or RFC 8058 One-Click). */
export const trackingWebhooks: IWebhookDescription[] = [webhookFor('GET'), webhookFor('HEAD'), webhookFor('POST')];

// A tracker that accepts nothing: used when the credential is missing or broken, so pixels still answer a GIF and
// links the error page instead of the request failing.
const REJECTING_TRACKER: TrackingHttpTracker = {
	parseToken: () => null,
	token: () => '',
};

/** The tracker and the Conversion Secret from the credential; an unusable credential refuses every token. */
async function trackerFor(ctx: IWebhookFunctions): Promise<{ tracker: TrackingHttpTracker; conversionSecret?: string }> {
	try {
		const credential = await ctx.getCredentials('cadenceTrackingApi');
		return { tracker: trackerFromCredentials(credential), conversionSecret: conversionSecretFor(ctx, credential.conversionSecret) };
	} catch (error) {
		ctx.logger.warn(`Cadence Tracking Trigger: the tracking credential is unusable, every token is refused: ${(error as Error).message}`);
		return { tracker: REJECTING_TRACKER };
	}
}

function optionsFor(ctx: IWebhookFunctions, conversionSecret: string | undefined): TrackingHttpOptions {
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const seconds = Number(options.scannerClickSeconds);
	return {
		machineHits: ctx.getNodeParameter('machineHits', DEFAULT_MACHINE_HITS) as MachineHitHandling,
		fallbackUrl: typeof options.fallbackUrl === 'string' ? options.fallbackUrl.trim() : undefined,
		senderName: typeof options.senderName === 'string' ? options.senderName : undefined,
		scannerClickSeconds: Number.isFinite(seconds) && options.scannerClickSeconds !== undefined ? seconds : undefined,
		extraScannerAgents: typeof options.extraScannerAgents === 'string' ? splitList(options.extraScannerAgents, AGENT_LIST_DELIMITERS) : [],
		conversionDomains: typeof options.conversionDomains === 'string' ? splitList(options.conversionDomains, AGENT_LIST_DELIMITERS) : [],
		conversionSecret,
	};
}

/** The Conversion Secret; one shorter than the minimum is not used (signed values are then refused) and is logged. */
function conversionSecretFor(ctx: IWebhookFunctions, value: unknown): string | undefined {
	const secret = typeof value === 'string' ? value.trim() : '';
	if (!secret) return undefined;
	if (secret.length >= CONVERSION_SECRET_MIN_LENGTH) return secret;
	ctx.logger.warn(
		`Cadence Tracking Trigger: the Conversion Secret is shorter than ${CONVERSION_SECRET_MIN_LENGTH} characters and is not used: conversion values are not recorded`,
	);
	return undefined;
}

/**
 * Answers one tracking request on the response itself and returns the event as workflow data only when an
 * execution should start; everything else (pixel, redirect, pages) never touches n8n's execution machinery.
 */
export async function handleTrackingHit(ctx: IWebhookFunctions): Promise<IWebhookResponseData> {
	const req = ctx.getRequestObject();
	const res = ctx.getResponseObject();
	const { tracker, conversionSecret } = await trackerFor(ctx);
	const answer = handleTrackingRequest(
		{
			method: req.method,
			query: ctx.getQueryData() as Record<string, unknown>,
			body: req.body,
			headers: ctx.getHeaderData(),
			ip: req.ip ?? req.socket?.remoteAddress,
			now: Date.now(),
		},
		tracker,
		optionsFor(ctx, conversionSecret),
	);
	res.status(answer.status);
	for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
	res.end(answer.body);

	const wanted = ctx.getNodeParameter('events', [...DEFAULT_TRACKING_EVENTS]) as EventType[];
	if (!answer.startExecution || !answer.event || !wanted.includes(answer.event.type)) {
		return { noWebhookResponse: true };
	}
	return { noWebhookResponse: true, workflowData: [[{ json: answer.event as unknown as IDataObject }]] };
}
