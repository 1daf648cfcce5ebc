/** The bundle's coded errors (E_BUNDLE_* in errors.ts), told apart from the others'. */
import { isGlassesError, type ErrorCode, type GlassesError } from '../errors.js';

export type BundleErrorCode = Extract<ErrorCode, `E_BUNDLE_${string}`>;

export function isBundleError(
  err: unknown,
  code?: BundleErrorCode,
): err is GlassesError & { readonly code: BundleErrorCode } {
  return isGlassesError(err) && err.code.startsWith('E_BUNDLE_') && (code === undefined || err.code === code);
}
