import { createBudgets, PACING_WINDOW_MS } from '../../src/outbox/chat-pacer';

const CHAT = -100123;

describe("a chat's sending budget (src/outbox/chat-pacer.ts)", () => {
  it('forgets the sends that left the window, also those another instance reported out of order', () => {
    const budgets = createBudgets(4);
    const t0 = 1_000_000;
    budgets.record(CHAT, 'a:1', t0);
    budgets.record(CHAT, 'a:2', t0 + 20_000);
    // Another instance's sends arrive later than this one's, one of them older than both.
    budgets.merge(
      {
        chatId: CHAT,
        sends: [
          ['b:1', t0 - 10_000],
          ['b:2', t0 + 30_000],
          ['a:2', t0 + 20_000],
        ],
        pausedUntil: 0,
        throttledAt: 0,
      },
      t0 + 30_000,
    );
    expect(budgets.sendsInWindow(CHAT, t0 + 30_000)).toBe(4);
    // The budget is full: the next send waits until the oldest (b:1) leaves the window.
    expect(budgets.waitMs(CHAT, t0 + 30_000)).toBe(t0 - 10_000 + PACING_WINDOW_MS - (t0 + 30_000));
    expect(budgets.freeSlots(CHAT, t0 + 30_000)).toBe(0);
    // b:1 left; then a:1; the rest are still in the window.
    expect(budgets.sendsInWindow(CHAT, t0 - 10_000 + PACING_WINDOW_MS)).toBe(3);
    expect(budgets.sendsInWindow(CHAT, t0 + PACING_WINDOW_MS)).toBe(2);
    expect(budgets.waitMs(CHAT, t0 + PACING_WINDOW_MS)).toBe(0);
    // A send recorded with an earlier clock than the latest still leaves in its turn.
    budgets.record(CHAT, 'a:3', t0 + 25_000);
    expect(budgets.sendsInWindow(CHAT, t0 + 25_000 + PACING_WINDOW_MS)).toBe(1);
    expect(budgets.sendsInWindow(CHAT, t0 + 30_000 + PACING_WINDOW_MS)).toBe(0);
  });

  it('without a limit keeps no sends at all, however many go out', () => {
    const budgets = createBudgets(0);
    for (let i = 0; i < 20_000; i++) budgets.record(CHAT, `a:${i}`, 1_000_000 + i);
    budgets.merge({ chatId: CHAT, sends: [['b:1', 1_010_000]], pausedUntil: 0, throttledAt: 0 }, 1_020_000);
    expect(budgets.sendsInWindow(CHAT, 1_020_000)).toBe(0);
    expect(budgets.waitMs(CHAT, 1_020_000)).toBe(0);
    expect(budgets.underPressure(CHAT, 1_020_000)).toBe(false);
    // A 429 still pauses the chat and puts it under pressure.
    budgets.pause(CHAT, 1_025_000, 1_020_000);
    expect(budgets.waitMs(CHAT, 1_020_000)).toBe(5_000);
    expect(budgets.underPressure(CHAT, 1_020_000)).toBe(true);
    expect(budgets.freeSlots(CHAT, 1_020_000)).toBe(0);
  });
});
