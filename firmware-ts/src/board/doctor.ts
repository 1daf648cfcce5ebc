/**
 * `glasses doctor`: what on this board stops (or slows) the runtime, each with how to fix it. It only
 * looks: devices are opened for a moment, models are hashed, nothing is loaded. The system is behind a
 * port (system.ts is the real one), so the decisions are tested with a fake /proc, fake commands and
 * fake disks.
 */
import { isGlassesError, messageOf } from '../errors.js';
import { DEFAULT_MODEL_DIR } from '../speech/pocketsphinx.js';
import { hwName, isAbsentDeviceError, isBusyDeviceError, parseDeviceList } from './alsa.js';
import { parseCpuinfo, parseMeminfo } from './proc.js';
import { formatTable, type Column } from './table.js';

export type Health = 'ok' | 'warn' | 'fail';

export interface DoctorRow {
  check: string;
  result: Health;
  detail: string;
  /** One concrete step that fixes it; on every warn and fail row. */
  fix?: string;
}

export type CommandOutcome =
  | { kind: 'exited'; code: number | null; stdout: Buffer; stderr: string }
  | { kind: 'missing' }
  | { kind: 'timeout' };

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

export interface ModelFileCheck {
  name: string;
  /** Why the file does not match the manifest; undefined when it does. */
  problem?: string;
}

/** The order outbox folder as `glasses doctor` sees it, without opening it as the runtime does. */
export interface OutboxCheck {
  /** Entries that read as orders. */
  entries: number;
  /** Entries that cannot be read: while there is one, the runtime refuses new orders. */
  damage?: { count: number; message: string };
}

export interface DoctorPort {
  /** `process.arch`: what this Node (and so onnxruntime's binding) was built for. */
  readonly arch: string;
  readText(path: string): Promise<string | undefined>;
  /** Runs a program to completion within a deadline; `input` is written to its stdin. */
  run(command: string, args: readonly string[], input?: Buffer): Promise<CommandOutcome>;
  findExecutable(name: string): Promise<string | undefined>;
  statfs(path: string): Promise<DiskSpace | undefined>;
  /** A V4L2 device node, or a path a dev machine uses as its camera. */
  access(path: string): Promise<'readable' | 'missing' | 'unreadable'>;
  /** Every manifest entry checked against its file; throws when the manifest itself is unusable. */
  checkModelFiles(): Promise<ModelFileCheck[]>;
  /** Undefined when the folder does not exist (no order yet). */
  inspectOutbox(dir: string): Promise<OutboxCheck | undefined>;
}

export interface DoctorPlan {
  micDevice: string;
  speakerDevice: string;
  cameraDevice: string;
  /**
   * camera.device was set (config file or GLASSES_CAMERA__DEVICE): this board has a camera, so its
   * absence is a failure. Left to its default, the camera is optional and its absence only a warning.
   */
  cameraConfigured: boolean;
  workDir: string;
  modelsDir: string;
  /** orders.outboxDir, resolved. */
  outboxDir: string;
}

/**
 * `glasses selftest` with every model loaded peaked at 335 MB resident on x64 (Node 20, wasm detector,
 * OCR on two threads); `glasses run` loads fewer. Rounded up for the arm64 build's own overheads.
 */
export const RUNTIME_MEMORY_BYTES = 400 * 2 ** 20;
/** Below this the outbox and logs may not be written. */
export const MIN_FREE_BYTES = 64 * 2 ** 20;
/** A flash writes a whole second install into the inactive slot: ~500 MB for arm64 (node_modules 435 MB). */
export const FLASH_FREE_BYTES = 600 * 2 ** 20;

/**
 * The programs the runtime runs, and the Debian package of each. One that serves only an optional part
 * (`optional`) is needed only when that part is there.
 */
