/**
 * Amazon SES event notifications delivered by e-mail through SNS: a JSON document (notificationType or eventType
 * Bounce / Complaint / Delivery) instead of a DSN.
 */

export interface SesRecipient {
	recipient: string;
	action: string;
	status: string;
	diagnostic: string;
}

export interface SesNotification {
	type: 'bounce' | 'complaint' | 'delivery' | 'other';
	/** Permanent / Transient / Undetermined for bounces. */
	bounceType: string;
	bounceSubType: string;
	feedbackType: string;
	recipients: SesRecipient[];
	messageId: string;
}

interface SesJson {
	notificationType?: string;
	eventType?: string;
	bounce?: {
		bounceType?: string;
		bounceSubType?: string;
		bouncedRecipients?: Array<{ emailAddress?: string; action?: string; status?: string; diagnosticCode?: string }>;
	};
	complaint?: { complaintFeedbackType?: string; complainedRecipients?: Array<{ emailAddress?: string }> };
	delivery?: { recipients?: string[]; smtpResponse?: string };
	mail?: { messageId?: string; destination?: string[]; headers?: Array<{ name?: string; value?: string }> };
}

function parseJson(text: string): SesJson | null {
	const start = text.indexOf('{');
	if (start < 0) return null;
	let body = text.slice(start);
	const sig = body.search(/\n--\s*\n/);
	if (sig > 0) body = body.slice(0, sig);
	// Notification bodies arrive wrapped at a fixed width; the wrap is not part of the JSON.
	for (const candidate of [body, body.replace(/\n /g, ''), body.replace(/\n\s*/g, '')]) {
		try {
			const value: unknown = JSON.parse(candidate.trim());
			if (value && typeof value === 'object') return value as SesJson;
		} catch {
			// try the next reading
		}
	}
	return null;
}

export function looksLikeSes(text: string): boolean {
	return /"(?:notificationType|eventType)"\s*:\s*"(?:Bounce|Complaint|Delivery)"/.test(text);
}

export function parseSesNotification(text: string): SesNotification | null {
	const json = parseJson(text);
	if (!json) return null;
	const kind = (json.notificationType ?? json.eventType ?? '').toLowerCase();
	const out: SesNotification = {
		type: kind === 'bounce' || kind === 'complaint' || kind === 'delivery' ? kind : 'other',
		bounceType: json.bounce?.bounceType ?? '',
		bounceSubType: json.bounce?.bounceSubType ?? '',
		feedbackType: json.complaint?.complaintFeedbackType ?? '',
		recipients: [],
		messageId: json.mail?.messageId ?? '',
	};
	if (out.type === 'bounce') {
		for (const r of json.bounce?.bouncedRecipients ?? [])
			out.recipients.push({
				recipient: String(r.emailAddress ?? '').toLowerCase(),
				action: String(r.action ?? 'failed').toLowerCase(),
				status: String(r.status ?? ''),
				diagnostic: String(r.diagnosticCode ?? '').replace(/^smtp;\s*/i, ''),
			});
	} else if (out.type === 'complaint') {
		for (const r of json.complaint?.complainedRecipients ?? [])
			out.recipients.push({ recipient: String(r.emailAddress ?? '').toLowerCase(), action: '', status: '', diagnostic: '' });
	} else if (out.type === 'delivery') {
		const response = json.delivery?.smtpResponse ?? '';
		for (const r of json.delivery?.recipients ?? json.mail?.destination ?? [])
			out.recipients.push({ recipient: String(r).toLowerCase(), action: 'delivered', status: '', diagnostic: response });
	}
	return out;
}
