/** The trainer's coded errors (E_WAKE_TRAIN, E_WAKE_EXPORT in errors.ts), under the name its callers use. */
export { GlassesError as WakeTrainError } from '../../errors.js';

export type WakeTrainErrorCode = 'E_WAKE_TRAIN' | 'E_WAKE_EXPORT';
