/**
 * HTTPS for the hub's own listener: the PEM certificate and key named by `http.tls_cert` /
 * `http.tls_key` (or JOULEHUB_TLS_CERT / JOULEHUB_TLS_KEY). Both or neither; a file that cannot be
 * read, or a pair Node refuses, is a start-up error that names the file and the option.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../sdk/errors.js';
import type { HubConfig } from '../hub/types.js';

export interface TlsFiles { cert: Buffer; key: Buffer }

function read(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError('TLS_FILE', `${option}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file });
  }
}

/** The certificate and key to serve HTTPS with, or undefined for plain HTTP. */
export function loadTls(config: Pick<HubConfig, 'http'>): TlsFiles | undefined {
  const { tlsCert, tlsKey } = config.http ?? {};
  if (!tlsCert && !tlsKey) return undefined;
  if (!tlsCert || !tlsKey) {
    throw new ConfigError('TLS_INCOMPLETE', `HTTPS needs both http.tls_cert and http.tls_key (JOULEHUB_TLS_CERT / JOULEHUB_TLS_KEY); only ${tlsCert ? 'the certificate' : 'the key'} is set`);
  }
  const files = { cert: read(tlsCert, 'http.tls_cert'), key: read(tlsKey, 'http.tls_key') };
  try {
    createSecureContext(files);
  } catch (err) {
    throw new ConfigError('TLS_INVALID', `http.tls_cert ${tlsCert} and http.tls_key ${tlsKey} are not a usable PEM certificate and key: ${(err as Error).message}`);
  }
  return files;
}
