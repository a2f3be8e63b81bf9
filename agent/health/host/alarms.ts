// The box's own alarms: disk-low and temperature-high, with hysteresis. PURE.
//
//   disk-low          free share of the data directory's file system < health.host.diskLowPercent;
//                     clears (disk-ok) once it is ≥ 1.5 × the threshold (at most 100 %).
//   temperature-high  CPU temperature > health.host.temperatureHighC; clears (temperature-ok)
//                     once it is ≤ the threshold − 5 °C. A box without a sensor (null) never raises.
// An alarm is raised once, when it starts (the first sample raises if the box is already in a bad
// state); -ok comes only after a raised alarm. A sample where the figure is missing (disk or
// temperature null: the read failed) changes nothing.
import type { HostSample } from './sample';

export interface HostAlarmThresholds {
  /** health.host.diskLowPercent (0–100). */
  diskLowPercent: number;
  /** health.host.temperatureHighC. */
  temperatureHighC: number;
}

export type HostAlarmType = 'disk-low' | 'disk-ok' | 'temperature-high' | 'temperature-ok';

export interface HostAlarmEvent {
  type: HostAlarmType;
  severity: 'alarm' | 'warning' | 'info';
  /** One line for people: what, how much, which threshold, what to do. */
  message: string;
  detail: Record<string, unknown>;
}

/** Temperature must fall this far below the threshold to clear. */
export const TEMPERATURE_CLEAR_MARGIN_C = 5;
/** Free space must climb back to this multiple of the threshold to clear. */
export const DISK_CLEAR_FACTOR = 1.5;

export class HostAlarms {
  readonly diskLowPercent: number;
  readonly diskClearPercent: number;
  readonly temperatureHighC: number;
  readonly temperatureClearC: number;
  private diskLow = false;
  private temperatureHigh = false;

  constructor(thresholds: HostAlarmThresholds) {
    const { diskLowPercent, temperatureHighC } = thresholds;
    if (!Number.isFinite(diskLowPercent) || diskLowPercent < 0 || diskLowPercent > 100) {
      throw new RangeError(`health.host.diskLowPercent must be between 0 and 100, got ${diskLowPercent}`);
    }
    if (!Number.isFinite(temperatureHighC)) throw new RangeError(`health.host.temperatureHighC must be a number, got ${temperatureHighC}`);
    this.diskLowPercent = diskLowPercent;
    this.diskClearPercent = Math.min(100, diskLowPercent * DISK_CLEAR_FACTOR);
    this.temperatureHighC = temperatureHighC;
    this.temperatureClearC = temperatureHighC - TEMPERATURE_CLEAR_MARGIN_C;
  }

  /** Which alarms are raised now (for status payloads). */
  get active(): { diskLow: boolean; temperatureHigh: boolean } {
    return { diskLow: this.diskLow, temperatureHigh: this.temperatureHigh };
  }

  evaluate(sample: HostSample): HostAlarmEvent[] {
    const events: HostAlarmEvent[] = [];
    const disk = this.evaluateDisk(sample);
    if (disk) events.push(disk);
    const temperature = this.evaluateTemperature(sample);
    if (temperature) events.push(temperature);
    return events;
  }

  private evaluateDisk(sample: HostSample): HostAlarmEvent | null {
    const d = sample.disk;
    if (!d || !Number.isFinite(d.freePercent)) return null;
    const where = d.mount && d.mount !== d.path ? `${d.path} (file system mounted on ${d.mount})` : d.path;
    const amounts = `${formatPercent(d.freePercent)} (${formatBytes(d.freeBytes)} of ${formatBytes(d.sizeBytes)})`;
    const detail = {
      path: d.path,
      mount: d.mount,
      freeBytes: d.freeBytes,
      sizeBytes: d.sizeBytes,
      freePercent: d.freePercent,
      thresholdPercent: this.diskLowPercent,
      clearPercent: this.diskClearPercent,
    };
    if (!this.diskLow && d.freePercent < this.diskLowPercent) {
      this.diskLow = true;
      return {
        type: 'disk-low',
        severity: 'alarm',
        message:
          `free space on ${where}: ${amounts}, below health.host.diskLowPercent=${this.diskLowPercent}: ` +
          'the outbox and thumbnails need room (when it runs out, queued messages are dropped); clean up or enlarge the disk',
        detail,
      };
    }
    if (this.diskLow && d.freePercent >= this.diskClearPercent) {
      this.diskLow = false;
      return {
        type: 'disk-ok',
        severity: 'info',
        message:
          `free space on ${where} back to ${amounts}, at or above ${formatPercent(this.diskClearPercent)} ` +
          `(${DISK_CLEAR_FACTOR} × health.host.diskLowPercent=${this.diskLowPercent})`,
        detail,
      };
    }
    return null;
  }

  private evaluateTemperature(sample: HostSample): HostAlarmEvent | null {
    const t = sample.temperatureC;
    if (t === null || t === undefined || !Number.isFinite(t)) return null;
    const sensor = sample.temperatureSensor ? ` (${sample.temperatureSensor})` : '';
    const detail = {
      temperatureC: t,
      sensor: sample.temperatureSensor ?? null,
      thresholdC: this.temperatureHighC,
      clearC: this.temperatureClearC,
      cpuLoadPercent: sample.cpuLoadPercent,
    };
    if (!this.temperatureHigh && t > this.temperatureHighC) {
      this.temperatureHigh = true;
      return {
        type: 'temperature-high',
        severity: 'alarm',
        message:
          `CPU temperature ${formatC(t)}${sensor}, above health.host.temperatureHighC=${this.temperatureHighC}: ` +
          'the box may throttle or shut down; check its fan and vents, dust, and that the cabinet is shaded and ventilated',
        detail,
      };
    }
    if (this.temperatureHigh && t <= this.temperatureClearC) {
      this.temperatureHigh = false;
      return {
        type: 'temperature-ok',
        severity: 'info',
        message:
          `CPU temperature back to ${formatC(t)}${sensor}, at or below ${formatC(this.temperatureClearC)} ` +
          `(health.host.temperatureHighC=${this.temperatureHighC} minus ${TEMPERATURE_CLEAR_MARGIN_C} °C)`,
        detail,
      };
    }
    return null;
  }
}

/** Binary units, at most one decimal, trailing ".0" dropped: 1.2 GiB, 40 GiB, 512 B. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = i === 0 || Math.abs(v) >= 100 ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '');
  return `${text} ${units[i]}`;
}

function formatPercent(p: number): string {
  return `${Number(p.toFixed(1))}%`;
}

function formatC(c: number): string {
  return `${c.toFixed(1)} °C`;
}
