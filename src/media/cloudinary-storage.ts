import fs from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { v2 as cloudinary, type UploadApiResponse } from 'cloudinary';
import type { MediaType } from './media-types';
import type { MediaStorage } from './storage';

/** Cloudinary's resource types: audio is a "video" resource there; anything not an image or audio is "raw". */
export function resourceTypeFor(type: MediaType): 'image' | 'video' | 'raw' {
  if (type.kind === 'image') return 'image';
  if (type.kind === 'audio' || type.kind === 'voice') return 'video';
  return 'raw';
}

/**
 * Media on Cloudinary through the official SDK. Credentials come from
 * CLOUDINARY_URL (`cloudinary://key:secret@cloud`, optional `?upload_prefix=…&folder=…`)
 * and are passed with every call, so nothing global is configured. An `http:`
 * upload_prefix (a Cloudinary-compatible endpoint on loopback, in tests) gets a
 * plain-HTTP agent: the SDK picks https by default.
 */
export function createCloudinaryStorage(cloudinaryUrl: string): MediaStorage {
  const u = new URL(cloudinaryUrl);
  const query = Object.fromEntries(u.searchParams);
  const credentials = {
    cloud_name: u.hostname,
    api_key: decodeURIComponent(u.username),
    api_secret: decodeURIComponent(u.password),
    ...(query.upload_prefix ? { upload_prefix: query.upload_prefix.replace(/\/+$/, '') } : {}),
    ...(query.upload_prefix?.startsWith('http:') ? { agent: new http.Agent({ keepAlive: true }) } : {}),
  };
  const folder = query.folder ?? 'topicdesk';

  return {
    kind: 'cloudinary',
    async save(tempPath, type) {
      const resourceType = resourceTypeFor(type);
      try {
        const result = await new Promise<UploadApiResponse>((resolve, reject) => {
          const upload = cloudinary.uploader.upload_stream(
            {
              ...credentials,
              resource_type: resourceType,
              folder,
              // A server-made id; Cloudinary adds the folder. Raw files keep their extension in the id.
              public_id: randomBytes(16).toString('hex') + (resourceType === 'raw' ? `.${type.ext}` : ''),
              overwrite: false,
            },
            (error, result) =>
              error || !result ? reject(new Error(`Cloudinary upload failed: ${error?.message ?? 'no result'}`)) : resolve(result),
          );
          pipeline(fs.createReadStream(tempPath), upload).catch(reject);
        });
        return { url: result.secure_url, path: `${resourceType}/${result.public_id}` };
      } finally {
        await fs.promises.rm(tempPath, { force: true });
      }
    },
    async remove(stored) {
      const slash = stored.path.indexOf('/');
      await cloudinary.uploader.destroy(stored.path.slice(slash + 1), {
        ...credentials,
        resource_type: stored.path.slice(0, slash),
        invalidate: true,
      });
    },
  };
}
