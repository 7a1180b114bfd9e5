import { z } from 'zod';
import { HTTP_METHODS, httpMethodSchema, resourcePathSchema, type ResourceInput } from '../../../../shared/config.js';

/**
 * The agent's own path rule (resourcePathSchema), so `/a/../b` or `/api/` is refused in the
 * browser with the same reason the agent would give.
 */
export const resourceFormSchema = z
  .object({
    path: z.string().trim().min(1, 'a path is required, such as /odata').pipe(resourcePathSchema),
    subPaths: z.boolean(),
    // react-hook-form gives `false` for a checkbox group with nothing ticked.
    methods: z.union([z.array(httpMethodSchema), z.literal(false)]),
    websocket: z.boolean(),
  })
  .transform(
    (v): ResourceInput => ({
      path: v.path,
      subPaths: v.subPaths,
      ...(v.methods && v.methods.length > 0 && v.methods.length < HTTP_METHODS.length ? { methods: v.methods } : {}),
      websocket: v.websocket,
    }),
  );

/** What a resource opens, in words: "/odata and everything below it (/odata/…), not /odata-v2". */
export function matchPreview(path: string, subPaths: boolean): string {
  if (!subPaths) return `Only ${path} itself (the query string is ignored).`;
  if (path === '/') return 'Every path on this system.';
  return `${path} and everything below it (${path}/…), matched by whole segments: ${path}-old is not included.`;
}

/** Ticked methods: none ticked (or all) means every method. */
export type ResourceFormValues = z.input<typeof resourceFormSchema>;

export const EMPTY_RESOURCE_FORM: ResourceFormValues = { path: '', subPaths: false, methods: [], websocket: false };
