import { describe, expect, it } from 'vitest';
import { numberFlag, scoreFlag, usageError } from '../../../firmware-ts/src/commands/command.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toMatchObject({ code: 'E_USAGE' });
    return (err as Error).message;
  }
  throw new Error('expected E_USAGE');
}

describe('number flags', () => {
  it('reads a number in range, and nothing when the flag is not given', () => {
    expect(numberFlag('flash', 'port', '2222', { min: 1, max: 65_535, integer: true })).toBe(2222);
    expect(numberFlag('flash', 'health-timeout-s', '0.5', { min: 0.5, max: 3600 })).toBe(0.5);
    expect(numberFlag('train-wake', 'seed', undefined, { integer: true })).toBeUndefined();
    expect(scoreFlag('wake', 'threshold', '0.25')).toBe(0.25);
  });

  it('refuses a value out of range, not whole, not a number or empty, naming the command and flag', () => {
    expect(refusal(() => numberFlag('train-wake', 'seed', '', { integer: true, max: 0xffffffff }))).toBe(
      'glasses train-wake: --seed : expected a whole number from 0 to 4294967295',
    );
    expect(refusal(() => numberFlag('train-wake', 'seed', '1.5', { integer: true }))).toMatch(/--seed 1\.5/);
    expect(refusal(() => numberFlag('flash', 'parallel', '0', { min: 1, max: 64, integer: true }))).toBe(
      'glasses flash: --parallel 0: expected a whole number from 1 to 64',
    );
    expect(refusal(() => numberFlag('dev-cloud', 'latency-ms', 'soon'))).toMatch(/--latency-ms soon/);
    expect(refusal(() => scoreFlag('eval', 'threshold', ' '))).toBe(
      'glasses eval: --threshold  : expected a number from 0 to 1',
    );
    expect(refusal(() => scoreFlag('eval', 'threshold', '1.5'))).toMatch(/from 0 to 1$/);
  });

  it('points a usage error at the command help', () => {
    expect(usageError('flash', 'give at least one --board user@host').message).toBe(
      'glasses flash: give at least one --board user@host (see glasses flash --help)',
    );
  });
});
