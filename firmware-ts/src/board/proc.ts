/** /proc/cpuinfo and /proc/meminfo, read. Both x86 (`flags`) and ARM (`Features`) layouts. */

export interface CpuInfo {
  /** Logical processors listed. */
  cores: number;
  /** Instruction-set features of the first processor (`flags` on x86, `Features` on ARM). */
  features: ReadonlySet<string>;
  /** `model name` on x86, the board `Model` (e.g. Raspberry Pi) or `CPU part` on ARM; '' when absent. */
  model: string;
}

export function parseCpuinfo(text: string): CpuInfo {
  let cores = 0;
  let features: string[] | undefined;
  let model = '';
  let part = '';
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at < 0) continue;
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    if (key === 'processor') cores++;
    else if ((key === 'flags' || key === 'Features') && features === undefined) features = value.split(/\s+/);
    else if ((key === 'model name' || key === 'Model') && model === '') model = value;
    else if (key === 'CPU part' && part === '') part = `CPU part ${value}`;
  }
  return { cores, features: new Set(features?.filter((f) => f !== '') ?? []), model: model || part };
}

export interface MemInfo {
  totalBytes: number;
  /** The kernel's estimate of what can be allocated without swapping (MemAvailable). */
  availableBytes: number;
}

/** undefined when MemTotal or MemAvailable is missing (kernels before 3.14 have no MemAvailable). */
export function parseMeminfo(text: string): MemInfo | undefined {
  const kb = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m === null ? undefined : Number(m[1]) * 1024;
  };
  const totalBytes = kb('MemTotal');
  const availableBytes = kb('MemAvailable');
  return totalBytes === undefined || availableBytes === undefined
    ? undefined
    : { totalBytes, availableBytes };
}
