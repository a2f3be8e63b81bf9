import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanForDtd } from '../../drivers/onvif/guarded-agent';

test('DTD scan: entities and non-HTML doctypes are unsafe; HTML error pages pass', () => {
  assert.equal(scanForDtd('<?xml version="1.0"?><Envelope/>', false), 'ok');
  assert.equal(scanForDtd('<!DOCTYPE html><html><title>401</title></html>', false), 'ok');
  assert.equal(scanForDtd('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">', false), 'ok');
  assert.equal(scanForDtd('<!DOCTYPE Envelope>', false), 'unsafe');
  assert.equal(scanForDtd('<!DOCTYPE html [<!-- sneaky -->]>', false), 'unsafe');
  assert.equal(scanForDtd('<x><!ENTITY a "b"></x>', false), 'unsafe');
  assert.equal(scanForDtd('<!doctype   lolz [ ]>', false), 'unsafe');
});

test('DTD scan: a declaration cut at a chunk boundary waits for more, but not forever', () => {
  assert.equal(scanForDtd('HTTP/1.1 200 OK\r\n\r\n<!DOCTYPE', false), 'pending');
  assert.equal(scanForDtd('HTTP/1.1 200 OK\r\n\r\n<!DOCTYPE', true), 'unsafe');
  assert.equal(scanForDtd(`<!DOCTYPE ${' '.repeat(300)}`, false), 'unsafe');
  assert.equal(scanForDtd('<!DOCTYPE html', false), 'pending');
});
