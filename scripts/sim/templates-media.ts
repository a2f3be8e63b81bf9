// Response bodies of the ONVIF Media1 service (trt), with the vendor quirks on the wire.
import { httpUrl, type DeviceModel, type StreamProfile } from './model';
import { escapeXml as x } from './xml';

const sourceToken = (ch: number): string => `VideoSource_${ch}`;

/** Token of a profile's video encoder configuration (one per profile, as on most cameras). */
export function encoderToken(p: StreamProfile): string {
  return `VideoEncoder_${p.channel}_${p.stream}`;
}

/** A VideoEncoderConfiguration as `element` (tt:VideoEncoderConfiguration inside a profile,
 * trt:Configuration(s) in the Get/SetVideoEncoderConfiguration family); children are tt: either way. */
function encoderXml(m: DeviceModel, p: StreamProfile, element = 'tt:VideoEncoderConfiguration'): string {
  const v = m.vendor;
  // Media1's schema only knows JPEG/MPEG4/H264: Hikvision writes H264 and hides H265 in an attribute;
  // others write the non-schema value H265; an NVR leaves Encoding out of its sub streams.
  const attrCodec = v.codecInAttribute && p.codec === 'H265' ? ` encoding="H265"` : '';
  const elementCodec = v.codecInAttribute ? 'H264' : p.codec;
  const encoding = v.omitSubStreamEncoding && p.stream === 'sub' ? '' : `<tt:Encoding>${elementCodec}</tt:Encoding>`;
  // FrameRateLimit is an xs:int: a 12.5 fps stream reports 13, a limit it stays under.
  // GovLength is the live value (SetVideoEncoderConfiguration changes it), not a constant.
  const codecBlock =
    p.codec === 'H264' || v.codecInAttribute ? `<tt:H264><tt:GovLength>${p.govLength}</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>` : '';
  const token = encoderToken(p);
  return `<${element} token="${token}"${attrCodec}>
      <tt:Name>${token}</tt:Name>
      <tt:UseCount>1</tt:UseCount>
      ${encoding}
      <tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>
      <tt:Quality>${p.stream === 'main' ? 5 : 3}</tt:Quality>
      <tt:RateControl><tt:FrameRateLimit>${Math.ceil(p.fps)}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${p.bitrateKbps}</tt:BitrateLimit></tt:RateControl>
      ${codecBlock}
      <tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>
      <tt:SessionTimeout>PT60S</tt:SessionTimeout>
    </${element}>`;
}

function profileXml(m: DeviceModel, p: StreamProfile, element: string): string {
  return `<${element} token="${x(p.token)}" fixed="true">
    <tt:Name>${p.stream === 'main' ? 'mainStream' : 'subStream'}${m.spec.channels > 1 ? `_ch${p.channel}` : ''}</tt:Name>
    <tt:VideoSourceConfiguration token="VideoSourceConfig_${p.channel}">
      <tt:Name>VideoSourceConfig_${p.channel}</tt:Name>
      <tt:UseCount>2</tt:UseCount>
      <tt:SourceToken>${sourceToken(p.channel)}</tt:SourceToken>
      <tt:Bounds x="0" y="0" width="1920" height="1080"/>
    </tt:VideoSourceConfiguration>
    ${encoderXml(m, p)}
  </${element}>`;
}

export function getProfiles(m: DeviceModel): string {
  return `<trt:GetProfilesResponse>
  ${m.profiles.map((p) => profileXml(m, p, 'trt:Profiles')).join('\n  ')}
</trt:GetProfilesResponse>`;
}

export function getProfile(m: DeviceModel, p: StreamProfile): string {
  return `<trt:GetProfileResponse>
  ${profileXml(m, p, 'trt:Profile')}
</trt:GetProfileResponse>`;
}

export function getVideoSources(m: DeviceModel): string {
  const sources: string[] = [];
  for (let ch = 1; ch <= m.spec.channels; ch++) {
    sources.push(
      `<trt:VideoSources token="${sourceToken(ch)}"><tt:Framerate>25</tt:Framerate><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></trt:VideoSources>`,
    );
  }
  return `<trt:GetVideoSourcesResponse>
  ${sources.join('\n  ')}
</trt:GetVideoSourcesResponse>`;
}

/** RTSP URL as the device reports it: reportedHost (NAT quirk) and the shared server's port. */
export function reportedStreamUri(m: DeviceModel, p: StreamProfile, rtspPort: number): string {
  const base = `rtsp://${m.reportedHost}:${rtspPort}/${m.id}/ch${p.channel}/${p.stream}`;
  // GStreamer's mount lookup ignores the query, so the Dahua-style query still plays.
  return m.vendor.dahuaUris ? `${base}?channel=${p.channel}&subtype=${p.stream === 'main' ? 0 : 1}&unicast=true&proto=Onvif` : base;
}

export function getStreamUri(m: DeviceModel, p: StreamProfile, rtspPort: number): string {
  const uri = x(reportedStreamUri(m, p, rtspPort));
  if (m.vendor.dahuaUris) {
    // Newline and indentation inside <tt:Uri>, URI valid only for one connection (Dahua).
    return `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>
                    ${uri}</tt:Uri><tt:InvalidAfterConnect>true</tt:InvalidAfterConnect><tt:InvalidAfterReboot>true</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`;
  }
  return `<trt:GetStreamUriResponse>
  <trt:MediaUri>
    <tt:Uri>${uri}</tt:Uri>
    <tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>
    <tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>
    <tt:Timeout>PT60S</tt:Timeout>
  </trt:MediaUri>
</trt:GetStreamUriResponse>`;
}

export function snapshotPath(m: DeviceModel, p: StreamProfile): string {
  return m.vendor.dahuaUris ? `/onvifsnapshot/media_service/snapshot?channel=${p.channel}&subtype=${p.stream === 'main' ? 0 : 1}` : `/snapshot/${p.channel}`;
}

export function getSnapshotUri(m: DeviceModel, p: StreamProfile): string {
  const uri = x(httpUrl(m.reportedHost, m.spec.httpPort, snapshotPath(m, p)));
  return `<trt:GetSnapshotUriResponse>
  <trt:MediaUri>
    <tt:Uri>${uri}</tt:Uri>
    <tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>
    <tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>
    <tt:Timeout>PT0S</tt:Timeout>
  </trt:MediaUri>
</trt:GetSnapshotUriResponse>`;
}

/** SetSynchronizationPoint has an empty response (the keyframe itself goes out on the RTSP stream). */
export function setSynchronizationPoint(): string {
  return '<trt:SetSynchronizationPointResponse/>';
}

export function getVideoEncoderConfiguration(m: DeviceModel, p: StreamProfile): string {
  return `<trt:GetVideoEncoderConfigurationResponse>
  ${encoderXml(m, p, 'trt:Configuration')}
</trt:GetVideoEncoderConfigurationResponse>`;
}

export function getVideoEncoderConfigurations(m: DeviceModel): string {
  return `<trt:GetVideoEncoderConfigurationsResponse>
  ${m.profiles.map((p) => encoderXml(m, p, 'trt:Configurations')).join('\n  ')}
</trt:GetVideoEncoderConfigurationsResponse>`;
}

/** SetVideoEncoderConfiguration has an empty response (the encoder restarts after it went out). */
export function setVideoEncoderConfiguration(): string {
  return '<trt:SetVideoEncoderConfigurationResponse/>';
}
