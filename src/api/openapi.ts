/** The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json and rendered at /api/v1/docs. */
import { SUPPORTED_VECTORS } from '../identity/vectors.ts';
import { SCOPES } from '../identity/claims.ts';
import { FAULTS } from '../identity/faults.ts';
import { DOCUMENT_KINDS } from '../onboarding/documents.ts';

const error = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const clientId = { name: 'clientId', in: 'path', required: true, schema: { type: 'string' } };
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const body = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });
const done = { 204: { description: 'Done' } };
const obj = (properties: Record<string, object>, required: string[] = []) => ({ type: 'object', properties, ...(required.length ? { required } : {}) });

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
            client_id: { type: 'string' }, env: { type: 'string', enum: ['sandpit', 'integration', 'live'] }, name: { type: 'string' },
            redirect_uris: { type: 'array', items: { type: 'string' } }, scopes: { type: 'array', items: { type: 'string' } },
            vtr: { type: 'array', items: { type: 'string' } }, discovery: { type: 'string' }, fault: { type: ['object', 'null'] },
          },
        },
        NewClient: {
          type: 'object', required: ['name', 'redirect_uris', 'vtr'],
          properties: {
            name: { type: 'string', maxLength: 100 },
            env: { type: 'string', enum: ['sandpit', 'integration', 'live'], default: 'sandpit', description: 'integration and live after the team approves your request, within your application\'s vectors and scopes' },
            redirect_uris: { type: 'array', items: { type: 'string', format: 'uri' }, maxItems: 10 },
            scopes: { type: 'array', items: { type: 'string', enum: SCOPES.filter((s) => s !== 'gp_integration_credentials') } },
            vtr: { type: 'array', items: { type: 'string', enum: [...SUPPORTED_VECTORS] }, minItems: 1 },
            public_key_pem: { type: 'string', description: 'RSA public key, 2048 bits or more, PEM' },
            jwks_uri: { type: 'string', format: 'uri' },
          },
        },
        ChecklistItem: { type: 'object', properties: { id: { type: 'string' }, title: { type: 'string' }, done: { type: 'boolean' }, evidence: { type: 'array', items: { type: 'object' } } } },
        TraceRow: { type: 'object', properties: { at: { type: 'integer' }, kind: { type: 'string' }, outcome: { type: 'string' }, reason: { type: ['string', 'null'] }, detail: { type: ['string', 'null'] }, fix: { type: ['string', 'null'] } } },
        Application: obj({
          eligibility: { type: 'object', additionalProperties: { type: 'string', enum: ['yes', 'no'] }, description: 'One answer per eligibility criterion' },
          product_name: { type: 'string' }, description: { type: 'string' }, sponsor: { type: 'string', description: 'Commissioning or sponsoring NHS body or local authority' },
          vectors: { type: 'array', items: { type: 'string', enum: [...SUPPORTED_VECTORS] } }, scopes: { type: 'array', items: { type: 'string', enum: SCOPES.filter((x) => x !== 'openid') } },
          scope_reasons: { type: 'object', additionalProperties: { type: 'string' } }, contact_name: { type: 'string' }, contact_email: { type: 'string' }, safety_officer_email: { type: 'string' },
        }),
        Document: obj({ kind: { type: 'string', enum: Object.keys(DOCUMENT_KINDS) }, filename: { type: 'string' }, content_base64: { type: 'string', description: 'PDF, .docx, .xlsx, .odt or .ods; at most 10 MB' } }, ['kind', 'filename', 'content_base64']),
        TestUser: obj({ nhs_number: { type: 'string', description: 'A test PDS record (see the portal)' }, level: { type: 'string', enum: ['P0', 'P5', 'P9'] }, otp_disabled: { type: 'boolean' }, phone_pds_matched: { type: 'boolean' }, pds_trace_fails: { type: 'boolean' } }, ['level']),
        Fault: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', enum: Object.keys(FAULTS) }, count: { type: ['integer', 'null'], minimum: 1, maximum: 1000, description: 'null = until cleared' } } },
      },
    },
    paths: {
      '/organisation': {
        get: { summary: 'The organisation this token acts for, and your role in it', responses: { 200: json({ type: 'object' }), 401: errorResponse('No valid token') } },
        patch: { summary: 'Change its name or ODS code (partner admins)', requestBody: body(obj({ name: { type: 'string' }, ods_code: { type: 'string' } })), responses: { ...done, 400: errorResponse('A value is not valid'), 403: errorResponse('Partner admins only') } },
      },
      '/members': { get: { summary: 'Members and pending invitations', responses: { 200: json({ type: 'object' }) } } },
      '/invitations': { post: { summary: 'Invite someone by email (partner admins)', requestBody: body(obj({ email: { type: 'string' }, role: { type: 'string', enum: ['partner_admin', 'developer'] } }, ['email', 'role'])), responses: { ...done, 403: errorResponse('Partner admins only'), 409: errorResponse('Already a member') } } },
      '/members/{userId}': {
        delete: { summary: 'Remove a member (partner admins; the last admin stays)', parameters: [pathParam('userId')], responses: { ...done, 403: errorResponse('Not allowed'), 404: errorResponse('No such member') } },
        patch: { summary: 'Change a member\'s role (partner admins; the last admin stays)', parameters: [pathParam('userId')], requestBody: body(obj({ role: { type: 'string', enum: ['partner_admin', 'developer'] } }, ['role'])), responses: { ...done, 403: errorResponse('Not allowed'), 404: errorResponse('No such member') } },
      },
      '/invitations/{id}': { delete: { summary: 'Withdraw a pending invitation (partner admins)', parameters: [pathParam('id')], responses: { ...done, 404: errorResponse('No such pending invitation') } } },
      '/messages': {
        get: { summary: 'The conversation with the NHS login team', responses: { 200: json({ type: 'array', items: { type: 'object' } }) } },
        post: { summary: 'Write to the NHS login team (they are emailed)', requestBody: body(obj({ body: { type: 'string', maxLength: 4000 } }, ['body'])), responses: { 204: { description: 'Sent' }, 400: errorResponse('Empty or too long') } },
      },
      '/application': {
        get: { summary: 'Your application to integrate and its status', responses: { 200: json({ type: 'object' }) } },
        put: { summary: 'Save the application as a draft', requestBody: body({ $ref: '#/components/schemas/Application' }), responses: { 200: json({ type: 'object' }), 409: errorResponse('already_submitted') } },
      },
      '/application/submit': { post: { summary: 'Submit the application for the team\'s review (every problem is listed at once)', requestBody: body({ $ref: '#/components/schemas/Application' }), responses: { 200: json({ type: 'object' }), 400: errorResponse('application_incomplete, with problems[] by field') } } },
      '/documents': {
        get: { summary: 'Your documents, every version', responses: { 200: json({ type: 'array', items: { type: 'object' } }) } },
        post: { summary: 'Upload a document (a new version of its kind)', requestBody: body({ $ref: '#/components/schemas/Document' }), responses: { 201: json({ type: 'object' }, 'Stored'), 400: errorResponse('Wrong type, empty or too large') } },
      },
      '/documents/{id}': { get: { summary: 'Download one document version', parameters: [pathParam('id')], responses: { 200: { description: 'The file' }, 404: errorResponse('No such document') } } },
      '/test-users': {
        get: { summary: 'Your integration test users', responses: { 200: json({ type: 'array', items: { type: 'object' } }) } },
        post: { summary: 'Create an integration test user from a test PDS record', requestBody: body({ $ref: '#/components/schemas/TestUser' }), responses: { 201: json({ type: 'object' }, 'Created'), 400: errorResponse('Not a test PDS record or level') } },
      },
      '/test-users/{id}': { patch: { summary: 'Change a test user\'s level and switches', parameters: [pathParam('id')], requestBody: body(obj({ level: { type: 'string' }, otp_disabled: { type: 'boolean' }, phone_pds_matched: { type: 'boolean' }, pds_trace_fails: { type: 'boolean' } }, ['level'])), responses: { ...done, 404: errorResponse('No such test user') } } },
      '/environment-requests': {
        get: { summary: 'Your requests for the next environment, and what integration still needs', responses: { 200: json({ type: 'object' }) } },
        post: { summary: 'Request the integration environment, or to go live', requestBody: body(obj({ env: { type: 'string', enum: ['integration', 'live'] } }, ['env'])), responses: { 201: json({ type: 'object' }, 'Requested'), 409: errorResponse('not_ready: the message lists what is missing') } },
      },
      '/clients': {
        get: { summary: 'List your sandpit clients', responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/Client' } }), 401: errorResponse('No valid token') } },
        post: {
          summary: 'Register a client (sandpit, or integration/live once approved)',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewClient' } } } },
          responses: { 201: json({ $ref: '#/components/schemas/Client' }, 'Registered'), 400: errorResponse('A rule was broken: error names it, field says where'), 401: errorResponse('No valid token') },
        },
      },
      '/clients/{clientId}': { get: { summary: 'One client', parameters: [clientId], responses: { 200: json({ $ref: '#/components/schemas/Client' }), 404: errorResponse('No such client in your organisation') } } },
      '/clients/{clientId}/checklist': { get: { summary: 'The journey checklist, ticked by your sandpit traffic', parameters: [clientId], responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/ChecklistItem' } }) } } },
      '/clients/{clientId}/trace': { get: { summary: 'The latest protocol exchanges, with what to change for failures', parameters: [clientId], responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/TraceRow' } }) } } },
      '/clients/{clientId}/events/{eventId}': { get: { summary: 'One protocol event of the client, with its details', parameters: [clientId, pathParam('eventId')], responses: { 200: json({ type: 'object' }), 404: errorResponse('No such event for this client') } } },
      '/clients/{clientId}/conformance-runs': {
        post: {
          summary: 'Start a conformance run: a real browser tests your service against the NHS scenarios and negative cases',
          parameters: [clientId],
          requestBody: body(obj({ start_url: { type: 'string', format: 'uri', description: 'The page with your NHS login button' }, only: { type: 'array', items: { type: 'string' } }, button_selector: { type: 'string' }, signed_in_text: { type: 'string' } }, ['start_url'])),
          responses: { 202: json({ type: 'object' }, 'Started: poll the run'), 400: errorResponse('invalid_start_url, unknown_test or live_not_allowed'), 409: errorResponse('A run is in progress') },
        },
      },
      '/conformance-runs/{id}': { get: { summary: 'A run\'s status and results (tests stream in as they complete)', parameters: [pathParam('id')], responses: { 200: json({ type: 'object' }), 404: errorResponse('No such run') } } },
      '/conformance-runs/{id}/report.jws': { get: { summary: 'The signed report (compact JWS over the JSON report; verify with /conformance/jwks.json)', parameters: [pathParam('id')], responses: { 200: { description: 'application/jose' }, 404: errorResponse('Not finished') } } },
      '/conformance-runs/{id}/report.xml': { get: { summary: 'The report as JUnit XML, for CI systems', parameters: [pathParam('id')], responses: { 200: { description: 'application/xml' }, 404: errorResponse('Not finished') } } },
      '/conformance/jwks.json': { get: { summary: 'The public keys that verify conformance reports', security: [], responses: { 200: json({ type: 'object' }) } } },
      '/clients/{clientId}/key': { put: { summary: 'Replace the client\'s public key (the old one stops working at once)', parameters: [clientId], requestBody: body(obj({ public_key_pem: { type: 'string' }, jwks_uri: { type: 'string', format: 'uri' } })), responses: { 204: { description: 'Replaced' }, 400: errorResponse('The key is not usable') } } },
      '/clients/{clientId}/fault': {
        put: { summary: 'Arm a fault for this client', parameters: [clientId], requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Fault' } } } }, responses: { 204: { description: 'Armed' }, 400: errorResponse('Unknown fault or count') } },
        delete: { summary: 'Clear the armed fault', parameters: [clientId], responses: { 204: { description: 'Cleared' } } },
      },
    },
  };
}
