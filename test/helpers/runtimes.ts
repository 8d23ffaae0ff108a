// The runtimes the npm packages "deno", "bun" and "workerd" install, as their own binaries
// (their bin shims run them under node, which would sit between a test and the runtime).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BINARIES = {
  deno: ['@deno/linux-x64-glibc/deno', '@deno/linux-arm64-glibc/deno'],
  bun: ['bun/bin/bun.exe', '@oven/bun-linux-x64/bin/bun', '@oven/bun-linux-aarch64/bin/bun'],
  workerd: [
    '@cloudflare/workerd-linux-64/bin/workerd',
    '@cloudflare/workerd-linux-arm64/bin/workerd',
  ],
} as const;

/** Path of a runtime's binary under node_modules. */
export function runtimeBinary(name: keyof typeof BINARIES): string {
  for (const candidate of BINARIES[name]) {
    const path = fileURLToPath(new URL(`../../node_modules/${candidate}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`no ${name} binary under node_modules: run npm install (package "${name}")`);
}
