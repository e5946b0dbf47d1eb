// The dev Worker with a host app's onAccountCancelled hook, for the
// multi-isolate tests: each run is recorded in KV (`hook-run:<openid>:…`,
// shared by every isolate) and takes HOOK_MS; an openid starting with
// `fail-` throws on its first run.
import type { Context } from 'hono'
import { createApp } from '../../src/app'
import { mountEmulator } from '../../src/emulator/routes'
import { emulatorUpstream } from '../../src/emulator/upstream'
import { cloudflare } from '../../src/runtime/cloudflare/runtime'

const app = createApp({
  runtime: cloudflare(),
  upstream: emulatorUpstream(),
  async onAccountCancelled(event, c: Context) {
    const env = c.env as { SESSIONS: KVNamespace; HOOK_MS?: string }
    const runs = await env.SESSIONS.list({ prefix: `hook-run:${event.openid}:` })
    await env.SESSIONS.put(`hook-run:${event.openid}:${crypto.randomUUID()}`, '1')
    await new Promise((resolve) => setTimeout(resolve, Number(env.HOOK_MS ?? 0)))
    if (event.openid.startsWith('fail-') && runs.keys.length === 0) {
      throw new Error('the host database is down')
    }
  },
})
mountEmulator(app)

export default app
export { WeChatEmulator } from '../../src/emulator/emulator'
export { UserSessions } from '../../src/runtime/cloudflare/object'
