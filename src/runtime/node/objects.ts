import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ObjectStore } from '../../storage/objects'

const FALLBACK_TYPE = 'application/octet-stream'

/**
 * A directory as the {@link ObjectStore} of avatars (`AVATARS_DIR` on Node).
 * Each object is a file named by its key (base64url, so any key is a safe
 * name) and its media type beside it (`<name>.type`); both are written to a
 * temporary file and renamed into place, so a reader sees the whole object or
 * none. Several processes on one machine share it; several machines need a
 * shared volume (NFS, CFS) or another object store.
 */
export function directoryObjects(dir: string): ObjectStore {
  const path = (key: string) => join(dir, Buffer.from(key).toString('base64url'))
  let made: Promise<unknown> | undefined
  const atomic = async (file: string, data: Uint8Array | string) => {
    made ??= mkdir(dir, { recursive: true })
    await made
    const temporary = join(dir, `.tmp-${randomBytes(8).toString('hex')}`)
    try {
      await writeFile(temporary, data)
      await rename(temporary, file)
    } catch (err) {
      await rm(temporary, { force: true })
      throw err
    }
  }
  return {
    async put(key, body, type) {
      // The type first: a body never stands without it.
      await atomic(`${path(key)}.type`, type)
      await atomic(path(key), body)
    },
    async get(key) {
      let body: Buffer
      try {
        body = await readFile(path(key))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw err
      }
      const type = await readFile(`${path(key)}.type`, 'utf8').catch(() => FALLBACK_TYPE)
      return { body: new Uint8Array(body), type: type || FALLBACK_TYPE, size: body.length }
    },
    async delete(key) {
      await rm(path(key), { force: true })
      await rm(`${path(key)}.type`, { force: true })
    },
  }
}
