export * from './compute';
export * from './abTest';
export * from './stats';
export * from './listHealth';
export { batchTagParts, type BatchTagParts, type MetricsTagGrammar } from './batchTagParts';
export { MetricsCalendar, isoEpochMinutes, type MetricsTimeUnit } from './timeKeys';
export * from './normalize';
export * from './defaults';
export * from './channels';