export const TOOLS: readonly {
  name: string;
  binary: string;
  pkg: string;
  role: string;
  data?: string;
  optional?: 'camera';
}[] = [
  { name: 'espeak-ng', binary: 'espeak-ng', pkg: 'espeak-ng', role: 'speech output' },
  { name: 'arecord', binary: 'arecord', pkg: 'alsa-utils', role: 'the microphone' },
  { name: 'aplay', binary: 'aplay', pkg: 'alsa-utils', role: 'the speaker' },
  { name: 'ffmpeg', binary: 'ffmpeg', pkg: 'ffmpeg', role: 'the camera', optional: 'camera' },
  {
    name: 'pocketsphinx',
    binary: 'pocketsphinx_continuous',
    pkg: 'pocketsphinx pocketsphinx-en-us',
    role: 'command recognition',
    // Its US English acoustic model, from pocketsphinx-en-us.
    data: DEFAULT_MODEL_DIR,
  },
];

const SILENCE_100MS = Buffer.alloc(3200);
const ALSA_FORMAT = ['-t', 'raw', '-f', 'S16_LE', '-r', '16000', '-c', '1'];

export async function runDoctor(plan: DoctorPlan, port: DoctorPort): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  rows.push(await alsaCheck('microphone', 'arecord', plan.micDevice, 'audio.micDevice', port));
  rows.push(await alsaCheck('speaker', 'aplay', plan.speakerDevice, 'audio.speakerDevice', port));
  const camera = await cameraCheck(plan.cameraDevice, plan.cameraConfigured, port);
  rows.push(camera.row);
  rows.push(await modelsCheck(port));
  rows.push(await outboxCheck(plan.outboxDir, port));
  rows.push(await diskCheck('disk (working dir)', plan.workDir, port));
  rows.push(await diskCheck('disk (models)', plan.modelsDir, port));
  rows.push(await memoryCheck(port));
  rows.push(await cpuCheck(port));
  for (const tool of TOOLS) {
    const needed = tool.optional === undefined || camera.present;
    rows.push(await toolCheck(tool, needed, port));
  }
  return rows;
}

async function alsaCheck(
  check: string,
  tool: 'arecord' | 'aplay',
  device: string,
  field: string,
  port: DoctorPort,
): Promise<DoctorRow> {
  const list = await port.run(tool, ['-l']);
  if (list.kind === 'missing') {
    return {
      check,
      result: 'fail',
      detail: `${tool} is not installed`,
      fix: 'sudo apt-get install alsa-utils',
    };
  }
  const hardware = list.kind === 'exited' ? parseDeviceList(list.stdout.toString()) : [];
  const cards =
    hardware.length === 0
      ? `${tool} -l lists no sound cards`
      : `cards: ${hardware.map((d) => `${hwName(d)} (${d.description})`).join(', ')}`;
  // Capture 0.1 s, or play 0.1 s of silence: the device is opened exactly as the runtime opens it.
  const open =
    tool === 'arecord'
      ? await port.run('arecord', ['-q', '-D', device, ...ALSA_FORMAT, '-s', '1600'])
      : await port.run('aplay', ['-q', '-D', device, ...ALSA_FORMAT], SILENCE_100MS);
  if (open.kind === 'exited' && open.code === 0) {
    return { check, result: 'ok', detail: `${device} opens; ${cards}` };
  }
  const why =
    open.kind === 'timeout'
      ? 'did not finish within its deadline'
      : open.kind === 'missing'
        ? `${tool} is not installed`
        : lastLine(open.stderr) || `exited with code ${String(open.code)}`;
  const detail = `${device} does not open (${why}); ${cards}`;
  const env = field === 'audio.micDevice' ? 'GLASSES_AUDIO__MIC_DEVICE' : 'GLASSES_AUDIO__SPEAKER_DEVICE';
  let fix: string;
  if (isBusyDeviceError(why)) {
    fix = `another process holds ${device}: \`fuser -v /dev/snd/*\` names it (the glasses service? \`sudo systemctl stop glasses\`)`;
  } else if (isAbsentDeviceError(why) && hardware.length === 0) {
    const what = tool === 'arecord' ? 'microphone' : 'speaker';
    fix = `connect the ${what} (USB, or the board's codec enabled in its device tree overlay) until \`${tool} -l\` lists it`;
  } else if (isAbsentDeviceError(why)) {
    fix = `set ${field} (or ${env}) to a device ALSA knows, e.g. ${hardware.map((d) => `plug${hwName(d)}`).join(' or ')}`;
  } else if (/permission denied/i.test(why)) {
    fix = 'add the service user to the audio group: `sudo usermod -aG audio $USER`, then log in again';
  } else {
    fix = `try it by hand: \`${tool} -v -D ${device} ${ALSA_FORMAT.join(' ')} ${tool === 'arecord' ? '-d 1 /tmp/t.raw' : '/dev/zero -d 1'}\``;
  }
  return { check, result: 'fail', detail, fix };
}

