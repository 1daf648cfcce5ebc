/** `glasses ocr`: PP-OCRv4 text reading over image files. */
import { GlassesError } from '../errors.js';
import { createVisionEngine } from '../main.js';
import { toOriginalBox } from '../vision/frame.js';
import { boot, COMMON_USAGE, parse, round, type Command } from './command.js';
import { forEachImage, pixelBox } from './images.js';

export const ocrCommand: Command = {
  name: 'ocr',
  summary: 'read text (Chinese and English) in images',
  usage: `Usage: glasses ocr [--draw OUT.png] IMAGE...

Prints one JSON line per text line, in reading order: {"file","text","score","box":[x,y,w,h]}, the box
in pixels of the original (upright) image. A file that cannot be read is reported by name after the
others are done, and the exit code is 1.

Options:
  --draw OUT.png      also write the image with the lines' boxes and text drawn; with several images,
                      OUT-<image>.png for each
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values, positionals } = parse('ocr', argv, { draw: { type: 'string' } });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    if (positionals.length === 0) {
      throw new GlassesError('E_USAGE', 'glasses ocr: give one or more images (see glasses ocr --help)');
    }
    const { config, log } = boot(values);
    const engine = await createVisionEngine(config, log, { load: { detector: false, reader: true } });
    try {
      return await forEachImage(positionals, log, values.draw, async (frame, file) => {
        const { lines } = await engine.reader.read(frame);
        return lines.map((l) => {
          const box = pixelBox(toOriginalBox(l.box, frame));
          out(JSON.stringify({ file, text: l.text, score: round(l.score, 3), box }));
          return { box, label: l.text };
        });
      });
    } finally {
      await engine.close();
    }
  },
};
