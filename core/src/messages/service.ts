/**
 * Messages between users and the admins (issue 4). Every user has one conversation with "the
 * admins", named by the user's id. The user writes to the admins; any admin writes to any user.
 *
 * Sides: in conversation C, the party whose user id is C is "the user"; everyone else who may be
 * there is an admin. So an admin has a conversation of their own with the other admins, by the same
 * rule, and no special case is needed.
 *
 * Live delivery goes through the hub bus event `user_frame`, which the WebSocket gateway sends to
 * the named users' open connections:
 *   {type: 'message', message}                       → both sides (the author's other tabs too)
 *   {type: 'message_read', conversation, messages, read_at, reader} → the authors of those messages
 *   {type: 'typing', conversation, user, state}      → the other side (built in typing.ts)
 */
import type { Kysely } from 'kysely';
import type { Role } from '../auth/caller.js';
import { JoulehubError } from '../sdk/errors.js';
import type { Clock, EventBus } from '../sdk/types.js';
import type { Database } from '../storage/schema.js';
import { insertMessage, latestIn, latestPerConversation, markRead, messagePage, unreadCounts, type StoredMessage } from './store.js';
import type { Party } from './typing.js';

export type { Party } from './typing.js';

export const MAX_BODY_LENGTH = 4000;

/** What the service needs of the user store (auth/users.ts UserStore fits). */
export interface UserLookup {
  get(id: string): Promise<{ id: string; role: Role } | undefined>;
}

export const MESSAGE_ERRORS = {
  FORBIDDEN: 403,
  CONVERSATION_NOT_FOUND: 404,
  MESSAGE_INVALID: 400,
} as const;

export class MessageError extends JoulehubError {
  declare readonly code: keyof typeof MESSAGE_ERRORS;
  readonly statusCode: number;
  constructor(code: keyof typeof MESSAGE_ERRORS, message: string) {
    super(code, message);
    this.statusCode = MESSAGE_ERRORS[code];
  }
}

/** A message as the API and the WebSocket show it. */
export interface MessageWire {
  id: number;
  /** The user id naming the conversation. */
  conversation: string;
  /** Who wrote it; null once that account is deleted. */
  author: string | null;
  /** Which side wrote it. */
  from: 'user' | 'admins';
  body: string;
  created_at: string;
  read_at: string | null;
}

export function messageToWire(m: StoredMessage): MessageWire {
  return {
    id: m.id,
    conversation: m.conversationId,
    author: m.authorId,
    from: m.toAdmins ? 'user' : 'admins',
    body: m.body,
    created_at: m.createdAt.toISOString(),
    read_at: m.readAt ? m.readAt.toISOString() : null,
  };
}

export interface UnreadSummary {
  total: number;
  conversations: { conversation: string; unread: number }[];
}

export interface ConversationSummary {
  conversation: string;
  last_message: MessageWire | null;
  unread: number;
}

export interface MessageServiceDeps {
  db: Kysely<Database>;
  bus: EventBus;
  clock: Clock;
  users: UserLookup;
}

export class MessageService {
  constructor(private readonly deps: MessageServiceDeps) {}

  /** Refuses a party that may not see conversation `id`, and one that does not exist (404). */
  async requireConversation(party: Party, id: string): Promise<{ id: string; role: Role }> {
    if (party.role !== 'admin' && party.userId !== id) {
      throw new MessageError('FORBIDDEN', 'you can only read and write your own conversation with the admins');
    }
    const owner = party.userId === id ? { id, role: party.role } : await this.deps.users.get(id);
    if (!owner) throw new MessageError('CONVERSATION_NOT_FOUND', `no user "${id}" to have a conversation with`);
    return owner;
  }

