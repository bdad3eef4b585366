import { safeHttpUrl } from './linkify';

export interface AttachmentLike {
  kind: 'image' | 'audio' | 'voice' | 'file';
  url: string;
  mime: string;
  size: number;
}

export interface AttachmentLabels {
  image: string;
  audio: string;
  file: string;
}

/**
 * An attachment as the visitor page and the staff page both show it: an image
 * (opening larger), a player for audio and video, or a download link with its
 * size. Only http(s) URLs are ever used; anything else becomes a plain label.
 */
export function renderAttachment(
  a: AttachmentLike,
  labels: AttachmentLabels,
  hooks: { onImageLoad?: () => void; openImage?: (url: string, label: string) => void; enlargeLabel?: string } = {},
): HTMLElement {
  const url = safeHttpUrl(a.url);
  const label = a.kind === 'image' ? labels.image : a.kind === 'file' ? labels.file : labels.audio;
  if (!url) {
    const span = document.createElement('span');
    span.textContent = label;
    return span;
  }
  if (a.kind === 'image') {
    const link = newTabLink(url);
    const img = document.createElement('img');
    img.src = url;
    img.alt = label;
    img.loading = 'lazy';
    img.className = 'msg__image';
    if (hooks.onImageLoad) img.addEventListener('load', hooks.onImageLoad, { once: true });
    link.appendChild(img);
    if (hooks.openImage) {
      const open = hooks.openImage;
      if (hooks.enlargeLabel) link.setAttribute('aria-label', hooks.enlargeLabel);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        open(url, label);
      });
    }
    return link;
  }
  if (a.mime.startsWith('video/')) {
    const video = document.createElement('video');
    video.controls = true;
    video.preload = 'metadata';
    video.src = url;
    video.className = 'msg__video';
    return video;
  }
  if (a.kind === 'audio' || a.kind === 'voice') {
    const audio = document.createElement('audio');
    audio.controls = true;
    audio.preload = 'none';
    audio.src = url;
    audio.setAttribute('aria-label', label);
    return audio;
  }
  const link = newTabLink(url);
  link.textContent = `${label} (${fileSize(a.size)})`;
  return link;
}

/** A file's size as people read it: 14 B, 3 KB, 2.4 MB. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function newTabLink(url: string): HTMLAnchorElement {
  const link = document.createElement('a');
  link.href = url;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  return link;
}
