import { describe, expect, it } from 'vitest';
import { parseCpuinfo } from '../../../firmware-ts/src/board/proc.js';
import { armCpuinfo } from '../../../scripts/arm64.js';

describe('the ARM /proc/cpuinfo bound in under emulation', () => {
  it('lists one Cortex-A76 per host core, with the NEON features onnxruntime and the doctor look for', () => {
    const cpu = parseCpuinfo(armCpuinfo(3));
    expect(cpu.cores).toBe(3);
    for (const f of ['fp', 'asimd', 'asimddp']) expect(cpu.features.has(f), f).toBe(true);
    expect(cpu.model).toBe('CPU part 0xd0b');
    // The kernel's layout: "key<TAB>: value" lines, a blank line between processors.
    expect(armCpuinfo(2).split('\n\n')).toHaveLength(3);
    expect(armCpuinfo(1)).toMatch(/^processor\t: 0\nBogoMIPS\t: 108\.00\nFeatures\t: fp asimd /);
  });
});
