/**
 * Which CPU a native file is built for, from its ELF header, so a bundle for one architecture never
 * carries another's binaries (npm's --cpu filter covers optional packages, not multi-platform ones).
 */
import { promises as fs } from 'node:fs';

/** e_machine values (ELF spec, /usr/include/elf.h). */
export const ELF_MACHINE = { x64: 62, arm64: 183 } as const; // EM_X86_64, EM_AARCH64

/** The e_machine of an ELF file, or undefined when it is not ELF. */
export async function elfMachine(file: string): Promise<number | undefined> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await handle.read(head, 0, 20, 0);
    if (bytesRead < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined; // "\x7fELF"
    // EI_DATA (byte 5): 1 little-endian, 2 big-endian; e_machine is the half-word at 18.
    return head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  } finally {
    await handle.close();
  }
}
