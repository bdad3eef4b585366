import type { Strings } from './i18n';
import type { MessageView } from './protocol';

/** The server's limit (POST /api/uploads); the page checks it first to answer at once. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
const IMAGES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const AUDIO = /^audio\/(ogg|opus|mpeg|mp3|mp4|x-m4a|aac|webm|wav|x-wav|wave|vnd\.wave)\b/;

export type UploadProblem = 'too_large' | 'unsupported_type';

/** A first check by the browser's idea of the type; the server decides from the bytes. */
export function precheck(file: Blob): UploadProblem | null {
  if (file.size > MAX_UPLOAD_BYTES) return 'too_large';
  if (!IMAGES.includes(file.type) && !AUDIO.test(file.type)) return 'unsupported_type';
  return null;
}

/** The visitor-facing sentence for an upload refusal, in the page's language. */
export function uploadErrorText(code: string, t: Strings): string {
  if (code === 'too_large') return t.tooLarge;
  if (code === 'unsupported_type') return t.wrongType;
  if (code === 'rate_limited') return t.uploadRateLimited;
  if (code === 'blocked') return t.blocked;
  if (code === 'verification_required') return t.verifyFirst;
  return t.uploadFailed;
}

export interface PickedFile {
  id: number;
  file: File;
  /** blob: URL of an image, for its preview (revoked when it leaves the tray). */
  preview: string | null;
}

/**
 * The files picked for the next send (attach button, drop or paste), shown above
 * the composer as previews with a remove button each. Refused files never enter it.
 */
export function createAttachmentTray({ tray, t, onChange }: { tray: HTMLElement; t: Strings; onChange: () => void }) {
  let items: PickedFile[] = [];
  let next = 1;

  function render() {
    tray.textContent = '';
    tray.hidden = items.length === 0;
    for (const item of items) {
      const li = document.createElement('li');
      li.className = 'tray__item';
      if (item.preview) {
        const img = document.createElement('img');
        img.src = item.preview;
        img.alt = item.file.name || t.image;
        img.className = 'tray__thumb';
        li.appendChild(img);
      } else {
        const name = document.createElement('span');
        name.className = 'tray__name';
        name.textContent = `♪ ${item.file.name || t.audio}`;
        li.appendChild(name);
      }
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'tray__remove';
      remove.setAttribute('aria-label', `${t.removeAttachment}: ${item.file.name || t.image}`);
      remove.title = t.removeAttachment;
      remove.textContent = '×';
      remove.addEventListener('click', () => {
        drop(item.id);
        onChange();
      });
      li.appendChild(remove);
      tray.appendChild(li);
    }
  }

  function drop(id: number) {
    const gone = items.find((i) => i.id === id);
    if (gone?.preview) URL.revokeObjectURL(gone.preview);
    items = items.filter((i) => i.id !== id);
    render();
  }

  return {
    /** Adds files; returns the problem of the first one refused (the others are still added), or null. */
    add(files: File[]): UploadProblem | null {
      let problem: UploadProblem | null = null;
      for (const file of files.slice(0, 10)) {
        const refused = precheck(file);
        if (refused) {
          problem ??= refused;
          continue;
        }
        items.push({ id: next++, file, preview: file.type.startsWith('image/') ? URL.createObjectURL(file) : null });
      }
      render();
      onChange();
      return problem;
    },
    list: () => [...items],
    /** Empties the tray; previews stay valid for the bubbles that show them (revoked by the caller). */
    take(): PickedFile[] {
      const taken = items;
      items = [];
      render();
      return taken;
    },
  };
}

export type UploadResult = { ok: true; message: MessageView } | { ok: false; status: number; code: string };

/**
 * POST /api/uploads with the visitor's token, reporting progress (0…1). The
 * clientId makes a retry after a lost answer safe. Resolves with the message or the refusal.
 */
export function uploadFile(o: {
  token: string;
  file: Blob;
  filename: string;
  caption: string | null;
  clientId: string;
  /** Where a conversation this file opens goes (docs/departments.md). */
  department?: string;
  onProgress(fraction: number): void;
}): Promise<UploadResult> {
  return new Promise((resolve) => {
    const form = new FormData();
    form.append('clientId', o.clientId);
    if (o.caption) form.append('caption', o.caption);
    if (o.department) form.append('department', o.department);
    form.append('file', o.file, o.filename);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/uploads');
    xhr.setRequestHeader('Authorization', `Bearer ${o.token}`);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) o.onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      const body = xhr.response as { message?: MessageView; error?: { code: string } } | null;
      if ((xhr.status === 200 || xhr.status === 201) && body?.message) resolve({ ok: true, message: body.message });
      else resolve({ ok: false, status: xhr.status, code: body?.error?.code ?? 'internal' });
    });
    xhr.addEventListener('error', () => resolve({ ok: false, status: 0, code: 'network' }));
    xhr.addEventListener('timeout', () => resolve({ ok: false, status: 0, code: 'network' }));
    xhr.timeout = 120_000;
    xhr.send(form);
  });
}

/** A file name the server ignores but Telegram and downloads show, from the blob's type. */
export function fileNameFor(file: Blob & { name?: string }): string {
  if (file.name) return file.name;
  const ext = /ogg/.test(file.type)
    ? 'ogg'
    : /webm/.test(file.type)
      ? 'webm'
      : /mp4|m4a|aac/.test(file.type)
        ? 'm4a'
        : /mpeg|mp3/.test(file.type)
          ? 'mp3'
          : 'bin';
  return `voice.${ext}`;
}
