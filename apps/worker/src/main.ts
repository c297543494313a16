import './thread-pool';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@app/config';
import { ProcessLogging, setUpProcessLogging } from '@app/logging';
import { runWorkerBootChecks } from './boot-checks';
import { WorkerModule } from './worker.module';

/** A worker is a Nest application context: no HTTP server, liveness through its Redis heartbeat. */
export async function bootstrapWorker(logging: ProcessLogging = setUpProcessLogging('worker')): Promise<void> {
  // before the module exists: a setting that cannot work must stop the worker before it takes a job
  const config = loadConfig();
  await runWorkerBootChecks(config, new Logger('BootChecks'));
  const graceMs = config.shutdownGraceS * 1000;
  const app = await NestFactory.createApplicationContext(WorkerModule, { bufferLogs: false, logger: logging.nest });
  app.enableShutdownHooks();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      // Nest's hooks stop taking jobs and wait for the active one; past the grace period we leave it
      // to BullMQ's stalled-job recovery on another worker rather than hang forever.
      setTimeout(() => {
        new Logger('Worker').warn(`still busy ${config.shutdownGraceS} s (SHUTDOWN_GRACE_S) after ${signal}: exiting, the job will be retried elsewhere`);
        process.exit(1);
      }, graceMs).unref();
    });
  }
}

if (require.main === module) {
  bootstrapWorker().catch((error: Error) => {
    new Logger('Worker').error(`failed to start: ${error.message}`);
    process.exit(1);
  });
}