/**
 * `present`: the runtime will use a camera (it is there, or configured and so expected), so what it
 * needs is needed. The runtime uses camera.device whenever it exists, configured or not.
 */
async function cameraCheck(
  device: string,
  configured: boolean,
  port: DoctorPort,
): Promise<{ row: DoctorRow; present: boolean }> {
  const check = 'camera';
  const access = await port.access(device);
  const ffmpeg = await port.findExecutable('ffmpeg');
  const connect =
    'connect the camera (and enable it, e.g. its device tree overlay) until `ls /dev/video*` shows it';
  if (access === 'missing' && !configured) {
    return {
      present: false,
      row: {
        check,
        result: 'warn',
        detail: `no ${device}: no camera (optional; camera.device is not set), so the vision questions say there is none`,
        fix: `${connect}, or set camera.device (GLASSES_CAMERA__DEVICE) to where it is; a board without one needs nothing`,
      },
    };
  }
  if (access === 'missing') {
    return {
      present: true,
      row: {
        check,
        result: 'fail',
        detail: `no ${device} (camera.device is set)`,
        fix: `${connect}, or set camera.device (GLASSES_CAMERA__DEVICE) to where it is, or unset it if this board has none`,
      },
    };
  }
  if (access === 'unreadable') {
    return {
      present: true,
      row: {
        check,
        result: 'fail',
        detail: `${device} exists but this user cannot read it`,
        fix: 'add the service user to the video group: `sudo usermod -aG video $USER`, then log in again',
      },
    };
  }
  if (ffmpeg === undefined) {
    return {
      present: true,
      row: {
        check,
        result: 'fail',
        detail: `${device} is readable, but ffmpeg (which reads it) is not installed`,
        fix: 'sudo apt-get install ffmpeg',
      },
    };
  }
  return {
    present: true,
    row: { check, result: 'ok', detail: `${device} is readable; ffmpeg at ${ffmpeg}` },
  };
}

async function modelsCheck(port: DoctorPort): Promise<DoctorRow> {
  const check = 'model files';
  const fix = 'bring them again: `npm run models` in a checkout, or flash the bundle again';
  let files: ModelFileCheck[];
  try {
    files = await port.checkModelFiles();
  } catch (err) {
    return {
      check,
      result: 'fail',
      detail: isGlassesError(err) ? `${err.code}: ${err.message}` : messageOf(err),
      fix,
    };
  }
  const bad = files.filter((f) => f.problem !== undefined);
  if (bad.length === 0) return { check, result: 'ok', detail: `${files.length} files match the manifest` };
  return {
    check,
    result: 'fail',
    detail: `${bad.length} of ${files.length} do not match: ${bad.map((b) => `${b.name}: ${b.problem ?? ''}`).join('; ')}`,
    fix,
  };
}

async function outboxCheck(dir: string, port: DoctorPort): Promise<DoctorRow> {
  const check = 'order outbox';
  const outbox = await port.inspectOutbox(dir);
  if (outbox === undefined) return { check, result: 'ok', detail: `${dir}: no orders yet` };
  if (outbox.damage === undefined) {
    return { check, result: 'ok', detail: `${dir}: ${outbox.entries} orders, all readable` };
  }
  return {
    check,
    result: 'fail',
    detail: `E_OUTBOX: ${outbox.damage.message}`,
    fix:
      'ask the orders service whether each file named was placed, then move the file out of the folder ' +
      '(keep it); the glasses refuse new orders until none is left',
  };
}

