import type { Destination } from '../../delivery/types.js';

/**
 * Paid broadcasts (Bot API 7.11, `allow_paid_broadcast`): a bot may send up to 1000 messages per second
 * instead of about 30 by paying 0.1 Telegram Star per message from its balance. Manchete uses it only for
 * private subscribers (`TELEGRAM_PAID_BROADCAST=subscribers`): channels and groups get one message per
 * story anyway, so paying there buys nothing.
 *
 * One switch per process, read by the sender (does this send carry the flag?) and by the pacer (does it
 * get the paid ceiling?). When Telegram refuses a paid send for lack of Stars, the switch goes off for the
 * rest of the process's life: sending carries on at the free 30/s, and the operator is told once, loudly.
 */
export interface PaidBroadcast {
  /** Sends to this destination carry `allow_paid_broadcast` and are paced on the paid ceiling. */
  applies(dest: Destination): boolean;
  /** True while paid broadcasts are configured and have not been turned off. */
  readonly active: boolean;
  /** Why it was turned off (the Bot API's answer), or null. */
  readonly offReason: string | null;
  /** Stars ran out: off until the next start. Returns true only for the call that turned it off. */
  turnOff(reason: string): boolean;
}

/** A Telegram private chat: a positive numeric id (groups and channels are negative, `@names` are channels). */
export function isPrivateTelegramChat(dest: Destination): boolean {
  return dest.platform === 'telegram' && dest.threadId === null && /^[1-9]\d{0,19}$/.test(dest.chatId);
}

export function createPaidBroadcast(mode: 'off' | 'subscribers'): PaidBroadcast {
  let active = mode === 'subscribers';
  let offReason: string | null = null;
  return {
    applies: (dest) => active && isPrivateTelegramChat(dest),
    get active() {
      return active;
    },
    get offReason() {
      return offReason;
    },
    turnOff(reason) {
      if (!active) return false;
      active = false;
      offReason = reason;
      return true;
    },
  };
}
