// Certificates for mutual TLS between dockergraph and a dockerd started with --tlsverify, made
// by openssl: a CA, the engine's server certificate, a client certificate it trusts, and the
// wrong ones.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** Makes a certificate signed by `ca`; files are `<name>.pem` and `<name>-key.pem`. */
function issue(folder: string, ca: string, name: string, extensions: string): void {
  openssl(
    [
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    ],
    folder,
  );
  writeFileSync(join(folder, `${name}.ext`), extensions);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}-key.pem`,
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    ],
    folder,
  );
}

function makeCa(folder: string, name: string): void {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.pem`,
    ],
    folder,
  );
}

/**
 * Certificates, each client set laid out as a DOCKER_CERT_PATH folder (ca.pem,
 * cert.pem, key.pem) and the engine's as dockerd's --tlscacert, --tlscert and
 * --tlskey files (ca.pem, server-cert.pem, server-key.pem).
 */
export interface CertificateSet {
  /** For dockerd: the CA it trusts client certificates of, and its own certificate. */
  readonly engine: string;
  /** Trusted CA, a client certificate it signed: what a correct client has. */
  readonly good: string;
  /** A client certificate signed by another CA: the engine must refuse it. */
  readonly wrongClient: string;
  /** The right client certificate but a CA that did not sign the engine's certificate. */
  readonly wrongCa: string;
  cleanup(): void;
}

/**
 * Makes the certificates; the engine's names `serverAddresses` (IP addresses)
 * in its subjectAltName, as a client connecting to one of them checks.
 */
export function makeCertificates(serverAddresses: readonly string[]): CertificateSet {
  const folder = mkdtempSync(join(tmpdir(), 'dg-tls-'));
  makeCa(folder, 'ca');
  makeCa(folder, 'other-ca');
  const altNames = serverAddresses.map((address) => `IP:${address}`).join(',');
  issue(folder, 'ca', 'server', `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\n`);
  issue(folder, 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
  issue(folder, 'other-ca', 'stranger', 'extendedKeyUsage=clientAuth\n');
  const layout = (name: string, files: Record<string, string>) => {
    const target = join(folder, name);
    mkdirSync(target);
    for (const [file, source] of Object.entries(files)) {
      writeFileSync(join(target, file), readFileSync(join(folder, source)));
    }
    return target;
  };
  const client = (ca: string, cert: string) => ({
    'ca.pem': `${ca}.pem`,
    'cert.pem': `${cert}.pem`,
    'key.pem': `${cert}-key.pem`,
  });
  return {
    engine: layout('engine', {
      'ca.pem': 'ca.pem',
      'server-cert.pem': 'server.pem',
      'server-key.pem': 'server-key.pem',
    }),
    good: layout('good', client('ca', 'client')),
    wrongClient: layout('wrong-client', client('ca', 'stranger')),
    wrongCa: layout('wrong-ca', client('other-ca', 'client')),
    cleanup: () => rmSync(folder, { recursive: true, force: true }),
  };
}
