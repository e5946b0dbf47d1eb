import { WxaAuthError } from '../errors'
import { recordAudit } from '../operators/audit'
import type { PlatformName } from '../platforms/index'
import type { ActionDone, EventUser, UserAction } from '../platforms/platform'
import { eventUserId } from '../session/identities'
import { appOf, type FlowContext } from './context'
import { forgetUser } from './forget'

/** The app `user` names, of the platform it names: `UNKNOWN_APP` otherwise. */
function appFor<User extends { id: string }>(flow: FlowContext<User>, user: EventUser) {
  const app = appOf(flow.config, user.appId)
  if (app.platform !== user.platform) throw new WxaAuthError('UNKNOWN_APP')
  return app
}

/**
 * What a platform's event asks for one user, whatever the platform: the
 * user found by the login's rule, then, in order, every session ended, the
 * profile's fields cleared, the app's hooks told, and the user forgotten.
 * A hook that throws stops it there: the platform retries the event.
 */
export async function actOnUser<User extends { id: string }>(
  flow: FlowContext<User>,
  action: UserAction,
): Promise<ActionDone> {
  const { config, hooks, now, c } = flow
  const { appId, openid } = action
  const platform: PlatformName = appFor(flow, action).platform
  const identity = await config.identities.get(appId, openid, platform)
  const uid = await eventUserId({ platform, appId, openid }, identity, config, flow.ownUsers)
  let sessionsEnded = 0
  if (uid && action.endSessions) sessionsEnded = (await config.sessions.endAll(uid, now)).length
  const deleted = uid ? [...(action.clear ?? [])] : []
  if (uid && deleted.length) {
    await config.sessions.updateProfile(
      uid,
      {
        ...(deleted.includes('nickname') ? { nickname: null } : {}),
        ...(deleted.includes('avatar') ? { avatar: null } : {}),
      },
      now,
    )
  }
  const done = { uid, sessionsEnded, deleted }
  for (const name of action.hooks ?? []) {
    await hooks[name]({ ...action.event, appId, openid, ...done } as never, c)
  }
  if (action.forget && uid)
    await forgetUser(flow, uid, appId, openid, platform, `platform:${platform}`)
  const event = action.event?.event
  void recordAudit(flow, {
    type: 'push',
    ...(uid ? { uid } : {}),
    actor: `platform:${platform}`,
    detail: {
      app: appId,
      ...(typeof event === 'string' ? { event: event.slice(0, 64) } : {}),
      found: uid !== null,
      sessionsEnded,
      deleted: deleted.join(','),
      forgot: Boolean(action.forget && uid),
    },
  })
  return done
}

/**
 * The verdict of an avatar's image check: a risky one deletes the avatar it
 * names (a later avatar of the user is left alone).
 */
export async function imageChecked<User extends { id: string }>(
  flow: FlowContext<User>,
  verdict: { appId: string; trace: string; suggest: 'pass' | 'review' | 'risky' },
): Promise<void> {
  const { config, now } = flow
  const { appId, trace, suggest } = verdict
  const pending = await config.mediaChecks.get(appId, trace)
  if (!pending) return
  await config.sessions.updateProfile(
    pending.uid,
    { avatarChecked: { trace, result: suggest } },
    now,
  )
  if (suggest === 'risky') {
    void recordAudit(flow, {
      type: 'profile.refused',
      uid: pending.uid,
      actor: `platform:${config.apps.get(appId)?.platform ?? 'unknown'}`,
      detail: { app: appId, field: 'avatar', check: suggest },
    })
  }
  if (suggest !== 'pass') {
    flow.log.warn(
      `wxa-auth: an avatar was checked ${suggest} by the platform${suggest === 'risky' ? ' and deleted' : ''} (user ${pending.uid})`,
    )
  }
  await config.mediaChecks.delete(appId, trace)
}
