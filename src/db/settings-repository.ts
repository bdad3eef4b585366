import type { SettingsRepository } from '../domain/ports';
import type { RepoContext } from './context';

export function createSettingsRepository({ db }: RepoContext): SettingsRepository {
  async function get(key: string): Promise<string | null> {
    const row = await db<{ key: string; value: string }>('settings').where({ key }).first();
    return row ? String(row.value) : null;
  }
  return {
    get,
    async set(key, value) {
      await db('settings').insert({ key, value }).onConflict('key').merge();
    },
    async setIfAbsent(key, value) {
      await db('settings').insert({ key, value }).onConflict('key').ignore();
      return (await get(key))!;
    },
  };
}
