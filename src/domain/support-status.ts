import type { Clock, SettingsRepository, SupportStatus, VisitorNotifier } from './ports';

const SETTING = 'support_status';

/** What staff chose with /away and /back. Stored in settings, so it survives restarts. */
export interface StaffChoice {
  status: 'online' | 'away';
  message: string | null;
}

/**
 * What this installation knows of Telegram:
 * - `disabled`: no BOT_TOKEN;
 * - `connecting`: the bot has not started yet (getMe and the webhook/polling set-up not done, or failing);
 * - `reachable`: started, and calls to Telegram succeed;
 * - `unreachable`: calls have kept failing (see {@link ReachabilityRule}) and none has succeeded since.
 */
export type TelegramState = 'disabled' | 'connecting' | 'reachable' | 'unreachable';

/** Why nobody can answer right now (for logs); null while someone can. */
export type OfflineReason = 'telegram_disabled' | 'telegram_connecting' | 'telegram_unreachable' | 'no_staff_chat';

/**
 * When failed calls mean Telegram is unreachable: at least `failures` calls in a row
 * have failed (network error, timeout, 5xx, 401) and the first of them is at least
 * `seconds` old. One call that Telegram answers (even with a 4xx or a 429) ends it.
 * Both bounds together keep one transient error — or a burst of parallel sends failing
 * at the same instant — from telling every visitor that nobody is there.
 */
export interface ReachabilityRule {
  failures: number;
  seconds: number;
}

export const DEFAULT_REACHABILITY_RULE: ReachabilityRule = { failures: 3, seconds: 10 };

/** What one instance tells the others, so that every instance shows visitors the same status. */
export type SupportPeerEvent =
  { kind: 'staff-choice'; choice: StaffChoice } | { kind: 'staff-chat'; chatId: number } | { kind: 'telegram'; reachable: boolean };

/** The other instances of this installation (through Redis); absent with one instance. */
export interface SupportPeers {
  publish(event: SupportPeerEvent): void;
}

export interface SupportStatusDeps {
  settings: SettingsRepository;
  clock: Clock;
  /** Told of every change of what visitors see; it tells this instance's visitor sockets. */
  notifier: Pick<VisitorNotifier, 'supportStatus'>;
  telegramEnabled: boolean;
  /** The staff chat (STAFF_CHAT_ID or claimed); `adopt` takes a chat another instance claimed. */
  staffChat: { id(): number | null; adopt(chatId: number): void };
  rule?: ReachabilityRule;
  peers?: SupportPeers;
}

export type SupportStatusService = Awaited<ReturnType<typeof loadSupportStatus>>;

/**
 * The single answer to "can anyone answer the visitor right now?" — the `support:status`
 * of visitor protocol v1 (docs/protocol.md). It combines:
 * - staff's choice (`/away [message]`, `/back`);
 * - whether Telegram is enabled at all (BOT_TOKEN);
 * - whether a staff chat is connected (STAFF_CHAT_ID, or claimed with /claim);
 * - whether Telegram is reachable, from the outcome of every Bot API call the adapters report.
 *
 * Precedence: `offline` wins over `away`, which wins over `online`. Offline while staff
 * are away keeps the away message (it usually says when someone is back); otherwise
 * the message is null. Every change is pushed to the notifier once; with several
 * instances, each change made here is published to the others, which adopt it.
 */
