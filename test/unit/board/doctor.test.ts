import { describe, expect, it } from 'vitest';
import {
  doctorOk,
  FLASH_FREE_BYTES,
  renderDoctor,
  runDoctor,
  type CommandOutcome,
  type DiskSpace,
  type DoctorPlan,
  type DoctorPort,
  type DoctorRow,
  type ModelFileCheck,
  type OutboxCheck,
} from '../../../firmware-ts/src/board/doctor.js';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import { PI4_CPUINFO, X86_CPUINFO } from './samples.js';

const PLAN: DoctorPlan = {
  micDevice: 'default',
  speakerDevice: 'default',
  cameraDevice: '/dev/video0',
  cameraConfigured: true,
  workDir: '/opt/glasses/current',
  modelsDir: '/opt/glasses/current/models',
  outboxDir: '/var/lib/glasses/outbox',
};

const GB = 2 ** 30;
const USB_CARD = 'card 1: Device [USB Audio Device], device 0: USB Audio [USB Audio]\n';
const ok = (stdout = ''): CommandOutcome => ({
  kind: 'exited',
  code: 0,
  stdout: Buffer.from(stdout),
  stderr: '',
});
const failed = (stderr: string): CommandOutcome => ({
  kind: 'exited',
  code: 1,
  stdout: Buffer.alloc(0),
  stderr,
});
const OPEN_ABSENT = failed(
  'ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default\narecord: main:831: audio open error: No such file or directory\n',
);

interface FakeSystem {
  arch: string;
  files: Record<string, string>;
  /** `tool arg0` -> outcome; unlisted commands are missing. */
  commands: Record<string, CommandOutcome>;
  executables: string[];
  disks: Record<string, DiskSpace>;
  readable: string[];
  unreadable: string[];
  models: ModelFileCheck[] | Error;
  outbox: OutboxCheck | undefined;
}

/** A healthy Raspberry Pi 4 with a USB sound card and a camera; each test breaks one thing. */
function healthy(): FakeSystem {
  return {
    arch: 'arm64',
    files: {
      '/proc/cpuinfo': PI4_CPUINFO,
      '/proc/meminfo': 'MemTotal:        3884136 kB\nMemAvailable:    2950000 kB\n',
    },
    commands: {
      'arecord -l': ok(`**** List of CAPTURE Hardware Devices ****\n${USB_CARD}`),
      'aplay -l': ok(`**** List of PLAYBACK Hardware Devices ****\n${USB_CARD}`),
      'arecord -q': ok('\0\0'),
      'aplay -q': ok(),
    },
    executables: ['espeak-ng', 'arecord', 'aplay', 'ffmpeg', 'pocketsphinx_continuous'],
    disks: {
      [PLAN.workDir]: { freeBytes: 20 * GB, totalBytes: 29 * GB },
      [PLAN.modelsDir]: { freeBytes: 20 * GB, totalBytes: 29 * GB },
    },
    readable: ['/dev/video0', '/usr/share/pocketsphinx/model/en-us'],
    unreadable: [],
    models: [{ name: 'melspectrogram' }, { name: 'hey_jarvis' }],
    outbox: { entries: 3 },
  };
}

function port(sys: FakeSystem, seen: string[][] = []): DoctorPort {
  return {
    arch: sys.arch,
    readText: (path) => Promise.resolve(sys.files[path]),
    run: (command, args) => {
      seen.push([command, ...args]);
      return Promise.resolve(sys.commands[`${command} ${args[0] ?? ''}`] ?? { kind: 'missing' });
    },
    findExecutable: (name) =>
      Promise.resolve(sys.executables.includes(name) ? `/usr/bin/${name}` : undefined),
    statfs: (path) => Promise.resolve(sys.disks[path]),
    access: (path) =>
      Promise.resolve(
        sys.readable.includes(path) ? 'readable' : sys.unreadable.includes(path) ? 'unreadable' : 'missing',
      ),
    checkModelFiles: () =>
      sys.models instanceof Error ? Promise.reject(sys.models) : Promise.resolve(sys.models),
    inspectOutbox: (dir) => Promise.resolve(dir === PLAN.outboxDir ? sys.outbox : undefined),
  };
}

async function doctor(
  change: (sys: FakeSystem) => void = () => undefined,
  plan: Partial<DoctorPlan> = {},
): Promise<DoctorRow[]> {
  const sys = healthy();
  change(sys);
  return runDoctor({ ...PLAN, ...plan }, port(sys));
}

