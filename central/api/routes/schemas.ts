// Schemas shared by several routes.
import { Type } from '@sinclair/typebox';

export const ErrorSchema = Type.Object(
  { error: Type.String({ description: 'A short code: bad-request, not-found, unauthorized, forbidden, internal.' }), message: Type.String() },
  { $id: 'Error', description: 'What went wrong and what to change.' },
);
