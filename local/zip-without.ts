/**
 * Copy a zip (jar) archive without the named entries, byte for byte otherwise. Used to take
 * log4j's JndiLookup class out of DynamoDB Local's bundled log4j-core 2.8 (CVE-2021-44228):
 * the mitigation Apache documents for log4j versions before 2.10. No zip64 support: the
 * archives here are a few MB.
 */
const endOfCentralDirectory = 0x06054b50;
const centralDirectoryHeader = 0x02014b50;

interface Entry {
  name: string;
  localOffset: number;
  central: Buffer;
}

export function zipWithout(archive: Buffer, removed: ReadonlySet<string>): { archive: Buffer; removedCount: number } {
  const end = findEndOfCentralDirectory(archive);
  const entryCount = archive.readUInt16LE(end + 10);
  const centralOffset = archive.readUInt32LE(end + 16);

  const entries: Entry[] = [];
  let position = centralOffset;
  for (let i = 0; i < entryCount; i++) {
    if (archive.readUInt32LE(position) !== centralDirectoryHeader) throw new Error('Corrupt zip: bad central directory');
    const nameLength = archive.readUInt16LE(position + 28);
    const length = 46 + nameLength + archive.readUInt16LE(position + 30) + archive.readUInt16LE(position + 32);
    entries.push({
      name: archive.toString('utf8', position + 46, position + 46 + nameLength),
      localOffset: archive.readUInt32LE(position + 42),
      central: archive.subarray(position, position + length),
    });
    position += length;
  }

  // Each local record (header, data, optional descriptor) runs up to the next one.
  const byOffset = [...entries].sort((a, b) => a.localOffset - b.localOffset);
  const recordEnd = new Map<Entry, number>();
  for (const [index, entry] of byOffset.entries()) recordEnd.set(entry, byOffset[index + 1]?.localOffset ?? centralOffset);

  const records: Buffer[] = [];
  const centrals: Buffer[] = [];
  let written = 0;
  for (const entry of byOffset) {
    if (removed.has(entry.name)) continue;
    const record = archive.subarray(entry.localOffset, recordEnd.get(entry));
    const central = Buffer.from(entry.central);
    central.writeUInt32LE(written, 42);
    records.push(record);
    centrals.push(central);
    written += record.length;
  }
  const centralDirectory = Buffer.concat(centrals);
  const trailer = Buffer.from(archive.subarray(end));
  trailer.writeUInt16LE(centrals.length, 8);
  trailer.writeUInt16LE(centrals.length, 10);
  trailer.writeUInt32LE(centralDirectory.length, 12);
  trailer.writeUInt32LE(written, 16);
  return { archive: Buffer.concat([...records, centralDirectory, trailer]), removedCount: entries.length - centrals.length };
}

function findEndOfCentralDirectory(archive: Buffer): number {
  for (let position = archive.length - 22; position >= Math.max(0, archive.length - 22 - 65_535); position--) {
    if (archive.readUInt32LE(position) === endOfCentralDirectory) return position;
  }
  throw new Error('Not a zip archive: no end of central directory');
}
