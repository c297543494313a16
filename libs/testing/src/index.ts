/**
 * Dev-only helpers shared by tests, fixture generators and benchmarks: a seeded PRNG and the
 * diarization error rate. No app imports this library, and no runtime library does either
 * (test/deployment/runtime-build.spec.ts checks both), so it never reaches the images.
 */
export * from './seeded-random';
export * from './der';