async function diskCheck(check: string, path: string, port: DoctorPort): Promise<DoctorRow> {
  const space = await port.statfs(path);
  if (space === undefined) {
    return {
      check,
      result: 'fail',
      detail: `${path} does not exist`,
      fix: `create it or point the config at the right folder (models.dir)`,
    };
  }
  const detail = `${path}: ${mb(space.freeBytes)} free of ${mb(space.totalBytes)}`;
  if (space.freeBytes < MIN_FREE_BYTES) {
    return {
      check,
      result: 'fail',
      detail: `${detail}; the order outbox and logs need at least ${mb(MIN_FREE_BYTES)}`,
      // Never the slots: the one `current` does not point at is the rollback of the next flash.
      fix: 'free space: `sudo journalctl --vacuum-size=50M`, `sudo apt-get clean`, old logs and files outside /opt/glasses; leave /opt/glasses/slots alone (the inactive slot is the rollback)',
    };
  }
  if (space.freeBytes < FLASH_FREE_BYTES) {
    return {
      check,
      result: 'warn',
      detail: `${detail}; the next flash writes a second install (~${mb(FLASH_FREE_BYTES)}) beside this one`,
      fix: 'free space before flashing: `sudo journalctl --vacuum-size=50M`, `sudo apt-get clean`',
    };
  }
  return { check, result: 'ok', detail };
}

async function memoryCheck(port: DoctorPort): Promise<DoctorRow> {
  const check = 'memory';
  const text = await port.readText('/proc/meminfo');
  const mem = text === undefined ? undefined : parseMeminfo(text);
  if (mem === undefined) {
    return {
      check,
      result: 'warn',
      detail: '/proc/meminfo has no MemTotal/MemAvailable',
      fix: 'run on Linux 3.14 or later',
    };
  }
  const detail = `${mb(mem.totalBytes)} total, ${mb(mem.availableBytes)} available; the runtime needs ~${mb(RUNTIME_MEMORY_BYTES)}`;
  if (mem.totalBytes < RUNTIME_MEMORY_BYTES) {
    return {
      check,
      result: 'fail',
      detail,
      fix: 'use a board with more memory, or load fewer models (wake.phrases with one phrase, vision.detector nanodet)',
    };
  }
  if (mem.availableBytes < RUNTIME_MEMORY_BYTES) {
    return {
      check,
      result: 'warn',
      detail: `${detail} (the glasses service, if running, already holds its share)`,
      fix: 'stop what else uses memory: `ps aux --sort=-rss | head`',
    };
  }
  return { check, result: 'ok', detail };
}

