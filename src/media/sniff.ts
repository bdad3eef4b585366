/**
 * Type detection from a file's bytes (magic numbers) with file-type, which is
 * ESM-only: it is loaded with a real dynamic import() (kept as such by
 * `module: node16`), once, on first use. See README "Development notes".
 */
const load = () => import('file-type');
let loading: ReturnType<typeof load> | null = null;
const fileType = () => (loading ??= load());

/** file-type's verdict on the first bytes of a file (`ext`, `mime`), or undefined. */
export async function detectFromHead(head: Uint8Array): Promise<{ ext: string; mime: string } | undefined> {
  return (await fileType()).fileTypeFromBuffer(head);
}

/** file-type's verdict on a whole file on disk. */
export async function detectFromFile(path: string): Promise<{ ext: string; mime: string } | undefined> {
  return (await fileType()).fileTypeFromFile(path);
}
