import { describe, expect, it } from 'vitest';
import { EMPTY_SYSTEM_FORM, systemFormSchema, systemToForm, toPatch, type SystemFormValues } from '../src/pages/systems/system-form.js';
import { fakeSystem } from './fake-client.js';

/** The form's verdict as the user sees it: field → message, or the checked system. */
function check(values: Partial<SystemFormValues>, base?: Parameters<typeof systemFormSchema>[0]) {
  const result = systemFormSchema(base).safeParse({ ...EMPTY_SYSTEM_FORM, ...values });
  if (result.success) return { ok: true as const, system: result.data };
  return { ok: false as const, errors: Object.fromEntries(result.error.issues.map((i) => [String(i.path[0]), i.message])) };
}

const valid = { virtualHost: 'erp.virtual', virtualPort: '443', internalHost: 'erp.corp', internalPort: '8443' };

describe('system form rules', () => {
  it('takes timeouts in seconds and names the unit when they are out of range', () => {
    const ok = check({ ...valid, connectTimeout: '0.5', responseTimeout: '120' });
    expect(ok.ok && ok.system).toMatchObject({ connectTimeoutMs: 500, responseTimeoutMs: 120_000 });
    expect(check({ ...valid, connectTimeout: '0.01', responseTimeout: 'soon' })).toEqual({
      ok: false,
      errors: { connectTimeout: 'a number of seconds from 0.1 to 600', responseTimeout: 'a number of seconds from 0.1 to 3600' },
    });
  });

  it('accepts IP addresses on the internal side only', () => {
    expect(check({ ...valid, internalHost: 'fd00::7' }).ok).toBe(true);
    expect(check({ ...valid, virtualHost: '10.0.0.1' }).ok).toBe(true); // a dotted name of digits is a valid host name
    expect(check({ ...valid, internalHost: 'erp_1.corp' })).toEqual({
      ok: false,
      errors: { internalHost: 'a host name (letters, digits, hyphens and dots, no underscores) or an IP address' },
    });
  });

  it('drops TCP-only and CA settings that do not apply to the chosen protocol', () => {
    const r = check({ ...valid, protocol: 'http', caFile: '/etc/ca.pem', maxConnections: '5', portRangeEnd: '450' });
    expect(r.ok).toBe(true);
    expect(r.ok && r.system).not.toHaveProperty('caFile');
    expect(r.ok && r.system).not.toHaveProperty('maxConnections');
    expect(r.ok && r.system).not.toHaveProperty('virtualPortEnd');
  });

  it('refuses a TCP range whose internal end would pass 65535', () => {
    expect(check({ ...valid, internalPort: '65530', protocol: 'tcp', portRangeEnd: '453' })).toEqual({
      ok: false,
      errors: { portRangeEnd: 'the internal range would end at port 65540, above 65535: choose a shorter range' },
    });
  });

  it('when editing, refuses to turn a system with resources into TCP, on the Protocol field', () => {
    const base = fakeSystem();
    expect(check({ ...systemToForm(base), protocol: 'tcp' }, base)).toEqual({
      ok: false,
      errors: { protocol: expect.stringContaining('a TCP system cannot have resources') },
    });
  });

  it('when editing a TCP range, explains that the internal port cannot move the range', () => {
    const base = fakeSystem({ protocol: 'tcp', virtualPort: 5000, virtualPortEnd: 5009, internalPort: 6000, internalPortEnd: 6009, resources: [] });
    expect(check({ ...systemToForm(base), internalPort: '7000' }, base)).toEqual({
      ok: false,
      errors: { internalPort: expect.stringContaining('keep internal port 6000') },
    });
  });

  it('sends the CA file only when it changed: the UI may not resend a path an administrator set on the server', () => {
    const base = fakeSystem({ caFile: '/etc/skybridge/erp-ca.pem' });
    const same = check({ ...systemToForm(base), internalPort: '9443' }, base);
    expect(same.ok && toPatch(same.system, base)).not.toHaveProperty('caFile');
    const uploaded = '/var/lib/skybridge/trusted-ca/0123456789abcdef0123456789abcdef.pem';
    const replaced = check({ ...systemToForm(base), caFile: uploaded }, base);
    expect(replaced.ok && toPatch(replaced.system, base)).toMatchObject({ caFile: uploaded });
    // Switching to plain HTTP takes the CA away with the TLS.
    const plain = check({ ...systemToForm(base), protocol: 'http' }, base);
    expect(plain.ok && toPatch(plain.system, base)).toMatchObject({ caFile: null });
  });

  it('clears a CA file that was removed in the form (null in the patch)', () => {
    const base = fakeSystem({ caFile: '/etc/erp-ca.pem' });
    const r = check({ ...systemToForm(base), caFile: '' }, base);
    expect(r.ok).toBe(true);
    if (r.ok) expect(toPatch(r.system, base)).toMatchObject({ caFile: null, internalHost: 'erp.internal' });
  });
});
