/**
 * Defaults of the sender protection: the caps counted per calendar day, the warm-up ramp of a new mailbox, the
 * reputation circuit breaker and follow-up tasks. Each is the one value the code, the node parameters and the docs use.
 */

/** Messages per recipient company per calendar day: more to one company in a day reads as a blast to its filters. */
export const DEFAULT_COMPANY_DAILY_CAP = 20;
/** Messages per contact per day, across campaigns: one person never gets two cadence mails on the same day. */
export const DEFAULT_CONTACT_DAILY_CAP = 1;
/** A mailbox's ceiling: about what one warmed-up cold-email mailbox sends a day without hurting its reputation. */
export const DEFAULT_MAILBOX_DAILY_CAP = 50;
/** A new mailbox's cap on its first day: providers distrust a new sender that starts with volume. */
export const DEFAULT_WARMUP_FIRST_DAY = 10;
/** Added to a new mailbox's cap each day until the ceiling (10, 12, … 50 on its 21st day: about three weeks). */
export const DEFAULT_WARMUP_DAILY_INCREASE = 2;
/** The breaker's rolling window in days: four weeks hold enough sends to judge and forget an old bad list. */
export const DEFAULT_BREAKER_WINDOW_DAYS = 28;
/** 0: the breaker's window is by days; N > 0: the last N sends instead. */
export const DEFAULT_BREAKER_WINDOW_SENDS = 0;
/** The breaker judges a window only from this many sends: 2 bounces in 10 sends is noise, not a bad list. */
export const DEFAULT_BREAKER_MIN_SENDS = 100;
/** Hard-bounce rate (percent) that pauses a mailbox or domain: over 2 % marks a list as unverified. */
export const DEFAULT_HARD_BOUNCE_PAUSE_PERCENT = 2;
/** Complaint rate (percent) that pauses: Gmail's and Yahoo's bulk-sender rules require staying under 0.3 %. */
export const DEFAULT_COMPLAINT_PAUSE_PERCENT = 0.3;
/** Days during which a contact has at most one open follow-up task, however often they click or reply. */
export const DEFAULT_TASK_WINDOW_DAYS = 7;
/** Task statuses that no longer block a new task for the contact (compared case-insensitively). */
export const CLOSED_TASK_STATUSES: readonly string[] = Object.freeze(['done', 'closed', 'completed', 'cancelled', 'canceled', 'resolved']);

/** The single SMTP account's daily cap: 0 (none), because it is often a relay or an email service, not one mailbox. */
export const DEFAULT_ACCOUNT_DAILY_CAP = 0;
