import type { RateLimiter } from '../runtime'

/** A Workers Rate Limiting binding (wrangler.toml `[[ratelimits]]`) as a {@link RateLimiter}. */
export function bindingLimiter(binding: RateLimit | undefined): RateLimiter | undefined {
  return binding && { limit: async (key) => (await binding.limit({ key })).success }
}
