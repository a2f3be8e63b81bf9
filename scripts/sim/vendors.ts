// Per-vendor personalities: identity defaults and the wire quirks seen on real devices
// (see /work/shared/NOTES.md and the captured fixtures). Templates read these flags instead of
// checking vendor names, so a quirk can be moved between vendors in one place.
import type { SimAuth, SimVendor } from './types';

export interface VendorProfile {
  manufacturer: string;
  model: string;
  /** Numeric-looking on purpose ("1.00"): catches clients that coerce strings to numbers. */
  firmware: string;
  hardwareId: string;
  /** Friendly name put in the discovery scopes (%-encoded there). */
  scopeName: string;
  /** Scope path segments after onvif://www.onvif.org/location/ */
  locations: string[];
  httpPort: number;
  /** Device service path; media uses mediaPath (tapo serves everything on one path). */
  devicePath: string;
  mediaPath: string;
  auth: SimAuth;
  codec: 'H264' | 'H265';
  channels: number;
  /** EndpointReference address scheme in ProbeMatches. */
  addressPrefix: 'urn:uuid:' | 'uuid:';
  discoveryTypes: string;
  /** Adds an IPv6 link-local device URL to XAddrs (useless to a client, but real). */
  ipv6XAddr: boolean;
  /** Free-text POSIX-ish zone; LocalDateTime below contradicts it on purpose. */
  timeZone: string;
  localOffsetMinutes: number;
  /** SOAP envelope prefix used in responses (clients must not care). */
  envPrefix: string;
  discoveryPrefixes: { env: string; wsa: string; wsdd: string };
  /** Dahua: one-line XML with standalone="yes". */
  compactXml: boolean;
  digestRealm: string;
  /** Hikvision: offer a SHA-256 digest challenge beside MD5. */
  digestSha256: boolean;
  /** Hikvision: a 401 answer carries an HTML page instead of a SOAP fault. */
  htmlUnauthorized: boolean;
  /** Hikvision: Media1 says <tt:Encoding>H264 and puts the real codec in an encoding="H265" attribute. */
  codecInAttribute: boolean;
  /** NVR: sub-stream profiles have no <tt:Encoding>. */
  omitSubStreamEncoding: boolean;
  /** Dahua: query string with &amp;, newline + indentation inside <tt:Uri>, InvalidAfterConnect=true. */
  dahuaUris: boolean;
  profileToken(channel: number, stream: 'main' | 'sub'): string;
  serverHeader: string;
  macPrefix: string;
  /** Serial number from the host's low three octets (unique inside a /8). */
  serial(b: number, c: number, d: number): string;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export const VENDORS: Record<SimVendor, VendorProfile> = {
  hikvision: {
    manufacturer: 'HIKVISION',
    model: 'DS-2CD2143G2-I',
    firmware: '5.70',
    hardwareId: '88',
    scopeName: 'DS-2CD2 Cam',
    locations: ['city/hangzhou', 'country/china'],
    httpPort: 80,
    devicePath: '/onvif/device_service',
    mediaPath: '/onvif/media_service',
    auth: 'digest',
    codec: 'H265',
    channels: 1,
    addressPrefix: 'urn:uuid:',
    discoveryTypes: 'dn:NetworkVideoTransmitter',
    ipv6XAddr: true,
    timeZone: 'CST-8:00:00',
    localOffsetMinutes: 8 * 60,
    envPrefix: 'env',
    discoveryPrefixes: { env: 'env', wsa: 'wsadis', wsdd: 'd' },
    compactXml: false,
    digestRealm: 'IP Camera',
    digestSha256: true,
    htmlUnauthorized: true,
    codecInAttribute: true,
    omitSubStreamEncoding: false,
    dahuaUris: false,
    profileToken: (ch, stream) => `Profile_${ch}0${stream === 'main' ? 1 : 2}`,
    serverHeader: 'App-webs/',
    macPrefix: 'c0:56:e3',
    serial: (b, c, d) => `DS-2CD2143G2-I20230412AAWRJ${pad(b, 3)}${pad(c, 3)}${pad(d, 3)}`,
  },
  dahua: {
    manufacturer: 'Dahua',
    model: 'IPC-HDW2431T-AS-S2',
    firmware: '2.800',
    hardwareId: '1.00',
    scopeName: 'IPC-HDW2431T',
    locations: ['city/hangzhou', 'country/china'],
    httpPort: 80,
    devicePath: '/onvif/device_service',
    mediaPath: '/onvif/media_service',
    auth: 'both',
    codec: 'H264',
    channels: 1,
    addressPrefix: 'uuid:',
    discoveryTypes: 'dn:NetworkVideoTransmitter tds:Device',
    ipv6XAddr: false,
    // POSIX sign is inverted: this text means UTC-3, while LocalDateTime is sent at UTC+8.
    timeZone: 'CST+3:00:00',
    localOffsetMinutes: 8 * 60,
    envPrefix: 's',
    discoveryPrefixes: { env: 's', wsa: 'a', wsdd: 'd' },
    compactXml: true,
    digestRealm: 'Login to 7J0F1A2PAZ',
    digestSha256: false,
    htmlUnauthorized: false,
    codecInAttribute: false,
    omitSubStreamEncoding: false,
    dahuaUris: true,
    profileToken: (ch, stream) => `MediaProfile${pad((ch - 1) * 2 + (stream === 'main' ? 0 : 1), 5)}`,
    serverHeader: '',
    macPrefix: '3c:ef:8c',
    serial: (b, c, d) => `7J0${(b * 65536 + c * 256 + d).toString(16).toUpperCase().padStart(6, '0')}PAZ`,
  },
  nvr: {
    manufacturer: 'Uniview',
    model: 'NVR301-04S3',
    firmware: '4.30',
    hardwareId: 'B',
    scopeName: 'Uniview NVR',
    locations: ['city/shenzhen', 'building/B2'],
    httpPort: 80,
    devicePath: '/onvif/device_service',
    mediaPath: '/onvif/media_service',
    auth: 'both',
    codec: 'H264',
    channels: 4,
    addressPrefix: 'urn:uuid:',
    discoveryTypes: 'dn:NetworkVideoTransmitter tds:Device',
    ipv6XAddr: false,
    timeZone: 'BRT3',
    localOffsetMinutes: 2 * 60,
    envPrefix: 's',
    discoveryPrefixes: { env: 'SOAP-ENV', wsa: 'wsa', wsdd: 'wsdd' },
    compactXml: false,
    digestRealm: 'NVR',
    digestSha256: false,
    htmlUnauthorized: false,
    codecInAttribute: false,
    omitSubStreamEncoding: true,
    dahuaUris: false,
    profileToken: (ch, stream) => `media_profile_ch${ch}_${stream === 'main' ? 0 : 1}`,
    serverHeader: 'nvr-httpd',
    macPrefix: '24:28:fd',
    // All digits with leading zeros: a number-coercing client turns it into something else.
    serial: (b, c, d) => `00${pad(b, 3)}${pad(c, 3)}${pad(d, 3)}`,
  },
  tapo: {
    manufacturer: 'tp-link',
    model: 'Tapo C200',
    firmware: '1.10',
    hardwareId: '3.0',
    scopeName: 'Tapo C200',
    locations: ['country/china'],
    httpPort: 2020,
    devicePath: '/onvif/service',
    mediaPath: '/onvif/service',
    auth: 'wsse',
    codec: 'H264',
    channels: 1,
    addressPrefix: 'uuid:',
    discoveryTypes: 'dn:NetworkVideoTransmitter',
    ipv6XAddr: false,
    timeZone: 'UTC+01:00',
    localOffsetMinutes: 2 * 60,
    envPrefix: 'SOAP-ENV',
    discoveryPrefixes: { env: 'SOAP-ENV', wsa: 'wsa', wsdd: 'wsdd' },
    compactXml: false,
    digestRealm: 'tapo',
    digestSha256: false,
    htmlUnauthorized: false,
    codecInAttribute: false,
    omitSubStreamEncoding: false,
    dahuaUris: false,
    profileToken: (ch, stream) => `profile_${(ch - 1) * 2 + (stream === 'main' ? 1 : 2)}`,
    serverHeader: 'gSOAP/2.8',
    macPrefix: '5c:62:8b',
    serial: (b, c, d) => `2230${pad(b, 2)}${pad(c, 3)}${pad(d, 3)}`,
  },
  generic: {
    manufacturer: 'Generic',
    model: 'IPC-1080P',
    firmware: '1.00',
    hardwareId: '1.00',
    scopeName: 'IPC 1080P',
    locations: ['city/beijing', 'street/chang an'],
    httpPort: 80,
    devicePath: '/onvif/device_service',
    mediaPath: '/onvif/media_service',
    auth: 'both',
    codec: 'H264',
    channels: 1,
    addressPrefix: 'urn:uuid:',
    discoveryTypes: 'dn:NetworkVideoTransmitter',
    ipv6XAddr: false,
    timeZone: 'CST-8',
    localOffsetMinutes: 8 * 60,
    envPrefix: 'SOAP-ENV',
    discoveryPrefixes: { env: 'SOAP-ENV', wsa: 'wsa', wsdd: 'wsdd' },
    compactXml: false,
    digestRealm: 'camgate-sim',
    digestSha256: false,
    htmlUnauthorized: false,
    codecInAttribute: false,
    omitSubStreamEncoding: false,
    dahuaUris: false,
    profileToken: (ch, stream) => `Profile_${ch}_${stream}`,
    serverHeader: 'gSOAP/2.8',
    macPrefix: '02:00:5e',
    serial: (b, c, d) => `0012${pad(b, 3)}${pad(c, 3)}${pad(d, 3)}`,
  },
};

export const SIM_VENDORS: readonly SimVendor[] = ['generic', 'hikvision', 'dahua', 'nvr', 'tapo'];
