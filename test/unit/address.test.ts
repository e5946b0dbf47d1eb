// TRUST_PROXY: which X-Forwarded-For entries are addresses (the rest are not believed).
import { describe, expect, it } from 'vitest'
import { forwardedAddress } from '../../src/runtime/node/address'

describe('forwardedAddress', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['0.0.0.0', '0.0.0.0'],
    ['::1', '::1'],
    ['::', '::'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:db8:0:0:0:0:0:1', '2001:db8:0:0:0:0:0:1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4:5:6:192.0.2.1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7::'],
    // As some proxies write them: with a port, IPv6 in brackets.
    ['192.0.2.1:8443', '192.0.2.1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
  ])('%s is the address %s', (entry, address) => {
    expect(forwardedAddress(entry)).toBe(address)
  })

  it.each([
    '',
    'unknown',
    'attacker-1',
    'example.com',
    '192.0.2',
    '192.0.2.256',
    '01.2.3.4',
    '1.2.3.4.5',
    '1.2.3.4:',
    '1.2.3.4:123456',
    '[1.2.3.4]',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '1:2:3:4:5:6:7:192.0.2.1',
    'gggg::1',
    '2001:db8::1%eth0',
    '[::1',
    '::1 ',
  ])('%j is not an address', (entry) => {
    expect(forwardedAddress(entry)).toBeUndefined()
  })
})
