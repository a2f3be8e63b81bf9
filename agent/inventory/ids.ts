// Stable ids for devices and cameras, derived from what identifies the hardware rather than
// from its address, so a camera that gets a new IP (DHCP, re-cabling) keeps its id and its
// labels. Pure: no database, no clock.
import { createHash } from 'node:crypto';
import { normalizeEndpointUuid, normalizeMac } from '../../drivers/ids';

/** What an id was derived from, strongest first. 'address' is the last resort and is not stable. */
export type IdBasis = 'uuid' | 'serial' | 'mac' | 'url' | 'address';

export interface IdentityFacts {
  driver: 'onvif' | 'rtsp';
  endpointUuid?: string;
  manufacturer?: string;
  serial?: string;
  mac?: string;
  /** RTSP-only sources: the stream URL (credentials are ignored). */
  url?: string;
  host: string;
  port: number;
}

/** Placeholder serials that many OEM firmwares ship on every unit: they identify nothing. */
export function meaningfulSerial(value: string | undefined): string | undefined {
  const s = value?.trim();
  if (!s) return undefined;
  if (/^(.)\1*$/.test(s)) return undefined; // "0000000", "FFFF"
  if (/^(?:n\/?a|none|null|unknown|default|serial|serialnumber|123456789?|0123456789)$/i.test(s)) return undefined;
  return s;
}

/** rtsp://user:pw@Host:554/a/b?x=1 → "host:554/a/b?x=1" (no credentials, host lower-cased, default port explicit). */
export function rtspSourceKey(url: string): string | undefined {
  const m = /^rtsps?:\/\/(?:[^/@]*@)?(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?([^#]*)/i.exec(url.trim());
  if (!m) return undefined;
  const port = m[2] ?? '554';
  const rest = m[3] === '' ? '/' : m[3];
  return `${m[1].toLowerCase()}:${port}${rest}`;
}

/** The identity key of each basis the facts support, strongest first. */
export function identityKeys(facts: IdentityFacts): Array<{ basis: IdBasis; key: string }> {
  const out: Array<{ basis: IdBasis; key: string }> = [];
  const uuid = normalizeEndpointUuid(facts.endpointUuid);
  if (uuid) out.push({ basis: 'uuid', key: `uuid:${uuid}` });
  const serial = meaningfulSerial(facts.serial);
  // Serial numbers are only unique within a manufacturer.
  if (serial) out.push({ basis: 'serial', key: `serial:${(facts.manufacturer ?? '').trim().toLowerCase()}:${serial.toLowerCase()}` });
  const mac = normalizeMac(facts.mac);
  if (mac) out.push({ basis: 'mac', key: `mac:${mac}` });
  if (facts.driver === 'rtsp' && facts.url) {
    const source = rtspSourceKey(facts.url);
    if (source) out.push({ basis: 'url', key: `rtsp:${source}` });
  }
  out.push({ basis: 'address', key: `addr:${facts.driver}:${facts.host.toLowerCase()}:${facts.port}` });
  return out;
}

export const ID_PREFIX = 'cam-';

/** A short, typeable id: "cam-" + 10 hex digits of SHA-256 (collisions: ~1e-6 among 1,000 devices a site never has). */
export function idFromKey(key: string): string {
  return ID_PREFIX + createHash('sha256').update(key).digest('hex').slice(0, 10);
}

/**
 * The device id for new facts: from the strongest basis not in `skip` (the caller skips a basis
 * whose id is already taken by a different device, e.g. two cameras cloned with one UUID).
 */
export function deriveDeviceId(facts: IdentityFacts, skip: ReadonlySet<IdBasis> = new Set()): { id: string; basis: IdBasis } {
  const keys = identityKeys(facts);
  const chosen = keys.find((k) => !skip.has(k.basis)) ?? keys[keys.length - 1];
  return { id: idFromKey(chosen.key), basis: chosen.basis };
}

/** A plain camera shares its device's id; each channel of an NVR gets "<deviceId>-chNN". */
export function deriveCameraId(deviceId: string, channel: number, isNvr: boolean): string {
  if (!isNvr && channel === 1) return deviceId;
  return `${deviceId}-ch${String(channel).padStart(2, '0')}`;
}
