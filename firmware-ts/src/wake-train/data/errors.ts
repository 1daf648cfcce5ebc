/** The data generator's coded error (E_WAKE_DATA in errors.ts), under the name its callers use. */
export { GlassesError as WakeDataError } from '../../errors.js';

export type WakeDataErrorCode = 'E_WAKE_DATA';
