import { decodeCursor, encodeCursor, pageLimit } from '../../operators/cursor'
import {
  DIRECTORY_TOMBSTONE_SECONDS,
  type Directory,
  type DirectoryEntry,
  type DirectoryUser,
} from '../../operators/ports'
import type { PlatformName } from '../../platforms/index'
import { directoryKeys } from './keys'
import type { RedisConnection } from './redis'
import { hashEntries } from './transact'

/**
 * Writes one field of the user's hash (KEYS[1]) unless the user's deletion
 * mark (KEYS[2], same slot) is newer than ARGV[1]: nil when refused, else
 * the field's earlier value ('' when none).
 */
const PUT = `local gone = redis.call('GET', KEYS[2])
if gone and tonumber(gone) > tonumber(ARGV[1]) then return false end
local old = redis.call('HGET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return old or ''`

/** Deletes the user's hash (KEYS[1]), marks the deletion (KEYS[2]: ARGV[1], for ARGV[2] s); what the hash held. */
const DELETE = `local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
local gone = redis.call('GET', KEYS[2])
if not gone or tonumber(gone) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
end
return fields`

const SEP = '\t'
const PHONE = 'phone'
const IDENTITY = 'i'

/** The hash field of an identity: `i<TAB>platform<TAB>appId<TAB>openid`. */
const fieldOf = (e: { platform: string; appId: string; openid: string }) =>
  [IDENTITY, e.platform, e.appId, e.openid].join(SEP)

/** What the user's hash holds: the user as the directory answers it, and the phone hash. */
interface Held {
  user: DirectoryUser
  phoneHash: string | undefined
}

/** What the user's hash holds (HGETALL's answer), or null when nothing. */
function heldOf(uid: string, reply: unknown): Held | null {
  const pairs = hashEntries(reply)
  if (!pairs.length) return null
  const identities: DirectoryEntry[] = []
  let phone: string | undefined
  for (const [field, value] of pairs) {
    if (field === PHONE) {
      phone = JSON.parse(value).hash
      continue
    }
    const [kind, platform, appId, openid] = field.split(SEP)
    if (kind !== IDENTITY || !platform || appId === undefined || openid === undefined) continue
    const { unionid, updatedAt } = JSON.parse(value) as { unionid?: string; updatedAt: number }
    identities.push({
      uid,
      platform: platform as PlatformName,
      appId,
      openid,
      ...(unionid ? { unionid } : {}),
      updatedAt,
    })
  }
  identities.sort((a, b) => (fieldOf(a) < fieldOf(b) ? -1 : 1))
  return { user: { uid, identities, phone: phone !== undefined }, phoneHash: phone }
}

/**
 * The directory in Redis, in keys that work on a cluster: the user's hash
 * `{<uid>}:dir` (identities and the phone hash) and deletion mark
 * `{<uid>}:dir-gone` share the user's slot and change by one script each;
 * the lookup sets `dir:openid:<openid>`, `dir:unionid:<unionid>` and
 * `dir:phone:<hash>` each sit in a slot of their own, are written after the
 * hash and read through it: a member the user's hash does not confirm is
 * not found (and is dropped). No command spans two slots.
 *
 * @param prefix the key prefix of every wxa-auth key (`wxa:`)
 */
