/** What the ALSA tools say, read: `arecord -l` / `aplay -l` card lists and their open errors. */

export interface AlsaDevice {
  card: number;
  device: number;
  /** The card's name and the device's, e.g. "USB Audio Device: USB Audio". */
  description: string;
}

/** `card 1: Device [USB Audio Device], device 0: USB Audio [USB Audio]` -> hw:1,0 */
const CARD_LINE = /^card (\d+): [^[]*\[([^\]]*)\], device (\d+): [^[]*\[([^\]]*)\]/;

/** The hardware devices `arecord -l` or `aplay -l` lists (none when it says "no soundcards found"). */
export function parseDeviceList(stdout: string): AlsaDevice[] {
  const devices: AlsaDevice[] = [];
  for (const line of stdout.split('\n')) {
    const m = CARD_LINE.exec(line.trim());
    if (m === null) continue;
    devices.push({
      card: Number(m[1]),
      device: Number(m[3]),
      description: `${m[2] ?? ''}: ${m[4] ?? ''}`,
    });
  }
  return devices;
}

export function hwName(d: AlsaDevice): string {
  return `hw:${d.card},${d.device}`;
}

/**
 * Does an open failure mean the device is not there at all (no sound card, no such card or PCM)?
 * arecord and aplay say `audio open error: No such file or directory` for all of these (alsa-utils
 * 1.2.8); a device that is there but will not open says something else (busy, format refused).
 */
export function isAbsentDeviceError(message: string): boolean {
  return /audio open error: (No such file or directory|No such device)|no soundcards found/i.test(message);
}

/** `Device or resource busy`: another process (often the glasses service itself) has the device. */
export function isBusyDeviceError(message: string): boolean {
  return /Device or resource busy/i.test(message);
}
