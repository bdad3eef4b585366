import { Composer } from 'grammy';
import {
  DEFAULT_DEPARTMENT_KEY,
  DEFAULT_DEPARTMENT_NAME_SETTING,
  DEPARTMENT_CLAIM_TTL_MS,
  departmentKey,
  departmentName,
  findDepartment,
  type Department,
} from '../../../domain/departments';
import type { BotContext } from '../../context';
import { departmentTexts, type DepartmentTexts } from '../../department-texts';
import { claimCodeHash, newClaimCode } from '../claim';
import type { StaffCommandGroup } from './deps';
import { moveThread } from './move';

/**
 * The department named at the start of `words` (a name may have spaces), and what follows it:
 * the longest run of leading words that names one wins.
 */
function leadingDepartment<D extends Department>(departments: D[], words: string[]): { department: D; rest: string } | null {
  for (let i = words.length; i >= 1; i--) {
    const department = findDepartment(departments, words.slice(0, i).join(' '));
    if (department) return { department, rest: words.slice(i).join(' ') };
  }
  return null;
}

/**
 * Departments managed from the default staff chat (docs/departments.md): `/department add <name>`
 * answers with a one-time code for `/claim <code>` in the department's supergroup; `list`,
 * `rename`, `remove` (its open threads come back to the default department).
 */
export const departmentCommands: StaffCommandGroup = (deps) => {
  const commands = new Composer<BotContext>();

  commands.command('department', async (ctx) => {
    const t = departmentTexts(ctx.from?.language_code);
    if (ctx.chat.id !== deps.staffChat.id()) return ctx.reply(t.onlyDefault);
    const [verb = '', ...words] = ctx.match.trim().split(/\s+/).filter(Boolean);
    const action = verb.toLowerCase();
    if (action === 'add') return add(ctx, t, words.join(' '));
    if (action === 'list') return list(ctx, t);
    if (action === 'rename') return rename(ctx, t, words);
    if (action === 'remove') return remove(ctx, t, words.join(' '));
    return ctx.reply(t.usage);
  });

  async function add(ctx: BotContext, t: DepartmentTexts, raw: string) {
    const name = departmentName(raw);
    const key = name === null ? null : departmentKey(name);
    if (!name || !key) return ctx.reply(raw ? t.badName : t.usage);
    const { added } = await deps.departments.all();
    if (key === DEFAULT_DEPARTMENT_KEY || findDepartment(added, name)) return ctx.reply(t.taken(name));
    const code = newClaimCode();
    const now = deps.clock.now();
    const stored = await deps.store.departments.add({
      ...{ key, name, codeHash: claimCodeHash(code), createdBy: ctx.from!.id, now },
      claimExpiresAt: new Date(now.getTime() + DEPARTMENT_CLAIM_TTL_MS),
    });
    if (!stored) return ctx.reply(t.taken(name));
    await deps.departments.refresh();
    await ctx.reply(t.added(name, key, code));
  }

  async function list(ctx: BotContext, t: DepartmentTexts) {
    const { first, added } = await deps.departments.all();
    const lines = [
      t.listTitle,
      `• ${first.key} · ${first.name} · ${t.defaultMark}`,
      ...added.map((d) => `• ${d.key} · ${d.name} · ${d.chatId === null ? t.waiting : t.claimedChat}`),
    ];
    await ctx.reply(lines.join('\n'));
  }

  async function rename(ctx: BotContext, t: DepartmentTexts, words: string[]) {
    const { first, added } = await deps.departments.all();
    const found = leadingDepartment<Department>([first, ...added], words);
    if (!found) return ctx.reply(words.length ? t.notFound(words.join(' ')) : t.usage);
    const name = departmentName(found.rest);
    if (!name) return ctx.reply(found.rest ? t.badName : t.usage);
    const other = findDepartment<Department>([first, ...added], name);
    if (other && other.key !== found.department.key && other.name.toLocaleLowerCase('tr') === name.toLocaleLowerCase('tr'))
      return ctx.reply(t.taken(name));
    if (found.department.id === null) await deps.store.settings.set(DEFAULT_DEPARTMENT_NAME_SETTING, name);
    else await deps.store.departments.rename(found.department.id, name);
    await deps.departments.refresh();
    await ctx.reply(t.renamed(name));
  }

  async function remove(ctx: BotContext, t: DepartmentTexts, given: string) {
    const { first, added } = await deps.departments.all();
    if (!given) return ctx.reply(t.usage);
    const department = findDepartment<Department>([first, ...added], given);
    if (!department) return ctx.reply(t.notFound(given));
    if (department.id === null) return ctx.reply(t.cannotRemoveDefault);
    // Its open threads are handed to the default department first (a topic there with their summary), then it goes.
    const target = { ...first, chatId: ctx.chat!.id };
    let moved = 0;
    for (;;) {
      const { threads } = await deps.store.threads.listOpen({ limit: 50, offset: 0, departmentId: department.id });
      const next = threads.filter((th) => th.departmentId === department.id);
      if (next.length === 0) break;
      for (const thread of next) {
        await moveThread(ctx.api, deps, thread, department, target, t);
        moved++;
      }
    }
    await deps.store.transaction((repos) => repos.departments.remove(department.id!));
    await deps.departments.refresh();
    await ctx.reply(t.removed(department.name, moved));
  }

  return commands;
};
