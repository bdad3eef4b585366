import type { SessionPayload } from './protocol';

type Department = SessionPayload['departments'][number];

/**
 * Which department a visitor's first message opens its conversation with (docs/departments.md):
 * the page's `?department=<key>` (the widget passes its `data-department`) when the server knows
 * that key; else, with more than one department, the visitor picks one in the card before the
 * first message; else none (the server's default). Names are staff's words: text, never HTML.
 */
export function createDepartmentChoice({ card, list, fromPage }: { card: HTMLElement; list: HTMLElement; fromPage: string | null }) {
  let chosen: string | undefined;
  let asking = false;

  function show(departments: Department[]) {
    list.replaceChildren(
      ...departments.map((d, i) => {
        const label = document.createElement('label');
        label.className = 'department-choice__option';
        const radio = document.createElement('input');
        radio.type = 'radio';
        radio.name = 'department';
        radio.value = d.key;
        radio.checked = d.key === chosen;
        radio.addEventListener('change', () => (chosen = d.key));
        if (i === 0) radio.required = true;
        const name = document.createElement('span');
        name.textContent = d.name;
        label.append(radio, name);
        return label;
      }),
    );
    card.hidden = false;
  }

  return {
    /** What the server said of the session: whether there is still a choice to make. */
    setSession(session: Pick<SessionPayload, 'thread' | 'departments'>) {
      const departments = session.departments ?? [];
      const given = departments.find((d) => d.key === fromPage);
      asking = session.thread === null && !given && departments.length > 1;
      if (given) chosen = given.key;
      else if (!departments.some((d) => d.key === chosen)) chosen = undefined;
      if (asking) show(departments);
      else card.hidden = true;
    },
    /** The key `message:send` carries, when there is one. */
    department: (): string | undefined => chosen,
    /** False while the visitor still has to pick: the card is brought into view and focused. */
    ready(): boolean {
      if (!asking || chosen !== undefined) return true;
      card.scrollIntoView({ block: 'nearest' });
      list.querySelector<HTMLInputElement>('input')?.focus();
      return false;
    },
    /** The conversation exists now: its department is settled. */
    settled() {
      asking = false;
      card.hidden = true;
    },
  };
}
