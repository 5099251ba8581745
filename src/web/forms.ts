/**
 * The shape of every input, checked at the edge: Fastify route schemas (JSON Schema, Fastify's own Ajv) whose
 * fields are all text with a stated limit, or lists of text where a form is genuinely multi-valued (checkboxes).
 *
 * Forms: `form(fields)` gives the route options. A wrong shape never reaches the handler as it came: with
 * `attachValidation` the route still runs, `formProblems(req)` lists each field's problem (the error summary and
 * inline errors) and the body holds only what can be shown again (text, never a list or an object where text
 * belongs). Fastify's Ajv options are kept deliberately: `coerceTypes: 'array'` turns a single checkbox into a
 * list (a form cannot send a list of one) and refuses two values for a text field; `removeAdditional` with
 * `additionalProperties: false` drops fields a form does not have, so handlers see only declared fields.
 */
import type { FastifyRequest, RouteShorthandOptions } from 'fastify';

/** NUL cannot be stored (PostgreSQL text refuses it) and is never typed. */
const NO_NUL = '^[^\\u0000]*$';

export interface TextField {
  type: 'string';
  title: string;
  maxLength: number;
  pattern: string;
}
export interface ListField {
  type: 'array';
  title: string;
  maxItems: number;
  items: TextField;
}
export type Field = TextField | ListField;

/** Text of at most `maxLength` characters; `title` names it in error messages ("Name must be..."). */
export const text = (title: string, maxLength: number): TextField => ({ type: 'string', title, maxLength, pattern: NO_NUL });
/** A checkbox group or repeated field: at most `maxItems` values, each short text. */
export const list = (title: string, maxItems: number, maxLength = 200): ListField =>
  ({ type: 'array', title, maxItems, items: text(title, maxLength) });

/** Fields many forms share. */
export const CSRF = text('The form\'s security token', 100);
export const EMAIL = text('Email address', 254);
export const PASSWORD = text('Password', 128);
/** A radio button, select or button value: short, and checked against its options by the domain. */
export const CHOICE = (title: string) => text(title, 100);

export interface FormSchema {
  type: 'object';
  properties: Record<string, Field>;
  patternProperties?: Record<string, Field>;
  additionalProperties: false;
}

export function formSchema(properties: Record<string, Field>, patternProperties?: Record<string, Field>): FormSchema {
  return { type: 'object', properties, ...(patternProperties ? { patternProperties } : {}), additionalProperties: false };
}

export interface FieldProblem {
  href: string;
  text: string;
  field: string;
}

const checked = new WeakMap<FastifyRequest, FieldProblem[]>();

/**
 * Route options for a form posted urlencoded: the body schema, and a pre-handler that, when the shape is wrong,
 * records the problems and leaves in the body only the text that can be shown again.
 */
export function form(properties: Record<string, Field>, patternProperties?: Record<string, Field>): RouteShorthandOptions {
  const body = formSchema(properties, patternProperties);
  return {
    schema: { body },
    attachValidation: true,
    preHandler: async (req) => {
      if (!req.validationError) return;
      const { problems, values } = checkForm(body, req.body);
      req.body = values;
      if (problems.length) checked.set(req, problems);
    },
  };
}

/**
 * Route options for a form that may be multipart (a file upload): the schema is declared for its urlencoded form,
 * and the handler checks the fields it reads from either (`checkForm`), since a multipart body is read in the
 * handler, after validation.
 */
export function multipartForm(schema: FormSchema): RouteShorthandOptions {
  return { schema: { body: { content: { 'application/x-www-form-urlencoded': { schema } } } }, attachValidation: true };
}

/** The problems with the form's fields, one per field, for the error summary; undefined when there are none. */
export function formProblems(req: FastifyRequest): FieldProblem[] | undefined {
  return checked.get(req);
}

const lower = (title: string) => title.charAt(0).toLowerCase() + title.slice(1);

function fieldProblem(spec: Field, value: unknown): { problem?: string; keep?: string | string[] } {
  if (spec.type === 'array') {
    const items = typeof value === 'string' ? [value] : value;
    const choose = `Choose ${lower(spec.title)} from the options`;
    if (!Array.isArray(items) || !items.every((v) => typeof v === 'string')) return { problem: choose, keep: [] };
    const kept = items.map((v) => v.replaceAll('\u0000', ''));
    if (items.length > spec.maxItems) return { problem: `Choose at most ${spec.maxItems} ${lower(spec.title)}`, keep: kept };
    if (items.some((v) => v.length > spec.items.maxLength || v.includes('\u0000'))) return { problem: choose, keep: kept };
    return { keep: kept };
  }
  if (typeof value !== 'string') return { problem: `Enter ${lower(spec.title)} once, as text` };
  const keep = value.replaceAll('\u0000', '');
  const limit = spec.maxLength.toLocaleString('en-GB');
  if (value.length > spec.maxLength) return { problem: `${spec.title} must be ${limit} characters or fewer`, keep };
  if (keep !== value) return { problem: `${spec.title} contains a character that cannot be stored (NUL): remove it`, keep };
  return { keep };
}

/** Checks a form body against its schema field by field: every problem at once, and what can be shown again. */
export function checkForm(schema: FormSchema, body: unknown): { problems: FieldProblem[]; values: Record<string, string | string[]> } {
  const input = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  const problems: FieldProblem[] = [];
  const values: Record<string, string | string[]> = {};
  const patterned = (name: string) => Object.entries(schema.patternProperties ?? {}).find(([p]) => new RegExp(p, 'u').test(name))?.[1];
  // In the form's order (the error summary follows the page), then the fields named by a pattern.
  const fields: [string, Field | undefined][] = [
    ...Object.entries(schema.properties),
    ...Object.keys(input).filter((name) => !Object.hasOwn(schema.properties, name))
      .map((name): [string, Field | undefined] => [name, patterned(name)]),
  ];
  for (const [name, spec] of fields) {
    if (!spec || !Object.hasOwn(input, name) || input[name] === undefined) continue;
    const { problem, keep } = fieldProblem(spec, input[name]);
    if (keep !== undefined) values[name] = keep;
    if (problem) problems.push({ href: `#${name}`, text: problem, field: name });
  }
  return { problems, values };
}