export async function loadSupportStatus({
  settings,
  clock,
  notifier,
  telegramEnabled,
  staffChat,
  rule = DEFAULT_REACHABILITY_RULE,
  peers,
}: SupportStatusDeps) {
  let choice: StaffChoice = parseChoice(await settings.get(SETTING));
  let telegram: TelegramState = telegramEnabled ? 'connecting' : 'disabled';
  let streak: { failures: number; since: number } | null = null;

  function reason(): OfflineReason | null {
    if (telegram === 'disabled') return 'telegram_disabled';
    if (telegram === 'connecting') return 'telegram_connecting';
    if (telegram === 'unreachable') return 'telegram_unreachable';
    if (staffChat.id() === null) return 'no_staff_chat';
    return null;
  }

  function compute(): SupportStatus {
    if (reason() !== null) return { status: 'offline', message: choice.status === 'away' ? choice.message : null };
    return choice.status === 'away' ? { status: 'away', message: choice.message } : { status: 'online', message: null };
  }

  let shown = compute();
  function update(): void {
    const next = compute();
    if (next.status === shown.status && next.message === shown.message) return;
    shown = next;
    notifier.supportStatus(next);
  }

  function setTelegram(next: 'reachable' | 'unreachable', publish: boolean): void {
    streak = null;
    if (telegram === next) return;
    telegram = next;
    if (publish) peers?.publish({ kind: 'telegram', reachable: next === 'reachable' });
    update();
  }

  return {
    /** What visitors see now: `support:status` right after `session`. */
    current: (): SupportStatus => shown,
    /** Why it is offline (null when it is not): for logs. */
    reason,
    /** Staff's own choice, whatever Telegram does: the away auto-reply follows it. */
    staffChoice: (): StaffChoice => choice,
    /** `/away` and `/back`: stored, then every visitor is told (on every instance). */
    async setStaffChoice(next: StaffChoice): Promise<void> {
      const stored: StaffChoice = { status: next.status, message: next.status === 'away' ? next.message : null };
      await settings.set(SETTING, JSON.stringify(stored));
      choice = stored;
      peers?.publish({ kind: 'staff-choice', choice: stored });
      update();
    },
    /**
     * Verification (`otp:start`) is offered only while support is not offline: the page
     * hides it then, and one rule is simpler for every client than one per cause.
     */
    canVerify: (): boolean => shown.status !== 'offline',
    /** `/health`'s `telegram`. */
    telegramHealth: (): 'ok' | 'disabled' | 'error' => (telegram === 'disabled' ? 'disabled' : telegram === 'reachable' ? 'ok' : 'error'),
    telegramState: (): TelegramState => telegram,

    // --- What the adapters report ---------------------------------------------------------
    /** The bot started (getMe, webhook or polling set up): Telegram answers. */
    telegramStarted(): void {
      if (telegram === 'disabled') return;
      setTelegram('reachable', false);
    },
    /** A Bot API call got an answer from Telegram (any but a 5xx or 401). */
    telegramSucceeded(): void {
      if (telegram !== 'reachable' && telegram !== 'unreachable') return;
      streak = null;
      if (telegram === 'unreachable') setTelegram('reachable', true);
    },
    /** A Bot API call failed: network error, timeout, 5xx, or 401 (the token no longer works). */
    telegramFailed(): void {
      if (telegram !== 'reachable') return;
      const now = clock.now().getTime();
      streak = streak ? { failures: streak.failures + 1, since: streak.since } : { failures: 1, since: now };
      if (streak.failures >= rule.failures && now - streak.since >= rule.seconds * 1000) setTelegram('unreachable', true);
    },
    /** `/claim` made a chat the staff chat here. */
    staffChatClaimed(chatId: number): void {
      peers?.publish({ kind: 'staff-chat', chatId });
      update();
    },
    /**
     * After a Redis outage, when the other instances could not be heard: staff's choice is read
     * back from the database, and a staff chat claimed elsewhere (`claimedStaffChat`, as stored) adopted.
     */
    async resync(claimedStaffChat: number | null): Promise<void> {
      choice = parseChoice(await settings.get(SETTING));
      if (claimedStaffChat !== null && staffChat.id() === null) staffChat.adopt(claimedStaffChat);
      update();
    },
    /** Another instance changed something: adopt it (its visitors were told there; this instance tells its own). */
    fromPeer(event: SupportPeerEvent): void {
      switch (event.kind) {
        case 'staff-choice':
          choice = event.choice;
          break;
        case 'staff-chat':
          if (staffChat.id() === null) staffChat.adopt(event.chatId);
          break;
        case 'telegram':
          // An instance still connecting has no view of its own yet; its start will tell.
          if (telegram === 'reachable' || telegram === 'unreachable') setTelegram(event.reachable ? 'reachable' : 'unreachable', false);
          break;
      }
      update();
    },
  };
}

function parseChoice(raw: string | null): StaffChoice {
  if (!raw) return { status: 'online', message: null };
  try {
    const parsed = JSON.parse(raw) as Partial<StaffChoice>;
    if (parsed.status === 'away') return { status: 'away', message: typeof parsed.message === 'string' ? parsed.message : null };
  } catch {
    // A corrupt value means online: staff can set it again with /away.
  }
  return { status: 'online', message: null };
}
