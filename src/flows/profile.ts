import { WxaAuthError } from '../errors'
import { recordAudit } from '../operators/audit'
import type { AvatarRecord, ProfileRecord, ProfileUpdate } from '../session/profile'
import type { Session } from '../session/session'
import { base64url } from '../util/base64url'
import { appOf, type FlowContext } from './context'
import { cleanImage } from './image'

export const MAX_NICKNAME = 32 // graphemes (what a reader counts as characters), after trimming
/** Where the app serves avatars, below its origin. */
export const AVATAR_PATH = '/auth/avatars/'

/** The profile as a client sees it. */
export interface Profile {
  nickname: string | null
  avatarUrl: string | null
}

/** What a profile update may carry: a nickname, an avatar's bytes, or both. */
export interface ProfileInput {
  nickname?: string | undefined
  avatar?: Uint8Array | undefined
}

// Refused anywhere in a nickname: control characters (C0, DEL, C1), the
// line and paragraph separators, the bidi marks, embeddings, overrides and
// isolates (they reorder what is shown around them), and the tag characters.
const REFUSED =
  /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u{e0000}-\u{e007f}]/u
// What shows nothing: spaces, zero-width and other default-ignorable
// characters (U+200B–U+200D, U+2060, U+FEFF, the Hangul fillers, …), the blank braille cell.
const INVISIBLE = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]/gu

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/**
 * The nickname NFC-normalised and trimmed, or `NICKNAME_INVALID`: 1 to 32
 * graphemes (an emoji of a ZWJ sequence is one), something visible, and no
 * control, bidi or tag characters.
 */
export function nicknameOf(value: string): string {
  const nickname = value.normalize('NFC').trim()
  let length = 0
  for (const _ of graphemes.segment(nickname)) if (++length > MAX_NICKNAME) break
  if (
    length < 1 ||
    length > MAX_NICKNAME ||
    REFUSED.test(nickname) ||
    nickname.replace(INVISIBLE, '') === ''
  ) {
    throw new WxaAuthError('NICKNAME_INVALID')
  }
  return nickname
}

/** The URL of an avatar: below `PUBLIC_URL`, else below the request's origin. */
const avatarUrl = (base: string, key: string) => `${base}${AVATAR_PATH}${key}`

/** The profile of `record` as the client sees it. */
export function profileView(record: ProfileRecord | null, base: string): Profile {
  return {
    nickname: record?.nickname ?? null,
    avatarUrl: record?.avatar ? avatarUrl(base, record.avatar.key) : null,
  }
}

const who = (session: Session) => {
  if (!session.userId || !session.openid) throw new WxaAuthError('AUTH_REQUIRED')
  return { uid: session.userId, openid: session.openid }
}

/** The profile of the request's user. */
export async function getProfile<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
  origin: string,
): Promise<Profile> {
  const record = await flow.config.sessions.profile(who(session).uid, flow.now)
  return profileView(record, flow.config.publicUrl ?? origin)
}

/**
 * Changes the request's user's profile. The nickname goes through the
 * platform's text check first (`risky` is refused, `review` is kept and
 * logged: WeChat asks for a person's look, not a refusal). The avatar is
 * checked by its bytes and size, stripped of its metadata, stored under a random key, then handed to
 * the platform's asynchronous image check at its own URL; a risky verdict
 * arrives by push and deletes it. Until then it is served.
 *
 * @param origin the request's origin, for the avatar URL when `PUBLIC_URL` is unset
 */
export async function setProfile<User extends { id: string }>(
  flow: FlowContext<User>,
  session: Session,
  input: ProfileInput,
  origin: string,
): Promise<Profile> {
  const { config, now } = flow
  const { uid, openid } = who(session)
  const app = appOf(config, session.appId)
  const base = config.publicUrl ?? origin
  const update: ProfileUpdate = {}
  // Everything that can refuse the request is checked before anything is stored.
  const nickname = input.nickname === undefined ? undefined : nicknameOf(input.nickname)
  let avatar: { bytes: Uint8Array; type: AvatarRecord['type'] } | undefined
  if (input.avatar) {
    if (!config.objects) {
      throw new WxaAuthError(
        'NOT_OFFERED',
        'Avatars are not offered here: no AVATARS store is bound.',
      )
    }
    if (input.avatar.length > config.maxAvatarBytes) throw new WxaAuthError('AVATAR_TOO_LARGE')
    avatar = cleanImage(input.avatar)
  }
  if (nickname !== undefined) {
    const verdict = app.checkText ? await app.checkText(nickname, openid) : 'unchecked'
    if (verdict === 'risky') {
      void recordAudit(flow, {
        type: 'profile.refused',
        uid,
        actor: 'user',
        detail: { app: app.appId, field: 'nickname', check: verdict },
      })
      throw new WxaAuthError('NICKNAME_RISKY')
    }
    if (verdict === 'review') {
      flow.log.warn(`wxa-auth: a nickname the content check wants reviewed was kept (user ${uid})`)
    }
    update.nickname = { value: nickname, check: verdict }
  }
  if (avatar && config.objects) {
    const key = base64url(crypto.getRandomValues(new Uint8Array(24)))
    await config.objects.put(key, avatar.bytes, avatar.type)
    let trace: string | undefined
    try {
      trace = app.checkImage ? await app.checkImage(avatarUrl(base, key), openid) : undefined
    } catch (err) {
      // Not checked, not kept: the user may try again.
      await config.objects.delete(key)
      throw err
    }
    if (trace) await config.mediaChecks.put(app.appId, trace, { v: 1, uid, key })
    update.avatar = {
      key,
      type: avatar.type,
      bytes: avatar.bytes.length,
      check: trace ? 'pending' : 'unchecked',
      ...(trace ? { trace } : {}),
    }
  }
  let record: ProfileRecord | null
  try {
    // Checked with the caller's session in the same step: when the account
    // was deleted (or the session ended) while this request ran, nothing is written.
    record = await config.sessions.updateProfile(uid, update, now, session.presented ?? undefined)
  } catch (err) {
    // Refused, or the store was not reached: the new avatar is nobody's. When
    // the outcome is unknown it may be in the profile now, and stays.
    const sure = err instanceof WxaAuthError && err.code !== 'STORAGE_OUTCOME_UNKNOWN'
    if (sure && update.avatar) {
      const { key, trace } = update.avatar
      await Promise.all([
        config.objects?.delete(key),
        trace ? config.mediaChecks.delete(app.appId, trace) : undefined,
      ]).catch(() => {
        flow.log.warn(`wxa-auth: avatar ${key}, of a profile change that failed, was not deleted`)
      })
    }
    throw err
  }
  return profileView(record, base)
}

/** An avatar's bytes, by its key, while it exists. */
export async function avatarObject<User extends { id: string }>(
  flow: FlowContext<User>,
  key: string,
) {
  if (!/^[\w-]{16,64}$/.test(key)) throw new WxaAuthError('NOT_FOUND')
  const found = await flow.config.objects?.get(key)
  if (!found) throw new WxaAuthError('NOT_FOUND')
  return found
}
