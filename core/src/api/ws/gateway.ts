/**
 * The WebSocket gateway: `GET /api/v1/ws`. Each connection is a WsClient whose bus listeners are
 * registered under its own owner and removed when it closes. A plain HTTP GET gets a 426 problem.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Hub } from '../../hub/types.js';
import type { AccessPolicy } from '../access.js';
import { revokes } from '../../auth/service.js';
import { ApiError } from '../errors.js';
import { problemResponses } from '../schemas.js';
import { WsClient, type FrameTimer } from './client.js';

export interface WsGatewayOptions {
  /** Minimum time between two `state_changed` frames of one client (default 50 ms → ≤ 20 frames/s). */
  frameIntervalMs?: number;
  /** Time source for coalescing; defaults to the hub clock and scheduler. */
  timer?: FrameTimer;
  /** Entities one connection may subscribe to by name (default 10,000). */
  maxEntities?: number;
  /** Largest incoming message in bytes (default 64 KiB). */
  maxPayload?: number;
  /** Socket send buffer above which frames are held back (default 1 MiB). */
  maxBufferedBytes?: number;
}

export interface WsGatewayStats {
  connections: number;
  /** `state_changed` frames sent since the server was built, over all connections. */
  stateFrames: number;
}

export interface WsGateway {
  stats(): WsGatewayStats;
  /** Per connection, in connection order: its owner id, subscriptions and frames sent. */
  clients(): { owner: string; subscriptions: string[]; stateFrames: number }[];
  close(): void;
}

export const DEFAULT_FRAME_INTERVAL_MS = 50;

/** Close code (application range) when the session or token a socket opened with has ended. */
export const WS_CLOSE_CREDENTIALS_ENDED = 4401;

function hubTimer(hub: Hub): FrameTimer {
  return {
    now: () => hub.clock.now(),
    after: (ms, fn) => {
      const task = hub.scheduler.after(ms, fn);
      return () => task.stop();
    },
  };
}

export function registerWsGateway(app: FastifyInstance, hub: Hub, policy: AccessPolicy, opts: WsGatewayOptions = {}): WsGateway {
  const timer = opts.timer ?? hubTimer(hub);
  const frameIntervalMs = opts.frameIntervalMs ?? DEFAULT_FRAME_INTERVAL_MS;
  const live = new Set<WsClient>();
  const owners = new Map<WsClient, string>();
  let seq = 0;
  let stateFrames = 0;

  const accept = (socket: WebSocket, request: FastifyRequest) => {
    const owner = `api-ws:${++seq}`;
    // A socket lives on the credential it opened with: when that ends (logout, revoked token,
    // password or role change, deleted user) the socket is closed, and a reconnect is checked anew.
    const caller = request.caller;
    const stopWatching = caller?.userId
      ? hub.auth.onRevoked((r) => {
        if (!revokes(r, caller)) return;
        request.log.debug({ owner }, 'credentials ended: closing the websocket');
        socket.close(WS_CLOSE_CREDENTIALS_ENDED, 'credentials ended; reconnect');
      })
      : undefined;
    const client: WsClient = new WsClient(socket, {
      hub,
      owner,
      canSeeDevice: (deviceId) => policy.canSeeDevice(request, deviceId),
      user: request.caller ? { id: request.caller.userId, role: request.caller.role } : undefined,
      timer,
      frameIntervalMs,
      maxEntities: opts.maxEntities ?? 10_000,
      maxBufferedBytes: opts.maxBufferedBytes ?? 1024 * 1024,
      onStateFrame: () => { stateFrames++; },
      onClose: () => {
        stopWatching?.();
        live.delete(client);
        owners.delete(client);
      },
    });
    live.add(client);
    owners.set(client, owner);
    request.log.debug({ owner }, 'websocket connected');
  };

  app.route({
    method: 'GET',
    url: '/api/v1/ws',
    config: { access: 'read' },
    schema: {
      tags: ['live'],
      summary: 'WebSocket: live states',
      description: 'Upgrade to a WebSocket. Send `{"type":"subscribe","entities":["fridge.power"]}` (or `"*"`), '
        + '`{"type":"unsubscribe","entities":[…]}`, `{"type":"ping"}`, each with an optional `id` echoed in the answer. '
        + 'Receive `{"type":"states"}` with current states after subscribe, then `{"type":"state_changed"}` frames '
        + '(latest state per entity, at most one frame per 50 ms), `{"type":"pong"}` and `{"type":"error","code","message"}`.',
      response: problemResponses(426),
    },
    handler: async () => {
      throw new ApiError('UPGRADE_REQUIRED', 'This endpoint speaks WebSocket; send an Upgrade: websocket request');
    },
    wsHandler: accept,
  });

  return {
    stats: () => ({ connections: live.size, stateFrames }),
    clients: () => [...live].map((c) => ({ owner: owners.get(c)!, subscriptions: c.subscriptions(), stateFrames: c.stateFrames })),
    close: () => {
      for (const client of [...live]) client.close();
    },
  };
}
