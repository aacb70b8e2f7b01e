/**
 * WebSocket message shapes (`/api/v1/ws`). Every message is a JSON object with a `type`; a client
 * may add an `id` (string or number) that the direct answer echoes. Exported for the frontend
 * (type-only imports).
 */
import type { StateWire } from '../wire.js';

export type MessageId = string | number;

export type ClientMessage =
  | { type: 'subscribe'; id?: MessageId; entities: string[] | '*' }
  | { type: 'unsubscribe'; id?: MessageId; entities: string[] | '*' }
  | { type: 'ping'; id?: MessageId }
  /** "Typing…" in a message conversation (named by its user's id), shown to the other side; not stored. */
  | { type: 'typing'; id?: MessageId; conversation: string; state: 'start' | 'stop' };

export type WsErrorCode =
  | 'invalid_json' // the frame is not JSON
  | 'invalid_message' // JSON, but not a valid message of its type
  | 'unknown_type'
  | 'unknown_entity' // no such entity, or one the caller may not see
  | 'too_many_subscriptions'
  | 'forbidden'; // e.g. typing in someone else's conversation

export type ServerMessage =
  /** Answer to subscribe: the current state of each newly subscribed entity that has one. */
  | { type: 'states'; id?: MessageId; states: StateWire[] }
  /** Coalesced changes: the latest state per entity since the previous frame. */
  | { type: 'state_changed'; states: StateWire[] }
  | { type: 'unsubscribed'; id?: MessageId; entities: string[] | '*' }
  | { type: 'pong'; id?: MessageId }
  | { type: 'error'; id?: MessageId; code: WsErrorCode; message: string; entities?: string[] };

export const CLIENT_MESSAGE_TYPES = ['subscribe', 'unsubscribe', 'ping', 'typing'] as const;

export type ParsedMessage =
  | { ok: true; message: ClientMessage }
  | { ok: false; error: Extract<ServerMessage, { type: 'error' }> };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one text frame. Pure. */
export function parseClientMessage(text: string, maxEntities: number): ParsedMessage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, error: { type: 'error', code: 'invalid_json', message: 'message is not valid JSON' } };
  }
  if (!isObject(data)) {
    return { ok: false, error: { type: 'error', code: 'invalid_message', message: 'message must be a JSON object with a type' } };
  }
  const rawId = data.id;
  const id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : undefined;
  const fail = (code: WsErrorCode, message: string): ParsedMessage =>
    ({ ok: false, error: { type: 'error', ...(id !== undefined ? { id } : {}), code, message } });

  if (rawId !== undefined && id === undefined) return fail('invalid_message', 'id must be a string or a number');
  if (typeof data.type !== 'string') return fail('invalid_message', 'message must have a string type');

  switch (data.type) {
    case 'ping':
      return { ok: true, message: { type: 'ping', ...(id !== undefined ? { id } : {}) } };
    case 'subscribe':
    case 'unsubscribe': {
      const entities = data.entities;
      if (entities !== '*') {
        if (!Array.isArray(entities) || entities.length === 0 || !entities.every((e) => typeof e === 'string' && e.length > 0)) {
          return fail('invalid_message', `${data.type}: entities must be "*" or a non-empty array of entity ids`);
        }
        if (entities.length > maxEntities) {
          return fail('too_many_subscriptions', `${data.type}: at most ${maxEntities} entities per connection`);
        }
      }
      return {
        ok: true,
        message: { type: data.type, ...(id !== undefined ? { id } : {}), entities: entities === '*' ? '*' : [...new Set(entities as string[])] },
      };
    }
    case 'typing': {
      const { conversation, state } = data;
      if (typeof conversation !== 'string' || conversation.length === 0 || conversation.length > 200) {
        return fail('invalid_message', 'typing: conversation must be the user id naming the conversation');
      }
      if (state !== 'start' && state !== 'stop') return fail('invalid_message', 'typing: state must be "start" or "stop"');
      return { ok: true, message: { type: 'typing', ...(id !== undefined ? { id } : {}), conversation, state } };
    }
    default:
      return fail('unknown_type', `unknown message type ${JSON.stringify(data.type)}; expected one of ${CLIENT_MESSAGE_TYPES.join(', ')}`);
  }
}
