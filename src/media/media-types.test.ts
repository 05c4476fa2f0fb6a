import { describe, expect, it } from 'vitest';
import { SAMPLE_EXTENSIONS, mediaSample } from '../../test/media-samples.js';
import { MEDIA_EXTENSIONS, extensionOf, mediaTypeOf } from './media-types.js';

describe('media types', () => {
  it('accepts exactly the contract extensions, in any case', () => {
    expect([...MEDIA_EXTENSIONS].sort()).toEqual(
      ['jpg', 'jpeg', 'png', 'webp', 'mp4', 'mov', 'mp3', 'ogg', 'm4a', 'wav', 'opus', 'pdf', 'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'txt'].sort(),
    );
    expect(mediaTypeOf('JPG')?.mimeType).toBe('image/jpeg');
    expect(mediaTypeOf('exe')).toBeUndefined();
  });

  it.each(SAMPLE_EXTENSIONS)('recognizes the content of a .%s file', (extension) => {
    expect(mediaTypeOf(extension)!.matches(mediaSample(extension))).toBe(true);
  });

  it('refuses content that is not what the extension claims', () => {
    expect(mediaTypeOf('png')!.matches(mediaSample('pdf'))).toBe(false);
    expect(mediaTypeOf('jpg')!.matches(mediaSample('png'))).toBe(false);
    expect(mediaTypeOf('pdf')!.matches(mediaSample('txt'))).toBe(false);
    expect(mediaTypeOf('wav')!.matches(mediaSample('webp'))).toBe(false);
    expect(mediaTypeOf('mp4')!.matches(mediaSample('ogg'))).toBe(false);
    expect(mediaTypeOf('docx')!.matches(mediaSample('doc'))).toBe(false);
  });

  it('takes text to be UTF-8 without NUL bytes', () => {
    const txt = mediaTypeOf('txt')!;
    expect(txt.matches(mediaSample('png'))).toBe(false);
    expect(txt.matches(Buffer.from([0x68, 0x69, 0xff, 0xfe]))).toBe(false);
    // A multi-byte character cut off at the end of the sample is still text.
    expect(txt.matches(Buffer.from('שלום', 'utf8').subarray(0, 7))).toBe(true);
  });

  it.each([
    ['photo.JPG', 'jpg'],
    ['/media/archive.tar.gz', 'gz'],
    ['/path/no-extension', ''],
    ['/dir.with.dots/file', ''],
    ['.hidden', ''],
    ['trailing.', ''],
  ])('extensionOf(%j) is %j', (name, extension) => {
    expect(extensionOf(name)).toBe(extension);
  });
});
