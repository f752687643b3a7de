/** The IMAP half of inbox attribution: connection, bounded UID-based reading, polls, and events from classifications. */
export * from './connection';
export * from './events';
export * from './reader';
export * from './poll';
export * from './state';
export * from './budget';
