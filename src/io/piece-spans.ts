/**
 * A piece's place on disk as plain data that can cross to a worker thread: the absolute path,
 * offset and length of each file span it covers, in order.
 */
export interface DiskSpan {
  path: string;
  /** Offset inside the file. */
  fileOffset: number;
  length: number;
  /** Full length of the file, so a worker that creates it can size it. */
  fileLength: number;
}

export interface PieceLocation {
  spans: DiskSpan[];
  /** Bytes of the piece. */
  length: number;
}
