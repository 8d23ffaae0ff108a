import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/docker/errors.ts';
import { type CreateNetworkInput, toNetworkSpec } from '../../src/docker/network-spec.ts';

/** The field and message of the InvalidInputError `input` is refused with. */
function refusal(input: CreateNetworkInput): { field: string | null; message: string } {
  try {
    toNetworkSpec(input);
  } catch (error) {
    if (error instanceof InvalidInputError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('expected an InvalidInputError');
}

describe('toNetworkSpec', () => {
  it('maps a full input onto the engine spec, with defaults for what is not given', () => {
    // The pool's addresses reach the engine as they were given; its auxiliary ones become a map.
    const pool = { subnet: '172.30.0.0/16', ipRange: '172.30.5.0/24', gateway: '172.30.0.1' };
    expect(
      toNetworkSpec({
        name: 'backend.net',
        enableIpv6: true,
        ipam: {
          config: [
            { ...pool, auxiliaryAddresses: [{ name: 'router', value: '172.30.0.2' }] },
            { subnet: 'fd00:30::/64' },
          ],
          options: [{ name: 'opt', value: '1' }],
        },
        labels: [{ name: 'team', value: 'db' }],
      }),
    ).toEqual({
      name: 'backend.net',
      checkDuplicate: true,
      driver: 'bridge',
      internal: false,
      attachable: false,
      enableIpv6: true,
      ipam: {
        config: [
          { ...pool, auxiliaryAddresses: { router: '172.30.0.2' } },
          { subnet: 'fd00:30::/64' },
        ],
        options: { opt: '1' },
      },
      labels: { team: 'db' },
    });
  });

  const subnet = '172.31.0.0/26';
  it.each<[string, CreateNetworkInput, string, RegExp]>([
    ['a name starting with a dash', { name: '-leading-dash' }, 'input.name', /not a network name/],
    [
      'a prefix too long',
      { name: 'ok', ipam: { config: [{ subnet: '172.31.0.0/33' }] } },
      'input.ipam.config[0].subnet',
      /CIDR/,
    ],
    [
      'a subnet that is no CIDR',
      { name: 'ok', ipam: { config: [{ subnet: 'not-a-subnet' }] } },
      'input.ipam.config[0].subnet',
      /CIDR/,
    ],
    [
      'a zone id',
      { name: 'ok', enableIpv6: true, ipam: { config: [{ subnet: 'fe80::%eth0/64' }] } },
      'input.ipam.config[0].subnet',
      /CIDR/,
    ],
    [
      'a gateway outside the subnet',
      { name: 'ok', ipam: { config: [{ subnet, gateway: '10.0.0.1' }] } },
      'input.ipam.config[0].gateway',
      /not inside the subnet/,
    ],
    [
      'a gateway that is no address',
      { name: 'ok', ipam: { config: [{ subnet, gateway: 'gateway.local' }] } },
      'input.ipam.config[0].gateway',
      /not an IPv4 or IPv6 address/,
    ],
    [
      'a range wider than the subnet',
      { name: 'ok', ipam: { config: [{ subnet, ipRange: '172.31.0.0/25' }] } },
      'input.ipam.config[0].ipRange',
      /not inside the subnet/,
    ],
    [
      'a range of the other family',
      { name: 'ok', ipam: { config: [{ subnet, ipRange: 'fd00::/64' }] } },
      'input.ipam.config[0].ipRange',
      /not inside the subnet/,
    ],
    [
      'an auxiliary address outside the subnet',
      {
        name: 'ok',
        ipam: { config: [{ subnet, auxiliaryAddresses: [{ name: 'x', value: '10.0.0.9' }] }] },
      },
      'input.ipam.config[0].auxiliaryAddresses[0].value',
      /not inside the subnet/,
    ],
    [
      'an IPv6 subnet without IPv6',
      { name: 'ok', ipam: { config: [{ subnet: 'fd00:31::/64' }] } },
      'input.enableIpv6',
      /must be true/,
    ],
    [
      'overlapping subnets',
      { name: 'ok', ipam: { config: [{ subnet }, { subnet: '172.31.0.32/27' }] } },
      'input.ipam.config[1].subnet',
      /overlaps "172\.31\.0\.0\/26" of input\.ipam\.config\[0\]\.subnet/,
    ],
    [
      'a label given twice',
      {
        name: 'ok',
        labels: [
          { name: 'a', value: '1' },
          { name: 'a', value: '2' },
        ],
      },
      'input.labels[1].name',
      /given twice/,
    ],
    ['a blank driver', { name: 'ok', driver: ' ' }, 'input.driver', /must not be empty/],
    [
      'a blank IPAM driver',
      { name: 'ok', ipam: { driver: '' } },
      'input.ipam.driver',
      /must not be empty/,
    ],
  ])('refuses %s, naming the field', (_what, input, field, message) => {
    expect(refusal(input)).toEqual({ field, message: expect.stringMatching(message) });
  });
});
