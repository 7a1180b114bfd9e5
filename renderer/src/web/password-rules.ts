import { z } from 'zod';
import { MIN_PASSWORD_LENGTH } from '../../../shared/web-api.js';

/** The change-password form's rules: the server enforces the length too; the rest saves a round trip. */
export const changePasswordFormSchema = z
  .object({
    current: z.string().min(1, 'Enter your current password.'),
    next: z.string().min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`).max(1024, 'Use at most 1024 characters.'),
    repeat: z.string(),
  })
  .refine((v) => v.repeat === v.next, { path: ['repeat'], message: 'The two new passwords do not match.' })
  .refine((v) => v.next !== v.current, { path: ['next'], message: 'Choose a password different from the current one.' });

export type ChangePasswordValues = z.infer<typeof changePasswordFormSchema>;
