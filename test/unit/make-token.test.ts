import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  describeMadeToken,
  makeToken,
  parseTokenArguments,
  TokenArgumentError,
} from '../../scripts/make-token.ts';
import { parseTokenConfiguration } from '../../src/config.ts';
import { Authenticator } from '../../src/security/principal.ts';

const fixedBytes = Buffer.alloc(32, 7);

describe('npm run token', () => {
  it('reads the id, the role and repeated labels, with or without "="', () => {
    expect(
      parseTokenArguments([
        '--id',
        'ci',
        '--role=admin',
        '--label',
        'team=payments',
        '--label=env=prod=eu',
      ]),
    ).toEqual({ id: 'ci', role: 'admin', labels: { team: 'payments', env: 'prod=eu' } });
    expect(parseTokenArguments(['--id', 'ci', '--role', 'viewer'])).toEqual({
      id: 'ci',
      role: 'viewer',
      labels: null,
    });
  });

  it('refuses missing, unknown and malformed arguments, saying which', () => {
    const refusal = (argv: string[]) => {
      try {
        parseTokenArguments(argv);
      } catch (error) {
        expect(error).toBeInstanceOf(TokenArgumentError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal(['--role', 'admin'])).toBe('--id is required');
    expect(refusal(['--id', 'ci'])).toBe('--role is required');
    expect(refusal(['--id'])).toBe('--id needs a value');
    expect(refusal(['--id', 'ci', '--role', 'admin', '--force'])).toBe(
      'unknown argument "--force"',
    );
    expect(refusal(['--id', 'ci', '--role', 'admin', '--label', 'team'])).toBe(
      '--label takes name=value, got "team"',
    );
    expect(refusal(['--id', 'a', '--role', 'b', '--label', 'x=1', '--label', 'x=2'])).toBe(
      '--label "x" is given twice',
    );
  });

  it('makes a 32-byte base64url token and an entry holding its SHA-256', () => {
    const made = makeToken({ id: 'ci', role: 'admin', labels: { team: 'payments' } }, fixedBytes);
    expect(made.token).toBe(fixedBytes.toString('base64url'));
    expect(made.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(made.entry).toEqual({
      id: 'ci',
      role: 'admin',
      sha256: createHash('sha256').update(made.token).digest('hex'),
      labels: { team: 'payments' },
    });
  });

  it('makes a different token each time', () => {
    const request = { id: 'ci', role: 'viewer', labels: null };
    expect(makeToken(request).token).not.toBe(makeToken(request).token);
  });

  it('makes an entry the server accepts, and whose token it lets in', () => {
    const made = makeToken({ id: 'ci', role: 'operator', labels: null }, fixedBytes);
    const configuration = parseTokenConfiguration(
      JSON.stringify({ tokens: [made.entry] }),
      'DOCKERGRAPH_TOKENS',
    );
    const result = new Authenticator(configuration).authenticate(`Bearer ${made.token}`);
    expect(result.principal).toMatchObject({ tokenId: 'ci', role: 'operator' });
  });

  it('refuses an id the server would refuse', () => {
    expect(() => makeToken({ id: 'bad id', role: 'admin', labels: null })).toThrow(
      '--id must be 1 to 64 letters, digits, ".", "_" or "-"',
    );
  });

  it('prints the token once, the entry, and how to define a custom role', () => {
    const made = makeToken({ id: 'deploy', role: 'deployer', labels: null }, fixedBytes);
    const text = describeMadeToken(made);
    expect(text.split(made.token)).toHaveLength(2);
    expect(text).toContain(JSON.stringify(made.entry));
    expect(text).toContain('Role "deployer" is not built in: define it under "roles"');
    expect(describeMadeToken(makeToken({ id: 'a', role: 'admin', labels: null }))).not.toContain(
      'not built in',
    );
  });
});
