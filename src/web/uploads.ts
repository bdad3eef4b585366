import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { ChatService } from '../domain/chat-service';
import type { Writer } from '../domain/visitor-identity';
import { isDomainError } from '../domain/errors';
import { messageView } from '../domain/types';
import type { Logger } from '../logger';
import type { IncomingFiles } from '../media/incoming';
import { inspectUpload } from '../media/inspect';
import { prepareUpload } from '../media/prepare';
import { MAX_UPLOAD_BYTES } from '../media/media-types';
import type { MediaStorage } from '../media/storage';
import { describeIssues, isTooLarge, schemas } from './protocol';
import { cleanText } from '../domain/text';
import { burstWindow, spendAll, type Budgets, type Receipt } from '../limits/budgets';
import { admitted, type AddressBudgets } from './address-budgets';
import { requestAddress } from './client-address';
import { receiveUpload } from './uploads/receive';
import { notAllowed, refuse, tooLarge, UploadError } from './uploads/refusal';

export interface UploadsDeps {
  chat: ChatService;
  storage: MediaStorage;
  incoming: IncomingFiles;
  logger: Logger;
  /** Per-visitor budget for uploads (same sizes as messages: RATE_MESSAGE_BURST / RATE_MESSAGE_PER_MINUTE). */
  limits: { burst: number; perMinute: number };
  /** Where the budgets live: this process, or Redis across instances (src/limits/budgets.ts). */
  budgets: Budgets;
  /** The budgets of each client address: upload count and bytes, new visitors, new threads (address-budgets.ts). */
  addressBudgets: AddressBudgets;
  /** TRUST_PROXY, for the client address (src/web/client-address.ts). */
  trustProxy: number | null;
  maxBytes?: number;
}

/** Uploads in flight per visitor; more at once are refused with 429. */
const MAX_IN_FLIGHT = 4;
/** Multipart overhead allowed on top of the file in Content-Length. */
const ENVELOPE_BYTES = 64 * 1024;

const fieldsSchema = z.strictObject({
  // Blank, or only invisible characters (domain/text.ts): a file without a caption.
  caption: z
    .string()
    .optional()
    .transform((s) => (s === undefined || cleanText(s).trim() === '' ? null : s))
    .pipe(z.union([z.null(), schemas['message:send'].shape.text])),
  clientId: schemas['message:send'].shape.clientId.optional(),
  // As message:send's: where a conversation this file opens goes (docs/departments.md).
  department: schemas['message:send'].shape.department,
});

/** What an upload spent: the bytes reserved shrink to the file's size once it is received. */
interface UploadSpend extends Receipt {
  received(size: number): Promise<void>;
}

/**
 * POST /api/uploads (docs/protocol.md "Uploads", docs/media.md): multipart with `file` and optional `caption` and
 * `clientId`; `Authorization: Bearer <visitor token>`. The body is streamed to a
 * server-named file in the incoming folder under hard limits (size, parts,
 * fields); the type is decided from the bytes, early from the first ones and
 * finally from the whole file with its structure checked. Only then is the file
 * handed to storage and the message stored with its outbox row (one
 * transaction), answered 201 and broadcast to the visitor's sockets. Every
 * refusal removes what was received: nothing stays on disk or in the database.
 */
