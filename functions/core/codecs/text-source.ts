/**
 * Bytes to text for the decoders: gzip detection by magic bytes, streaming gunzip with
 * decompression-bomb limits, BOM handling, binary sniffing and strict UTF-8 decoding.
 */
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidFileError } from '../errors.ts';
import type { Compression } from '../types.ts';

/** Ratio limits only apply once this much was inflated: small files compress well legitimately. */
export const RATIO_GRACE_BYTES = 10 * 1024 * 1024;
/** Text chunks handed to the parsers are coalesced to about this many UTF-16 units. */
const TEXT_CHUNK_CHARS = 256 * 1024;
const SNIFF_BYTES = 8 * 1024;
/** Bytes handed to TextDecoder at once (see decodeUtf8). */
const MAX_DECODE_BYTES = 256 * 1024;

export interface TextSourceLimits {
  readonly maxDecompressedBytes: number;
  readonly maxCompressionRatio: number;
}

export interface TextSource {
  readonly compression: Compression;
  readonly bom: boolean;
  /** UTF-8 decoded text, BOM removed, in chunks of arbitrary boundaries. */
  readonly chunks: AsyncIterator<string>;
}

/** Opens a byte stream as text. Throws InvalidFileError for problems visible in the first bytes. */
export async function openTextSource(
  body: AsyncIterable<Uint8Array>,
  opts: { fileName: string; limits: TextSourceLimits; onBytes?: ((compressedBytesRead: number) => void) | undefined },
): Promise<TextSource> {
  const { fileName } = opts;
  let compressedRead = 0;
  const counted = countBytes(body, (n) => {
    compressedRead += n;
    opts.onBytes?.(compressedRead);
  });
  const raw = await peek(counted, 3);
  const gzip = raw.head.length >= 2 && raw.head[0] === 0x1f && raw.head[1] === 0x8b;
  const bytes = gzip ? gunzip(raw.stream, fileName, opts.limits, () => compressedRead) : raw.stream;
  let plain: Peeked;
  try {
    plain = await peek(bytes, SNIFF_BYTES);
  } catch (err) {
    await raw.close().catch(() => {});
    throw err;
  }
  try {
    const head = plain.head;
    if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
      throw fileError(fileName, 'encoding', 'is UTF-16 encoded; only UTF-8 (with or without BOM) is supported');
    }
    const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    if (looksBinary(head)) throw fileError(fileName, 'binary', 'holds binary data, not text (NUL or control bytes near the start)');
    return { compression: gzip ? 'gzip' : 'none', bom, chunks: decodeUtf8(plain.stream, fileName)[Symbol.asyncIterator]() };
  } catch (err) {
    // Release the body (an S3 socket, a file handle) before reporting.
    await plain.close().catch(() => {});
    await raw.close().catch(() => {});
    throw err;
  }
}

/** A file-level error whose message names the file and the rule. */
export function fileError(
  fileName: string,
  rule: string,
  what: string,
  extra: Record<string, unknown> = {},
  cause?: unknown,
): InvalidFileError {
  return new InvalidFileError(
    `${fileName}: ${what} [rule ${rule}]`,
    { file: fileName, rule, ...extra },
    cause === undefined ? undefined : { cause },
  );
}

async function* countBytes(body: AsyncIterable<Uint8Array>, onChunk: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    onChunk(chunk.length);
    yield chunk;
  }
}

interface Peeked {
  readonly head: Uint8Array;
  /** Replays the head, then the rest. */
  readonly stream: AsyncIterable<Uint8Array>;
  /** Releases the source when the stream will not be read. */
  close(): Promise<void>;
}

/** Reads at least `min` bytes (or all there is) and returns them with a stream that replays them. */
async function peek(source: AsyncIterable<Uint8Array>, min: number): Promise<Peeked> {
  const it = source[Symbol.asyncIterator]();
  const seen: Uint8Array[] = [];
  let total = 0;
  let done = false;
  while (total < min) {
    const next = await it.next();
    if (next.done) {
      done = true;
      break;
    }
    seen.push(next.value);
    total += next.value.length;
  }
  const head = seen.length === 1 ? (seen[0] as Uint8Array) : Buffer.concat(seen);
  const close = async () => {
    if (done) return;
    done = true;
    await it.return?.();
  };
  async function* replay(): AsyncGenerator<Uint8Array> {
    try {
      if (head.length > 0) yield head;
      while (!done) {
        const next = await it.next();
        if (next.done) {
          done = true;
          return;
        }
        yield next.value;
      }
    } finally {
      await close();
    }
  }
  return { head, stream: replay(), close };
}

