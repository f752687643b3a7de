export * from './check';
export * from './dkim';
export * from './dmarc';
export * from './ip';
export * from './spf';
export * from './targets';
