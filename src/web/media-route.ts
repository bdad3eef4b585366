import path from 'node:path';
import { Router } from 'express';
import { servedMime } from '../media/media-types';
import { LOCAL_MEDIA_NAME } from '../media/local-storage';

/**
 * GET /media/<name>: files in local storage. The name is checked against the
 * server's own naming (128 random bits + extension), so no request can point
 * anywhere else on disk. The Content-Type comes from the extension the server
 * chose from the file's bytes; browsers may not sniff (nosniff), may not run
 * anything in it (CSP sandbox), and download every non-image. Names never
 * change content, so responses are cached for a year.
 */
export function createMediaRouter({ mediaDir }: { mediaDir: string }): Router {
  const router = Router();
  const root = path.resolve(mediaDir);

  router.get('/media/:name', (req, res, next) => {
    const name = req.params.name;
    if (!LOCAL_MEDIA_NAME.test(name)) return next();
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const mime = servedMime(ext);
    const image = mime.startsWith('image/');
    res.set({
      'Content-Type': mime,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Cache-Control': 'public, max-age=31536000, immutable',
      ...(image ? {} : { 'Content-Disposition': `attachment; filename="${mime.startsWith('audio/') ? 'audio' : 'file'}.${ext}"` }),
    });
    res.sendFile(name, { root, dotfiles: 'deny', cacheControl: false, lastModified: true, headers: { 'Content-Type': mime } }, (err) => {
      if (!err) return;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as { status?: number }).status === 404) {
        res.removeHeader('Content-Disposition');
        res.removeHeader('Cache-Control');
        return next();
      }
      next(err);
    });
  });

  return router;
}
