import { UnrecoverableError } from 'bullmq';
import { encodeJobError, ErrorCode, JobName, JobResultMap, QueuedJob } from '@app/contracts';
import { runWithLogContext, saneRequestId } from '@app/logging';

/**
 * The worker's side of the job map (libs/contracts/src/jobs.ts): one handler per kind of job. A new
 * kind is a JobName, an entry in JobDataMap/JobResultMap and a class implementing JobHandler for it,
 * listed where the queue's consumer registers its handlers; the worker refuses to start when a
 * kind has no handler or two.
 */
export interface JobHandler<N extends JobName = JobName> {
  /** the one kind of job this handler runs */
  readonly jobName: N;
  handle(job: QueuedJob<N>): Promise<JobResultMap[N]>;
}

/** Every job name with its one handler. */
export type JobHandlerRegistry = { readonly [N in JobName]: JobHandler<N> };

/** A handler's name for messages: its class. */
const described = (handler: JobHandler): string => handler.constructor?.name || 'anonymous handler';

/**
 * Checks that every job name has exactly one handler (and no handler claims a name the map does not
 * have), then returns them by name. Throws at boot, listing every problem at once.
 */
export function registerJobHandlers(handlers: readonly JobHandler[], names: readonly JobName[] = Object.values(JobName)): JobHandlerRegistry {
  const problems: string[] = [];
  const registry: Partial<Record<JobName, JobHandler>> = {};
  for (const name of names) {
    const claiming = handlers.filter((handler) => handler.jobName === name);
    if (claiming.length === 0) problems.push(`job "${name}" has no handler`);
    else if (claiming.length > 1) problems.push(`job "${name}" has ${claiming.length} handlers (${claiming.map(described).join(', ')})`);
    else registry[name] = claiming[0];
  }
  for (const handler of handlers) {
    if (!names.includes(handler.jobName)) problems.push(`${described(handler)} handles "${String(handler.jobName)}", which is not a job name`);
  }
  if (problems.length > 0) throw new Error(`job handlers: ${problems.join('; ')}`);
  return registry as JobHandlerRegistry;
}

/** Runs a job with its kind's handler; a name no handler knows (a newer producer?) fails the job for good. */
export function dispatchJob(registry: JobHandlerRegistry, job: QueuedJob): Promise<JobResultMap[JobName]> {
  const handler = (registry as Partial<Record<string, JobHandler>>)[job.name];
  if (!handler) {
    return Promise.reject(new UnrecoverableError(encodeJobError(ErrorCode.Internal, `this worker has no handler for job "${job.name}"`)));
  }
  // every line logged while the job runs carries its id and the request id it was submitted with
  const context = { job_id: String(job.id), request_id: saneRequestId((job.data as { requestId?: unknown }).requestId) };
  // the registry pairs each name with its handler, which TypeScript cannot follow through the lookup
  return runWithLogContext(context, () => (handler as JobHandler<typeof job.name>).handle(job));
}
