/** A 44-byte RIFF/WAVE header for mono PCM16 declaring `dataBytes` of samples (the RIFF size is capped at 4 GiB). */
export function wavHeader(dataBytes: number, sampleRate = 16_000): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Builds 16 kHz mono PCM16 WAV bytes from float samples (tests make long audio in memory). */
export function encodeWav(samples: Float32Array, sampleRate = 16_000): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767))), i * 2);
  return Buffer.concat([wavHeader(data.length, sampleRate), data]);
}

/** Reads the samples of a 16-bit mono WAV (the jfk sample). */
export function readPcm16Wav(bytes: Buffer): Float32Array {
  const dataAt = bytes.indexOf('data', 12, 'ascii');
  const length = bytes.readUInt32LE(dataAt + 4);
  const out = new Float32Array(length / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(dataAt + 8 + i * 2) / 32768;
  return out;
}

/** The same speech repeated until `seconds`, with a short silence between repeats. */
export function repeatSpeech(speech: Float32Array, seconds: number, gapSeconds = 1): Float32Array {
  const total = Math.round(seconds * 16_000);
  const out = new Float32Array(total);
  const gap = Math.round(gapSeconds * 16_000);
  for (let at = 0; at < total; at += speech.length + gap) out.set(speech.subarray(0, Math.min(speech.length, total - at)), at);
  return out;
}
