/**
 * The privacy LED: lit whenever the camera is capturing, so people around the wearer can tell.
 * On the board a sysfs LED (`/sys/class/leds/<name>/brightness`); elsewhere a log line.
 */
import { promises as fs } from 'node:fs';
import type { Log } from '../log.js';

export interface Led {
  set(on: boolean): Promise<void>;
}

export class SysfsLed implements Led {
  constructor(
    private readonly brightnessFile: string,
    private readonly log: Log,
  ) {}

  async set(on: boolean): Promise<void> {
    try {
      await fs.writeFile(this.brightnessFile, on ? '1' : '0');
    } catch (err) {
      // A stuck LED must not stop the glasses from answering; it must not go unnoticed either.
      this.log.error({ err, file: this.brightnessFile, on }, 'camera LED cannot be set');
    }
  }
}

export class LogLed implements Led {
  constructor(private readonly log: Log) {}

  set(on: boolean): Promise<void> {
    this.log.info({ led: on ? 'on' : 'off' }, on ? 'camera LED on' : 'camera LED off');
    return Promise.resolve();
  }
}
