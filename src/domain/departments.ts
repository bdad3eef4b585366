import { cleanName } from './text';

/**
 * A department: a team with its own staff supergroup (SPEC §8, docs/departments.md). The
 * default department is the first staff chat (STAFF_CHAT_ID or the first /claim): it has no
 * row (`id` null), its key is `general` and its name a setting staff may rename.
 */
export interface Department {
  /** null: the default department. */
  id: number | null;
  /** Lower-case letters, digits and dashes: how pages and widgets name it (`?department=`). */
  key: string;
  name: string;
  /** Its staff supergroup; null while an added department waits for its /claim. */
  chatId: number | null;
}

export interface StoredDepartment extends Department {
  id: number;
  createdBy: number;
  createdAt: Date;
}

export interface DepartmentRepository {
  /** Every added department (claimed or waiting for its claim), oldest first. */
  list(): Promise<StoredDepartment[]>;
  /** Adds one waiting for `/claim <code>` (only the code's hash is kept); false when the key is taken. */
  add(input: { key: string; name: string; codeHash: string; claimExpiresAt: Date; createdBy: number; now: Date }): Promise<boolean>;
  /** The department waiting for its /claim with this code hash (not expired), without spending the code. */
  findWaiting(codeHash: string, now: Date): Promise<StoredDepartment | null>;
  /**
   * Gives the department waiting with this code hash (not expired) its chat, once: the code is spent
   * in the same statement. Null when no department waits with that code.
   */
  claim(codeHash: string, chatId: number, now: Date): Promise<StoredDepartment | null>;
  rename(id: number, name: string): Promise<void>;
  /** Removes it; its threads go to the default department. Returns how many open threads moved. */
  remove(id: number): Promise<{ openThreads: number }>;
}

export const DEFAULT_DEPARTMENT_KEY = 'general';
export const DEFAULT_DEPARTMENT_NAME = 'General';
/** The setting holding the default department's name once staff renamed it. */
export const DEFAULT_DEPARTMENT_NAME_SETTING = 'default_department_name';
export const MAX_DEPARTMENT_NAME = 64;
/** How long a /department add code may wait for its /claim. */
export const DEPARTMENT_CLAIM_TTL_MS = 24 * 60 * 60 * 1000;

/** A department's name as staff typed it, cleaned like a visitor's name; null when unusable. */
export function departmentName(raw: string): string | null {
  const name = cleanName(raw).trim();
  return name.length >= 1 && name.length <= MAX_DEPARTMENT_NAME ? name : null;
}

/** The key made from a name: "Satış & Destek" → "satis-destek" (accents folded, ı→i). Null when nothing is left. */
export function departmentKey(name: string): string | null {
  const key = name
    .toLocaleLowerCase('tr')
    .replace(/ı/g, 'i')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return key.length > 0 ? key : null;
}

/** What a visitor's page is told of each department it may pick (protocol `session.departments`). */
export const departmentView = (d: Department) => ({ key: d.key, name: d.name });

/** Finds a department by its key or its name, whatever the case (how staff name one in commands). */
export function findDepartment<D extends Department>(departments: D[], given: string): D | null {
  const wanted = given.trim().toLocaleLowerCase('tr');
  const byKey = departments.find((d) => d.key === departmentKey(given) && departmentKey(given) !== null);
  return departments.find((d) => d.name.toLocaleLowerCase('tr') === wanted) ?? byKey ?? null;
}