export function redisDirectory(connection: RedisConnection, prefix: string): Directory {
  const keys = directoryKeys(prefix)
  const send = (key: string, args: string[]) => connection.send(key, args)
  const hashOf = async (uid: string) => {
    const key = keys.user(uid)
    return heldOf(uid, await send(key, ['HGETALL', key]))
  }
  /** The members of a lookup set. */
  const members = async (key: string) => {
    const found = await send(key, ['SMEMBERS', key])
    return Array.isArray(found) ? found.map(String) : []
  }
  const drop = (key: string, member: string) => send(key, ['SREM', key, member]).catch(() => {})
  /** One script on the user's slot; under `REDIS_WAIT_REPLICAS`, confirmed by the replicas. */
  const script = async (key: string, args: string[]) =>
    connection.waits ? (await connection.write(key, [args]))[0] : send(key, args)

  /** Sets `field` of the user's hash unless a deletion mark refuses it: the old value, or null when refused. */
  const putField = async (uid: string, now: number, field: string, value: string) => {
    const user = keys.user(uid)
    const args = ['EVAL', PUT, '2', user, keys.gone(uid), String(now), field, value]
    return (await script(user, args)) as string | null
  }

  return {
    async put(entry) {
      const { uid } = entry
      const field = fieldOf(entry)
      const value = JSON.stringify({
        ...(entry.unionid ? { unionid: entry.unionid } : {}),
        updatedAt: entry.updatedAt,
      })
      const old = await putField(uid, entry.updatedAt, field, value)
      if (old === null || old === undefined) return false
      const openidKey = keys.openid(entry.openid)
      const member = [entry.platform, entry.appId, uid].join(SEP)
      const added = Number(await send(openidKey, ['SADD', openidKey, member]))
      if (entry.unionid) {
        const unionidKey = keys.unionid(entry.unionid)
        await send(unionidKey, ['SADD', unionidKey, uid])
      }
      const before = old ? (JSON.parse(old) as { unionid?: string }).unionid : undefined
      if (before && before !== entry.unionid) {
        const still = (await hashOf(uid))?.user.identities.some((e) => e.unionid === before)
        if (!still) await drop(keys.unionid(before), uid)
      }
      // An identity belongs to one user: it leaves any other the set names (a returning user's is there already).
      for (const other of added ? await members(openidKey) : []) {
        const [platform, appId, otherUid] = other.split(SEP)
        if (platform !== entry.platform || appId !== entry.appId || otherUid === uid) continue
        if (otherUid) {
          const theirs = keys.user(otherUid)
          await connection.write(theirs, [['HDEL', theirs, field]])
        }
        await drop(openidKey, other)
      }
      return true
    },
    async putPhone(uid, phoneHash, now) {
      const value = JSON.stringify({ hash: phoneHash, updatedAt: now })
      const old = await putField(uid, now, PHONE, value)
      if (old === null || old === undefined) return false
      const phoneKey = keys.phone(phoneHash)
      await send(phoneKey, ['SADD', phoneKey, uid])
      const before = old ? (JSON.parse(old) as { hash: string }).hash : undefined
      if (before && before !== phoneHash) await drop(keys.phone(before), uid)
      return true
    },
    async deleteUser(uid, now = Math.floor(Date.now() / 1000)) {
      const user = keys.user(uid)
      const flat = await script(user, [
        'EVAL',
        DELETE,
        '2',
        user,
        keys.gone(uid),
        String(now),
        String(DIRECTORY_TOMBSTONE_SECONDS),
      ])
      const held = heldOf(uid, flat)
      if (!held) return
      // The lookups: what is left of them names no one (the hash is gone), and is dropped here.
      for (const e of held.user.identities) {
        await drop(keys.openid(e.openid), [e.platform, e.appId, uid].join(SEP))
        if (e.unionid) await drop(keys.unionid(e.unionid), uid)
      }
      if (held.phoneHash) await drop(keys.phone(held.phoneHash), uid)
    },
    get: async (uid) => (await hashOf(uid))?.user ?? null,
    async find(query, page) {
      const limit = pageLimit(page.limit)
      const [after] = decodeCursor(page.cursor, ['string'] as const) ?? ['']
      let candidates: string[]
      let confirms: (held: Held) => boolean
      let lookup: { key: string; member: (uid: string) => string } | undefined
      if ('uid' in query) {
        candidates = [query.uid]
        confirms = () => true
      } else if ('phoneHash' in query) {
        const key = keys.phone(query.phoneHash)
        candidates = await members(key)
        confirms = (held) => held.phoneHash === query.phoneHash
        lookup = { key, member: (uid) => uid }
      } else if ('unionid' in query) {
        const key = keys.unionid(query.unionid)
        candidates = await members(key)
        confirms = ({ user }) => user.identities.some((e) => e.unionid === query.unionid)
        lookup = { key, member: (uid) => uid }
      } else {
        const key = keys.openid(query.openid)
        const found = (await members(key)).map((m) => m.split(SEP))
        candidates = found
          .filter(([, appId]) => query.appId === undefined || appId === query.appId)
          .map(([, , uid]) => uid ?? '')
        confirms = ({ user }) =>
          user.identities.some(
            (e) =>
              e.openid === query.openid && (query.appId === undefined || e.appId === query.appId),
          )
      }
      const uids = [...new Set(candidates)].filter((uid) => uid > after).sort()
      const users: DirectoryUser[] = []
      let more = false
      for (const uid of uids) {
        const held = await hashOf(uid)
        if (!held || !confirms(held)) {
          if (lookup) await drop(lookup.key, lookup.member(uid))
          continue
        }
        if (users.length === limit) {
          more = true
          break
        }
        users.push(held.user)
      }
      return {
        users,
        ...(more ? { cursor: encodeCursor([users.at(-1)?.uid as string]) } : {}),
      }
    },
  }
}