function row(rows: DoctorRow[], check: string): DoctorRow {
  const r = rows.find((x) => x.check === check);
  if (r === undefined) throw new Error(`no ${check} row in ${rows.map((x) => x.check).join(', ')}`);
  return r;
}

describe('doctor on a healthy board', () => {
  it('finds nothing wrong, and opens the configured devices as the runtime does', async () => {
    const seen: string[][] = [];
    const rows = await runDoctor(PLAN, port(healthy(), seen));
    expect(rows.filter((r) => r.result !== 'ok')).toEqual([]);
    expect(doctorOk(rows)).toBe(true);
    expect(row(rows, 'microphone').detail).toBe('default opens; cards: hw:1,0 (USB Audio Device: USB Audio)');
    expect(row(rows, 'cpu').detail).toBe('arm64 (Raspberry Pi 4 Model B Rev 1.1), 2 cores; asimd fp');
    expect(seen).toContainEqual([
      'arecord',
      '-q',
      '-D',
      'default',
      '-t',
      'raw',
      '-f',
      'S16_LE',
      '-r',
      '16000',
      '-c',
      '1',
      '-s',
      '1600',
    ]);
    expect(renderDoctor(rows).endsWith('doctor: no problems found')).toBe(true);
  });
});

describe('sound devices', () => {
  it('no sound card: says to connect one', async () => {
    const rows = await doctor((s) => {
      s.commands['arecord -l'] = ok('');
      s.commands['arecord -q'] = OPEN_ABSENT;
    });
    const mic = row(rows, 'microphone');
    expect(mic.result).toBe('fail');
    expect(mic.detail).toBe(
      'default does not open (arecord: main:831: audio open error: No such file or directory); arecord -l lists no sound cards',
    );
    expect(mic.fix).toMatch(/^connect the microphone .* until `arecord -l` lists it$/);
  });

  it('a card, but a configured name ALSA does not know: names the devices to use instead', async () => {
    const rows = await doctor((s) => {
      s.commands['aplay -q'] = failed('aplay: main:831: audio open error: No such file or directory');
    });
    expect(row(rows, 'speaker').fix).toBe(
      'set audio.speakerDevice (or GLASSES_AUDIO__SPEAKER_DEVICE) to a device ALSA knows, e.g. plughw:1,0',
    );
  });

  it('busy: points at whoever holds it', async () => {
    const rows = await doctor((s) => {
      s.commands['arecord -q'] = failed('arecord: main:831: audio open error: Device or resource busy');
    });
    expect(row(rows, 'microphone').fix).toContain('fuser -v /dev/snd/*');
  });

  it('alsa-utils missing: says which package', async () => {
    const rows = await doctor((s) => {
      delete s.commands['arecord -l'];
      delete s.commands['arecord -q'];
      s.executables = s.executables.filter((e) => e !== 'arecord');
    });
    expect(row(rows, 'microphone')).toMatchObject({ result: 'fail', fix: 'sudo apt-get install alsa-utils' });
    expect(row(rows, 'tool arecord')).toMatchObject({
      result: 'fail',
      fix: 'sudo apt-get install alsa-utils',
    });
  });

  it('a driver that hangs is reported, not waited on', async () => {
    const rows = await doctor((s) => {
      s.commands['arecord -q'] = { kind: 'timeout' };
    });
    expect(row(rows, 'microphone').detail).toContain('did not finish within its deadline');
  });
});

