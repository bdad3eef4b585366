import type { DepartmentScope } from '../../domain/admin-ports';
import type { DepartmentDirectory } from '../../domain/department-directory';
import { departmentView, type Department } from '../../domain/departments';
import type { DepartmentView } from './api-types';

export type DepartmentLabels = ReturnType<typeof createDepartmentLabels>;

/** How the staff page names departments (docs/departments.md): from the instance's directory, no query. */
export function createDepartmentLabels(directory: Pick<DepartmentDirectory, 'claimed'>) {
  return {
    /** The departments of a session's scope that have a staff chat now, the default one first. */
    visible(scope: DepartmentScope): Department[] {
      return directory.claimed().filter((d) => scope.includes(d.id));
    },
    /** A thread's department as the page shows it (null: one this instance does not know yet). */
    label: (departmentId: number | null): DepartmentView | null => {
      const found = directory.claimed().find((d) => d.id === departmentId);
      return found ? departmentView(found) : null;
    },
  };
}