async function cpuCheck(port: DoctorPort): Promise<DoctorRow> {
  const check = 'cpu';
  const text = await port.readText('/proc/cpuinfo');
  const cpu = parseCpuinfo(text ?? '');
  const head = `${port.arch}${cpu.model === '' ? '' : ` (${cpu.model})`}, ${cpu.cores} cores`;
  const problems: { result: Health; detail: string; fix: string }[] = [];
  if (port.arch === 'arm64') {
    // onnxruntime's arm64 kernels (MLAS) and V8's wasm SIMD are written for NEON.
    const missing = ['fp', 'asimd'].filter((f) => !cpu.features.has(f));
    if (missing.length > 0) {
      problems.push({
        result: 'fail',
        detail: `lacks ${missing.join(', ')} (NEON), which onnxruntime's arm64 build needs`,
        fix: 'use an ARMv8-A board with NEON (every Cortex-A53 or later has it)',
      });
    }
  } else if (port.arch === 'x64') {
    if (!cpu.features.has('sse4_1')) {
      problems.push({
        result: 'warn',
        detail: 'no sse4_1: V8 has no wasm SIMD, so the object detector runs its slower non-SIMD build',
        fix: 'use a CPU with SSE4.1 (any x86-64 since 2008)',
      });
    }
    if (!cpu.features.has('avx2')) {
      problems.push({
        result: 'warn',
        detail: 'no avx2: onnxruntime falls back to slower SSE kernels for the wake and OCR models',
        fix: 'use a CPU with AVX2 (Intel Haswell, AMD Zen or later)',
      });
    }
  } else {
    problems.push({
      result: 'fail',
      detail: `onnxruntime-node ships builds for x64 and arm64 only, not ${port.arch}`,
      fix: 'run the linux-arm64 or linux-x64 bundle on a matching board',
    });
  }
  if (cpu.cores > 0 && cpu.cores < 2) {
    problems.push({
      result: 'warn',
      detail: `${cpu.cores} core: the runtime is tuned for two (wake listening on one, OCR on vision.ocrThreads)`,
      fix: 'set vision.ocrThreads to 1 so reading text does not starve listening',
    });
  }
  const notable = ['asimd', 'fp', 'asimddp', 'sse4_1', 'avx2', 'avx512f', 'fma'].filter((f) =>
    cpu.features.has(f),
  );
  const detail = `${head}; ${notable.length === 0 ? 'no notable features' : notable.join(' ')}`;
  const worst = problems.find((p) => p.result === 'fail') ?? problems[0];
  if (worst === undefined) return { check, result: 'ok', detail };
  return {
    check,
    result: worst.result,
    detail: `${detail}; ${problems.map((p) => p.detail).join('; ')}`,
    fix: problems.map((p) => p.fix).join('; '),
  };
}

async function toolCheck(
  tool: (typeof TOOLS)[number],
  needed: boolean,
  port: DoctorPort,
): Promise<DoctorRow> {
  const check = `tool ${tool.name}`;
  const path = await port.findExecutable(tool.binary);
  if (path === undefined) {
    return {
      check,
      result: needed ? 'fail' : 'warn',
      detail: `${tool.binary} not found on PATH (${tool.role}${needed ? '' : '; there is none, so it is not needed yet'})`,
      fix: `sudo apt-get install ${tool.pkg}`,
    };
  }
  if (tool.data !== undefined && (await port.access(tool.data)) !== 'readable') {
    return {
      check,
      result: 'fail',
      detail: `${path}, but ${tool.data} is missing (${tool.role})`,
      fix: `sudo apt-get install ${tool.pkg}`,
    };
  }
  return { check, result: 'ok', detail: tool.data === undefined ? path : `${path}, ${tool.data}` };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

function mb(bytes: number): string {
  return bytes >= 10 * 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(0)} GB` : `${Math.round(bytes / 2 ** 20)} MB`;
}

const COLUMNS: readonly Column<DoctorRow>[] = [
  { title: 'check', cell: (r) => r.check },
  { title: 'result', cell: (r) => r.result.toUpperCase() },
  { title: 'detail', cell: (r) => r.detail, maxWidth: 110 },
];

/** The table, then one "how to fix" line per problem; fixes are never clipped. */
export function renderDoctor(rows: readonly DoctorRow[]): string {
  const problems = rows.filter((r) => r.result !== 'ok');
  const fails = rows.filter((r) => r.result === 'fail').length;
  const lines = [formatTable(COLUMNS, rows), ''];
  if (problems.length === 0) {
    lines.push('doctor: no problems found');
  } else {
    lines.push(
      `doctor: ${fails} problem${fails === 1 ? '' : 's'}, ${problems.length - fails} warning${problems.length - fails === 1 ? '' : 's'}. How to fix:`,
    );
    for (const p of problems) lines.push(`  ${p.check}: ${p.fix ?? ''}`);
  }
  return lines.join('\n');
}

export function doctorOk(rows: readonly DoctorRow[]): boolean {
  return rows.every((r) => r.result !== 'fail');
}
