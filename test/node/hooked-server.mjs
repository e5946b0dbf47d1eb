// examples/node/server.mjs with an onAccountCancelled hook of a host app:
// it appends the openid to HOOK_LOG (shared by every process), then takes
// HOOK_MS; for an openid starting with `fail-` its first run throws.
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { serve } from 'wxa-auth/node'

const log = process.env.HOOK_LOG ?? ''
const ms = Number(process.env.HOOK_MS ?? 0)

await serve({
  async onAccountCancelled(event) {
    const before = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : []
    appendFileSync(log, `${event.openid}\n`)
    await new Promise((resolve) => setTimeout(resolve, ms))
    if (event.openid.startsWith('fail-') && !before.includes(event.openid)) {
      throw new Error('the host database is down')
    }
  },
})
