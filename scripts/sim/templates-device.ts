// Response bodies of the ONVIF device service (tds). Each returns the Body content only; the
// router wraps it in the vendor's envelope.
import { utcParts } from './clock';
import { httpUrl, type DeviceModel } from './model';
import { escapeXml as x } from './xml';

export interface DeviceUrls {
  device: string;
  media: string;
}

export function serviceUrls(m: DeviceModel): DeviceUrls {
  return {
    device: httpUrl(m.reportedHost, m.spec.httpPort, m.vendor.devicePath),
    media: httpUrl(m.reportedHost, m.spec.httpPort, m.vendor.mediaPath),
  };
}

function dateTimeXml(tag: string, d: Date): string {
  const p = utcParts(d);
  return (
    `<tt:${tag}><tt:Time><tt:Hour>${p.hour}</tt:Hour><tt:Minute>${p.minute}</tt:Minute><tt:Second>${p.second}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${p.year}</tt:Year><tt:Month>${p.month}</tt:Month><tt:Day>${p.day}</tt:Day></tt:Date></tt:${tag}>`
  );
}

export interface TimeSettings {
  dateTimeType: 'Manual' | 'NTP';
  timeZone: string;
}

export function getSystemDateAndTime(m: DeviceModel, deviceNow: Date, t: TimeSettings): string {
  // LocalDateTime uses the vendor's offset, which contradicts the TZ text on purpose:
  // clients must compute their offset from UTCDateTime only.
  const local = new Date(deviceNow.getTime() + m.vendor.localOffsetMinutes * 60_000);
  return `<tds:GetSystemDateAndTimeResponse>
  <tds:SystemDateAndTime>
    <tt:DateTimeType>${t.dateTimeType}</tt:DateTimeType>
    <tt:DaylightSavings>false</tt:DaylightSavings>
    <tt:TimeZone><tt:TZ>${x(t.timeZone)}</tt:TZ></tt:TimeZone>
    ${dateTimeXml('UTCDateTime', deviceNow)}
    ${dateTimeXml('LocalDateTime', local)}
  </tds:SystemDateAndTime>
</tds:GetSystemDateAndTimeResponse>`;
}

export function getDeviceInformation(m: DeviceModel): string {
  const s = m.spec;
  return `<tds:GetDeviceInformationResponse>
  <tds:Manufacturer>${x(m.vendor.manufacturer)}</tds:Manufacturer>
  <tds:Model>${x(s.model)}</tds:Model>
  <tds:FirmwareVersion>${x(s.firmware)}</tds:FirmwareVersion>
  <tds:SerialNumber>${x(s.serial)}</tds:SerialNumber>
  <tds:HardwareId>${x(m.vendor.hardwareId)}</tds:HardwareId>
</tds:GetDeviceInformationResponse>`;
}

export function getCapabilities(m: DeviceModel): string {
  const urls = serviceUrls(m);
  // Minor versions with a leading zero ("06") as Dahua sends them.
  const versions = [
    [2, '00'],
    [2, '40'],
    [16, '12'],
    [18, '06'],
  ]
    .map(([major, minor]) => `<tt:SupportedVersions><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tt:SupportedVersions>`)
    .join('');
  return `<tds:GetCapabilitiesResponse>
  <tds:Capabilities>
    <tt:Device>
      <tt:XAddr>${x(urls.device)}</tt:XAddr>
      <tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration><tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>
      <tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>${versions}</tt:System>
      <tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2><tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig><tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken></tt:Security>
    </tt:Device>
    <tt:Media>
      <tt:XAddr>${x(urls.media)}</tt:XAddr>
      <tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities>
      <tt:Extension><tt:ProfileCapabilities><tt:MaximumNumberOfProfiles>${m.profiles.length}</tt:MaximumNumberOfProfiles></tt:ProfileCapabilities></tt:Extension>
    </tt:Media>
  </tds:Capabilities>
</tds:GetCapabilitiesResponse>`;
}

