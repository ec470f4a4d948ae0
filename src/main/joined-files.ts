/**
 * The files of torrents/ joined to swarms, looked up both ways: by file name, and by info hash
 * without a scan of every file (with 10,000 torrents, a scan per file read at start-up is
 * 50 million comparisons). Two files may briefly name one torrent, when both were read before
 * either joined; the folder refuses the second copy when it reads it, not here.
 */
export class JoinedFiles {
  /** File name -> info hash of the swarm it joined (or is being joined). */
  private readonly byName = new Map<string, string>();
  /** Info hash -> the files that name it, in the order they were joined. */
  private readonly byInfoHash = new Map<string, string[]>();

  get(name: string): string | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  set(name: string, infoHashHex: string): void {
    if (this.byName.get(name) === infoHashHex) return;
    this.delete(name);
    this.byName.set(name, infoHashHex);
    const names = this.byInfoHash.get(infoHashHex);
    if (names) names.push(name);
    else this.byInfoHash.set(infoHashHex, [name]);
  }

  delete(name: string): boolean {
    const infoHashHex = this.byName.get(name);
    if (infoHashHex === undefined) return false;
    this.byName.delete(name);
    const names = this.byInfoHash.get(infoHashHex)!.filter((other) => other !== name);
    if (names.length === 0) this.byInfoHash.delete(infoHashHex);
    else this.byInfoHash.set(infoHashHex, names);
    return true;
  }

  /** The first file joined that names this torrent, other than `except`. */
  fileOf(infoHashHex: string, except?: string): string | undefined {
    return this.byInfoHash.get(infoHashHex)?.find((name) => name !== except);
  }

  /** Every [file name, info hash], in the order they were joined. */
  entries(): IterableIterator<[string, string]> {
    return this.byName.entries();
  }
}
