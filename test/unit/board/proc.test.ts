import { describe, expect, it } from 'vitest';
import {
  hwName,
  isAbsentDeviceError,
  isBusyDeviceError,
  parseDeviceList,
} from '../../../firmware-ts/src/board/alsa.js';
import { parseCpuinfo, parseMeminfo } from '../../../firmware-ts/src/board/proc.js';
import { PI4_CPUINFO, X86_CPUINFO } from './samples.js';

describe('/proc/cpuinfo', () => {
  it('reads an ARM board: cores, Features and the board model', () => {
    const cpu = parseCpuinfo(PI4_CPUINFO);
    expect(cpu.cores).toBe(2);
    expect([...cpu.features]).toEqual(['fp', 'asimd', 'evtstrm', 'crc32', 'cpuid']);
    expect(cpu.model).toBe('Raspberry Pi 4 Model B Rev 1.1');
  });

  it('reads x86: flags and model name', () => {
    const cpu = parseCpuinfo(X86_CPUINFO);
    expect(cpu.cores).toBe(2);
    expect(cpu.features.has('avx2')).toBe(true);
    expect(cpu.features.has('sse4_1')).toBe(true);
    expect(cpu.model).toBe('AMD EPYC 7B13');
  });

  it('names the CPU part on an ARM board that gives no model, and survives an empty file', () => {
    expect(parseCpuinfo('processor\t: 0\nFeatures\t: fp asimd\nCPU part\t: 0xd03\n').model).toBe(
      'CPU part 0xd03',
    );
    expect(parseCpuinfo('')).toEqual({ cores: 0, features: new Set(), model: '' });
  });
});

describe('/proc/meminfo', () => {
  it('reads total and available, in bytes', () => {
    const text = 'MemTotal:        3884136 kB\nMemFree:          123456 kB\nMemAvailable:    2950000 kB\n';
    expect(parseMeminfo(text)).toEqual({ totalBytes: 3884136 * 1024, availableBytes: 2950000 * 1024 });
  });

  it('is undefined without MemAvailable (old kernels)', () => {
    expect(parseMeminfo('MemTotal:        3884136 kB\nMemFree:          123456 kB\n')).toBeUndefined();
  });
});

describe('ALSA tool output', () => {
  it('lists the hardware devices of arecord -l', () => {
    const stdout = `**** List of CAPTURE Hardware Devices ****
card 1: Device [USB Audio Device], device 0: USB Audio [USB Audio]
  Subdevices: 1/1
  Subdevice #0: subdevice #0
card 2: sndrpihifiberry [snd_rpi_hifiberry_dacplusadc], device 0: HiFiBerry DAC+ADC HiFi multicodec-0 [HiFiBerry DAC+ADC HiFi multicodec-0]
  Subdevices: 1/1
`;
    const devices = parseDeviceList(stdout);
    expect(devices.map(hwName)).toEqual(['hw:1,0', 'hw:2,0']);
    expect(devices[0]?.description).toBe('USB Audio Device: USB Audio');
    expect(parseDeviceList('')).toEqual([]);
  });

  it('tells a device that is not there from one that is busy', () => {
    const absent = 'arecord: main:831: audio open error: No such file or directory';
    const busy = 'arecord: main:831: audio open error: Device or resource busy';
    expect(isAbsentDeviceError(absent)).toBe(true);
    expect(isAbsentDeviceError(busy)).toBe(false);
    expect(isBusyDeviceError(busy)).toBe(true);
    expect(isAbsentDeviceError('spawn arecord ENOENT')).toBe(false);
  });
});
