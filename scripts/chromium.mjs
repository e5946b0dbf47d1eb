// Headless Chromium for the browser tests: Debian's package (.ci/run installs
// it), driven by playwright-core, quiet (nothing fetched in the background).
import { chromium } from 'playwright-core'

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium'

/** Starts it headless: no sandbox (CI runs as root), no GPU, no background requests. */
export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
