/** IMAP connection defaults, in a module of their own so the credential can use them without loading the client. */

/** `tls`: implicit TLS (port 993); `starttls`: plain connection upgraded, refused if the server cannot; `none`. */
export type ImapTlsMode = 'tls' | 'starttls' | 'none';
export const IMAP_TLS_MODES: readonly ImapTlsMode[] = Object.freeze(['tls', 'starttls', 'none']);
/** Implicit TLS on the IMAPS port: what mail providers offer by default. */
export const DEFAULT_IMAP_TLS: ImapTlsMode = 'tls';
export const DEFAULT_IMAP_PORT = 993;
