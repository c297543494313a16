import { randomBytes } from 'node:crypto';
import os from 'node:os';

/** Unique per process: several workers may share a host (or a container name). */
export const WORKER_ID = `${os.hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
