/**
 * The cadence core as a library, for Code nodes, scripts and tests that work without n8n.
 * Each module adds its own export line here.
 */
export * from './nodes/core/events';
export * from './nodes/core/address';
