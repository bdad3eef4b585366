import path from 'node:path';
import type { Config } from '../config';
import type { Storage } from '../db/storage';
import { createErasureService } from '../domain/erasure';
import type { Clock, VisitorNotifier } from '../domain/ports';
import type { Logger } from '../logger';
import { createPruner } from '../maintenance/pruner';
import { createCloudinaryStorage } from '../media/cloudinary-storage';
import { createIncomingFiles } from '../media/incoming';
import { createLocalStorage } from '../media/local-storage';
import { erasedFileRemover } from '../media/storage';

/**
 * What topicdesk keeps besides rows, and what removes it: media on local disk under
 * $DATA_DIR/media or on Cloudinary when CLOUDINARY_URL is set (docs/media.md), files being
 * received, staff's /forget (docs/admin.md "Erasing a visitor"), and the pruner that bounds
 * growth (old update ids, sent outbox rows, orphaned and half-received files, RETENTION_DAYS,
 * erased files still to remove).
 */
export function createFiles(deps: {
  config: Pick<Config, 'dataDir' | 'cloudinaryUrl' | 'pruning'>;
  storage: Storage;
  notifier: VisitorNotifier;
  clock: Clock;
  logger: Logger;
}) {
  const { config, storage, notifier, clock, logger } = deps;
  const mediaDir = path.join(config.dataDir, 'media');
  const mediaStorage = config.cloudinaryUrl ? createCloudinaryStorage(config.cloudinaryUrl) : createLocalStorage(mediaDir);
  const incoming = createIncomingFiles(mediaDir);
  const erasure = createErasureService({ store: storage.store, notifier, removeFile: erasedFileRemover(mediaStorage), clock });
  const pruner = createPruner({
    retention: storage.retention,
    processedUpdates: storage.processedUpdates,
    storage: mediaStorage,
    incoming,
    erasure,
    notifier,
    clock,
    logger,
    windows: config.pruning,
  });
  return { mediaDir, mediaStorage, incoming, erasure, pruner };
}
