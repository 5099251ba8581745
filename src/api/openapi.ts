/** The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json and rendered at /api/v1/docs. */
import { SUPPORTED_VECTORS } from '../identity/vectors.ts';
import { SCOPES } from '../identity/claims.ts';
import { FAULTS } from '../identity/faults.ts';

const error = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const clientId = { name: 'clientId', in: 'path', required: true, schema: { type: 'string' } };

export function openApiDocument(publicUrl: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'NHS login integration toolkit API', version: '1', description: 'Everything a partner does in the portal, for automation from CI. Authenticate with an organisation API token: `Authorization: Bearer nhslt_...` (create one in the portal).' },
    servers: [{ url: `${publicUrl}/api/v1` }],
    security: [{ token: [] }],
    components: {
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'An organisation API token (nhslt_...)' } },
      schemas: {
        Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string', description: 'A stable code' }, message: { type: 'string', description: 'What to change' }, field: { type: 'string' } } },
        Client: {
          type: 'object',
          properties: {
            client_id: { type: 'string' }, env: { type: 'string', enum: ['sandpit'] }, name: { type: 'string' },
            redirect_uris: { type: 'array', items: { type: 'string' } }, scopes: { type: 'array', items: { type: 'string' } },
            vtr: { type: 'array', items: { type: 'string' } }, discovery: { type: 'string' }, fault: { type: ['object', 'null'] },
          },
        },
        NewClient: {
          type: 'object', required: ['name', 'redirect_uris', 'vtr'],
          properties: {
            name: { type: 'string', maxLength: 100 },
            redirect_uris: { type: 'array', items: { type: 'string', format: 'uri' }, maxItems: 10 },
            scopes: { type: 'array', items: { type: 'string', enum: SCOPES.filter((s) => s !== 'gp_integration_credentials') } },
            vtr: { type: 'array', items: { type: 'string', enum: [...SUPPORTED_VECTORS] }, minItems: 1 },
            public_key_pem: { type: 'string', description: 'RSA public key, 2048 bits or more, PEM' },
            jwks_uri: { type: 'string', format: 'uri' },
          },
        },
        ChecklistItem: { type: 'object', properties: { id: { type: 'string' }, title: { type: 'string' }, done: { type: 'boolean' }, evidence: { type: 'array', items: { type: 'object' } } } },
        TraceRow: { type: 'object', properties: { at: { type: 'integer' }, kind: { type: 'string' }, outcome: { type: 'string' }, reason: { type: ['string', 'null'] }, detail: { type: ['string', 'null'] }, fix: { type: ['string', 'null'] } } },
        Fault: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', enum: Object.keys(FAULTS) }, count: { type: ['integer', 'null'], minimum: 1, maximum: 1000, description: 'null = until cleared' } } },
      },
    },
    paths: {
      '/organisation': { get: { summary: 'The organisation this token acts for', responses: { 200: json({ type: 'object' }), 401: errorResponse('No valid token') } } },
      '/clients': {
        get: { summary: 'List your sandpit clients', responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/Client' } }), 401: errorResponse('No valid token') } },
        post: {
          summary: 'Register a sandpit client',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewClient' } } } },
          responses: { 201: json({ $ref: '#/components/schemas/Client' }, 'Registered'), 400: errorResponse('A rule was broken: error names it, field says where'), 401: errorResponse('No valid token') },
        },
      },
      '/clients/{clientId}': { get: { summary: 'One client', parameters: [clientId], responses: { 200: json({ $ref: '#/components/schemas/Client' }), 404: errorResponse('No such client in your organisation') } } },
      '/clients/{clientId}/checklist': { get: { summary: 'The journey checklist, ticked by your sandpit traffic', parameters: [clientId], responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/ChecklistItem' } }) } } },
      '/clients/{clientId}/trace': { get: { summary: 'The latest protocol exchanges, with what to change for failures', parameters: [clientId], responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/TraceRow' } }) } } },
      '/clients/{clientId}/fault': {
        put: { summary: 'Arm a fault for this client', parameters: [clientId], requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Fault' } } } }, responses: { 204: { description: 'Armed' }, 400: errorResponse('Unknown fault or count') } },
        delete: { summary: 'Clear the armed fault', parameters: [clientId], responses: { 204: { description: 'Cleared' } } },
      },
    },
  };
}
