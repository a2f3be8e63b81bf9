// A profile's video encoder configuration as far as the keyframe interval goes: read it from a
// Media1 GetProfile or Media2 GetVideoEncoderConfigurations answer, and build the
// SetVideoEncoderConfiguration body that changes only GovLength. Pure (no I/O).
//
// Set must send the whole configuration back. We echo what the device sent us, element by
// element in its order, and change only GovLength: rebuilding from our own model would reset
// fields we do not understand (quality, profile, vendor attributes such as Hikvision's
// encoding="H265"). Extension elements are left out: their vendor namespaces are lost by the
// prefix-free parser, and ONVIF makes them optional.
import { DriverError, type KeyframeInterval } from '../types';
import { attr, child, childText, descendant, escapeXml, textOf, type XmlElement } from '../xml';
import { positiveInt } from './parse';
import { NS } from './soap-client';

export type MediaVersion = 'media' | 'media2';

/** Seconds from one keyframe to the next, to 0.01 s. */
export function intervalSeconds(govLength: number, fps: number): number {
  return Math.round((govLength / fps) * 100) / 100;
}

/** The encoder configuration element of a profile, or undefined when the answer has none. */
export function encoderConfigurationOf(resp: XmlElement, version: MediaVersion): XmlElement | undefined {
  if (version === 'media2') return child(resp, 'Configurations');
  // Media1 GetProfileResponse > Profile > VideoEncoderConfiguration
  return child(child(resp, 'Profile'), 'VideoEncoderConfiguration');
}

/**
 * Reads the keyframe interval of an encoder configuration: Media2 carries GovLength as an
 * attribute; Media1 inside the codec block (H264/GovLength, MPEG4/GovLength, or the H265 block
 * some vendors add against the schema).
 */
export function readKeyframeInterval(config: XmlElement, version: MediaVersion): KeyframeInterval {
  const token = attr(config, 'token');
  if (!token) throw new DriverError('malformed', 'the video encoder configuration has no token');
  const govLength = version === 'media2' ? positiveInt(attr(config, 'GovLength')) : positiveInt(textOf(descendant(config, 'GovLength')));
  const fps = positiveInt(childText(child(config, 'RateControl'), 'FrameRateLimit'));
  const codec = attr(config, 'encoding') ?? childText(config, 'Encoding');
  const out: KeyframeInterval = { configurationToken: token };
  if (govLength !== undefined) out.govLength = govLength;
  if (fps !== undefined) out.fps = fps;
  if (codec) out.codec = codec.trim();
  if (govLength !== undefined && fps !== undefined) out.seconds = intervalSeconds(govLength, fps);
  return out;
}

function serialise(el: XmlElement, govLength: number): string {
  const attrs = Object.entries(el.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const name = `tt:${el.name}`;
  if (el.name === 'GovLength') return `<${name}${attrs}>${govLength}</${name}>`;
  const kids = el.children.filter((c) => c.name !== 'Extension');
  if (kids.length === 0) return `<${name}${attrs}>${escapeXml(el.text.trim())}</${name}>`;
  return `<${name}${attrs}>${kids.map((c) => serialise(c, govLength)).join('')}</${name}>`;
}

/**
 * The body of SetVideoEncoderConfiguration that sends `config` back with only the GovLength
 * changed. Media1 needs ForcePersistence (true: the change survives a reboot, as an installer
 * setting it in the camera's web page would); Media2 has no such element.
 */
export function setKeyframeIntervalBody(config: XmlElement, version: MediaVersion, govLength: number): string {
  if (!Number.isInteger(govLength) || govLength < 1) throw new RangeError(`GovLength must be a positive integer, not ${govLength}`);
  const ns = version === 'media2' ? NS.media2 : NS.media;
  const attrs = { ...config.attrs };
  if (version === 'media2') attrs.GovLength = String(govLength);
  else if (!descendant(config, 'GovLength')) throw new DriverError('unsupported', 'the video encoder configuration has no GovLength (not H.264/H.265/MPEG-4)');
  const attrText = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const kids = config.children.filter((c) => c.name !== 'Extension').map((c) => serialise(c, govLength));
  const persistence = version === 'media2' ? '' : '<ForcePersistence>true</ForcePersistence>';
  return `<SetVideoEncoderConfiguration xmlns="${ns}"><Configuration xmlns:tt="${NS.schema}"${attrText}>${kids.join('')}</Configuration>${persistence}</SetVideoEncoderConfiguration>`;
}
