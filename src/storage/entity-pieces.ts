/**
 * A table property holds 64 KiB: a long text is kept as binary pieces of its UTF-8 bytes (binary, not
 * strings, so no multi-byte character is ever cut or re-encoded on the way).
 */
export const PIECE_BYTES = 60_000;

/** Properties `<prefix>0`, `<prefix>1`, ... holding `text`, and `<prefix>Pieces` saying how many. */
export function toPieces(prefix: string, text: string): Record<string, Uint8Array | number> {
  const bytes = Buffer.from(text, "utf8");
  const pieces: Record<string, Uint8Array | number> = {};
  let count = 0;
  for (; count * PIECE_BYTES < bytes.length; count++) pieces[`${prefix}${count}`] = bytes.subarray(count * PIECE_BYTES, (count + 1) * PIECE_BYTES);
  pieces[`${prefix}Pieces`] = count;
  return pieces;
}

/** The text `toPieces` wrote under `prefix`. */
export function fromPieces(prefix: string, entity: Record<string, unknown>): string {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < Number(entity[`${prefix}Pieces`] ?? 0); i++) pieces.push(entity[`${prefix}${i}`] as Uint8Array);
  return Buffer.concat(pieces).toString("utf8");
}

/** The HTTP status of a storage SDK error, if it has one. */
export function storageStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}
