import type { AuthenticationCreds, AuthenticationState, SignalDataSet, SignalDataTypeMap } from '@whiskeysockets/baileys';
import type { Db } from '../../store/db.js';

/**
 * WhatsApp's session (creds + signal keys) in the `wa_auth` table, so a restart or a deploy never asks to
 * pair again. Baileys' own multi-file store is documented as unfit for production; this one keeps every
 * key type Baileys 7 writes (including `lid-mapping`, `device-list`, `tctoken`, `identity-key`) as JSON
 * written with `BufferJSON.replacer`, and each `keys.set` lands in one transaction: a crash never leaves half
 * a ratchet update behind. Queries are plain kysely (upserts through `onConflict`), so they run on SQLite and
 * PostgreSQL alike.
 *
 * One process per session: the lease (`lease.ts`) keeps a second process away; this module assumes it.
 */
export interface DatabaseAuthState {
  /** Hand this to Baileys as `auth`. `state.creds` is mutated in place by Baileys; `saveCreds` persists it. */
  state: AuthenticationState;
  /** Writes the current creds (call it on every `creds.update`). */
  saveCreds(): Promise<void>;
  /** Deletes the whole session (after a 401 logout) and resets `state.creds` to fresh, unpaired creds. */
  clear(): Promise<void>;
}

/** The `type` of the row holding the creds; signal keys use their SignalDataTypeMap name. */
const CREDS = 'creds';
/** SQLite allows 999 bound parameters per statement in old builds; stay well under it. */
const CHUNK = 300;

type Baileys = typeof import('@whiskeysockets/baileys');

/** Serialises a value the way Baileys expects to read it back (Buffers and Uint8Arrays as tagged base64). */
function encodeAuthValue({ BufferJSON }: Baileys, value: unknown): string {
  return JSON.stringify(value, BufferJSON.replacer);
}

/** Reads back what `encodeAuthValue` wrote; app-state-sync keys become protobuf objects again. */
function decodeAuthValue<T extends keyof SignalDataTypeMap>({ BufferJSON, proto }: Baileys, type: T, text: string): SignalDataTypeMap[T] {
  const value: unknown = JSON.parse(text, BufferJSON.reviver);
  if (type === 'app-state-sync-key') {
    return proto.Message.AppStateSyncKeyData.fromObject(value as Record<string, unknown>) as unknown as SignalDataTypeMap[T];
  }
  return value as SignalDataTypeMap[T];
}

/**
 * Loads (or starts) the session named `session` and returns an auth state backed by the database.
 * Fresh creds are not written until Baileys' first `creds.update`, so a failed first start leaves no row.
 * Loads Baileys (its serialisers and key generator): call it when a connection is about to be made.
 */
export async function useDatabaseAuthState(db: Db, session: string): Promise<DatabaseAuthState> {
  const baileys = await import('@whiskeysockets/baileys');
  const { BufferJSON, initAuthCreds } = baileys;
  const row = await db
    .selectFrom('wa_auth')
    .select('value')
    .where('session', '=', session)
    .where('type', '=', CREDS)
    .where('key_id', '=', CREDS)
    .executeTakeFirst();
  const creds: AuthenticationCreds = row
    ? (JSON.parse(row.value, BufferJSON.reviver) as AuthenticationCreds)
    : initAuthCreds();

  const state: AuthenticationState = {
    creds,
    keys: {
      async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
        const out: { [id: string]: SignalDataTypeMap[T] } = {};
        for (let i = 0; i < ids.length; i += CHUNK) {
          const chunk = ids.slice(i, i + CHUNK);
          if (chunk.length === 0) continue;
          const rows = await db
            .selectFrom('wa_auth')
            .select(['key_id', 'value'])
            .where('session', '=', session)
            .where('type', '=', type)
            .where('key_id', 'in', chunk)
            .execute();
          for (const r of rows) out[r.key_id] = decodeAuthValue(baileys, type, r.value);
        }
        return out;
      },

      async set(data: SignalDataSet) {
        // Serialise everything first: a value that cannot be encoded fails the call before any write.
        const upserts: { session: string; type: string; key_id: string; value: string }[] = [];
        const deletes: { type: string; key_id: string }[] = [];
        for (const [type, entries] of Object.entries(data)) {
          if (!entries) continue;
          for (const [id, value] of Object.entries(entries as Record<string, unknown>)) {
            if (value === null || value === undefined) deletes.push({ type, key_id: id });
            else upserts.push({ session, type, key_id: id, value: encodeAuthValue(baileys, value) });
          }
        }
        if (upserts.length === 0 && deletes.length === 0) return;
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < upserts.length; i += CHUNK / 4) {
            await trx
              .insertInto('wa_auth')
              .values(upserts.slice(i, i + CHUNK / 4))
              .onConflict((oc) =>
                oc.columns(['session', 'type', 'key_id']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
              )
              .execute();
          }
          for (const d of deletes) {
            await trx
              .deleteFrom('wa_auth')
              .where('session', '=', session)
              .where('type', '=', d.type)
              .where('key_id', '=', d.key_id)
              .execute();
          }
        });
      },

      async clear() {
        await db.deleteFrom('wa_auth').where('session', '=', session).where('type', '<>', CREDS).execute();
      },
    },
  };

  return {
    state,
    async saveCreds() {
      const value = encodeAuthValue(baileys, state.creds);
      await db
        .insertInto('wa_auth')
        .values({ session, type: CREDS, key_id: CREDS, value })
        .onConflict((oc) => oc.columns(['session', 'type', 'key_id']).doUpdateSet({ value }))
        .execute();
    },
    async clear() {
      await db.deleteFrom('wa_auth').where('session', '=', session).execute();
      state.creds = initAuthCreds();
    },
  };
}

/**
 * True when the stored creds belong to a paired account (a restart will not ask for a QR). `me` alone is not
 * enough: `requestPairingCode` sets it before the phone accepts; `account` arrives only with pair-success.
 */
export function isPaired(creds: AuthenticationCreds): boolean {
  return Boolean(creds.me?.id) && Boolean(creds.account);
}
