import { z } from 'zod';
import type { ApiInput } from '../../../../shared/api.js';
import {
  isTcpProtocol,
  systemMappingIssues,
  systemSchema,
  usesTls,
  type SystemInput,
  type SystemMapping,
  type SystemProtocol,
} from '../../../../shared/config.js';

/**
 * The add/edit system form. What people type (strings, timeouts in seconds, one "port range
 * end") is turned into a SystemInput and checked by the same systemSchema and
 * systemMappingIssues the agent uses, so the form refuses exactly what the agent would refuse,
 * with messages that name the form's own fields.
 */
export interface SystemFormValues {
  virtualHost: string;
  virtualPort: string;
  internalHost: string;
  internalPort: string;
  protocol: SystemProtocol;
  hostHeader: 'virtual' | 'internal';
  caFile: string;
  /** Seconds. */
  connectTimeout: string;
  /** Seconds. */
  responseTimeout: string;
  description: string;
  /** TCP only: last virtual port; the internal range follows from it (same length). */
  portRangeEnd: string;
  /** TCP only, seconds. */
  idleTimeout: string;
  /** TCP only. */
  maxConnections: string;
}

export type SystemFormField = keyof SystemFormValues;

/** Where an issue on a system field is shown in the form. */
const FIELD_OF: Partial<Record<keyof SystemMapping, SystemFormField>> = {
  virtualHost: 'virtualHost',
  virtualPort: 'virtualPort',
  internalHost: 'internalHost',
  internalPort: 'internalPort',
  protocol: 'protocol',
  hostHeader: 'hostHeader',
  caFile: 'caFile',
  connectTimeoutMs: 'connectTimeout',
  responseTimeoutMs: 'responseTimeout',
  description: 'description',
  virtualPortEnd: 'portRangeEnd',
  internalPortEnd: 'portRangeEnd',
  idleTimeoutMs: 'idleTimeout',
  maxConnections: 'maxConnections',
  resources: 'protocol',
};

/** zod's generic sentences ("Too small: expected number to be >=100") replaced by ones in the form's units. */
const MESSAGE_OF: Partial<Record<keyof SystemMapping, string>> = {
  virtualPort: 'a port from 1 to 65535',
  internalPort: 'a port from 1 to 65535',
  internalHost: 'a host name (letters, digits, hyphens and dots, no underscores) or an IP address',
  connectTimeoutMs: 'a number of seconds from 0.1 to 600',
  responseTimeoutMs: 'a number of seconds from 0.1 to 3600',
  idleTimeoutMs: 'a number of seconds from 1 to 604800 (7 days)',
  maxConnections: 'a whole number from 1 to 100000',
  virtualPortEnd: 'a port from 1 to 65535',
};

const trimmed = (s: string): string | undefined => {
  const t = s.trim();
  return t === '' ? undefined : t;
};

/** '' → undefined (the default applies); anything not a number → NaN, which the schema refuses. */
const number = (s: string): number | undefined => {
  const t = trimmed(s);
  return t === undefined ? undefined : Number(t);
};

const seconds = (s: string): number | undefined => {
  const n = number(s);
  return n === undefined ? undefined : Math.round(n * 1000);
};

/**
 * The mapping the form describes. In edit mode `base` is the saved system: the virtual side,
 * the resources and the TCP-only fields (which an update cannot change) come from it, so the
 * check sees what the agent will see after the patch.
 */
export function toSystemInput(values: SystemFormValues, base?: SystemMapping): SystemInput {
  const protocol = values.protocol;
  const tcp = isTcpProtocol(protocol);
  const virtualPort = base ? base.virtualPort : number(values.virtualPort);
  const internalPort = number(values.internalPort);
  const candidate: Record<string, unknown> = {
    virtualHost: base ? base.virtualHost : (trimmed(values.virtualHost) ?? ''),
    virtualPort,
    internalHost: trimmed(values.internalHost) ?? '',
    internalPort,
    protocol,
    hostHeader: tcp ? 'virtual' : values.hostHeader,
    caFile: usesTls(protocol) ? trimmed(values.caFile) : undefined,
    connectTimeoutMs: seconds(values.connectTimeout),
    responseTimeoutMs: seconds(values.responseTimeout),
    description: trimmed(values.description),
    resources: base?.resources ?? [],
  };
  if (base) {
    for (const key of ['virtualPortEnd', 'internalPortEnd', 'idleTimeoutMs', 'maxConnections'] as const) {
      if (base[key] !== undefined) candidate[key] = base[key];
    }
  } else if (tcp) {
    const end = number(values.portRangeEnd);
    if (end !== undefined) {
      candidate.virtualPortEnd = end;
      // The internal range has the same length as the virtual one, so it follows from its end.
      if (typeof virtualPort === 'number' && typeof internalPort === 'number') candidate.internalPortEnd = internalPort + (end - virtualPort);
    }
    candidate.idleTimeoutMs = seconds(values.idleTimeout);
    candidate.maxConnections = number(values.maxConnections);
  }
  for (const [key, value] of Object.entries(candidate)) if (value === undefined) delete candidate[key];
  return candidate as SystemInput;
}

