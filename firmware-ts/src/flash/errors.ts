/** The flash's coded errors (E_FLASH_* in errors.ts), told apart from the others'. */
import { isGlassesError, type ErrorCode, type GlassesError } from '../errors.js';

export type FlashErrorCode = Extract<ErrorCode, `E_FLASH_${string}`>;

export function isFlashError(
  err: unknown,
  code?: FlashErrorCode,
): err is GlassesError & { readonly code: FlashErrorCode } {
  return isGlassesError(err) && err.code.startsWith('E_FLASH_') && (code === undefined || err.code === code);
}
