/**
 * The staff view's composer, as Telegram's: text (Enter sends), the bot's command
 * menu (a button, or typing "/"), reply and edit modes, files (photo, audio, voice
 * note or document, with a caption) and voice recording.
 */
import { format } from './i18n';
import { ApiFailure, type createStaffViewApi } from './staff-view-api';
import type { StaffViewStrings } from './staff-view-i18n';
import type { ConversationKey, StaffViewState, ViewCommand, ViewMessage } from './staff-view-state';
import { mediaLabel } from './staff-view-messages';

type Api = ReturnType<typeof createStaffViewApi>;
type Kind = 'photo' | 'document' | 'audio' | 'voice';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function createComposer({
  t,
  api,
  state,
  current,
}: {
  t: StaffViewStrings;
  api: Api;
  state: StaffViewState;
  /** The open conversation. */
  current: () => ConversationKey | null;
}) {
  const form = byId<HTMLFormElement>('composer');
  const text = byId<HTMLTextAreaElement>('text');
  const error = byId<HTMLParagraphElement>('composer-error');
  const menu = byId<HTMLUListElement>('command-menu');
  const commandsButton = byId<HTMLButtonElement>('commands-button');
  const modeBar = byId<HTMLDivElement>('mode-bar');
  const modeTitle = byId<HTMLElement>('mode-title');
  const modePreview = byId<HTMLElement>('mode-preview');
  const modeIcon = byId<HTMLElement>('mode-icon');
  const fileInput = byId<HTMLInputElement>('file-input');
  const dialog = byId<HTMLDialogElement>('attach-dialog');
  const attachPreview = byId<HTMLDivElement>('attach-preview');
  const attachKinds = byId<HTMLFieldSetElement>('attach-kinds');
  const attachCaption = byId<HTMLInputElement>('attach-caption');
  const attachError = byId<HTMLParagraphElement>('attach-error');
  const recorderBar = byId<HTMLDivElement>('recorder');
  const recorderTime = byId<HTMLSpanElement>('recorder-time');
  const recordButton = byId<HTMLButtonElement>('record');

  let mode: { kind: 'reply' | 'edit'; message: ViewMessage } | null = null;
  let busy = false;

  function showError(message: string | null): void {
    error.hidden = message === null;
    error.textContent = message === null ? '' : format(t.failed, { reason: message });
  }

  function autoGrow(): void {
    text.style.height = 'auto';
    text.style.height = `${Math.min(text.scrollHeight, 180)}px`;
  }

  function setMode(next: typeof mode): void {
    mode = next;
    modeBar.hidden = mode === null;
    if (mode === null) return;
    const m = mode.message;
    modeTitle.textContent = mode.kind === 'edit' ? t.editing : format(t.replyTo, { name: m.from?.name ?? m.signature ?? '' });
    modePreview.textContent = m.text ?? (m.media ? mediaLabel(m.media.kind, t) : t.message);
    modeIcon.setAttribute(
      'd',
      mode.kind === 'edit'
        ? 'M4 17.2V20h2.8l8.3-8.3-2.8-2.8L4 17.2zM19.7 7.1a1 1 0 000-1.4l-1.4-1.4a1 1 0 00-1.4 0l-1.3 1.3 2.8 2.8 1.3-1.3z'
        : 'M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z',
    );
    if (mode.kind === 'edit') {
      text.value = m.text ?? '';
      autoGrow();
    }
    text.focus();
  }

  // ---- commands -------------------------------------------------------------------------

  let highlighted = 0;
  let menuItems: ViewCommand[] = [];

  const commandsHere = (): ViewCommand[] => (current() === 'private' ? state.commands.private : state.commands.group);

  function renderMenu(filter: string | null): void {
    const all = commandsHere();
    menuItems = filter === null ? all : all.filter((c) => c.command.startsWith(filter.toLowerCase()));
    const open = filter === null || (menuItems.length > 0 && !(menuItems.length === 1 && menuItems[0].command === filter));
    menu.hidden = !open;
    commandsButton.setAttribute('aria-expanded', String(open));
    if (!open) return;
    highlighted = Math.min(highlighted, Math.max(0, menuItems.length - 1));
    menu.replaceChildren();
    if (menuItems.length === 0) {
      const empty = document.createElement('li');
      empty.className = 'command-menu__empty';
      empty.textContent = t.noCommands;
      menu.append(empty);
      return;
    }
    menuItems.forEach((c, i) => {
      const li = document.createElement('li');
      li.setAttribute('role', 'option');
      li.className = 'command-menu__item';
      li.dataset.command = c.command;
      li.setAttribute('aria-selected', String(i === highlighted));
      const name = document.createElement('span');
      name.className = 'command-menu__name';
      name.textContent = `/${c.command}`;
      const description = document.createElement('span');
      description.className = 'command-menu__description';
      description.textContent = c.description;
      li.append(name, description);
      li.addEventListener('mousedown', (event) => event.preventDefault());
      li.addEventListener('click', () => void sendCommand(c.command));
      menu.append(li);
    });
  }

  const closeMenu = () => {
    menu.hidden = true;
    commandsButton.setAttribute('aria-expanded', 'false');
  };

  /** While the text is just "/" and a command's start, the matching commands show. */
  function updateMenuFromText(): void {
    const match = /^\/(\w*)$/.exec(text.value);
    if (match) renderMenu(match[1] ?? '');
    else if (!menu.hidden) closeMenu();
  }

  async function sendCommand(command: string): Promise<void> {
    closeMenu();
    text.value = '';
    autoGrow();
    await send(`/${command}`, mode?.kind === 'edit');
  }

  commandsButton.addEventListener('click', () => {
    if (!menu.hidden) return closeMenu();
    highlighted = 0;
    renderMenu(null);
    text.focus();
  });

  // ---- sending ----------------------------------------------------------------------------

  /** Sends what was typed: an edit in edit mode, a reply in reply mode; `plain` ignores the mode (a clicked /command). */
  async function send(body: string, plain = false): Promise<boolean> {
    const where = current();
    if (where === null || busy) return false;
    busy = true;
    showError(null);
    try {
      if (plain) await api.send(where, body);
      else if (mode?.kind === 'edit') await api.edit(where, mode.message.id, body);
      else await api.send(where, body, mode?.kind === 'reply' ? mode.message.id : undefined);
      if (!plain) setMode(null);
      return true;
    } catch (e) {
      showError(e instanceof ApiFailure ? e.message : String(e));
      return false;
    } finally {
      busy = false;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = text.value;
    if (body.trim() === '') return;
    void send(body).then((sent) => {
      if (sent && text.value === body) {
        text.value = '';
        autoGrow();
      }
    });
  });

  text.addEventListener('input', () => {
    autoGrow();
    updateMenuFromText();
  });

  text.addEventListener('keydown', (event) => {
    if (!menu.hidden && menuItems.length > 0 && ['ArrowDown', 'ArrowUp', 'Tab', 'Enter'].includes(event.key)) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        highlighted = (highlighted + (event.key === 'ArrowDown' ? 1 : menuItems.length - 1)) % menuItems.length;
        renderMenu(/^\/(\w*)$/.exec(text.value)?.[1] ?? null);
        return;
      }
      const chosen = menuItems[highlighted];
      if (chosen && (event.key === 'Tab' || !event.shiftKey)) {
        event.preventDefault();
        if (event.key === 'Tab') {
          text.value = `/${chosen.command} `;
          closeMenu();
        } else void sendCommand(chosen.command);
        return;
      }
    }
    if (event.key === 'Escape') {
      if (!menu.hidden) closeMenu();
      else if (mode) {
        if (mode.kind === 'edit') text.value = '';
        setMode(null);
      }
      return;
    }
    if (event.key === 'ArrowUp' && text.value === '' && mode === null) {
      // As in Telegram Desktop: ↑ in an empty composer edits your last message.
      const where = current();
      const mine = where ? [...state.messagesOf(where)].reverse().find((m) => state.isMine(m) && m.text !== null && !m.media) : null;
      if (mine) {
        event.preventDefault();
        setMode({ kind: 'edit', message: mine });
      }
      return;
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  byId<HTMLButtonElement>('mode-cancel').addEventListener('click', () => {
    if (mode?.kind === 'edit') text.value = '';
    setMode(null);
  });

  // ---- files --------------------------------------------------------------------------------

  let chosen: File | null = null;

  function kindsFor(file: File): Kind[] {
    if (/^image\/(png|jpeg|gif|webp)$/.test(file.type)) return ['photo', 'document'];
    if (file.type.startsWith('audio/')) return ['audio', 'voice', 'document'];
    return ['document'];
  }

  const kindText: Record<Kind, string> = { photo: t.asPhoto, document: t.asFile, audio: t.asAudio, voice: t.asVoice };

  byId<HTMLButtonElement>('attach').addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    // One file at a time: another choice waits until the dialog is closed.
    if (!file || current() === null || dialog.open) return;
    chosen = file;
    attachPreview.replaceChildren();
    if (file.type.startsWith('image/')) {
      const img = document.createElement('img');
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      attachPreview.append(img);
    }
    const name = document.createElement('p');
    name.className = 'attach-preview__name';
    name.textContent = file.name;
    attachPreview.append(name);
    attachKinds.querySelectorAll('label').forEach((l) => l.remove());
    kindsFor(file).forEach((kind, i) => {
      const label = document.createElement('label');
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'kind';
      radio.value = kind;
      radio.checked = i === 0;
      label.append(radio, ` ${kindText[kind]}`);
      attachKinds.append(label);
    });
    attachCaption.value = text.value.trim();
    attachError.hidden = true;
    dialog.showModal();
    attachCaption.focus();
  });

  function closeDialog(): void {
    const img = attachPreview.querySelector('img');
    if (img) URL.revokeObjectURL(img.src);
    dialog.close();
    chosen = null;
  }

  function imageSize(file: File): Promise<{ width?: number; height?: number }> {
    return new Promise((resolve) => {
      const img = new Image();
      img.onload = () => {
        resolve({ width: img.naturalWidth, height: img.naturalHeight });
        URL.revokeObjectURL(img.src);
      };
      img.onerror = () => resolve({});
      img.src = URL.createObjectURL(file);
    });
  }

  byId<HTMLButtonElement>('attach-cancel').addEventListener('click', closeDialog);
  dialog.addEventListener('cancel', () => {
    chosen = null;
  });
  byId<HTMLFormElement>('attach-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const file = chosen;
    const where = current();
    if (!file || !where) return;
    const kind = (attachKinds.querySelector<HTMLInputElement>('input[name="kind"]:checked')?.value ?? 'document') as Kind;
    const caption = attachCaption.value;
    void (async () => {
      try {
        const size = kind === 'photo' ? await imageSize(file) : {};
        await api.sendFile(where, file, file.name, kind, {
          caption,
          ...size,
          ...(mode?.kind === 'reply' ? { replyTo: mode.message.id } : {}),
        });
        if (caption.trim() !== '' && text.value.trim() === caption.trim()) text.value = '';
        if (mode?.kind === 'reply') setMode(null);
        closeDialog();
      } catch (e) {
        attachError.hidden = false;
        attachError.textContent = format(t.failed, { reason: e instanceof ApiFailure ? e.message : String(e) });
      }
    })();
  });

  // ---- voice notes --------------------------------------------------------------------------

  let recording: { recorder: MediaRecorder; chunks: Blob[]; started: number; timer: number; send: boolean } | null = null;
  recordButton.hidden = typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia;

  const showTime = () => {
    if (!recording) return;
    const s = Math.floor((Date.now() - recording.started) / 1000);
    recorderTime.textContent = format(t.recording, { time: `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}` });
  };

  recordButton.addEventListener('click', () => {
    if (recording || current() === null) return;
    void (async () => {
      let stream: MediaStream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch {
        showError(t.micRefused);
        return;
      }
      const type = MediaRecorder.isTypeSupported('audio/webm;codecs=opus') ? 'audio/webm;codecs=opus' : '';
      const recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
      // The clock only ticks while recording.
      recording = { recorder, chunks: [], started: Date.now(), timer: window.setInterval(showTime, 1000), send: false };
      const rec = recording;
      recorder.addEventListener('dataavailable', (e) => rec.chunks.push(e.data));
      recorder.addEventListener('stop', () => {
        stream.getTracks().forEach((track) => track.stop());
        window.clearInterval(rec.timer);
        recorderBar.hidden = true;
        form.hidden = false;
        recording = null;
        const where = current();
        if (!rec.send || !where) return;
        const blob = new Blob(rec.chunks, { type: recorder.mimeType || 'audio/webm' });
        const duration = Math.round((Date.now() - rec.started) / 1000);
        api
          .sendFile(where, blob, 'voice.webm', 'voice', { duration })
          .catch((e: unknown) => showError(e instanceof ApiFailure ? e.message : String(e)));
      });
      recorder.start();
      showTime();
      recorderBar.hidden = false;
      form.hidden = true;
    })();
  });
  byId<HTMLButtonElement>('recorder-cancel').addEventListener('click', () => recording?.recorder.stop());
  byId<HTMLButtonElement>('recorder-send').addEventListener('click', () => {
    if (!recording) return;
    recording.send = true;
    recording.recorder.stop();
  });

  return {
    reply: (message: ViewMessage) => setMode({ kind: 'reply', message }),
    edit: (message: ViewMessage) => setMode({ kind: 'edit', message }),
    /** Sends a /command as if typed (a command clicked in a message). */
    sendCommand: (command: string) => void send(command, true),
    /** Another conversation was opened: modes and menus of the last one go. */
    reset(): void {
      closeMenu();
      if (mode?.kind === 'edit') text.value = '';
      setMode(null);
      showError(null);
    },
    /** The message being replied to or edited is gone. */
    forget(ids: number[]): void {
      if (mode && ids.includes(mode.message.id)) setMode(null);
    },
    refreshCommands(): void {
      if (!menu.hidden) renderMenu(/^\/(\w*)$/.exec(text.value)?.[1] ?? null);
    },
    focus: () => text.focus(),
  };
}