describe('camera', () => {
  const noVideo0 = (s: FakeSystem): void => {
    s.readable = s.readable.filter((p) => p !== '/dev/video0');
  };

  it('optional: missing while camera.device is not set is a warning, and so is ffmpeg; doctor passes', async () => {
    const rows = await doctor(
      (s) => {
        noVideo0(s);
        s.executables = s.executables.filter((e) => e !== 'ffmpeg');
      },
      { cameraConfigured: false },
    );
    expect(row(rows, 'camera')).toMatchObject({ result: 'warn' });
    expect(row(rows, 'camera').detail).toMatch(
      /^no \/dev\/video0: no camera \(optional; camera.device is not set\)/,
    );
    expect(row(rows, 'camera').fix).toContain('a board without one needs nothing');
    expect(row(rows, 'tool ffmpeg')).toMatchObject({ result: 'warn', fix: 'sudo apt-get install ffmpeg' });
    expect(rows.filter((r) => r.result === 'fail')).toEqual([]);
    expect(doctorOk(rows)).toBe(true);
  });

  it('a camera there but not configured is used by the runtime, so what it needs must work', async () => {
    const rows = await doctor((s) => (s.executables = s.executables.filter((e) => e !== 'ffmpeg')), {
      cameraConfigured: false,
    });
    expect(row(rows, 'camera').result).toBe('fail');
    expect(row(rows, 'tool ffmpeg').result).toBe('fail');
  });

  it('configured: missing, unreadable, or without ffmpeg fail, each with its own fix', async () => {
    const missing = row(await doctor(noVideo0), 'camera');
    expect(missing).toMatchObject({ result: 'fail', detail: 'no /dev/video0 (camera.device is set)' });
    expect(missing.fix).toContain('camera.device');
    expect(doctorOk(await doctor(noVideo0))).toBe(false);

    const unreadable = row(
      await doctor((s) => {
        s.readable = s.readable.filter((p) => p !== '/dev/video0');
        s.unreadable = ['/dev/video0'];
      }),
      'camera',
    );
    expect(unreadable.fix).toContain('usermod -aG video');

    const noFfmpeg = row(
      await doctor((s) => (s.executables = s.executables.filter((e) => e !== 'ffmpeg'))),
      'camera',
    );
    expect(noFfmpeg).toMatchObject({ result: 'fail', fix: 'sudo apt-get install ffmpeg' });
  });
});

describe('models, disk, memory', () => {
  it('names the model files that do not match', async () => {
    const rows = await doctor((s) => {
      s.models = [{ name: 'melspectrogram' }, { name: 'ocr_rec', problem: 'E_MODEL_CHECKSUM (truncated)' }];
    });
    expect(row(rows, 'model files')).toMatchObject({
      result: 'fail',
      detail: '1 of 2 do not match: ocr_rec: E_MODEL_CHECKSUM (truncated)',
    });
    expect(row(rows, 'model files').fix).toContain('npm run models');
  });

  it('a missing manifest is a failure with its code', async () => {
    const rows = await doctor((s) => {
      s.models = new GlassesError('E_MODEL_MANIFEST', 'models manifest /m/manifest.json: cannot read it');
    });
    expect(row(rows, 'model files').detail).toBe(
      'E_MODEL_MANIFEST: models manifest /m/manifest.json: cannot read it',
    );
  });

  it('disk: fails when nearly full, warns when a flash would not fit, per folder', async () => {
    const rows = await doctor((s) => {
      s.disks[PLAN.workDir] = { freeBytes: 10 * 2 ** 20, totalBytes: 8 * GB };
      s.disks[PLAN.modelsDir] = { freeBytes: FLASH_FREE_BYTES - 1, totalBytes: 8 * GB };
    });
    expect(row(rows, 'disk (working dir)')).toMatchObject({ result: 'fail' });
    expect(row(rows, 'disk (working dir)').detail).toBe(
      '/opt/glasses/current: 10 MB free of 8192 MB; the order outbox and logs need at least 64 MB',
    );
    expect(row(rows, 'disk (models)').result).toBe('warn');
    expect(doctorOk(rows)).toBe(false);
    // The inactive slot is the next flash's rollback: the advice must never be to remove it.
    const fix = row(rows, 'disk (working dir)').fix ?? '';
    expect(fix).not.toMatch(/remove[^;]*slots/);
    expect(fix).toContain('leave /opt/glasses/slots alone');
  });

  it('a folder that does not exist is named', async () => {
    const rows = await doctor((s) => {
      s.disks = Object.fromEntries(Object.entries(s.disks).filter(([path]) => path !== PLAN.modelsDir));
    });
    expect(row(rows, 'disk (models)')).toMatchObject({
      result: 'fail',
      detail: '/opt/glasses/current/models does not exist',
    });
  });

  it('memory: fails below what the runtime needs, warns when it is not free now', async () => {
    const small = await doctor(
      (s) => (s.files['/proc/meminfo'] = 'MemTotal: 262144 kB\nMemAvailable: 200000 kB\n'),
    );
    expect(row(small, 'memory').result).toBe('fail');
    const busy = await doctor(
      (s) => (s.files['/proc/meminfo'] = 'MemTotal: 1000000 kB\nMemAvailable: 200000 kB\n'),
    );
    expect(row(busy, 'memory').result).toBe('warn');
    expect(doctorOk(busy)).toBe(true);
  });
});

