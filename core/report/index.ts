export * from './html';
export * from './chart';
