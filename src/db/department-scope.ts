import type { Knex } from 'knex';

/**
 * Narrows a query to threads of some departments (docs/departments.md): `column` is the threads'
 * `department_id`, and a null among `ids` stands for the default department (department_id null).
 * An empty list matches nothing.
 */
export function inDepartments(q: Knex.QueryBuilder, column: string, ids: ReadonlyArray<number | null>): Knex.QueryBuilder {
  const numbers = ids.filter((id): id is number => id !== null);
  const withDefault = ids.includes(null);
  return q.where((w) => {
    if (numbers.length) w.orWhereIn(column, numbers);
    if (withDefault) w.orWhereNull(column);
    if (!numbers.length && !withDefault) w.whereRaw('1 = 0');
  });
}
