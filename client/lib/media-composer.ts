import { createAttachmentTray, fileNameFor, precheck, uploadErrorText, uploadFile, type PickedFile } from './attachments';
import { format, type Strings } from './i18n';
import type { MessageList } from './message-list';
import type { MessageView } from './protocol';
import { createVoiceRecorder, formatDuration } from './voice-recorder';

export interface MediaComposerDeps {
  t: Strings;
  messages: MessageList;
  /** The visitor's token (uploads are authorised with it); null before the first session. */
  token: () => string | null;
  /** Shows a problem to the visitor (the page's notice line). */
  notice: (text: string) => void;
  /** The server stored the file's message. */
  sent: (message: MessageView) => void;
  input: HTMLTextAreaElement;
  /** The department a file opening the conversation goes to (lib/department-choice). */
  department?: () => string | undefined;
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const newClientId = () => `u${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
/** Longer than this, a press on the microphone is "hold to record"; shorter, it toggles. */
const HOLD_MS = 350;

/**
 * The composer's media half: the attach button, drop and paste put images and
 * audio in a tray of previews; sending uploads them one after another (in order,
 * each with a progress bar, the text as the first one's caption); the microphone
 * records a voice note (hold to talk, or tap to start and tap Send), with its
 * duration and a cancel button. Every refusal is said in the page's language.
 */
export function createMediaComposer({ t, messages, token, notice, sent, input, department }: MediaComposerDeps) {
  const attach = byId<HTMLButtonElement>('attach');
  const picker = byId<HTMLInputElement>('file-input');
  const record = byId<HTMLButtonElement>('record');
  const bar = byId<HTMLDivElement>('recorder');
  const time = byId<HTMLSpanElement>('recorder-time');
  const dropHint = byId<HTMLParagraphElement>('drop-hint');
  const tray = createAttachmentTray({ tray: byId('attachments'), t, onChange: () => undefined });

  function add(files: File[]) {
    if (!files.length) return;
    const problem = tray.add(files);
    if (problem) notice(uploadErrorText(problem, t));
    input.focus();
  }

  attach.addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => {
    add(Array.from(picker.files ?? []));
    picker.value = '';
  });
  input.addEventListener('paste', (e) => {
    const files = Array.from(e.clipboardData?.files ?? []);
    if (!files.length) return;
    e.preventDefault();
    add(files);
  });
  let dragDepth = 0;
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');
  document.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    dragDepth++;
    dropHint.hidden = false;
  });
  document.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dropHint.hidden = true;
  });
  document.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  document.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    dropHint.hidden = true;
    add(Array.from(e.dataTransfer?.files ?? []));
  });

  /** Uploads one file, retrying network failures with the same clientId (the server stores it once). */
  async function send(file: Blob, name: string, caption: string | null, preview: string | null) {
    const clientId = newClientId();
    messages.addUpload(clientId, { createdAt: new Date().toISOString(), caption, preview, name });
    const key = token();
    let result = null;
    for (let attempt = 0; key && attempt < 3; attempt++) {
      result = await uploadFile({
        token: key,
        file,
        filename: name,
        caption,
        clientId,
        department: department?.(),
        onProgress: (f) => messages.setUploadProgress(clientId, f),
      });
      if (result.ok || result.status !== 0) break;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt));
    }
    if (result?.ok) sent(result.message);
    else {
      messages.setPending(clientId, 'failed');
      notice(uploadErrorText(result?.code ?? 'network', t));
    }
    // The bubble now shows the stored file; the local preview is not needed any more.
    if (preview) setTimeout(() => URL.revokeObjectURL(preview), 60_000);
  }

  let sending: Promise<void> = Promise.resolve();
  function queue(work: () => Promise<void>) {
    sending = sending.then(work, work);
  }

  // --- Voice notes ---------------------------------------------------------------------------
  const recorder = createVoiceRecorder({
    started() {
      bar.hidden = false;
      record.setAttribute('aria-pressed', 'true');
    },
    tick(seconds) {
      time.textContent = format(t.recording, { duration: formatDuration(seconds) });
    },
    finished(blob, problem) {
      bar.hidden = true;
      record.setAttribute('aria-pressed', 'false');
      if (problem) return notice(t.micDenied);
      if (!blob) return;
      const refused = precheck(blob);
      if (refused) return notice(uploadErrorText(refused, t));
      queue(() => send(blob, fileNameFor(blob), null, null));
    },
  });
  record.hidden = !recorder.supported();
  let pressedAt = 0;
  record.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    if (recorder.isRecording()) return recorder.stop(); // a tap while recording (toggle mode) sends
    pressedAt = Date.now();
    void recorder.start();
  });
  record.addEventListener('pointerup', () => {
    // Held: releasing sends. Tapped: keeps recording until Send (or the microphone again).
    if (pressedAt && Date.now() - pressedAt >= HOLD_MS && recorder.isRecording()) recorder.stop();
    pressedAt = 0;
  });
  record.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    if (recorder.isRecording()) recorder.stop();
    else void recorder.start();
  });
  byId('recorder-send').addEventListener('click', () => recorder.stop());
  byId('recorder-cancel').addEventListener('click', () => recorder.cancel());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && recorder.isRecording()) recorder.cancel();
  });

  return {
    hasFiles: () => tray.list().length > 0,
    /** Sends the picked files, the text as the first one's caption. */
    sendFiles(text: string | null) {
      const picked: PickedFile[] = tray.take();
      picked.forEach((item, i) => queue(() => send(item.file, fileNameFor(item.file), i === 0 ? text : null, item.preview)));
    },
  };
}
