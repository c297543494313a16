import { join } from 'node:path';
import { findRepoRoot } from './repo-root';

/** Real speech samples shipped inside the nodejs-whisper package. */
const WHISPER_CPP = join(findRepoRoot(), 'node_modules', 'nodejs-whisper', 'cpp', 'whisper.cpp');
export const JFK_WAV = join(WHISPER_CPP, 'bindings', 'go', 'samples', 'jfk.wav');
export const JFK_MP3 = join(WHISPER_CPP, 'samples', 'jfk.mp3');
