import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
// s3rver ships no types: the part of its API used here
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<AddressInfo>; close(): Promise<void>; httpServer: Server };

/** s3rver's fixed credentials (it checks SigV4 signatures against them). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Request {
  method: string;
  /** path-style: /bucket/key */
  path: string;
  query: URLSearchParams;
  /** Content-Length of the request body, 0 when absent */
  bodyBytes: number;
}

export interface LocalS3 {
  endpoint: string;
  /** an official SDK client with s3rver's credentials */
  client: S3Client;
  /** every request the server received, in order */
  requests: S3Request[];
  /** the process environment a service needs to use the bucket (BLOB_STORE=s3 and credentials) */
  serviceEnv(bucket: string, prefix: string): Record<string, string>;
  createBucket(bucket: string): Promise<void>;
  /** keys under the prefix */
  keys(bucket: string, prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver, objects as files in a temporary directory) on a free loopback
 * port, for tests of the S3 upload store with the official client.
 */
export async function startLocalS3(): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false });
  const address = await server.run();
  const requests: S3Request[] = [];
  server.httpServer.on('request', (request: IncomingMessage) => {
    const url = new URL(request.url ?? '/', 'http://s3');
    requests.push({ method: request.method ?? '', path: decodeURIComponent(url.pathname), query: url.searchParams, bodyBytes: Number(request.headers['content-length'] ?? 0) });
  });
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  return {
    endpoint,
    client,
    requests,
    serviceEnv: (bucket, prefix) => ({
      BLOB_STORE: 's3',
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_PREFIX: prefix,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      // no instance-metadata lookups for credentials or region on a test machine
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    createBucket: async (bucket) => {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    keys: async (bucket, prefix) => {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (page.Contents ?? []).map((object) => object.Key ?? '');
    },
    stop: async () => {
      client.destroy();
      server.httpServer.closeAllConnections?.();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
