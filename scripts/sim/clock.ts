// The simulated device clock: the box clock plus a skew that SetSystemDateAndTime can change.
// WS-Security checks run against this clock, so a client that ignores the skew fails as it
// would against a real camera whose clock is off.

export class DeviceClock {
  constructor(private skew: number) {}

  now(): Date {
    return new Date(Date.now() + this.skew);
  }

  get skewMs(): number {
    return this.skew;
  }

  /** Manual set: from now on the device clock reads `utc` (moving forward in real time). */
  setUtc(utc: Date): void {
    this.skew = utc.getTime() - Date.now();
  }

  /** DateTimeType NTP: the simulated device syncs perfectly with the box. */
  syncWithNtp(): void {
    this.skew = 0;
  }
}

export interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function utcParts(d: Date): DateParts {
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}
