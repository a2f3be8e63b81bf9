// Which local IPv4 addresses to probe from. One socket per address, because a multicast Probe
// leaves through exactly one interface (the onvif package's single socket only reaches the
// default-route NIC).
import os from 'node:os';
import ipaddr from 'ipaddr.js';

export interface LocalAddress {
  name: string;
  address: string;
  netmask: string;
  internal: boolean;
}

export type InterfaceTable = ReturnType<typeof os.networkInterfaces>;

/** IPv4 addresses of the interfaces matching `filter` (names or addresses). Internal (loopback)
 * interfaces are skipped unless `includeInternal` or named explicitly in the filter. */
export function selectIPv4Addresses(filter?: string[], includeInternal = false, table: InterfaceTable = os.networkInterfaces()): LocalAddress[] {
  const out: LocalAddress[] = [];
  for (const [name, entries] of Object.entries(table)) {
    for (const e of entries ?? []) {
      // Node 18.0-18.3 reported family as the number 4; later versions as 'IPv4'.
      if (e.family !== 'IPv4' && (e.family as unknown) !== 4) continue;
      const named = !!filter?.some((f) => f === name || f === e.address);
      if (filter && filter.length > 0 && !named) continue;
      if (e.internal && !includeInternal && !named) continue;
      out.push({ name, address: e.address, netmask: e.netmask, internal: e.internal });
    }
  }
  return out;
}

/** True when `ip` lies in the subnet of `local`. */
export function inSubnet(ip: string, local: LocalAddress): boolean {
  try {
    const prefix = ipaddr.IPv4.parse(local.netmask).prefixLengthFromSubnetMask() ?? 32;
    return ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parse(local.address), prefix);
  } catch {
    return false;
  }
}
