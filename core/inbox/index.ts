/** The pure half of inbox attribution: events from classifications, and the poll state kept between polls. */
export * from './events';
export * from './state';
