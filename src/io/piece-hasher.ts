/** SHA-1 of piece data, behind an interface so that hashing can move off the main thread. */
import { createHash } from 'node:crypto';

export interface PieceHasher {
  sha1(data: Buffer): Promise<Buffer>;
}

export const mainThreadHasher: PieceHasher = {
  async sha1(data: Buffer): Promise<Buffer> {
    return createHash('sha1').update(data).digest();
  },
};
