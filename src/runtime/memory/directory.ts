import { decodeCursor, encodeCursor, pageLimit } from '../../operators/cursor'
import {
  DIRECTORY_TOMBSTONE_SECONDS,
  type Directory,
  type DirectoryEntry,
  type DirectoryQuery,
  type DirectoryUser,
} from '../../operators/ports'

/** A {@link Directory} in this process's memory: for tests and a single process. */
export function memoryDirectory(): Directory & { readonly size: number } {
  const users = new Map<string, { identities: Map<string, DirectoryEntry>; phone?: string }>()
  /** Deleted users: unix seconds of the deletion. */
  const gone = new Map<string, number>()
  const refused = (uid: string, since: number) => {
    const at = gone.get(uid)
    if (at !== undefined && at + DIRECTORY_TOMBSTONE_SECONDS < Date.now() / 1000) gone.delete(uid)
    return at !== undefined && at > since
  }
  const identityKey = (e: { platform: string; appId: string; openid: string }) =>
    `${e.platform}\n${e.appId}\n${e.openid}`
  const view = (uid: string): DirectoryUser | null => {
    const user = users.get(uid)
    if (!user) return null
    return {
      uid,
      identities: [...user.identities.values()]
        .map((e) => ({ ...e }))
        .sort((a, b) => (identityKey(a) < identityKey(b) ? -1 : 1)),
      phone: user.phone !== undefined,
    }
  }
  const matches = (query: DirectoryQuery, uid: string) => {
    const user = users.get(uid)
    if (!user) return false
    if ('uid' in query) return uid === query.uid
    if ('phoneHash' in query) return user.phone === query.phoneHash
    const entries = [...user.identities.values()]
    if ('unionid' in query) return entries.some((e) => e.unionid === query.unionid)
    return entries.some(
      (e) => e.openid === query.openid && (query.appId === undefined || e.appId === query.appId),
    )
  }
  const userOf = (uid: string) => {
    let user = users.get(uid)
    if (!user) {
      user = { identities: new Map() }
      users.set(uid, user)
    }
    return user
  }
  return {
    async put(entry) {
      if (refused(entry.uid, entry.updatedAt)) return false
      // An identity belongs to one user: a later login of it under another uid moves it.
      const key = identityKey(entry)
      for (const [uid, user] of users) {
        if (uid !== entry.uid && user.identities.delete(key) && !user.identities.size) {
          if (user.phone === undefined) users.delete(uid)
        }
      }
      userOf(entry.uid).identities.set(key, { ...entry })
      return true
    },
    async putPhone(uid, phoneHash, now) {
      if (refused(uid, now)) return false
      userOf(uid).phone = phoneHash
      return true
    },
    async deleteUser(uid, now = Math.floor(Date.now() / 1000)) {
      users.delete(uid)
      gone.set(uid, Math.max(now, gone.get(uid) ?? now))
    },
    get: async (uid) => view(uid),
    async find(query, page) {
      const limit = pageLimit(page.limit)
      const [after] = decodeCursor(page.cursor, ['string'] as const) ?? ['']
      const found = [...users.keys()]
        .filter((uid) => uid > after && matches(query, uid))
        .sort()
        .slice(0, limit + 1)
      const more = found.length > limit
      const uids = found.slice(0, limit)
      return {
        users: uids.map((uid) => view(uid) as DirectoryUser),
        ...(more ? { cursor: encodeCursor([uids.at(-1) as string]) } : {}),
      }
    },
    get size() {
      return users.size
    },
  }
}
