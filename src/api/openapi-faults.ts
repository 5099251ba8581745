/** The OpenAPI description of the fault routes (api/faults.ts), merged into openapi.ts's document. */
import { FAULTS } from '../identity/faults.ts';
import { BODIES } from './schemas.ts';

const error = { $ref: '#/components/schemas/Error' };
const problem = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const kind = { enum: Object.keys(FAULTS), description: Object.entries(FAULTS).map(([k, text]) => `${k}: ${text}`).join('; ') };
const LASTS = {
  count: { description: 'How many responses it spoils; with seconds absent too, until cleared (the last step only)' },
  seconds: { description: 'How long it lasts once it starts, instead of a count' },
  ms: { description: 'The delay, for token_latency and userinfo_latency only' },
};
const step = BODIES.faults.properties.steps.items;

export const FAULT_SCHEMAS = {
  Fault: { ...BODIES.fault, properties: { kind, count: { ...BODIES.fault.properties.count, description: 'null = until cleared' } } },
  FaultSteps: {
    ...BODIES.faults,
    properties: {
      steps: {
        ...BODIES.faults.properties.steps,
        description: 'In order: each step applies to the responses it fits once the steps before it are done',
        items: { ...step, properties: Object.fromEntries(Object.entries(step.properties).map(([k, v]) =>
          [k, { ...v, ...(k === 'kind' ? kind : LASTS[k as keyof typeof LASTS]) }])) },
      },
    },
  },
  Faults: {
    type: 'object',
    properties: {
      armed_at: { type: ['string', 'null'], format: 'date-time' },
      steps: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            kind: { type: 'string' }, description: { type: 'string' }, count: { type: ['integer', 'null'] },
            seconds: { type: ['integer', 'null'] }, ms: { type: ['integer', 'null'] },
            fired: { type: 'integer', description: 'Responses it has spoiled' },
            state: { enum: ['done', 'applies', 'waiting'] },
            started_at: { type: ['string', 'null'], format: 'date-time' },
          },
        },
      },
    },
  },
};

export function faultPaths(clientId: object) {
  const clear = {
    summary: 'Clear the faults armed for this client', parameters: [clientId], responses: { 204: { description: 'Cleared' } },
  };
  const refused = problem('invalid_fault: a fault not offered, a count, time or delay out of range (field names the step)');
  return {
    '/clients/{clientId}/faults': {
      get: {
        summary: 'The faults armed for this client, in order, and what each has fired',
        parameters: [clientId],
        responses: { 200: { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Faults' } } } } },
      },
      put: {
        summary: 'Arm a sequence of faults for this sandpit or integration client, replacing what was armed',
        parameters: [clientId],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/FaultSteps' } } } },
        responses: { 204: { description: 'Armed' }, 400: refused },
      },
      delete: clear,
    },
    '/clients/{clientId}/fault': {
      put: {
        summary: 'Arm one fault for this client (a sequence of one step)',
        parameters: [clientId],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Fault' } } } },
        responses: { 204: { description: 'Armed' }, 400: refused },
      },
      delete: clear,
    },
  };
}
