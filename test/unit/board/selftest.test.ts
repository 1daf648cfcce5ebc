import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  judgeAudio,
  judgeObjects,
  judgeRecognition,
  judgeSpeech,
  judgeText,
  judgeWake,
  renderSelftest,
  roundedReport,
  runSelftest,
  selftestPlan,
  type SelftestPlan,
  type SelftestRig,
  type WakeRun,
} from '../../../firmware-ts/src/board/selftest.js';
import { loadConfig } from '../../../firmware-ts/src/config.js';
import { GlassesError } from '../../../firmware-ts/src/errors.js';
import type { AudioChunk } from '../../../firmware-ts/src/audio/chunk.js';
import type { Recognition } from '../../../firmware-ts/src/speech/recognizer.js';

const PLAN: SelftestPlan = {
  wake: { phrase: 'hey_jarvis', file: '/s/hey_jarvis.wav' },
  objectsPhoto: '/s/camera/1-fruits.jpg',
  textPhoto: '/s/camera/2-price-tag.jpg',
  micDevice: 'default',
  speakerDevice: 'default',
  cameraDevice: '/dev/video0',
  cameraConfigured: false,
};

/** 0.8 s of a 440 Hz tone at half scale: what a working synthesiser gives back, roughly. */
function tone(ms: number): AudioChunk {
  const pcm = Int16Array.from({ length: (ms * 16_000) / 1000 }, (_, i) =>
    Math.round(16_384 * Math.sin((2 * Math.PI * 440 * i) / 16_000)),
  );
  return { pcm, sampleRateHz: 16_000, channels: 1, tsMs: 0 };
}

const HEARD_TIME: Recognition = {
  transcript: 'what time is it',
  intent: { name: 'time', slots: {} },
  accepted: true,
  confidence: 0.91,
  ms: 312,
};

const GOOD_WAKE: WakeRun = {
  detections: [{ phrase: 'hey_jarvis', atMs: 1920, score: 0.523419 }],
  peaks: { hey_jarvis: 0.99691 },
  thresholds: { hey_jarvis: 0.5 },
};

