/**
 * The library behind the nodes, for Code nodes, scripts and tests that work without n8n: the pure domain (core/)
 * and the transports to real servers (transport/). Each module adds its own export line here.
 */
export * from './core/events';
export * from './core/address';
export * from './core/company';
export * from './core/paths';
export * from './core/tags';
export * from './core/calendar';
export * from './core/assign';
export * from './core/views';
export * from './core/select';
export * from './core/classify';
export * from './core/tracker';
export * from './core/hitClass';
export * from './core/links';
export * from './core/sendingWindow';
export * from './core/dkim';
export * from './core/domainCheck';
export * from './core/verify';
export * from './core/erasure';
export * from './core/content';
export * from './core/abRollout';
export * from './core/visitorAddress';
export * from './core/trackingHttp';
export * from './core/inbox';
export * from './core/metrics';
export * from './core/report';
export * from './core/sendRender';
export * from './core/sendLedger';
export * from './core/senderProtection';
export * from './transport/inbox';
export * from './transport/smtp';
export * from './transport/postgresLedger';
export * from './transport/domainCheck';
export * from './transport/metricsSql';
export * from './transport/dns';
export * from './transport/verify';
