/** RFC 5965 Abuse Reporting Format: a `message/feedback-report` part (or its fields in text) with Feedback-Type. */

export interface FeedbackReport {
	feedbackType: string;
	originalRecipient: string;
}

export function parseFeedbackReport(body: string): FeedbackReport | null {
	const m = /^feedback-type:[ \t]*([\w-]+)/im.exec(body);
	if (!m) return null;
	const rcpt = /^(?:original-rcpt-to|removal-recipient):[ \t]*<?([^\s<>]+@[^\s<>]+?)>?[ \t]*$/im.exec(body);
	return { feedbackType: m[1].toLowerCase(), originalRecipient: rcpt ? rcpt[1].toLowerCase() : '' };
}
