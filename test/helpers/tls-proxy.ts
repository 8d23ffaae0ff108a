// A TLS endpoint in front of the private engine's unix socket, requiring client
// certificates as `dockerd --tlsverify` does, with certificates made by openssl.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** Makes a CA and a certificate signed by it; files are `<name>.pem` and `<name>-key.pem`. */
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

/** Certificates laid out as DOCKER_CERT_PATH folders: ca.pem, cert.pem, key.pem. */
export interface CertificateSet {
  /** Trusted CA, a client certificate it signed: what a correct client has. */
  readonly good: string;
  /** A client certificate signed by another CA: the server must refuse it. */
  readonly wrongClient: string;
  /** The right client certificate but a CA that did not sign the server. */
  readonly wrongCa: string;
  cleanup(): void;
}

export function makeCertificates(): CertificateSet {
  const folder = mkdtempSync(join(tmpdir(), 'dg-tls-'));
  makeCa(folder, 'ca');
  makeCa(folder, 'other-ca');
  issue(
    folder,
    'ca',
    'server',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  issue(folder, 'ca', 'client', 'extendedKeyUsage=clientAuth\n');
  issue(folder, 'other-ca', 'stranger', 'extendedKeyUsage=clientAuth\n');
  const layout = (name: string, ca: string, cert: string) => {
    const target = join(folder, name);
    execFileSync('mkdir', ['-p', target]);
    writeFileSync(join(target, 'ca.pem'), readFileSync(join(folder, `${ca}.pem`)));
    writeFileSync(join(target, 'cert.pem'), readFileSync(join(folder, `${cert}.pem`)));
    writeFileSync(join(target, 'key.pem'), readFileSync(join(folder, `${cert}-key.pem`)));
    return target;
  };
  return {
    good: layout('good', 'ca', 'client'),
    wrongClient: layout('wrong-client', 'ca', 'stranger'),
    wrongCa: layout('wrong-ca', 'other-ca', 'client'),
    cleanup: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** A TLS listener on 127.0.0.1 that requires a client certificate and forwards to the engine. */
export async function startTlsProxy(
  certificates: CertificateSet,
  socketPath: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer(
    {
      ca: readFileSync(join(certificates.good, 'ca.pem')),
      cert: readFileSync(join(certificates.good, '..', 'server.pem')),
      key: readFileSync(join(certificates.good, '..', 'server-key.pem')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (client) => {
      const upstream: Socket = connect(socketPath);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
