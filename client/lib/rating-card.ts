/**
 * The rating card (docs/protocol.md `thread:rate`): once staff closed the thread, five stars as a
 * radio group (arrow keys choose, each labelled "n of 5: …"), an optional comment, and thanks
 * after sending. It is offered while the server says the closing is `rateable`, so a reload after
 * rating does not ask again.
 */
import type { Strings } from './i18n';
import type { Ack } from './protocol';
import { cleanText } from '../../src/domain/text';

export interface RatingCardDeps {
  form: HTMLFormElement;
  t: Strings;
  /** One acknowledged event; null while disconnected or when no answer came. */
  request: (event: 'thread:rate', payload: unknown) => Promise<Ack<object> | null>;
}

export function createRatingCard({ form, t, request }: RatingCardDeps) {
  const status = form.querySelector<HTMLParagraphElement>('#rating-status')!;
  const comment = form.querySelector<HTMLTextAreaElement>('#rating-comment')!;
  let threadId: number | null = null;
  let busy = false;

  function hide() {
    threadId = null;
    form.hidden = true;
  }

  form.querySelector('#rating-skip')!.addEventListener('click', hide);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void send();
  });

  async function send() {
    const chosen = form.querySelector<HTMLInputElement>('input[name="score"]:checked');
    if (!chosen) {
      status.textContent = t.rateChoose;
      form.querySelector<HTMLInputElement>('input[name="score"]')!.focus();
      return;
    }
    if (threadId === null || busy) return;
    busy = true;
    // Cleaned as the server cleans it: a comment of only invisible characters is left out, not refused.
    const text = cleanText(comment.value).trim();
    const res = await request('thread:rate', { threadId, score: Number(chosen.value), ...(text ? { comment: text } : {}) });
    busy = false;
    // already_rated: rated meanwhile (another tab); nothing more to ask.
    if (res?.ok || res?.error.code === 'already_rated') {
      const hadFocus = form.contains(document.activeElement);
      form.classList.add('is-done');
      status.textContent = t.rateThanks;
      // The send button just went away: keep a keyboard user's place on the card, where the thanks are.
      if (hadFocus) status.focus();
    } else {
      status.textContent = res ? t.rateFailed : t.verifyOffline;
    }
  }

  return {
    /** The thread as the server last described it: the card shows while its closing can be rated. */
    set(thread: { id: number; status: string; rateable: boolean } | null) {
      if (!thread?.rateable) {
        // Our own rating says rateable: false too (just before its ack): the card stays for the thanks while the
        // thread stays closed. Otherwise (reopened, or rated in another tab) it goes.
        const thanking = thread?.status === 'closed' && thread.id === threadId && (busy || form.classList.contains('is-done'));
        if (!thanking) hide();
        return;
      }
      if (threadId === thread.id && !form.hidden) return;
      threadId = thread.id;
      form.reset();
      form.classList.remove('is-done');
      status.textContent = '';
      form.hidden = false;
    },
    hide,
  };
}
