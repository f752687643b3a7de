/** The IMAP half of inbox attribution: connection, bounded UID-based reading, polls, and the classification worker. */
export * from './connection';
export * from './reader';
export * from './poll';
export * from './budget';