/** A board where everything works; each test breaks one part. Each call advances the clock by 10 ms. */
function fakeRig(over: Partial<SelftestRig> = {}): { rig: SelftestRig; calls: string[] } {
  const calls: string[] = [];
  const rig: SelftestRig = {
    verifyModels: () => Promise.resolve({ files: 14, bytes: 34_900_000 }),
    loadModels: () => Promise.resolve(['melspectrogram', 'embedding', 'hey_jarvis']),
    wake: () => Promise.resolve(GOOD_WAKE),
    detect: () =>
      Promise.resolve({
        detector: 'centernet',
        backend: 'wasm',
        objects: [
          { label: 'orange', score: 0.40051, box: [1, 3, 146, 109] },
          { label: 'apple', score: 0.3431, box: [323, 120, 189, 187] },
        ],
      }),
    read: () =>
      Promise.resolve({
        lines: [
          { text: 'Red apples', score: 0.96471, box: [163, 359, 187, 37] },
          { text: '￥12.50', score: 0.9339, box: [155, 411, 199, 45] },
        ],
      }),
    listen: () => Promise.resolve({ samples: 4000, peak: 0.01 }),
    play: () => Promise.resolve(),
    hasCamera: () => Promise.resolve(true),
    capture: () => Promise.resolve({ width: 1280, height: 720, bytes: 85_000 }),
    speak: () => Promise.resolve(tone(800)),
    recognize: () => Promise.resolve(HEARD_TIME),
    close: () => Promise.resolve(),
    ...over,
  };
  const traced = Object.fromEntries(
    Object.entries(rig).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls.push(name);
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as SelftestRig;
  return { rig: traced, calls };
}

function clock(stepMs: number): () => number {
  let t = 0;
  return () => (t += stepMs);
}

const absentMic = new GlassesError(
  'E_MIC_OPEN',
  'microphone default: arecord exited with code 1 (arecord: main:831: audio open error: No such file or directory)',
);

describe('runSelftest', () => {
  it('passes a board where everything works, each check timed and in order', async () => {
    const { rig } = fakeRig();
    const report = await runSelftest(PLAN, rig, clock(5));
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.check, c.result])).toEqual([
      ['model files', 'pass'],
      ['models load', 'pass'],
      ['wake phrase', 'pass'],
      ['object detector', 'pass'],
      ['text reader', 'pass'],
      ['speech', 'pass'],
      ['command recognition', 'pass'],
      ['microphone', 'pass'],
      ['speaker', 'pass'],
      ['camera', 'pass'],
    ]);
    // Two clock reads per check, 5 ms apart.
    expect(report.checks.every((c) => c.ms === 5)).toBe(true);
    expect(report.wake?.detections[0]?.phrase).toBe('hey_jarvis');
    expect(report.objects?.objects.map((o) => o.label)).toEqual(['orange', 'apple']);
    expect(report.text?.lines.map((l) => l.text)).toEqual(['Red apples', '￥12.50']);
  });

  it('fails on a coded error with its code, and still runs the other checks', async () => {
    const { rig, calls } = fakeRig({
      loadModels: () =>
        Promise.reject(
          new GlassesError('E_MODEL_LOAD', 'model file /m/ocr_rec.onnx (ocr_rec): onnxruntime refused it'),
        ),
    });
    const report = await runSelftest(PLAN, rig, clock(1));
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'models load')).toMatchObject({
      result: 'fail',
      detail: 'E_MODEL_LOAD: model file /m/ocr_rec.onnx (ocr_rec): onnxruntime refused it',
    });
    expect(calls).toContain('capture');
  });

  it('fails a microphone or speaker that is not there, saying so and where to name another', async () => {
    const absentSpeaker = new GlassesError(
      'E_SPEAKER_OPEN',
      'speaker default: aplay exited with code 1 (aplay: main:831: audio open error: No such file or directory)',
    );
    const absent = await runSelftest(
      PLAN,
      fakeRig({ listen: () => Promise.reject(absentMic), play: () => Promise.reject(absentSpeaker) }).rig,
      clock(1),
    );
    expect(absent.ok).toBe(false);
    expect(absent.checks.find((c) => c.check === 'microphone')).toMatchObject({
      result: 'fail',
      detail:
        'E_MIC_OPEN: no ALSA device default (arecord: main:831: audio open error: No such file or directory): connect it, or set audio.micDevice to one `glasses doctor` lists',
    });
    expect(absent.checks.find((c) => c.check === 'speaker')).toMatchObject({ result: 'fail' });
    expect(absent.checks.find((c) => c.check === 'speaker')?.detail).toContain('audio.speakerDevice');
  });

  it('fails a microphone that is there and will not open, or when arecord is missing', async () => {
    const busy = new GlassesError(
      'E_MIC_OPEN',
      'microphone default: arecord exited with code 1 (arecord: main:831: audio open error: Device or resource busy)',
    );
    const held = await runSelftest(PLAN, fakeRig({ listen: () => Promise.reject(busy) }).rig, clock(1));
    expect(held.ok).toBe(false);
    expect(held.checks.find((c) => c.check === 'microphone')?.result).toBe('fail');

    // arecord itself missing is not "no device": the runtime cannot listen at all.
    const noArecord = new GlassesError(
      'E_MIC_OPEN',
      'microphone default: cannot start arecord (spawn arecord ENOENT); install alsa-utils',
    );
    const missing = await runSelftest(
      PLAN,
      fakeRig({ listen: () => Promise.reject(noArecord) }).rig,
      clock(1),
    );
    expect(missing.checks.find((c) => c.check === 'microphone')?.result).toBe('fail');
  });

  it('skips a camera that is not there and not configured, without trying to capture', async () => {
    const { rig, calls } = fakeRig({ hasCamera: () => Promise.resolve(false) });
    const report = await runSelftest(PLAN, rig, clock(1));
    expect(report.checks.find((c) => c.check === 'camera')).toMatchObject({
      result: 'skip',
      detail: 'no camera at /dev/video0 (optional; camera.device is not set)',
    });
    expect(report.ok).toBe(true);
    expect(calls).not.toContain('capture');
  });

  it('fails a camera that camera.device names and is not there', async () => {
    const { rig } = fakeRig({ hasCamera: () => Promise.resolve(false) });
    const report = await runSelftest({ ...PLAN, cameraConfigured: true }, rig, clock(1));
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'camera')).toMatchObject({ result: 'fail' });
    expect(report.checks.find((c) => c.check === 'camera')?.detail).toContain('which camera.device names');
  });

  it('synthesises a sentence, and recognises a synthesised bundled command as the loop would', async () => {
    const spoken: string[] = [];
    const heard: number[] = [];
    const command = tone(1200);
    const { rig } = fakeRig({
      speak: (text) => {
        spoken.push(text);
        return Promise.resolve(text === 'what time is it' ? command : tone(800));
      },
      recognize: (pcm) => {
        heard.push(pcm.length);
        return Promise.resolve(HEARD_TIME);
      },
    });
    const report = await runSelftest(PLAN, rig, clock(1));
    expect(spoken).toEqual(['Okay, cancelled.', 'what time is it']);
    // The command's own audio is what the recogniser was given.
    expect(heard).toEqual([command.pcm.length]);
    expect(report.checks.find((c) => c.check === 'speech')).toEqual({
      check: 'speech',
      result: 'pass',
      detail: '"Okay, cancelled.": 0.80 s of audio, peak -6 dBFS',
      ms: 1,
    });
    expect(report.checks.find((c) => c.check === 'command recognition')?.detail).toBe(
      '"what time is it" (synthesised) -> time, confidence 0.91, 312 ms',
    );
  });

  it('fails speech and recognition with the coded error when espeak-ng or pocketsphinx cannot start', async () => {
    const noEspeak = new GlassesError(
      'E_TTS_FAILED',
      'espeak-ng -v en-us: cannot start it (spawn espeak-ng ENOENT); install espeak-ng',
    );
    const noDecoder = new GlassesError(
      'E_RECOGNIZER_START',
      'speech: cannot start pocketsphinx_continuous (spawn pocketsphinx_continuous ENOENT); install the Debian packages pocketsphinx and pocketsphinx-en-us',
    );
    const neither = await runSelftest(
      PLAN,
      fakeRig({ speak: () => Promise.reject(noEspeak), recognize: () => Promise.reject(noDecoder) }).rig,
      clock(1),
    );
    expect(neither.ok).toBe(false);
    expect(neither.checks.find((c) => c.check === 'speech')).toMatchObject({
      result: 'fail',
      detail: `E_TTS_FAILED: ${noEspeak.message}`,
    });
    expect(neither.checks.find((c) => c.check === 'command recognition')?.result).toBe('fail');

    const onlyDecoder = await runSelftest(
      PLAN,
      fakeRig({ recognize: () => Promise.reject(noDecoder) }).rig,
      clock(1),
    );
    expect(onlyDecoder.ok).toBe(false);
    expect(onlyDecoder.checks.find((c) => c.check === 'speech')?.result).toBe('pass');
    expect(onlyDecoder.checks.find((c) => c.check === 'command recognition')).toMatchObject({
      result: 'fail',
      detail: `E_RECOGNIZER_START: ${noDecoder.message}`,
    });
  });

  it('skips the wake check when the first phrase has no bundled sample', async () => {
    const { rig, calls } = fakeRig();
    const report = await runSelftest(
      { ...PLAN, wake: { phrase: 'hey_glasses', missing: '/s/hey_glasses.wav' } },
      rig,
      clock(1),
    );
    expect(report.checks.find((c) => c.check === 'wake phrase')?.result).toBe('skip');
    expect(calls).not.toContain('wake');
    expect(report.wake).toBeUndefined();
  });

  it('a wrong answer from the pipeline fails, not only an exception', async () => {
    const { rig } = fakeRig({
      read: () => Promise.resolve({ lines: [{ text: 'Red', score: 0.6, box: [0, 0, 1, 1] }] }),
    });
    const report = await runSelftest(PLAN, rig, clock(1));
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'text reader')?.detail).toBe(
      'no line reads "12.50" (read "Red" 0.60)',
    );
  });
});

