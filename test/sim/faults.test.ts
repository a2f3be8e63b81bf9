// Misbehaving simulated devices (SimFault), checked with raw sockets (subnet 127.63.0.0/16).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startSimulator } from '../../scripts/sim/index';
import type { RunningSimCamera, Simulator } from '../../scripts/sim/types';
import { parseXml, XmlRejected } from '../../scripts/sim/xml';
import { cameraById, httpRequest, probeXml, soapEnvelope, TDS, udpExchange, uniqueMessageId } from './helpers';

const GET_INFO = soapEnvelope(`<GetDeviceInformation xmlns="${TDS}"/>`);

describe('simulator faults', () => {
  let sim: Simulator;
  const cam = (id: string): RunningSimCamera => cameraById(sim, id);

  before(async () => {
    sim = await startSimulator({
      rtsp: false,
      cameras: [
        { host: '127.63.0.1', id: 'garbage', fault: 'garbage' },
        { host: '127.63.0.2', id: 'truncated', fault: 'truncated' },
        { host: '127.63.0.3', id: 'hang', fault: 'hang' },
        { host: '127.63.0.4', id: 'huge', fault: 'huge' },
        { host: '127.63.0.5', id: 'doctype', fault: 'doctype' },
        { host: '127.63.0.6', id: 'notonvif', fault: 'not-onvif' },
      ],
    });
  });
  after(() => sim?.stop());

  it('garbage: HTTP 200 with bytes that are not XML', async () => {
    const res = await httpRequest(cam('garbage').deviceUrl, { body: GET_INFO });
    assert.equal(res.status, 200);
    assert.ok(res.body.includes(0x00));
    assert.throws(() => parseXml(res.text), XmlRejected);
  });

  it('truncated: a real response cut in half', async () => {
    const res = await httpRequest(cam('truncated').deviceUrl, { body: GET_INFO });
    assert.equal(res.status, 200);
    assert.match(res.text, /^<\?xml/);
    assert.match(res.text, /GetDeviceInformationResponse/);
    assert.doesNotMatch(res.text, /<\/[\w-]+:Envelope>/);
    assert.throws(() => parseXml(res.text), XmlRejected);
  });

  it('hang: accepts the TCP connection and never answers', async () => {
    const { host, httpPort } = cam('hang').spec;
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host, port: httpPort }, () => {
        socket.write(`POST /onvif/device_service HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${GET_INFO.length}\r\n\r\n${GET_INFO}`);
      });
      socket.on('data', () => resolve('answered'));
      socket.on('error', (e) => resolve(`error ${e.message}`));
      setTimeout(() => {
        resolve(socket.readyState === 'open' ? 'connected, silent' : `state ${socket.readyState}`);
        socket.destroy();
      }, 700);
    });
    assert.equal(outcome, 'connected, silent');
  });

  it('huge: streams ~20 MB (no Content-Length) and stops when the client hangs up', async () => {
    const url = new URL(cam('huge').deviceUrl);
    const { total, contentLength } = await new Promise<{ total: number; contentLength: string | undefined }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve({ total: n, contentLength: res.headers['content-length'] }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(GET_INFO);
    });
    assert.equal(contentLength, undefined);
    assert.equal(total, 20 * 1024 * 1024);
    // A client with a cap hangs up after 1 MB: the device must cope (next request still served).
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          if (n > 1024 * 1024) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (e.message.includes('socket hang up') || e.message.includes('aborted') ? resolve() : reject(e)));
      req.end(GET_INFO);
    });
    const again = await httpRequest(cam('huge').deviceUrl, { body: GET_INFO, timeoutMs: 10_000 });
    assert.equal(again.status, 200);
  });

  it('doctype: SOAP carrying a billion-laughs DOCTYPE', async () => {
    const res = await httpRequest(cam('doctype').deviceUrl, { body: GET_INFO });
    assert.equal(res.status, 200);
    assert.match(res.text, /<!DOCTYPE s:Envelope \[/);
    assert.match(res.text, /<!ENTITY lol9 "(&lol8;){10}">/);
    assert.match(res.text, /&lol9;/);
    assert.ok(res.body.length < 10_000, 'the bomb is small on the wire');
    assert.throws(() => parseXml(res.text), /DOCTYPE/);
  });

  it('not-onvif: an ordinary web server on HTTP and junk on UDP 3702', async () => {
    const c = cam('notonvif');
    const home = await httpRequest(`http://${c.spec.host}/`);
    assert.equal(home.status, 200);
    assert.match(home.text, /Welcome to nginx/);
    const soap = await httpRequest(c.deviceUrl, { body: GET_INFO });
    assert.equal(soap.status, 404);
    assert.match(String(soap.headers['content-type']), /text\/html/);
    const answers = await udpExchange(c.spec.host, probeXml(uniqueMessageId()));
    assert.equal(answers.length, 1);
    assert.doesNotMatch(answers[0].text, /ProbeMatches/);
  });

  it('faulty devices are still discoverable (except not-onvif, which answers junk)', async () => {
    const [a] = await udpExchange(cam('hang').spec.host, probeXml(uniqueMessageId()));
    assert.ok(a);
    assert.match(a.text, /ProbeMatches/);
  });

  it('stop() returns promptly with a hanging connection open', async () => {
    const local = await startSimulator({ rtsp: false, cameras: [{ host: '127.63.1.1', fault: 'hang' }] });
    const socket = connect({ host: '127.63.1.1', port: 80 });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    const t0 = Date.now();
    await local.stop();
    await closed;
    assert.ok(Date.now() - t0 < 1000, `stop took ${Date.now() - t0} ms`);
  });
});