export function getServices(m: DeviceModel, includeCapability: boolean): string {
  const urls = serviceUrls(m);
  const deviceCaps = includeCapability
    ? `<tds:Capabilities><tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false"/><tds:Security UsernameToken="${m.spec.auth === 'wsse' || m.spec.auth === 'both'}" HttpDigest="${m.spec.auth === 'digest' || m.spec.auth === 'both'}"/><tds:System DiscoveryResolve="false" DiscoveryBye="true" RemoteDiscovery="false"/></tds:Capabilities></tds:Capabilities>`
    : '';
  const mediaCaps = includeCapability
    ? `<tds:Capabilities><trt:Capabilities SnapshotUri="true" Rotation="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="${m.profiles.length}"/><trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/></trt:Capabilities></tds:Capabilities>`
    : '';
  // Media1 only: advertising Media2 (ver20) would make clients use a service we do not serve.
  return `<tds:GetServicesResponse>
  <tds:Service>
    <tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace>
    <tds:XAddr>${x(urls.device)}</tds:XAddr>
    ${deviceCaps}
    <tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor></tds:Version>
  </tds:Service>
  <tds:Service>
    <tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace>
    <tds:XAddr>${x(urls.media)}</tds:XAddr>
    ${mediaCaps}
    <tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor></tds:Version>
  </tds:Service>
</tds:GetServicesResponse>`;
}

export function getNetworkInterfaces(m: DeviceModel): string {
  return `<tds:GetNetworkInterfacesResponse>
  <tds:NetworkInterfaces token="eth0">
    <tt:Enabled>true</tt:Enabled>
    <tt:Info><tt:Name>eth0</tt:Name><tt:HwAddress>${x(m.spec.mac)}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>
    <tt:IPv4>
      <tt:Enabled>true</tt:Enabled>
      <tt:Config>
        <tt:Manual><tt:Address>${x(m.reportedHost)}</tt:Address><tt:PrefixLength>8</tt:PrefixLength></tt:Manual>
        <tt:DHCP>false</tt:DHCP>
      </tt:Config>
    </tt:IPv4>
  </tds:NetworkInterfaces>
</tds:GetNetworkInterfacesResponse>`;
}

/** Scope URIs; the name and location parts are %-encoded as cameras send them. */
export function scopeUris(m: DeviceModel): { fixed: string[]; configurable: string[] } {
  const enc = (path: string): string => path.split('/').map(encodeURIComponent).join('/');
  return {
    fixed: [
      'onvif://www.onvif.org/Profile/Streaming',
      'onvif://www.onvif.org/type/video_encoder',
      `onvif://www.onvif.org/type/${m.profiles.length > 2 ? 'NVR' : 'Network_Video_Transmitter'}`,
      `onvif://www.onvif.org/hardware/${enc(m.spec.model)}`,
    ],
    configurable: [`onvif://www.onvif.org/name/${enc(m.name)}`, ...m.vendor.locations.map((l) => `onvif://www.onvif.org/location/${enc(l)}`)],
  };
}

export function getScopes(m: DeviceModel): string {
  const s = scopeUris(m);
  const item = (def: string, uri: string): string => `<tds:Scopes><tt:ScopeDef>${def}</tt:ScopeDef><tt:ScopeItem>${x(uri)}</tt:ScopeItem></tds:Scopes>`;
  return `<tds:GetScopesResponse>
  ${s.fixed.map((u) => item('Fixed', u)).join('\n  ')}
  ${s.configurable.map((u) => item('Configurable', u)).join('\n  ')}
</tds:GetScopesResponse>`;
}

export function getHostname(m: DeviceModel): string {
  return `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${x(m.hostname)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`;
}

export function setSystemDateAndTime(): string {
  return '<tds:SetSystemDateAndTimeResponse/>';
}

export function systemReboot(downtimeMs: number): string {
  return `<tds:SystemRebootResponse><tds:Message>Rebooting in ${Math.ceil(downtimeMs / 1000)} seconds</tds:Message></tds:SystemRebootResponse>`;
}
