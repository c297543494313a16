import { contentDisposition, downloadBaseName, uploadName } from './transcript-response';

describe('download file names', () => {
  it('keeps the upload name without folders or extension', () => {
    expect(contentDisposition('meeting.wav', 'srt')).toBe('attachment; filename="meeting.srt"');
    expect(contentDisposition('C:\\rec\\talk.final.mp3', 'vtt')).toBe('attachment; filename="talk.final.vtt"');
    expect(contentDisposition('../../etc/passwd', 'txt')).toBe('attachment; filename="passwd.txt"');
    expect(contentDisposition(undefined, 'json')).toBe('attachment; filename="transcript.json"');
    expect(contentDisposition('.wav', 'tsv')).toBe('attachment; filename="transcript.tsv"');
  });

  it('drops quotes, CR/LF and other control characters (no header injection)', () => {
    const header = contentDisposition('a"b\r\nSet-Cookie: x=1;.wav', 'srt');
    expect(header).toBe('attachment; filename="abSet-Cookie: x=1.srt"');
    expect(header).not.toMatch(/[\r\n]/);
  });

  it('non-ASCII names: an ASCII fallback and filename* (RFC 6266 / RFC 5987)', () => {
    expect(contentDisposition('réunion été.wav', 'srt')).toBe(`attachment; filename="r_union _t_.srt"; filename*=UTF-8''r%C3%A9union%20%C3%A9t%C3%A9.srt`);
    expect(contentDisposition("日本'(1).mp3", 'vtt')).toBe(`attachment; filename="__'(1).vtt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%27%281%29.vtt`);
  });

  it('repairs names that multer read as latin1', () => {
    const mojibake = Buffer.from('réunion.wav', 'utf8').toString('latin1');
    expect(uploadName(mojibake)).toBe('réunion.wav');
    expect(uploadName('plain.wav')).toBe('plain.wav');
    expect(uploadName('caf\u00e9.wav')).toBe('caf\u00e9.wav');
    expect(downloadBaseName(mojibake)).toBe('réunion');
  });
});
