/**
 * A piece's place on disk as plain data that can cross to a worker thread: the absolute path,
 * offset and length of each file span it covers, in order.
 */
export interface DiskSpan {
  /** Empty for a pad file's span. */
  path: string;
  /** Offset inside the file. */
  fileOffset: number;
  length: number;
  /** Full length of the file, so a worker that creates it can size it. */
  fileLength: number;
  /** Bytes of a BEP 47 pad file: zeros when read, not written anywhere. */
  pad: boolean;
}

export interface PieceLocation {
  spans: DiskSpan[];
  /** Bytes of the piece. */
  length: number;
}
