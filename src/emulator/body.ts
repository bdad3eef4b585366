/**
 * Decoding of Bot API request parameters: query string, JSON,
 * application/x-www-form-urlencoded and multipart/form-data (hand-rolled
 * parser; grammY's multipart dialect uses `name:value` headers without spaces
 * and unquoted filenames, and references file parts via `attach://<id>`).
 */
import type { IncomingMessage } from 'node:http';
import { badRequest } from './errors';
import type { Params, UploadedFile, UploadedFileParam } from './types';

/** Parameters that are numbers in the Bot API; form values for them are converted when numeric. */
const NUMERIC_PARAMS = new Set([
  'chat_id',
  'from_chat_id',
  'message_thread_id',
  'direct_messages_topic_id',
  'message_id',
  'reply_to_message_id',
  'offset',
  'limit',
  'timeout',
  'user_id',
  'icon_color',
  'duration',
  'width',
  'height',
  'length',
  'cache_time',
  'max_connections',
  'until_date',
  'performer_id',
]);

const BOOLEAN_PARAMS = new Set([
  'disable_notification',
  'protect_content',
  'allow_paid_broadcast',
  'drop_pending_updates',
  'disable_web_page_preview',
  'allow_sending_without_reply',
  'show_alert',
  'has_spoiler',
  'show_caption_above_media',
  'supports_streaming',
  'disable_content_type_detection',
  'revoke_messages',
  'only_if_banned',
]);

/** Free-text parameters that are never JSON-decoded even when they look like JSON. */
const TEXT_PARAMS = new Set([
  'text',
  'caption',
  'name',
  'title',
  'description',
  'short_description',
  'question',
  'explanation',
  'url',
  'secret_token',
  'callback_query_id',
  'inline_message_id',
  'parse_mode',
  'action',
  'performer',
  'file_id',
  'custom_title',
  'language_code',
  'icon_custom_emoji_id',
]);

/** Converts one form (urlencoded / multipart) string value to what the JSON body would have carried. */
export function coerceFormValue(key: string, value: string): unknown {
  if (NUMERIC_PARAMS.has(key) && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  if (BOOLEAN_PARAMS.has(key) && (value === 'true' || value === 'false')) return value === 'true';
  if (!TEXT_PARAMS.has(key)) {
    const t = value.trim();
    if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return value;
      }
    }
  }
  return value;
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

interface MultipartPart {
  name: string;
  filename?: string;
  contentType: string;
  data: Buffer;
}

/** Parses `a=1; b="x y"; filename*=UTF-8''%C3%A4` style header parameters. */
function headerParams(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (const m of `;${value.replace(/^[^;]*/, '')}`.matchAll(re)) {
    const key = (m[1] ?? '').toLowerCase();
    let val = (m[2] ?? '').trim();
    if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    if (key.endsWith('*')) {
      const ext = /^[^']*'[^']*'(.*)$/.exec(val);
      try {
        out.set(key.slice(0, -1), decodeURIComponent(ext?.[1] ?? val));
      } catch {
        out.set(key.slice(0, -1), val);
      }
    } else if (!out.has(key)) {
      out.set(key, val);
    }
  }
  return out;
}

export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw badRequest("can't parse multipart/form-data: boundary not found");
  for (;;) {
    pos += delimiter.length;
    // "--" right after a delimiter closes the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw badRequest("can't parse multipart/form-data: unterminated part headers");
    const headers = new Map<string, string>();
    for (const line of body.subarray(pos, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const dataStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), dataStart);
    if (next < 0) throw badRequest("can't parse multipart/form-data: missing closing boundary");
    const disposition = headerParams(headers.get('content-disposition') ?? '');
    const name = disposition.get('name');
    if (name !== undefined) {
      const filename = disposition.get('filename');
      parts.push({
        name,
        ...(filename !== undefined ? { filename } : {}),
        contentType: headers.get('content-type') ?? (filename !== undefined ? 'application/octet-stream' : 'text/plain'),
        data: Buffer.from(body.subarray(dataStart, next)),
      });
    }
    pos = next + 2;
  }
  return parts;
}

/** Replaces every `"attach://<name>"` string (also inside arrays/objects) with the uploaded file. */
function resolveAttachments(value: unknown, files: Map<string, UploadedFile>): unknown {
  if (typeof value === 'string') {
    if (value.startsWith('attach://')) {
      const file = files.get(value.slice('attach://'.length));
      if (file !== undefined) return { file } satisfies UploadedFileParam;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => resolveAttachments(v, files));
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveAttachments(v, files);
    return out;
  }
  return value;
}

function collectAttachRefs(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') {
    if (value.startsWith('attach://')) out.add(value.slice('attach://'.length));
  } else if (Array.isArray(value)) {
    for (const v of value) collectAttachRefs(v, out);
  } else if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) collectAttachRefs(v, out);
  }
}

/** Decodes query string + body into one params object (body wins). */
export function decodeParams(query: URLSearchParams, contentType: string | undefined, body: Buffer): Params {
  const params: Params = {};
  for (const [k, v] of query) params[k] = coerceFormValue(k, v);
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (body.length === 0) return params;

  if (type === 'application/json' || (type === '' && /^\s*\{/.test(body.toString('utf8', 0, 64)))) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest("can't parse JSON object");
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw badRequest("can't parse JSON object");
    }
    return Object.assign(params, parsed);
  }

  if (type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = coerceFormValue(k, v);
    return params;
  }

  if (type === 'multipart/form-data') {
    const boundary = headerParams(contentType ?? '').get('boundary');
    if (boundary === undefined || boundary === '') throw badRequest("can't parse multipart/form-data: no boundary");
    const files = new Map<string, UploadedFile>();
    for (const part of parseMultipart(body, boundary)) {
      if (part.filename !== undefined) {
        files.set(part.name, { filename: part.filename, contentType: part.contentType, bytes: part.data });
      } else {
        params[part.name] = coerceFormValue(part.name, part.data.toString('utf8'));
      }
    }
    const referenced = new Set<string>();
    collectAttachRefs(params, referenced);
    const resolved = resolveAttachments(params, files) as Params;
    // Plain multipart uploads put the file right under the parameter name.
    for (const [name, file] of files) {
      if (!referenced.has(name) && !(name in resolved)) resolved[name] = { file } satisfies UploadedFileParam;
    }
    return resolved;
  }

  throw badRequest(`unsupported content type "${type}"`);
}
