/** Containers in order of preference: Ogg/Opus is a Telegram voice note as is (Firefox); Chrome records WebM, Safari MP4. */
const TYPES = ['audio/ogg;codecs=opus', 'audio/webm;codecs=opus', 'audio/webm', 'audio/mp4'];

export interface VoiceRecorderHandlers {
  /** Recording started (permission given). */
  started(): void;
  /** Every second while recording. */
  tick(seconds: number): void;
  /** Stopped: the recording, or null when cancelled, refused (no microphone, no permission) or empty. */
  finished(recording: Blob | null, problem: 'denied' | 'unsupported' | null): void;
}

/** A voice note with MediaRecorder: start, then stop (keep it) or cancel (drop it). At most `maxSeconds`. */
export function createVoiceRecorder(handlers: VoiceRecorderHandlers, maxSeconds = 300) {
  let recorder: MediaRecorder | null = null;
  let stream: MediaStream | null = null;
  let chunks: Blob[] = [];
  let keep = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let startedAt = 0;
  let starting = false;

  function release() {
    clearInterval(timer);
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    recorder = null;
  }

  return {
    supported: () => typeof MediaRecorder === 'function' && !!navigator.mediaDevices?.getUserMedia,
    isRecording: () => recorder !== null || starting,
    async start() {
      if (recorder || starting) return;
      if (typeof MediaRecorder !== 'function' || !navigator.mediaDevices?.getUserMedia) return handlers.finished(null, 'unsupported');
      starting = true;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch {
        starting = false;
        return handlers.finished(null, 'denied');
      }
      starting = false;
      const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
      const r = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
      recorder = r;
      chunks = [];
      keep = false;
      r.addEventListener('dataavailable', (e) => {
        if (e.data.size) chunks.push(e.data);
      });
      r.addEventListener('stop', () => {
        const blob = keep && chunks.length ? new Blob(chunks, { type: (r.mimeType || mimeType || 'audio/webm').split(';')[0] }) : null;
        release();
        handlers.finished(blob, null);
      });
      r.start();
      startedAt = Date.now();
      handlers.started();
      handlers.tick(0);
      timer = setInterval(() => {
        const seconds = Math.floor((Date.now() - startedAt) / 1000);
        handlers.tick(seconds);
        if (seconds >= maxSeconds) this.stop();
      }, 1000);
    },
    /** Stops and hands over the recording. */
    stop() {
      keep = true;
      if (recorder?.state === 'recording') recorder.stop();
    },
    cancel() {
      keep = false;
      if (recorder?.state === 'recording') recorder.stop();
      else release();
    },
  };
}

/** 0:07, 1:23 */
export function formatDuration(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