export function createUploadsRouter({
  chat,
  storage,
  incoming,
  logger,
  limits,
  budgets,
  addressBudgets,
  trustProxy,
  maxBytes = MAX_UPLOAD_BYTES,
}: UploadsDeps) {
  const log = logger.child({ unit: 'uploads' });
  const budget = budgets.budget('upload', [burstWindow(limits)]);
  const inFlight = new Map<number, number>();
  const router = Router();

  router.post('/api/uploads', async (req: Request, res: Response) => {
    let uploader: Uploader | null = null;
    let spent: UploadSpend | null = null;
    try {
      uploader = await authorize(req);
      // A first upload stores the visitor and opens its thread: refused before the body is read when it could not.
      if (uploader.visitorId === null) await addressBudgets.admission(uploader.address).expectNewVisitor();
      const n = inFlight.get(uploader.publicId) ?? 0;
      if (n >= MAX_IN_FLIGHT) throw new UploadError(429, 'rate_limited', 'Too many uploads at once. Wait for one to finish.', 1000);
      inFlight.set(uploader.publicId, n + 1);
      try {
        spent = await spend(req, uploader);
        await handle(req, res, uploader, spent);
      } finally {
        const left = (inFlight.get(uploader.publicId) ?? 1) - 1;
        if (left > 0) inFlight.set(uploader.publicId, left);
        else inFlight.delete(uploader.publicId);
      }
    } catch (error) {
      // Refused by a limit met further on (a new visitor or thread, /lockdown): this upload spent nothing.
      if (spent && isDomainError(error) && (error.code === 'rate_limited' || error.code === 'verification_required'))
        await spent.refund().catch((e: unknown) => log.warn('giving back an upload budget failed', { error: e }));
      refuse(req, res, error, log, uploader?.visitorId);
    }
  });

  /** Who uploads: a stored visitor, or one stored with this upload (its token was issued here). */
  interface Uploader {
    writer: Writer;
    publicId: number;
    visitorId: number | null;
    address: string;
  }

  async function authorize(req: Request): Promise<Uploader> {
    const token = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw new UploadError(401, 'unauthorized', 'Send your visitor token as "Authorization: Bearer <token>".');
    const found = await chat.authenticate(token);
    if (!found) throw new UploadError(401, 'unauthorized', 'Unknown visitor token.');
    if (found.visitor?.blocked) throw new UploadError(403, 'blocked', 'Support is not accepting messages from you.');
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes + ENVELOPE_BYTES) throw tooLarge(maxBytes);
    return {
      writer: found.writer,
      publicId: found.publicId,
      visitorId: found.visitor?.id ?? null,
      address: requestAddress(req, trustProxy),
    };
  }

  /**
   * The visitor's upload budget, and its address's upload count and bytes. The bytes
   * are reserved from Content-Length (the most a body may be without it) before the
   * body is read, so a flood is refused before it reaches the disk; what the file
   * turns out not to need is given back once it is received.
   */
  async function spend(req: Request, uploader: Uploader): Promise<UploadSpend> {
    const declared = Number(req.headers['content-length']);
    let bytes = Math.min(Number.isFinite(declared) && declared > 0 ? declared : maxBytes + ENVELOPE_BYTES, maxBytes + ENVELOPE_BYTES);
    const visitor = `v${uploader.publicId}`;
    const address = addressBudgets.key(uploader.address);
    const spent = await spendAll([
      [budget, visitor],
      [addressBudgets.uploads, address],
      [addressBudgets.uploadBytes, address, bytes],
    ]);
    if (!spent.ok)
      throw new UploadError(
        429,
        'rate_limited',
        `Too many uploads. Try again in ${Math.ceil(spent.retryAfterMs / 1000)} s.`,
        spent.retryAfterMs,
      );
    return {
      async received(size) {
        const unused = bytes - size;
        if (unused <= 0) return;
        bytes = size;
        await addressBudgets.uploadBytes.refund(address, unused);
      },
      async refund() {
        await Promise.all([
          budget.refund(visitor),
          addressBudgets.uploads.refund(address),
          addressBudgets.uploadBytes.refund(address, bytes),
        ]);
      },
    };
  }

  async function handle(req: Request, res: Response, uploader: Uploader, spent: UploadSpend): Promise<void> {
    const received = await receiveUpload(req, incoming, maxBytes);
    const file = received.file;
    await spent.received(file?.size ?? 0);
    const readyPath = incoming.newPath();
    try {
      const parsed = fieldsSchema.safeParse(received.fields);
      if (!parsed.success) {
        const tooLarge = isTooLarge(parsed.error);
        throw new UploadError(tooLarge ? 413 : 400, tooLarge ? 'too_large' : 'bad_request', describeIssues(parsed.error));
      }
      if (!file || file.size === 0) throw new UploadError(400, 'bad_request', 'Send the file in a part named "file".');
      const inspection = await inspectUpload(file.path);
      if (!inspection.ok) throw notAllowed(inspection.reason);
      // Photos lose what they say beyond their pixels; recordings become voice notes.
      const ready = await prepareUpload(file.path, inspection.type, readyPath, file.size);
      const { caption, clientId, department } = parsed.data;
      const stored = await storage.save(ready.path, ready.type);
      let result;
      try {
        result = await admitted(addressBudgets.admission(uploader.address), (admission) =>
          chat.postVisitorMessage(
            uploader.writer,
            {
              text: caption,
              clientId: clientId ?? null,
              ...(department ? { department } : {}),
              attachment: { kind: ready.type.kind, url: stored.url, mime: ready.type.mime, size: ready.size, path: stored.path },
            },
            admission,
          ),
        );
      } catch (error) {
        await storage.remove(stored).catch((e: unknown) => log.warn('removing an unused stored file failed', { error: e }));
        throw error;
      }
      // The same clientId again: the first upload's message stands; this copy of the file is not needed.
      if (!result.created)
        await storage.remove(stored).catch((e: unknown) => log.warn('removing an unused stored file failed', { error: e }));
      res.status(result.created ? 201 : 200).json({ message: messageView(result.message) });
    } finally {
      if (file) await incoming.discard(file.path);
      await incoming.discard(readyPath);
    }
  }

  return { router };
}
