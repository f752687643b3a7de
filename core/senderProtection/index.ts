export * from './defaults';
export * from './warmup';
export * from './counts';
export * from './breaker';
export * from './status';
export * from './tasks';
