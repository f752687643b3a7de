import type { IHookFunctions } from 'n8n-workflow';

function comparable(url: string): string {
	try {
		const u = new URL(url.trim());
		u.search = '';
		u.hash = '';
		return u.href.replace(/\/+$/, '');
	} catch {
		return url.trim();
	}
}

/**
 * Nothing is registered with a third party: the endpoint is this n8n. On activation the check still compares the
 * credential's base URL with the URL n8n serves, because links built from any other URL would never reach this
 * trigger; a mismatch is logged, not fatal (a proxy may rewrite paths on purpose).
 */
export async function trackingWebhookExists(this: IHookFunctions): Promise<boolean> {
	if (this.getMode() === 'manual') return true;
	const served = this.getNodeWebhookUrl('default');
	let configured = '';
	try {
		configured = String((await this.getCredentials('cadenceTrackingApi')).baseUrl ?? '');
	} catch (error) {
		this.logger.warn(`Cadence Tracking Trigger: cannot read the tracking credential: ${(error as Error).message}`);
		return true;
	}
	if (served && configured && comparable(served) !== comparable(configured)) {
		this.logger.warn(
			`Cadence Tracking Trigger "${this.getNode().name}": the credential's Base URL ${configured} is not this trigger's URL ${served}. ` +
				'Tracking links will not reach this workflow unless a proxy maps one to the other (set WEBHOOK_URL behind a proxy).',
		);
	}
	return true;
}

export async function trackingWebhookCreate(this: IHookFunctions): Promise<boolean> {
	return true;
}

export async function trackingWebhookDelete(this: IHookFunctions): Promise<boolean> {
	return true;
}