function friendly(field: keyof SystemMapping, message: string, candidate: SystemInput, base: SystemMapping | undefined): string {
  if (field === 'internalPortEnd') {
    // Editing: an update cannot move a port range, so a new internal port would break its length.
    if (base?.internalPortEnd !== undefined) {
      return `an update keeps the port range (internal ports up to ${base.internalPortEnd}): keep internal port ${base.internalPort}, or remove the system and add it again`;
    }
    const end = (candidate as { internalPortEnd?: number }).internalPortEnd;
    return `the internal range would end at port ${end ?? '?'}, above 65535: choose a shorter range`;
  }
  if (field === 'resources') return 'a TCP system cannot have resources: remove this system\u2019s resources first, or keep an HTTP protocol';
  if (field === 'virtualPortEnd' && /below/.test(message)) return 'must not be below the virtual port';
  return MESSAGE_OF[field] ?? message;
}

const formValuesSchema = z.object({
  virtualHost: z.string(),
  virtualPort: z.string(),
  internalHost: z.string(),
  internalPort: z.string(),
  protocol: z.enum(systemSchema.shape.protocol.options),
  hostHeader: z.enum(['virtual', 'internal']),
  caFile: z.string(),
  connectTimeout: z.string(),
  responseTimeout: z.string(),
  description: z.string(),
  portRangeEnd: z.string(),
  idleTimeout: z.string(),
  maxConnections: z.string(),
});

/** The schema for zodResolver: form values in, a checked SystemMapping out. */
export function systemFormSchema(base?: SystemMapping) {
  return formValuesSchema.transform((values, ctx): SystemMapping => {
    const candidate = toSystemInput(values, base);
    const parsed = systemSchema.safeParse(candidate);
    const issues = parsed.success
      ? systemMappingIssues(parsed.data).map((i) => ({ path: i.path, message: i.message }))
      : parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message }));
    const seen = new Set<string>();
    for (const issue of issues) {
      const key = issue.path[0] as keyof SystemMapping | undefined;
      // Editing: the range end is read-only, so a range that no longer fits is the internal port's problem.
      const field = key === 'internalPortEnd' && base ? 'internalPort' : key ? FIELD_OF[key] : undefined;
      // One message per field: the first is the one that matters (e.g. "required" before "format").
      const at = field ?? 'root';
      if (seen.has(at)) continue;
      seen.add(at);
      ctx.addIssue({ code: 'custom', path: [at], message: key ? friendly(key, issue.message, candidate, base) : issue.message, input: values });
    }
    return issues.length === 0 && parsed.success ? parsed.data : z.NEVER;
  });
}

const secondsText = (ms: number | undefined): string => (ms === undefined ? '' : String(ms / 1000));

export const EMPTY_SYSTEM_FORM: SystemFormValues = {
  virtualHost: '',
  virtualPort: '',
  internalHost: '',
  internalPort: '',
  protocol: 'http',
  hostHeader: 'virtual',
  caFile: '',
  connectTimeout: '',
  responseTimeout: '',
  description: '',
  portRangeEnd: '',
  idleTimeout: '',
  maxConnections: '',
};

/** A saved system as form values, for editing. */
export function systemToForm(s: SystemMapping): SystemFormValues {
  return {
    virtualHost: s.virtualHost,
    virtualPort: String(s.virtualPort),
    internalHost: s.internalHost,
    internalPort: String(s.internalPort),
    protocol: s.protocol,
    hostHeader: s.hostHeader,
    caFile: s.caFile ?? '',
    connectTimeout: secondsText(s.connectTimeoutMs),
    responseTimeout: secondsText(s.responseTimeoutMs),
    description: s.description ?? '',
    portRangeEnd: s.virtualPortEnd === undefined ? '' : String(s.virtualPortEnd),
    idleTimeout: secondsText(s.idleTimeoutMs),
    maxConnections: s.maxConnections === undefined ? '' : String(s.maxConnections),
  };
}

export type SystemPatch = ApiInput<'updateSystem'>['patch'];

/**
 * What an update sends: only the fields an update may change; cleared optional settings are
 * removed (null). The CA file only when it changed: the UI transports accept no caFile but an
 * uploaded one, and resending one an administrator set from the CLI is pointless.
 */
export function toPatch(next: SystemMapping, base: SystemMapping): SystemPatch {
  return {
    internalHost: next.internalHost,
    internalPort: next.internalPort,
    protocol: next.protocol,
    hostHeader: next.hostHeader,
    connectTimeoutMs: next.connectTimeoutMs,
    responseTimeoutMs: next.responseTimeoutMs,
    ...(next.caFile !== base.caFile ? { caFile: next.caFile ?? null } : {}),
    ...(next.description !== undefined ? { description: next.description } : base.description !== undefined ? { description: null } : {}),
  };
}
