/** `glasses detect`: the COCO-80 object detector over image files. */
import { GlassesError } from '../errors.js';
import { createVisionEngine } from '../main.js';
import { toOriginalBox } from '../vision/frame.js';
import { boot, COMMON_USAGE, parse, round, type Command } from './command.js';
import { forEachImage, pixelBox } from './images.js';

export const detectCommand: Command = {
  name: 'detect',
  summary: 'find objects (COCO-80) in images',
  usage: `Usage: glasses detect [--model centernet|nanodet] [--draw OUT.png] IMAGE...

Prints one JSON line per object: {"file","label","score","box":[x,y,w,h]}, the box in pixels of the
original (upright) image. A file that cannot be read is reported by name after the others are done,
and the exit code is 1.

Options:
  --model NAME        detector (default: config vision.detector)
  --min-score X       report objects scoring at least X, 0..1 (default: config vision.minScore)
  --draw OUT.png      also write the image with boxes and labels drawn; with several images,
                      OUT-<image>.png for each
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values, positionals } = parse('detect', argv, {
      model: { type: 'string' },
      'min-score': { type: 'string' },
      draw: { type: 'string' },
    });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    if (positionals.length === 0) {
      throw new GlassesError(
        'E_USAGE',
        'glasses detect: give one or more images (see glasses detect --help)',
      );
    }
    const model = values.model;
    if (model !== undefined && model !== 'centernet' && model !== 'nanodet') {
      throw new GlassesError('E_USAGE', `glasses detect: --model ${model}: expected centernet or nanodet`);
    }
    const minScore = values['min-score'] === undefined ? undefined : Number(values['min-score']);
    if (minScore !== undefined && !(minScore >= 0 && minScore <= 1)) {
      throw new GlassesError(
        'E_USAGE',
        `glasses detect: --min-score ${values['min-score'] ?? ''}: expected a number from 0 to 1`,
      );
    }
    const booted = boot(values);
    const config =
      minScore === undefined
        ? booted.config
        : { ...booted.config, vision: { ...booted.config.vision, minScore } };
    const engine = await createVisionEngine(config, booted.log, {
      ...(model === undefined ? {} : { detector: model }),
      load: { detector: true, reader: false },
    });
    try {
      return await forEachImage(positionals, booted.log, values.draw, async (frame, file) => {
        const { detections } = await engine.detector.detect(frame);
        return detections.map((d) => {
          const box = pixelBox(toOriginalBox(d.box, frame));
          out(JSON.stringify({ file, label: d.label, score: round(d.score, 3), box }));
          return { box, label: `${d.label} ${d.score.toFixed(2)}` };
        });
      });
    } finally {
      await engine.close();
    }
  },
};
