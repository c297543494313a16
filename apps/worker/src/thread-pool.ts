/**
 * Each running whisper.cpp call holds one libuv pool thread for its whole duration; the pool
 * (default 4) is also where fs and crypto work. Size it before anything uses it.
 */
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 1) || 1;
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, concurrency + 4));
