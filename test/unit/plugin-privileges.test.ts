// The grant rule of plugin installs and upgrades: exactly what the plugin asks for, in any order.
import { describe, expect, it } from 'vitest';
import { privilegeMismatch } from '../../src/docker/plugin-privileges.ts';

const asked = [
  { Name: 'network', Description: 'permissions to access a network', Value: ['host'] },
  { Name: 'mount', Description: '', Value: ['/data', '/var/lib/x'] },
  { Name: 'allow-all-devices', Description: '', Value: [] },
];

describe('privilegeMismatch', () => {
  it('accepts exactly the privileges asked for, in any order', () => {
    expect(
      privilegeMismatch(asked, [
        { name: 'allow-all-devices', value: [] },
        { name: 'mount', value: ['/var/lib/x', '/data'] },
        { name: 'network', value: ['host'] },
      ]),
    ).toBeNull();
    expect(privilegeMismatch([], [])).toBeNull();
  });

  it('names each privilege asked for and not granted, and each granted and not asked for', () => {
    const problem = privilegeMismatch(asked, [
      { name: 'network', value: ['host'] },
      { name: 'mount', value: ['/data', '/'] },
    ]);
    expect(problem).toContain(
      'the plugin asks for mount "/var/lib/x", allow-all-devices, not granted',
    );
    expect(problem).toContain('granted mount "/", which the plugin does not ask for');
  });

  it('refuses an empty grant for a plugin that asks for something', () => {
    expect(privilegeMismatch(asked, [])).toMatch(/asks for network "host"/);
  });

  it('refuses a grant for a plugin that asks for nothing', () => {
    expect(privilegeMismatch([], [{ name: 'network', value: ['host'] }])).toMatch(
      /granted network "host", which the plugin does not ask for/,
    );
  });
});
