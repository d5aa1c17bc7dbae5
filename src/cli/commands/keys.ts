import { createFileKeyStore, resolveKeysFile } from '../../server/keys.js';
import { type Command, optionalString, UsageError } from '../command.js';

/**
 * `mneme keys create --app APP [--admin]`, `mneme keys list`, `mneme keys revoke ID`: API keys of `mneme serve`,
 * kept hashed in the keys file (`--keys PATH` / env MNEME_KEYS_FILE / `<data dir>/keys.json`). A running server
 * picks up changes on its next request.
 */
export const keysCommand: Command = {
  name: 'keys',
  summary: 'create, list and revoke API keys for `mneme serve`',
  usage: 'keys create --app APP [--admin] | keys list | keys revoke ID   [--keys PATH]',
  options: {
    app: { type: 'string' },
    admin: { type: 'boolean' },
    keys: { type: 'string' },
  },
  async run(context) {
    const [action, ...rest] = context.positionals;
    const path = resolveKeysFile(optionalString(context, 'keys'), context.env);
    const keys = createFileKeyStore({ path });
    if (action === 'create') {
      const app = optionalString(context, 'app');
      const admin = context.values.admin === true;
      if (app === undefined && !admin) {
        throw new UsageError('--app is required: mneme keys create --app APP (or --admin for a key manager)');
      }
      const { key, info } = await keys.create({ admin, ...(app !== undefined ? { appId: app } : {}) });
      if (context.json) {
        context.out(JSON.stringify({ key, ...info, keysFile: path }));
      } else {
        context.out(key);
        context.err(
          `mneme: created ${admin ? 'admin ' : ''}key ${info.id}${app !== undefined ? ` for app "${app}"` : ''} ` +
            `in ${path}. It is shown only now: store it as a secret. Send it as "Authorization: Token <key>".`,
        );
      }
      return 0;
    }
    if (action === 'list') {
      const all = await keys.list();
      if (context.json) context.out(JSON.stringify({ keys: all, keysFile: path }));
      else if (all.length === 0)
        context.out(`no keys in ${path}; create one with mneme keys create --app APP`);
      else {
        for (const info of all) {
          const state = info.revokedAt ? `revoked ${info.revokedAt}` : 'active';
          context.out(
            `${info.id}  app=${info.appId ?? '-'}${info.admin ? '  admin' : ''}  created ${info.createdAt}  ${state}`,
          );
        }
      }
      return 0;
    }
    if (action === 'revoke') {
      const [id] = rest;
      if (!id)
        throw new UsageError('give the key id to revoke (see `mneme keys list`): mneme keys revoke ID');
      const info = await keys.revoke(id);
      if (context.json) context.out(JSON.stringify(info));
      else context.out(`revoked key ${info.id}`);
      return 0;
    }
    throw new UsageError('expected `keys create --app APP`, `keys list` or `keys revoke ID`');
  },
};
