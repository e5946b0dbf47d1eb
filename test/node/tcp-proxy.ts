// A TCP proxy on loopback that the test can blackhole: while blackholed it
// accepts connections and swallows every byte both ways (as a partition
// does: no reset, no answer), and healing closes what was open across the
// partition, as TCP would once its timers ran out. `blackhole('replication')`
// darkens only the connections a Redis replica opened (they say PSYNC), so
// that a primary can be cut off from its replica and from nothing else.
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpProxy {
  readonly port: number
  blackhole(only?: 'replication'): void
  heal(): void
  close(): Promise<void>
}

export async function startProxy(target: number): Promise<TcpProxy> {
  let dark: false | 'all' | 'replication' = false
  const open = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1')
    let replication = false
    client.on('data', (chunk) => {
      if (/PSYNC|REPLCONF/.test(chunk.toString('latin1'))) replication = true
    })
    const swallowed = () => dark === 'all' || (dark === 'replication' && replication)
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(from)
      from.on('data', (chunk) => {
        if (!swallowed()) to.write(chunk)
      })
      from.on('error', () => to.destroy())
      from.on('close', () => {
        open.delete(from)
        to.destroy()
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    blackhole(only) {
      dark = only ?? 'all'
    },
    heal() {
      dark = false
      for (const socket of open) socket.destroy()
    },
    async close() {
      for (const socket of open) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
