import type { Scene } from '../../firmware-ts/src/vision/scene.js';

/**
 * A bottle of Nongfu Spring at the centre of the view, its label read and its price tag: the
 * development cloud's p-water-nongfu, 2 yuan. `source` names who made the scene.
 */
export function nongfuScene(source: string): Scene {
  return {
    source,
    width: 640,
    height: 480,
    objects: [{ label: 'bottle', classId: 39, score: 0.8, box: [220, 120, 200, 240] }],
    lines: [{ text: 'Nongfu Spring', score: 0.9, box: [250, 220, 140, 30] }],
    prices: [{ amount: 2, currency: 'CNY', text: '¥2' }],
  };
}
