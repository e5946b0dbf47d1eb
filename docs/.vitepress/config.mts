// The docs site: Chinese at `/`, English at `/en/`, the same pages under the
// same paths in both (so that the language switch lands on the same topic),
// one sidebar per language whose entries are the pages' own titles. Built
// with `npm run docs:build` into docs/.vitepress/dist, a static site that
// loads nothing from elsewhere (local search, no fonts or scripts from a CDN).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type DefaultTheme, defineConfig } from 'vitepress'

type Lang = 'zh' | 'en'

/** The sidebar's groups, in reading order: what a reader wants to do, then the reference. */
const GROUPS: { zh: string; en: string; pages: string[] }[] = [
  {
    zh: '入门',
    en: 'Getting started',
    pages: ['guide/quick-start', 'guide/install', 'guide/hono'],
  },
  {
    zh: '小程序',
    en: 'Mini program',
    pages: [
      'mini-program/sdk',
      'mini-program/user-info',
      'mini-program/phone',
      'mini-program/profile',
      'mini-program/identity',
      'mini-program/scan-login',
      'mini-program/platforms',
    ],
  },
  {
    zh: '微信网页与 App',
    en: 'WeChat web and App',
    pages: ['wechat/official-account', 'wechat/website', 'wechat/app'],
  },
  {
    zh: 'Node 与中国大陆',
    en: 'Node and mainland China',
    pages: ['node/index', 'node/mainland', 'node/redis', 'node/durability', 'node/hosting'],
  },
  {
    zh: '事件与合规',
    en: 'Events and compliance',
    pages: ['events/wechat-events', 'events/account-deletion'],
  },
  {
    zh: '安全与吊销',
    en: 'Security and revocation',
    pages: [
      'security/sessions',
      'security/revocation',
      'security/signing-key',
      'security/rate-limits',
      'security/session-key',
    ],
  },
  {
    zh: '运维',
    en: 'Operations',
    pages: [
      'operations/deploy',
      'operations/admin',
      'operations/playground',
      'operations/development',
    ],
  },
  { zh: '测试', en: 'Testing', pages: ['testing/emulator', 'testing/your-app', 'testing/node'] },
  {
    zh: '参考',
    en: 'Reference',
    pages: ['reference/options', 'reference/routes', 'reference/errors', 'reference/storage'],
  },
  {
    zh: '性能与升级',
    en: 'Benchmarks and upgrading',
    pages: ['more/benchmarks', 'more/upgrading'],
  },
]

/** The page's `# Title`, with its code spans as <code> (sidebar entries are HTML). */
function title(lang: Lang, page: string): string {
  const file = join(import.meta.dirname, '..', lang === 'en' ? 'en' : '', `${page}.md`)
  const heading = readFileSync(file, 'utf8').match(/^# (.+)$/m)?.[1]
  if (!heading) throw new Error(`${file} has no # title`)
  return heading.replace(/`([^`]+)`/g, '<code>$1</code>')
}

function sidebar(lang: Lang): DefaultTheme.SidebarItem[] {
  const prefix = lang === 'en' ? '/en/' : '/'
  return GROUPS.map((group) => ({
    text: group[lang],
    items: group.pages.map((page) => ({
      text: title(lang, page),
      link: prefix + page.replace(/(^|\/)index$/, '$1'),
    })),
  }))
}

export default defineConfig({
  title: 'wxa-auth',
  // Set to the path the site is served under, e.g. '/wxa-auth/' on GitHub Pages.
  base: process.env.DOCS_BASE ?? '/',
  locales: {
    root: {
      label: '简体中文',
      lang: 'zh-CN',
      description: '小程序登录与会话（微信、抖音、QQ），用于 Hono：Workers、Node 与 Redis',
      themeConfig: {
        sidebar: sidebar('zh'),
        nav: [{ text: '快速开始', link: '/guide/quick-start' }],
        outline: { level: [2, 3], label: '本页目录' },
        docFooter: { prev: '上一页', next: '下一页' },
        langMenuLabel: '切换语言',
        returnToTopLabel: '回到顶部',
        sidebarMenuLabel: '目录',
        darkModeSwitchLabel: '深色模式',
      },
    },
    en: {
      label: 'English',
      lang: 'en-US',
      link: '/en/',
      description:
        'Mini program login and sessions (WeChat, Douyin, QQ) for Hono: Workers, Node and Redis',
      themeConfig: {
        sidebar: sidebar('en'),
        nav: [{ text: 'Quick start', link: '/en/guide/quick-start' }],
        outline: { level: [2, 3] },
      },
    },
  },
  themeConfig: {
    search: {
      provider: 'local',
      options: {
        locales: {
          root: {
            translations: {
              button: { buttonText: '搜索文档', buttonAriaLabel: '搜索文档' },
              modal: {
                displayDetails: '显示详细列表',
                resetButtonTitle: '清除查询条件',
                backButtonTitle: '关闭搜索',
                noResultsText: '无法找到相关结果',
                footer: {
                  selectText: '选择',
                  navigateText: '切换',
                  closeText: '关闭',
                },
              },
            },
          },
        },
      },
    },
  },
})