describe('judgements', () => {
  it('wake: passes on a detection of the phrase, naming time, score and peak', () => {
    expect(judgeWake(GOOD_WAKE, 'hey_jarvis')).toEqual({
      result: 'pass',
      detail: 'hey_jarvis at 1.92 s, score 0.523 (peak 0.997)',
    });
  });

  it('wake: fails without a detection, giving the peak against the threshold', () => {
    const run = { detections: [], peaks: { hey_jarvis: 0.31 }, thresholds: { hey_jarvis: 0.5 } };
    expect(judgeWake(run, 'hey_jarvis')).toEqual({
      result: 'fail',
      detail: 'hey_jarvis not detected in its own sample (peak 0.310), threshold 0.5',
    });
  });

  it('wake: fails when another phrase fires on the sample too', () => {
    const run = {
      ...GOOD_WAKE,
      detections: [...GOOD_WAKE.detections, { phrase: 'alexa', atMs: 2000, score: 0.6 }],
    };
    expect(judgeWake(run, 'hey_jarvis')).toMatchObject({ result: 'fail' });
    expect(judgeWake(run, 'hey_jarvis').detail).toContain('but also alexa at 2.00 s');
  });

  it('objects: needs one of the expected labels', () => {
    const run = {
      detector: 'nanodet',
      backend: 'wasm',
      objects: [{ label: 'person', score: 0.5, box: [0, 0, 1, 1] as [number, number, number, number] }],
    };
    expect(judgeObjects(run, ['apple', 'orange'])).toEqual({
      result: 'fail',
      detail: 'nanodet on wasm: no apple/orange in the photo (saw person 0.50)',
    });
    expect(judgeObjects({ ...run, objects: [] }, ['apple']).detail).toContain('saw nothing');
  });

  it('text: matches the expected text inside a line', () => {
    expect(judgeText({ lines: [{ text: '￥12.50', score: 0.93, box: [0, 0, 1, 1] }] }, '12.50').result).toBe(
      'pass',
    );
  });

  it('microphone: no samples or exact zeros fail; noise passes with its level', () => {
    expect(judgeAudio('hw:1,0', { samples: 0, peak: 0 }).result).toBe('fail');
    expect(judgeAudio('hw:1,0', { samples: 4000, peak: 0 })).toMatchObject({ result: 'fail' });
    expect(judgeAudio('hw:1,0', { samples: 4000, peak: 0.01 })).toEqual({
      result: 'pass',
      detail: 'hw:1,0: 0.25 s captured, peak -40 dBFS',
    });
  });
});