async function* gunzip(
  source: AsyncIterable<Uint8Array>,
  fileName: string,
  limits: TextSourceLimits,
  compressedRead: () => number,
): AsyncGenerator<Uint8Array> {
  const inflater = createGunzip({ chunkSize: 64 * 1024 });
  // pipeline forwards a failing body to the inflater and tears the body down when we stop early.
  pipeline(Readable.from(source, { objectMode: false }), inflater, () => {});
  let out = 0;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      out += chunk.length;
      if (out > limits.maxDecompressedBytes) {
        throw fileError(fileName, 'decompressed-too-large', `inflates beyond the limit of ${limits.maxDecompressedBytes} bytes`, {
          limit: limits.maxDecompressedBytes,
        });
      }
      if (out > RATIO_GRACE_BYTES && out / Math.max(1, compressedRead()) > limits.maxCompressionRatio) {
        throw fileError(
          fileName,
          'compression-ratio',
          `inflates more than ${limits.maxCompressionRatio} times its compressed size (likely a decompression bomb)`,
          {
            limit: limits.maxCompressionRatio,
          },
        );
      }
      yield chunk;
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'Z_BUF_ERROR' || (err instanceof Error && /unexpected end of file/i.test(err.message))) {
      throw fileError(fileName, 'gzip-truncated', 'is a truncated gzip stream', {}, err);
    }
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw fileError(fileName, 'gzip-corrupt', 'is a corrupt gzip stream', { zlibCode: code }, err);
    throw err;
  } finally {
    inflater.destroy();
    // Readable.from releases the body asynchronously on destroy; make sure it is released before we return.
    await (source as AsyncGenerator<Uint8Array>).return?.(undefined);
  }
}

/** NUL bytes, or many control bytes, in the first kilobytes mean this is not a text table. */
function looksBinary(head: Uint8Array): boolean {
  const n = Math.min(head.length, SNIFF_BYTES);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i] as number;
    if (b === 0) return true;
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) || b === 0x7f) control++;
  }
  return n > 0 && control / n > 0.1;
}

async function* decodeUtf8(source: AsyncIterable<Uint8Array>, fileName: string): AsyncGenerator<string> {
  // Fatal: a single invalid sequence rejects the file rather than silently inserting U+FFFD.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  let pending = '';
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes ? decoder.decode(bytes, { stream: true }) : decoder.decode();
    } catch (err) {
      throw fileError(fileName, 'encoding', `is not valid UTF-8 (near byte ${offset})`, { byteOffset: offset }, err);
    }
  };
  for await (const chunk of source) {
    // Decoding more than about 1 MB at once gives an external string, and regexes over slices
    // of external strings (every cell) ran 3-4x slower here (free-text scanning): decode in
    // pieces small enough to land on the V8 heap.
    for (let at = 0; at < chunk.length; at += MAX_DECODE_BYTES) {
      const bytes = chunk.length <= MAX_DECODE_BYTES ? chunk : chunk.subarray(at, at + MAX_DECODE_BYTES);
      const text = decode(bytes);
      offset += bytes.length;
      if (text.indexOf('\0') !== -1)
        throw fileError(fileName, 'binary', `holds a NUL character (near byte ${offset})`, { byteOffset: offset });
      pending = pending.length === 0 ? text : pending + text;
      if (pending.length >= TEXT_CHUNK_CHARS) {
        yield pending;
        pending = '';
      }
    }
  }
  const tail = decode();
  if (tail.indexOf('\0') !== -1) throw fileError(fileName, 'binary', 'holds a NUL character at the end');
  pending += tail;
  if (pending.length > 0) yield pending;
}
