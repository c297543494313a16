/** Unit tests live beside the code (*.spec.ts); end-to-end tests in test/e2e (*.e2e-spec.ts). */
const moduleNameMapper = {
  '^@app/(contracts|config|audio|whisper|model-cache|redis|alignment|diarization|vad|testing|outbound|logging|blob-store)$': '<rootDir>/libs/$1/src',
};
// onnxruntime-node builds typed arrays in the main realm; jest's sandbox needs them to match
const setupFiles = ['<rootDir>/test/support/onnxruntime-realm.ts'];
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
module.exports = {
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    { displayName: 'unit', testEnvironment: 'node', rootDir: __dirname, testMatch: ['<rootDir>/{apps,libs,scripts,test}/**/*.spec.ts'], moduleNameMapper, transform, setupFiles },
    { displayName: 'e2e', testEnvironment: 'node', rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], moduleNameMapper, transform, setupFiles },
  ],
};