describe('cpu', () => {
  it('arm64 without NEON cannot run onnxruntime', async () => {
    const rows = await doctor((s) => {
      s.files['/proc/cpuinfo'] = 'processor\t: 0\nFeatures\t: fp evtstrm\nprocessor\t: 1\n';
    });
    expect(row(rows, 'cpu').result).toBe('fail');
    expect(row(rows, 'cpu').detail).toContain('lacks asimd (NEON)');
  });

  it('x64 without sse4_1 or avx2 runs, slower: warnings with both reasons', async () => {
    const rows = await doctor((s) => {
      s.arch = 'x64';
      s.files['/proc/cpuinfo'] = X86_CPUINFO.replaceAll(' sse4_1', '').replaceAll(' avx2', '');
    });
    const cpu = row(rows, 'cpu');
    expect(cpu.result).toBe('warn');
    expect(cpu.detail).toContain('no sse4_1');
    expect(cpu.detail).toContain('no avx2');
    expect(doctorOk(rows)).toBe(true);
  });

  it('one core is a warning with the setting to change; another architecture fails', async () => {
    const one = await doctor((s) => (s.files['/proc/cpuinfo'] = PI4_CPUINFO.split('\n\n')[0] ?? ''));
    expect(row(one, 'cpu')).toMatchObject({ result: 'warn' });
    expect(row(one, 'cpu').fix).toContain('vision.ocrThreads');
    const riscv = await doctor((s) => (s.arch = 'riscv64'));
    expect(row(riscv, 'cpu').result).toBe('fail');
  });
});

describe('tools', () => {
  it('each missing program names its Debian package', async () => {
    const rows = await doctor((s) => (s.executables = ['arecord', 'aplay']));
    expect(row(rows, 'tool espeak-ng')).toMatchObject({
      result: 'fail',
      fix: 'sudo apt-get install espeak-ng',
    });
    expect(row(rows, 'tool ffmpeg').fix).toBe('sudo apt-get install ffmpeg');
    expect(row(rows, 'tool pocketsphinx').fix).toBe('sudo apt-get install pocketsphinx pocketsphinx-en-us');
  });

  it('pocketsphinx without its English model fails', async () => {
    const rows = await doctor((s) => (s.readable = ['/dev/video0']));
    expect(row(rows, 'tool pocketsphinx').result).toBe('fail');
    expect(row(rows, 'tool pocketsphinx').detail).toContain('/usr/share/pocketsphinx/model/en-us is missing');
  });
});

describe('renderDoctor', () => {
  it('prints the table, then one fix line per warning or failure, unclipped', async () => {
    const rows = await doctor((s) => {
      s.readable = s.readable.filter((p) => p !== '/dev/video0');
      s.disks[PLAN.workDir] = { freeBytes: FLASH_FREE_BYTES - 1, totalBytes: 8 * GB };
    });
    const text = renderDoctor(rows);
    expect(text).toMatch(/^camera\s+FAIL\s+no \/dev\/video0 \(camera.device is set\)$/m);
    expect(text).toContain('doctor: 1 problem, 1 warning. How to fix:');
    const fixes = text.split('How to fix:\n')[1]?.split('\n') ?? [];
    expect(fixes).toHaveLength(2);
    expect(fixes[0]).toMatch(/^ {2}camera: connect the camera/);
    expect(fixes[1]).toMatch(/^ {2}disk \(working dir\): free space before flashing/);
  });
});

describe('doctor on the order outbox', () => {
  it('is fine with readable entries or no outbox yet', async () => {
    expect(row(await doctor(), 'order outbox')).toEqual({
      check: 'order outbox',
      result: 'ok',
      detail: '/var/lib/glasses/outbox: 3 orders, all readable',
    });
    expect(row(await doctor((s) => (s.outbox = undefined)), 'order outbox').detail).toBe(
      '/var/lib/glasses/outbox: no orders yet',
    );
  });

  it('fails on an entry that cannot be read (new orders are refused), with what to do', async () => {
    const message =
      'outbox /var/lib/glasses/outbox: an entry cannot be read: /var/lib/glasses/outbox/k.json (...)';
    const rows = await doctor((s) => (s.outbox = { entries: 2, damage: { count: 1, message } }));
    expect(row(rows, 'order outbox')).toMatchObject({ result: 'fail', detail: `E_OUTBOX: ${message}` });
    expect(row(rows, 'order outbox').fix).toMatch(
      /ask the orders service .* move the file out of the folder/,
    );
    expect(doctorOk(rows)).toBe(false);
  });
});
