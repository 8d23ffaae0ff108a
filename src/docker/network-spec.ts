/**
 * The `createNetwork` input checked and turned into what the engine takes
 * (`POST /networks/create`), before any engine call: names, CIDR subnets,
 * ranges, gateways and auxiliary addresses inside their subnets, no overlaps.
 * Field names in errors are the GraphQL input's (`input.ipam.config[0].subnet`).
 *
 * @module
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { toEngineMap } from './container-spec.ts';
import { InvalidInputError } from './errors.ts';
import { givenFields } from './given-fields.ts';
import type { IpamPoolSpec, NetworkSpec } from './networks.ts';
import type { Maybe, NameValueSpec } from './spec-input.ts';

/** One address pool of a network to create. */
export interface IpamPoolInput {
  readonly subnet: string;
  readonly ipRange?: Maybe<string>;
  readonly gateway?: Maybe<string>;
  readonly auxiliaryAddresses?: Maybe<readonly NameValueSpec[]>;
}

/** A network to create, as the GraphQL input gives it. */
export interface CreateNetworkInput {
  readonly name: string;
  readonly driver?: Maybe<string>;
  readonly internal?: Maybe<boolean>;
  readonly attachable?: Maybe<boolean>;
  readonly enableIpv6?: Maybe<boolean>;
  readonly ipam?: Maybe<{
    readonly driver?: Maybe<string>;
    readonly config?: Maybe<readonly IpamPoolInput[]>;
    readonly options?: Maybe<readonly NameValueSpec[]>;
  }>;
  readonly labels?: Maybe<readonly NameValueSpec[]>;
  readonly options?: Maybe<readonly NameValueSpec[]>;
  readonly checkDuplicate?: Maybe<boolean>;
}

function toOptionalMap(
  field: string,
  entries: Maybe<readonly NameValueSpec[]>,
): Record<string, string> | undefined {
  return entries ? toEngineMap(field, entries) : undefined;
}

/** Network names the engine's CLI accepts: letters, digits, "_", "." and "-", not first. */
const networkNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

type IpFamily = 'ipv4' | 'ipv6';

/** A subnet or range in CIDR form; the address may have host bits set, as the engine allows. */
interface Cidr {
  readonly text: string;
  readonly address: string;
  readonly prefix: number;
  readonly family: IpFamily;
}

/** The family of a plain address; zone ids ("fe80::1%eth0") are no network addresses. */
export function ipFamily(address: string): IpFamily | null {
  if (address.includes('%')) return null;
  return isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
}

function parseCidr(field: string, text: string): Cidr {
  const match = /^([^/]+)\/(0|[1-9]\d{0,2})$/.exec(text);
  const address = match?.[1];
  const family = address === undefined ? null : ipFamily(address);
  const prefix = Number(match?.[2]);
  if (address === undefined || family === null || prefix > (family === 'ipv4' ? 32 : 128)) {
    throw new InvalidInputError(
      field,
      `"${text}" is not in CIDR form: an IPv4 or IPv6 address, "/" and a prefix length, e.g. "172.20.0.0/16" or "fd00:20::/64"`,
    );
  }
  return { text, address, prefix, family };
}

function isInside(subnet: Cidr, address: string, family: IpFamily): boolean {
  if (family !== subnet.family) return false;
  const block = new BlockList();
  block.addSubnet(subnet.address, subnet.prefix, subnet.family);
  return block.check(address, family);
}

/** Checks that `value` is a plain address inside `subnet`. */
function checkAddressInSubnet(field: string, value: string, subnet: Cidr) {
  const family = ipFamily(value);
  if (family === null) {
    throw new InvalidInputError(field, `"${value}" is not an IPv4 or IPv6 address`);
  }
  if (!isInside(subnet, value, family)) {
    throw new InvalidInputError(field, `"${value}" is not inside the subnet "${subnet.text}"`);
  }
}

/** Validates the pools and turns them into the engine's shape. */
function toIpamPools(pools: readonly IpamPoolInput[], enableIpv6: boolean): IpamPoolSpec[] {
  const subnets: Cidr[] = [];
  return pools.map((pool, index) => {
    const field = `input.ipam.config[${index}]`;
    const subnet = parseCidr(`${field}.subnet`, pool.subnet);
    if (subnet.family === 'ipv6' && !enableIpv6) {
      throw new InvalidInputError(
        'input.enableIpv6',
        `must be true for the IPv6 subnet "${subnet.text}" of ${field}.subnet`,
      );
    }
    subnets.forEach((other, otherIndex) => {
      if (
        isInside(other, subnet.address, subnet.family) ||
        isInside(subnet, other.address, other.family)
      ) {
        throw new InvalidInputError(
          `${field}.subnet`,
          `"${subnet.text}" overlaps "${other.text}" of input.ipam.config[${otherIndex}].subnet`,
        );
      }
    });
    subnets.push(subnet);
    if (pool.ipRange !== null && pool.ipRange !== undefined) {
      const range = parseCidr(`${field}.ipRange`, pool.ipRange);
      if (range.prefix < subnet.prefix || !isInside(subnet, range.address, range.family)) {
        throw new InvalidInputError(
          `${field}.ipRange`,
          `"${range.text}" is not inside the subnet "${subnet.text}"`,
        );
      }
    }
    if (pool.gateway !== null && pool.gateway !== undefined) {
      checkAddressInSubnet(`${field}.gateway`, pool.gateway, subnet);
    }
    const auxiliaryAddresses = toOptionalMap(
      `${field}.auxiliaryAddresses`,
      pool.auxiliaryAddresses,
    );
    pool.auxiliaryAddresses?.forEach((entry, entryIndex) => {
      checkAddressInSubnet(`${field}.auxiliaryAddresses[${entryIndex}].value`, entry.value, subnet);
    });
    return {
      subnet: pool.subnet,
      ...givenFields({ ipRange: pool.ipRange, gateway: pool.gateway, auxiliaryAddresses }),
    };
  });
}

function checkNotBlank(field: string, value: string | null | undefined) {
  if (value !== null && value !== undefined && value.trim() === '') {
    throw new InvalidInputError(field, 'must not be empty');
  }
}

/** Checks a `createNetwork` input and builds what the engine takes, before any engine call. */
export function toNetworkSpec(input: CreateNetworkInput): NetworkSpec {
  if (!networkNamePattern.test(input.name)) {
    throw new InvalidInputError(
      'input.name',
      `"${input.name}" is not a network name: letters, digits, "_", "." and "-", starting with a letter or digit`,
    );
  }
  checkNotBlank('input.driver', input.driver);
  checkNotBlank('input.ipam.driver', input.ipam?.driver);
  const enableIpv6 = input.enableIpv6 ?? false;
  const ipam = input.ipam
    ? givenFields({
        driver: input.ipam.driver,
        config: input.ipam.config ? toIpamPools(input.ipam.config, enableIpv6) : undefined,
        options: toOptionalMap('input.ipam.options', input.ipam.options),
      })
    : undefined;
  return {
    name: input.name,
    checkDuplicate: input.checkDuplicate ?? true,
    driver: input.driver ?? 'bridge',
    internal: input.internal ?? false,
    attachable: input.attachable ?? false,
    enableIpv6,
    ...givenFields({
      ipam,
      labels: toOptionalMap('input.labels', input.labels),
      options: toOptionalMap('input.options', input.options),
    }),
  };
}
