/**
 * "Typing…" indicators: sent by a client over the WebSocket, shown to the other side of the
 * conversation, never stored. Pure: returns the `user_frame` event to emit, or why not.
 */
import type { Role } from '../auth/caller.js';
import type { HubEvents } from '../sdk/types.js';

/** A logged-in participant. */
export interface Party { userId: string; role: Role }

export type TypingState = 'start' | 'stop';

export type TypingResult =
  | { ok: true; event: HubEvents['user_frame'] }
  | { ok: false; reason: string };

/**
 * The other side of `conversation` as seen by `party`: for the conversation's user, every admin; for
 * an admin, that user (and not the other admins: they are on the same side).
 */
export function otherSide(party: Party, conversation: string): readonly string[] | 'admins' {
  return party.userId === conversation ? 'admins' : [conversation];
}

export function typingEvent(party: Party | undefined, conversation: string, state: TypingState): TypingResult {
  if (!party) return { ok: false, reason: 'log in to send typing indicators' };
  if (party.role !== 'admin' && party.userId !== conversation) {
    return { ok: false, reason: 'you can only type in your own conversation with the admins' };
  }
  return {
    ok: true,
    event: { users: otherSide(party, conversation), frame: { type: 'typing', conversation, user: party.userId, state } },
  };
}
