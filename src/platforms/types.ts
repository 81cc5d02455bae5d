import type { Platform } from '../render/types.js';
import type { Destination, PlatformSender } from '../delivery/types.js';
import type { PacingPolicy } from '../delivery/pacer.js';
import type { RouteHandler } from '../http/server.js';
import type { CommandRouter } from '../commands/router.js';
import type { Notifier } from '../commands/services.js';
import type { Store } from '../store/db.js';

/**
 * The contract between a platform and the rest of the program. A platform is handed a `PlatformHost`
 * (what it may ask of the app), never the app itself, so nothing under `platforms/` depends on how the
 * composition root is put together, and the root can be rearranged without touching a platform.
 */

/** Destination bookkeeping a platform reports after checking its chats. */
export interface DestinationUpdates {
  describe(id: string, info: { title?: string | null; kind?: string | null }): Promise<void>;
  markDead(id: string, reason: string): Promise<void>;
  /** The chat moved (a WhatsApp number that resolved to another JID): the row follows it. */
  migrate(id: string, newChatId: string): Promise<void>;
}

/** What a platform needs from the rest of the program. */
export interface PlatformHost {
  /** The command router's entry points (messages, button presses, the command menu). */
  router: Pick<CommandRouter, 'handleMessage' | 'handleAction' | 'menu'>;
  destinations: DestinationUpdates;
  /** New work may be sendable (the platform became ready): the dispatcher looks at once. */
  wake(): void;
  /** Where the operator-facing lines go (destination checks, sign-in trouble). */
  print(line: string): void;
  /** The database the platform keeps its own state in (WhatsApp auth keys, the session lease). */
  store: Store;
  /** This process's id (`host:pid:random`), the same one used for the instance lock and delivery claims. */
  instanceId: string;
  /** Queues replies to a chat in the outbox, paced and retried like posts (WhatsApp command answers). */
  notifier: Notifier;
}

/** A platform as the app sees it: its sender, the limits it must be paced to, its destinations, its lifecycle. */
export interface PlatformModule {
  platform: Platform;
  sender: PlatformSender;
  /** The platform's limits; the delivery side builds the pacer from them. */
  pacing: PacingPolicy;
  /** The destinations configured for this platform (env + routes file), already parsed. */
  destinations: Destination[];
  /** Connects, checks destinations, starts receiving commands. */
  start(host: PlatformHost): Promise<void>;
  stop(): Promise<void>;
  /** For /health and /status: 'open', 'connecting', 'polling', … */
  state(): string;
  /** Whether this instance holds the platform's updates lease (Telegram long polling), for `manchete status`. */
  holdsUpdates?: () => boolean;
  /** HTTP handlers this platform mounts (the Telegram webhook). */
  httpHandlers?: RouteHandler[];
}
