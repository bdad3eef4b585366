/**
 * The visitor menu's "download the conversation" (docs/protocol.md, GET /api/transcript): the
 * file is fetched with the visitor's token and saved through a temporary blob: link.
 * Resolves false when there is nothing to download or the server could not answer.
 */
export async function downloadTranscript(o: { token: string | null; format: 'txt' | 'html'; lang: string }): Promise<boolean> {
  if (!o.token) return false;
  try {
    const res = await fetch(`/api/transcript?format=${o.format}&lang=${encodeURIComponent(o.lang)}`, {
      headers: { Authorization: `Bearer ${o.token}` },
    });
    if (!res.ok) return false;
    const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? `transcript.${o.format}`;
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return true;
  } catch {
    return false;
  }
}
