/** The first bytes of a real file of each accepted type, for tests that upload media. */
const SIGNATURES: Record<string, number[] | string> = {
  jpg: [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0')],
  jpeg: [0xff, 0xd8, 0xff, 0xdb],
  png: [0x89, ...Buffer.from('PNG\r\n\x1a\n'), 0x00, 0x00, 0x00, 0x0d, ...Buffer.from('IHDR')],
  webp: 'RIFF\x24\x00\x00\x00WEBPVP8 ',
  mp4: '\0\0\0\x18ftypisom\0\0\x02\0',
  mov: '\0\0\0\x14ftypqt  \0\0\x02\0',
  m4a: '\0\0\0\x1cftypM4A \0\0\0\0',
  mp3: 'ID3\x04\0\0\0\0\0\0',
  ogg: 'OggS\0\x02',
  opus: 'OggS\0\x02',
  wav: 'RIFF\x24\x00\x00\x00WAVEfmt ',
  pdf: '%PDF-1.7\n',
  doc: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
  xls: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
  ppt: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
  docx: 'PK\x03\x04\x14\0\x06\0',
  xlsx: 'PK\x03\x04\x14\0\x06\0',
  pptx: 'PK\x03\x04\x14\0\x06\0',
  txt: [...Buffer.from('Hello from a text file: שלום\n', 'utf8')],
};

/** `size` bytes that start like a file of this extension (padded with spaces). */
export function mediaSample(extension: string, size = 256): Buffer {
  const signature = SIGNATURES[extension];
  if (signature === undefined) throw new Error(`no sample for .${extension}`);
  const head = typeof signature === 'string' ? Buffer.from(signature, 'latin1') : Buffer.from(signature);
  const sample = Buffer.alloc(Math.max(size, head.length), 0x20);
  head.copy(sample);
  return sample;
}

export const SAMPLE_EXTENSIONS = Object.keys(SIGNATURES);
