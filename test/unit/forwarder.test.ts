import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemSchema } from '../../shared/config.js';
import { mapLocation } from '../../electron/agent/forwarder.js';

const system = systemSchema.parse({ virtualHost: 'erp.virtual', virtualPort: 443, internalHost: '10.0.0.5', internalPort: 8000, protocol: 'http', resources: [] });

test('redirects to the internal host are mapped back to the virtual one', () => {
  assert.equal(mapLocation('http://10.0.0.5:8000/login?next=/a', system), 'http://erp.virtual:443/login?next=/a');
  assert.equal(mapLocation('http://erp.virtual:443/x', system), 'http://erp.virtual:443/x');
  assert.equal(mapLocation('https://10.0.0.5:8000/x', system), 'http://erp.virtual:443/x');
});

test('relative and foreign redirects are left alone', () => {
  assert.equal(mapLocation('/relative/path', system), '/relative/path');
  assert.equal(mapLocation('https://login.example.com/sso', system), 'https://login.example.com/sso');
  assert.equal(mapLocation('http://10.0.0.5:9000/other-port', system), 'http://10.0.0.5:9000/other-port');
});

test('default ports may be left out of a back end redirect', () => {
  const onDefault = systemSchema.parse({ ...system, internalPort: 80 });
  assert.equal(mapLocation('http://10.0.0.5/x', onDefault), 'http://erp.virtual:443/x');
});
