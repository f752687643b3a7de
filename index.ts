/**
 * The cadence core as a library, for Code nodes, scripts and tests that work without n8n.
 * Each module adds its own export line here.
 */
export * from './nodes/core/events';
export * from './nodes/core/address';
export * from './nodes/core/tags';
export * from './nodes/core/calendar';
export * from './nodes/core/assign';
export * from './nodes/core/views';
export * from './nodes/core/select';
export * from './nodes/core/classify';
export * from './nodes/core/tracker';
export * from './nodes/core/hitClass';
export * from './nodes/core/trackingHttp';
export * from './nodes/core/inbox';
export * from './nodes/core/metrics';
export * from './nodes/core/report';
export * from './nodes/core/sendRender';
export * from './nodes/core/smtp';
export * from './nodes/core/sendLedger';
export * from './nodes/core/postgresLedger';
