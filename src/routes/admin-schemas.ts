import * as v from 'valibot'
import { AUDIT_TYPES } from '../operators/ports'
import { BanState, Identity, ProfileView, SessionSummary } from './schemas'

// The operators' API (/admin/api): bodies and answers, for validation and the OpenAPI document.

const MAX_REASON = 200 // characters

/** `POST /admin/api/users/{id}/ban`. */
export const BanBody = v.object({
  reason: v.pipe(
    v.string(),
    v.minLength(1),
    v.regex(/\S/),
    v.maxLength(MAX_REASON),
    v.description('Why, for the record (1–200 characters); the user is not told it.'),
  ),
  until: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.description(
        'Unix seconds, in the future: the ban lifts itself then. Absent: until lifted.',
      ),
    ),
  ),
})

export const BanResponse = v.object({ ban: BanState })

export const AuditRecordSchema = v.object({
  id: v.pipe(v.string(), v.description('Opaque; in the log’s order.')),
  at: v.pipe(v.number(), v.description('Unix milliseconds.')),
  type: v.picklist(AUDIT_TYPES),
  uid: v.optional(v.string()),
  actor: v.pipe(
    v.string(),
    v.description('`user`, `platform:<name>`, `operator:<kid>` or `system`.'),
  ),
  detail: v.optional(
    v.pipe(v.looseObject({}), v.description('Strings, numbers and booleans the type documents.')),
  ),
})

export const UsersResponse = v.object({
  users: v.array(
    v.object({
      uid: v.string(),
      identities: v.array(Identity),
      phone: v.pipe(
        v.boolean(),
        v.description('Whether a phone number’s keyed hash is on record.'),
      ),
    }),
  ),
  cursor: v.optional(v.pipe(v.string(), v.description('Pass it back for the next page.'))),
})

export const UserResponse = v.object({
  uid: v.string(),
  identities: v.array(Identity),
  devices: v.array(SessionSummary),
  profile: ProfileView,
  ban: v.nullable(BanState),
  audit: v.pipe(
    v.array(AuditRecordSchema),
    v.description('The user’s latest audit records (of the last 30 days), oldest first.'),
  ),
})

export const AuditResponse = v.object({
  records: v.array(AuditRecordSchema),
  cursor: v.optional(v.string()),
})

export const LoggedOutResponse = v.object({ ok: v.literal(true), loggedOut: v.number() })
export const UnbanResponse = v.object({
  ok: v.literal(true),
  lifted: v.pipe(v.boolean(), v.description('Whether a ban held.')),
})
