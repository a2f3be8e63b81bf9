// Schemas of the access routes (login, users, tokens, audit).
import { Type } from '@sinclair/typebox';
import { Enum, Nullable } from '../../../lib/schema';
import { MAX_PASSWORD_LENGTH } from '../../auth/password';
import { ROLES, USERNAME_PATTERN } from '../../auth/roles';
import { MAX_REGION_LENGTH } from '../../ledger/scope';

export const RoleSchema = Enum(ROLES, { type: 'string', description: 'viewer (reads), operator (also commands, acknowledges alarms), admin (also users).' });
export const ScopeSchema = Type.String({
  maxLength: MAX_REGION_LENGTH,
  description: "A region path prefix such as 浙江省/杭州市/余杭区: what the user sees ('' = everything).",
});
export const UsernameSchema = Type.String({ pattern: USERNAME_PATTERN, description: '1 to 64 letters, digits and . _ @ -' });
export const PasswordSchema = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });

export const MeSchema = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  scope: Type.String(),
  via: Enum(['session', 'token'] as const, { type: 'string' }),
  token: Nullable(Type.String({ description: 'The API token’s name (via token).' })),
  timezone: Type.String({ description: 'central.timezone: the days of the figures and reports are its local days, and pages show times in it.' }),
});

export const UserSchema = Type.Object({
  username: Type.String(),
  role: RoleSchema,
  scope: Type.String(),
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  passwordChangedAt: Type.String({ format: 'date-time' }),
  lastLoginAt: Nullable(Type.String({ format: 'date-time', description: 'The last successful login; null: never.' })),
});

export const TokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  user: Type.String(),
  role: Nullable(RoleSchema, { description: 'A narrower role than its user’s, or null: the user’s.' }),
  scope: Nullable(Type.String(), { description: 'A narrower scope than its user’s, or null: the user’s.' }),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Type.String(),
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
  lastUsedAt: Nullable(Type.String({ format: 'date-time' })),
  revokedAt: Nullable(Type.String({ format: 'date-time' })),
});
