/** The avatar of a profile: an object in the object store, under a random key. */
export interface AvatarRecord {
  /** The object store's key; random, so the URL is unguessable. */
  key: string
  /** The image's media type, as its bytes say. */
  type: 'image/png' | 'image/jpeg' | 'image/webp'
  bytes: number
  /** Where WeChat's asynchronous image check stands; `trace` names the check. */
  check: 'pending' | 'pass' | 'review' | 'unchecked'
  trace?: string
}

/** What the user filled in (the nickname input, the avatar button), kept by the user's session authority. */
export interface ProfileRecord {
  v: 1
  nickname?: string
  /** WeChat's text check of the nickname: `pass`, `review` (kept, logged) or `unchecked`. */
  nicknameCheck?: 'pass' | 'review' | 'unchecked'
  avatar?: AvatarRecord
  /** Unix seconds of the last change. */
  updatedAt: number
}

/**
 * A change to a profile. `null` clears a field; `avatarChecked` records the
 * result of an image check, and a `risky` one clears the avatar it names.
 */
export interface ProfileUpdate {
  nickname?: { value: string; check: NonNullable<ProfileRecord['nicknameCheck']> } | null
  avatar?: AvatarRecord | null
  avatarChecked?: { trace: string; result: 'pass' | 'review' | 'risky' }
}

/** The object key an avatar record deletes with it: `avatar:<key>`, as owed deletes name it. */
export const avatarObject = (avatar: AvatarRecord) => `avatar:${avatar.key}`

/**
 * Applies `update` to `profile` at `now`: the next profile (null when
 * nothing is left) and the objects no longer used (a replaced or cleared
 * avatar), to delete.
 */
export function applyProfile(
  profile: ProfileRecord | null,
  update: ProfileUpdate,
  now: number,
): { profile: ProfileRecord | null; dropped: string[] } {
  const next: ProfileRecord = { ...(profile ?? { v: 1 }), v: 1, updatedAt: now }
  const dropped: string[] = []
  const dropAvatar = () => {
    if (next.avatar) dropped.push(avatarObject(next.avatar))
    delete next.avatar
  }
  if (update.nickname === null) {
    delete next.nickname
    delete next.nicknameCheck
  } else if (update.nickname) {
    next.nickname = update.nickname.value
    next.nicknameCheck = update.nickname.check
  }
  if (update.avatar === null) dropAvatar()
  else if (update.avatar) {
    if (next.avatar?.key !== update.avatar.key) dropAvatar()
    next.avatar = update.avatar
  }
  const checked = update.avatarChecked
  if (checked && next.avatar?.trace === checked.trace) {
    if (checked.result === 'risky') dropAvatar()
    else next.avatar = { ...next.avatar, check: checked.result }
  }
  const empty = next.nickname === undefined && next.avatar === undefined
  return { profile: empty ? null : next, dropped }
}
