/** Raw mail text for the classifier tests: a message from headers and body, and the parts of bounce notices real servers send. */

/** A message with CRLF line ends: the headers in order, a blank line, then `body` as given. */
export function crlfMessage(headers: Record<string, string>, body: string): string {
	return (
		Object.entries(headers)
			.map(([k, v]) => `${k}: ${v}`)
			.join('\r\n') +
		'\r\n\r\n' +
		body
	);
}

/** Exim's words before the failed addresses of a permanent failure, as Exim writes them. */
export const EXIM_PERMANENT_FAILURE_INTRO = [
	'This message was created automatically by mail delivery software.',
	'',
	'A message that you sent could not be delivered to one or more of its',
	'recipients. This is a permanent error. The following address(es) failed:',
	'',
];

/** The line with which Exim starts the copy of the returned message. */
export const EXIM_COPY_LINE = '------ This is a copy of the message, including all the headers. ------';

/** The header lines of a delivery status report (RFC 3464) whose parts are separated by `boundary`. */
export const deliveryReportHeaders = (boundary: string): string[] => [
	'MIME-Version: 1.0',
	`Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
];

/** A multipart body: each part (its header lines, a blank line, its body) after a boundary line and before a blank line, then the closing boundary. */
export const multipartBody = (boundary: string, parts: string[][]): string[] => [
	...parts.flatMap((part) => [`--${boundary}`, ...part, '']),
	`--${boundary}--`,
];

/** qmail's lines for a recipient the remote host (192.0.2.1) refused with `answer`. */
export const qmailRefusal = (recipient: string, answer: string): string[] => [
	`<${recipient}>:`,
	'192.0.2.1 does not like recipient.',
	`Remote host said: ${answer}`,
	'Giving up on 192.0.2.1.',
];

/** The line with which qmail starts the copy of the returned message. */
export const QMAIL_COPY_LINE = '--- Below this line is a copy of the message.';
