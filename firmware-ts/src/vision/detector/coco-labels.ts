/**
 * The 80 COCO object classes in the order both detectors number them (class id = index), as in
 * `@vladmandic/human` src/object/labels.ts and the COCO 2017 detection task.
 */
export const COCO_LABELS = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'airplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports ball',
  'kite',
  'baseball bat',
  'baseball glove',
  'skateboard',
  'surfboard',
  'tennis racket',
  'bottle',
  'wine glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
  'chair',
  'couch',
  'potted plant',
  'bed',
  'dining table',
  'toilet',
  'tv',
  'laptop',
  'mouse',
  'remote',
  'keyboard',
  'cell phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy bear',
  'hair drier',
  'toothbrush',
] as const;

export type CocoLabel = (typeof COCO_LABELS)[number];

export const COCO_CLASSES = COCO_LABELS.length;

/** The label of a class id, or undefined for an id outside 0..79 (a model emitting garbage). */
export function cocoLabel(classId: number): CocoLabel | undefined {
  return Number.isInteger(classId) ? COCO_LABELS[classId] : undefined;
}

/** Whether a string names a COCO class, e.g. to check a `classMinScore` key. */
export function isCocoLabel(label: string): label is CocoLabel {
  return (COCO_LABELS as readonly string[]).includes(label);
}