describe('speech judgements', () => {
  it('speech: nothing, a fraction of a sentence or pure silence fails', () => {
    expect(judgeSpeech(tone(0), 'Hello.').result).toBe('fail');
    expect(judgeSpeech(tone(100), 'Hello.').detail).toContain('gave 100 ms of audio');
    const silent = { ...tone(900), pcm: new Int16Array(14_400) };
    expect(judgeSpeech(silent, 'Hello.').detail).toContain('900 ms of audio, all silent');
  });

  it('recognition: another command or a rejection fails, naming what was heard', () => {
    const expected = { text: 'what time is it', intent: 'time' as const };
    expect(
      judgeRecognition(
        { ...HEARD_TIME, transcript: 'what is this', intent: { name: 'identify', slots: {} } },
        expected,
      ).detail,
    ).toContain('heard "what is this" as identify, not time');
    expect(judgeRecognition({ ...HEARD_TIME, accepted: false, confidence: 0.2 }, expected).detail).toContain(
      'and rejected it (confidence 0.20), not time',
    );
    expect(
      judgeRecognition({ ...HEARD_TIME, transcript: '', intent: undefined, accepted: false }, expected)
        .detail,
    ).toContain('heard nothing');
  });
});

describe('selftestPlan', () => {
  it('takes the first configured phrase, its bundled WAV, and the configured devices', () => {
    const config = loadConfig({
      env: { GLASSES_WAKE__PHRASES: '["alexa","hey_jarvis"]', GLASSES_AUDIO__MIC_DEVICE: 'hw:1,0' },
    });
    const plan = selftestPlan(config, '/samples', (f) => f === '/samples/alexa.wav');
    expect(plan.wake).toEqual({ phrase: 'alexa', file: '/samples/alexa.wav' });
    expect(plan.micDevice).toBe('hw:1,0');
    expect(plan.cameraConfigured).toBe(false);
    expect(
      selftestPlan(loadConfig({ env: { GLASSES_CAMERA__DEVICE: '/dev/video2' } }), '/s', () => true)
        .cameraConfigured,
    ).toBe(true);
    expect(plan.objectsPhoto).toBe(join('/samples', 'camera', '1-fruits.jpg'));
    expect(selftestPlan(config, '/samples', () => false).wake).toEqual({
      phrase: 'alexa',
      missing: '/samples/alexa.wav',
    });
  });
});

describe('output', () => {
  it('JSON scores are rounded to 4 decimals; boxes and labels untouched', async () => {
    const report = roundedReport(await runSelftest(PLAN, fakeRig().rig, clock(1)));
    expect(report.wake?.detections[0]?.score).toBe(0.5234);
    expect(report.wake?.peaks.hey_jarvis).toBe(0.9969);
    expect(report.objects?.objects[0]).toEqual({ label: 'orange', score: 0.4005, box: [1, 3, 146, 109] });
    expect(report.text?.lines[0]?.score).toBe(0.9647);
  });

  it('the table ends with a summary that says FAILED when a check failed', async () => {
    const ok = renderSelftest(
      await runSelftest(PLAN, fakeRig({ hasCamera: () => Promise.resolve(false) }).rig, clock(1)),
    );
    expect(ok.split('\n')[0]).toMatch(/^check\s+result\s+detail\s+ms$/);
    expect(ok).toMatch(
      /^camera\s+SKIP\s+no camera at \/dev\/video0 \(optional; camera.device is not set\)\s+1$/m,
    );
    expect(ok.endsWith('selftest passed: 9 passed, 1 skipped')).toBe(true);
    const bad = renderSelftest(
      await runSelftest(
        PLAN,
        fakeRig({ verifyModels: () => Promise.reject(new Error('disk gone')) }).rig,
        clock(1),
      ),
    );
    expect(bad).toMatch(/^model files\s+FAIL\s+disk gone/m);
    expect(bad.endsWith('selftest FAILED: 1 failed, 9 passed, 0 skipped')).toBe(true);
  });
});
