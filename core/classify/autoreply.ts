/**
 * Automatic replies (RFC 3834 and the de-facto headers of Exchange, Gmail and vacation programs), and the subject
 * lines of out-of-office notices in the languages our contacts write in.
 */
import { headerValue, type HeaderList } from './mime';

const SUBJECT_RE =
	/^(?:(?:re|aw|sv|vs|fw|fwd|回复|答复|转发)\s*:\s*)?(?:auto(?:matic|matisch(?:e)?|mática|matique)?[ -]?(?:reply|response|respuesta|réponse|antwort|responder)|out of (?:the )?office|away from (?:the )?office|on vacation|on leave|vacation (?:reply|notice|message)|abwesenheit|abwesend|nicht im büro|außer haus|ausser haus|automatische antwort|absence|absent(?:e)?|réponse automatique|répondeur|fuera de la oficina|respuesta automática|ausente|de vacaciones|自动回复|自動回覆|自动答复|自動応答|不在|休假|автоответ|автоматический ответ|вне офиса|в отпуске|отсутств)/i;

/** Why a message is an automatic reply, or '' when it is not one. */
export function autoReplySignal(headers: HeaderList, subject: string): string {
	const autoSubmitted = (headerValue(headers, 'auto-submitted') ?? '').toLowerCase();
	if (autoSubmitted.startsWith('auto-replied')) return 'auto-submitted';
	if (headerValue(headers, 'x-autoreply') !== undefined) return 'x-autoreply';
	if (headerValue(headers, 'x-autorespond') !== undefined) return 'x-autorespond';
	if (headerValue(headers, 'x-autoresponder') !== undefined) return 'x-autoresponder';
	const precedence = (headerValue(headers, 'precedence') ?? '').toLowerCase();
	if (precedence === 'auto_reply' || precedence === 'auto-reply') return 'precedence';
	if ((headerValue(headers, 'x-auto-response-suppress') ?? '') !== '' && SUBJECT_RE.test(subject)) return 'subject';
	const msAuto =
		(headerValue(headers, 'x-ms-exchange-inbox-rules-loop') ?? '') !== '' ||
		/oof|autoreply/i.test(headerValue(headers, 'x-ms-exchange-generated-message-source') ?? '');
	if (msAuto) return 'exchange';
	if (SUBJECT_RE.test(subject.trim())) return 'subject';
	return '';
}