  async send(author: Party, conversation: string, body: string): Promise<MessageWire> {
    const text = body.trim();
    if (text.length === 0) throw new MessageError('MESSAGE_INVALID', 'a message needs some text');
    if (text.length > MAX_BODY_LENGTH) throw new MessageError('MESSAGE_INVALID', `a message has at most ${MAX_BODY_LENGTH} characters`);
    const owner = await this.requireConversation(author, conversation);
    const stored = await insertMessage(this.deps.db, {
      conversationId: conversation,
      authorId: author.userId,
      toAdmins: author.userId === conversation,
      body: text,
      at: new Date(this.deps.clock.now()),
    });
    const message = messageToWire(stored);
    // Both sides see it. A conversation owned by an admin is reached through 'admins' alone (no twice).
    this.deps.bus.emit('user_frame', { users: 'admins', frame: { type: 'message', message } });
    if (owner.role !== 'admin') this.deps.bus.emit('user_frame', { users: [conversation], frame: { type: 'message', message } });
    return message;
  }

  async history(viewer: Party, conversation: string, opts: { before?: number; limit: number }) {
    await this.requireConversation(viewer, conversation);
    const page = await messagePage(this.deps.db, conversation, opts);
    const messages = page.messages.map(messageToWire);
    return { messages, next_before: page.more && messages.length > 0 ? messages[0].id : null };
  }

  /**
   * Marks the other side's messages read (all, or up to message `upTo`) and tells their authors.
   * Reading again changes nothing and tells nobody.
   */
  async markRead(reader: Party, conversation: string, upTo?: number): Promise<{ read: number[]; read_at: string | null }> {
    await this.requireConversation(reader, conversation);
    const at = new Date(this.deps.clock.now());
    const changed = await markRead(this.deps.db, {
      conversationId: conversation,
      // The reader reads what the other side wrote.
      toAdmins: reader.userId !== conversation,
      ...(upTo !== undefined ? { upTo } : {}),
      readBy: reader.userId,
      at,
    });
    if (changed.length === 0) return { read: [], read_at: null };
    const ids = changed.map((m) => m.id);
    const authors = [...new Set(changed.map((m) => m.authorId).filter((a): a is string => a !== null))];
    if (authors.length > 0) {
      this.deps.bus.emit('user_frame', {
        users: authors,
        frame: { type: 'message_read', conversation, messages: ids, read_at: at.toISOString(), reader: reader.userId },
      });
    }
    return { read: ids, read_at: at.toISOString() };
  }

  /** Messages waiting for this party: from the admins in their own conversation; for admins, from every user too. */
  async unread(viewer: Party): Promise<UnreadSummary> {
    const counts = new Map<string, number>();
    const own = await unreadCounts(this.deps.db, { toAdmins: false, conversationId: viewer.userId });
    for (const [c, n] of own) counts.set(c, n);
    if (viewer.role === 'admin') {
      const fromUsers = await unreadCounts(this.deps.db, { toAdmins: true });
      // An admin's own messages to the other admins are not unread for that admin.
      fromUsers.delete(viewer.userId);
      for (const [c, n] of fromUsers) counts.set(c, (counts.get(c) ?? 0) + n);
    }
    const conversations = [...counts].map(([conversation, unread]) => ({ conversation, unread }))
      .sort((a, b) => a.conversation.localeCompare(b.conversation));
    return { total: conversations.reduce((s, c) => s + c.unread, 0), conversations };
  }

  /** An admin's inbox (every conversation with a message, newest first); a user's own conversation. */
  async conversations(viewer: Party, limit: number): Promise<ConversationSummary[]> {
    const unread = new Map((await this.unread(viewer)).conversations.map((c) => [c.conversation, c.unread]));
    if (viewer.role !== 'admin') {
      const last = await latestIn(this.deps.db, viewer.userId);
      return [{ conversation: viewer.userId, last_message: last ? messageToWire(last) : null, unread: unread.get(viewer.userId) ?? 0 }];
    }
    const latest = await latestPerConversation(this.deps.db, limit);
    return latest.map((m) => ({ conversation: m.conversationId, last_message: messageToWire(m), unread: unread.get(m.conversationId) ?? 0 }));
  }
}
