import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactBySchema, REDACTED } from '../../src/hub/logger.js';

describe('logger', () => {
  it('censors well-known secret keys at any of the first levels of a log line', () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        cb();
      },
    });
    const log = createLogger({ level: 'info', destination });
    log.info({ password: 'p1', mqtt: { token: 't1', broker: { password: 'p2', host: 'broker.local' } }, req: { headers: { authorization: 'Bearer x', cookie: 'sid=1' } } }, 'connecting');
    expect(lines[0]).toMatchObject({
      password: REDACTED,
      mqtt: { token: REDACTED, broker: { password: REDACTED, host: 'broker.local' } },
      req: { headers: { authorization: REDACTED, cookie: REDACTED } },
      msg: 'connecting',
    });
  });

  it('redacts the fields a config schema marks x-secret, in nested objects and arrays', () => {
    const schema = {
      type: 'object',
      properties: {
        host: { type: 'string' },
        apiKey: { type: 'string', 'x-secret': true },
        meters: { type: 'array', items: { type: 'object', properties: { pin: { type: 'string', 'x-secret': true }, id: { type: 'string' } } } },
      },
      additionalProperties: { type: 'object', properties: { secret: { 'x-secret': true } } },
    };
    const config = { host: 'inverter.local', apiKey: 'k', meters: [{ id: 'a', pin: '1234' }], extra: { secret: 's', keep: 1 } };
    expect(redactBySchema(config, schema)).toEqual({
      host: 'inverter.local', apiKey: REDACTED, meters: [{ id: 'a', pin: REDACTED }], extra: { secret: REDACTED, keep: 1 },
    });
    expect(config.apiKey).toBe('k'); // the original is untouched
  });
});
