/**
 * Defaults of the metrics report and list-health settings, shared by the Cadence Metrics parameters and the code
 * that reads them.
 */
import { DEFAULT_TAG_GRAMMAR } from '../tags';
import { DEFAULT_METRICS_TAG_MARKERS } from './batchTagParts';

/** Groups drawn in the funnel chart (those with most messages sent). */
export const DEFAULT_MAX_CHART_GROUPS = 6;
/** Heading of the metrics report. */
export const DEFAULT_METRICS_REPORT_TITLE = 'Cadence metrics';
/** Binary field the report's chart goes in. */
export const DEFAULT_METRICS_CHART_FIELD = 'chart';
/** Figures a metrics row carries. */
export const DEFAULT_METRICS_FIGURES: readonly string[] = Object.freeze(['counts', 'rates']);
/** Marker words read in batch tags for language and segment, as the node's comma-separated setting. */
export const DEFAULT_METRICS_NODE_TAG_MARKERS = DEFAULT_METRICS_TAG_MARKERS.join(', ');
/** Separator between language, segment and marker in batch tags. */
export const DEFAULT_METRICS_TAG_SEPARATOR = DEFAULT_TAG_GRAMMAR.separator;
/** The list-health period the node measures. */
export const DEFAULT_LIST_HEALTH_PERIOD = 'last30Days';
// Contact fields list health reads, by default named as in ListHealthContact.
export const DEFAULT_LIST_HEALTH_EMAIL_FIELD = 'email';
export const DEFAULT_LIST_HEALTH_TAGS_FIELD = 'tags';
export const DEFAULT_LIST_HEALTH_CREATED_AT_FIELD = 'createdAt';
export const DEFAULT_LIST_HEALTH_RISK_TAGGED_AT_FIELD = 'riskTaggedAt';
/** Delimiter of a contact's tags given as one string, in the node. */
export const DEFAULT_LIST_HEALTH_TAGS_DELIMITER = ',';
/** Cost of each message sent, for ROI (0: no cost per send). */
export const DEFAULT_COST_PER_SEND = 0;
/** Whether the report has the leads-per-channel table. */
export const DEFAULT_REPORT_LEADS_BY_CHANNEL = false;
