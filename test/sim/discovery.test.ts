// WS-Discovery over unicast UDP against simulated devices (subnet 127.61.0.0/16).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimulator } from '../../scripts/sim/index';
import type { Simulator } from '../../scripts/sim/types';
import { parseXml, descendant } from '../../scripts/sim/xml';
import { probeXml, udpExchange, uniqueMessageId } from './helpers';

const WSA = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
const WSDD = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';

function field(xml: string, ns: string, local: string): string {
  const el = descendant(parseXml(xml), ns, local);
  assert.ok(el, `${local} missing in ${xml}`);
  return el.text;
}

describe('simulator WS-Discovery (unicast)', () => {
  let sim: Simulator;

  before(async () => {
    sim = await startSimulator({
      rtsp: false,
      cameras: [
        { host: '127.61.0.1', vendor: 'generic', reportedHost: '127.99.99.99' },
        { host: '127.61.0.2', vendor: 'hikvision' },
        { host: '127.61.0.3', vendor: 'dahua' },
        { host: '127.61.0.4', vendor: 'nvr' },
        { host: '127.61.0.5', vendor: 'tapo' },
        { host: '127.61.0.6', vendor: 'generic', fault: 'not-onvif' },
      ],
    });
  });
  after(() => sim?.stop());

  it('answers a Probe with ProbeMatches from the device address, echoing MessageID', async () => {
    const cam = sim.cameras[1];
    const id = uniqueMessageId();
    const answers = await udpExchange(cam.spec.host, probeXml(id));
    assert.equal(answers.length, 1);
    const a = answers[0];
    assert.equal(a.address, cam.spec.host, 'answer must come from the device address');
    assert.equal(field(a.text, WSA, 'RelatesTo'), id);
    assert.equal(field(a.text, WSA, 'Address'), `urn:uuid:${cam.spec.uuid}`);
    assert.equal(field(a.text, WSDD, 'Types'), 'dn:NetworkVideoTransmitter');
    // Hikvision-like: an extra IPv6 link-local URL after the real one.
    const xaddrs = field(a.text, WSDD, 'XAddrs').split(/\s+/);
    assert.equal(xaddrs[0], 'http://127.61.0.2:80/onvif/device_service');
    assert.match(xaddrs[1] ?? '', /^http:\/\/\[fe80::[0-9a-f:]+\]\/onvif\/device_service$/);
    // Scopes: several lines, %-encoded name.
    const scopes = field(a.text, WSDD, 'Scopes');
    assert.ok(scopes.includes('\n'), 'scopes span several lines');
    assert.ok(scopes.split(/\s+/).includes('onvif://www.onvif.org/name/DS-2CD2%20Cam'));
    assert.ok(scopes.split(/\s+/).includes('onvif://www.onvif.org/location/city/hangzhou'));
    assert.ok(scopes.split(/\s+/).includes('onvif://www.onvif.org/type/video_encoder'));
  });

  it('uses vendor variety: uuid: prefix, tds:Device type, other SOAP prefixes', async () => {
    const dahua = sim.cameras[2];
    const [a] = await udpExchange(dahua.spec.host, probeXml(uniqueMessageId()));
    assert.ok(a);
    assert.equal(field(a.text, WSA, 'Address'), `uuid:${dahua.spec.uuid}`);
    assert.match(a.text, /<s:Envelope /, 'Dahua-like answers use the s: prefix');
    const nvr = sim.cameras[3];
    const [b] = await udpExchange(nvr.spec.host, probeXml(uniqueMessageId()));
    assert.ok(b);
    assert.deepEqual(field(b.text, WSDD, 'Types').split(' '), ['dn:NetworkVideoTransmitter', 'tds:Device']);
    const tapo = sim.cameras[4];
    const [c] = await udpExchange(tapo.spec.host, probeXml(uniqueMessageId()));
    assert.ok(c);
    assert.equal(field(c.text, WSDD, 'XAddrs'), 'http://127.61.0.5:2020/onvif/service');
  });

  it('puts reportedHost (NAT quirk) into XAddrs', async () => {
    const cam = sim.cameras[0];
    const [a] = await udpExchange(cam.spec.host, probeXml(uniqueMessageId()));
    assert.ok(a);
    assert.equal(a.address, '127.61.0.1');
    assert.equal(field(a.text, WSDD, 'XAddrs'), 'http://127.99.99.99:80/onvif/device_service');
    assert.equal(cam.xaddr, 'http://127.99.99.99:80/onvif/device_service');
    assert.equal(cam.deviceUrl, 'http://127.61.0.1:80/onvif/device_service');
  });

  it('ignores datagrams that are not Probes', async () => {
    const cam = sim.cameras[0];
    assert.deepEqual(await udpExchange(cam.spec.host, 'hello, is it me you are looking for?', 300), []);
    const hello = probeXml(uniqueMessageId()).replace(/Probe/g, 'Hello');
    assert.deepEqual(await udpExchange(cam.spec.host, hello, 300), []);
    const doctype = `<!DOCTYPE x [<!ENTITY a "a">]>${probeXml(uniqueMessageId())}`;
    assert.deepEqual(await udpExchange(cam.spec.host, doctype, 300), []);
  });

  it('not-onvif device answers with junk that is not ProbeMatches', async () => {
    const answers = await udpExchange('127.61.0.6', probeXml(uniqueMessageId()));
    assert.equal(answers.length, 1);
    assert.doesNotMatch(answers[0].text, /ProbeMatch/);
    assert.throws(() => parseXml(answers[0].text));
  });

  it('nothing answers on an address no device owns', async () => {
    assert.deepEqual(await udpExchange('127.61.0.200', probeXml(uniqueMessageId()), 300), []);
  });
});
