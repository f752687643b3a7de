/**
 * Debian's Chromium, driven by playwright-core: never a downloaded browser. The flags keep it off the network (this
 * machine refuses outside connections, many at a time, without them) and headless as root.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

/** Why Chromium cannot run here, or null. */
export function chromiumMissing(): string | null {
	return existsSync(CHROMIUM) ? null : `Chromium missing at ${CHROMIUM} (apt-get install chromium)`;
}
