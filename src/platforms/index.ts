import { douyin } from './douyin/platform'
import type { PlatformDefinition } from './platform'
import { qq } from './qq/platform'
import { wechat } from './wechat/platform'

/** Every platform wxa-auth serves: a new one is a folder and one line here. */
export const PLATFORMS: readonly PlatformDefinition[] = [wechat, douyin, qq]
