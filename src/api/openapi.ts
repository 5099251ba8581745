/** The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json and rendered at /api/v1/docs. */
import { SUPPORTED_VECTORS } from '../identity/vectors.ts';
import { SCOPES } from '../identity/claims.ts';
import { DOCUMENT_KINDS } from '../onboarding/documents.ts';
import { TEST_USER_ENVS } from '../onboarding/test-users.ts';
import { BODIES } from './schemas.ts';
import { FAULT_SCHEMAS, faultPaths } from './openapi-faults.ts';

const error = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const clientId = { name: 'clientId', in: 'path', required: true, schema: { type: 'string' } };
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const body = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });
const done = { 204: { description: 'Done' } };
const ADMINS_ONLY = errorResponse('not_a_member: partner admins only');
const LAST_ADMIN = errorResponse('last_admin: the organisation keeps at least one partner admin');
type Body = { properties: Record<string, object> };
/** A request body as the route checks it (schemas.ts), with what only documentation adds: enums, descriptions. */
const documented = (base: Body, extra: Record<string, object> = {}) =>
  ({ ...base, properties: Object.fromEntries(Object.entries(base.properties).map(([k, v]) => [k, { ...v, ...extra[k] }])) });
const items = (base: object, extra: object) => ({ ...base, items: { ...(base as { items: object }).items, ...extra } });

export function openApiDocument(publicUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'NHS login integration toolkit API',
      version: '1',
      description:
        'Everything a partner does in the portal, for automation from CI. Authenticate with an ' +
          'organisation API token: `Authorization: Bearer nhslt_...` (create one in the portal).',
    },
    servers: [{ url: `${publicUrl}/api/v1` }],
    security: [{ token: [] }],
    components: {
      securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'An organisation API token (nhslt_...)' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string', description: 'A stable code, with one HTTP status (the README lists them)' },
            message: { type: 'string', description: 'What to change' },
            field: { type: 'string' },
          },
        },
        Client: {
          type: 'object',
          properties: {
            client_id: { type: 'string' }, env: { type: 'string', enum: ['sandpit', 'integration', 'live'] }, name: { type: 'string' },
            redirect_uris: { type: 'array', items: { type: 'string' } }, scopes: { type: 'array', items: { type: 'string' } },
            vtr: { type: 'array', items: { type: 'string' } }, discovery: { type: 'string' },
            faults: { oneOf: [{ $ref: '#/components/schemas/Faults' }, { type: 'null' }] },
            users_v2: {
              type: 'boolean',
              readOnly: true,
              description: 'Approved for Users Endpoint V2 by the NHS login team (ask them); not set through this API',
            },
            provisioning: {
              type: ['object', 'null'],
              readOnly: true,
              properties: { ods_codes: { type: 'array', items: { type: 'string' } } },
              description: 'Approved for Provision Account by the NHS login team for these ODS codes, or null; not set through this API',
            },
          },
        },
        NewClient: documented(BODIES.newClient, {
          env: {
            enum: ['sandpit', 'integration', 'live'],
            default: 'sandpit',
            description: "integration and live after the team approves your request, within your application's vectors and scopes",
          },
          redirect_uris: items(BODIES.newClient.properties.redirect_uris, { format: 'uri' }),
          scopes: items(BODIES.newClient.properties.scopes, { enum: SCOPES.filter((s) => s !== 'gp_integration_credentials') }),
          vtr: items(BODIES.newClient.properties.vtr, { enum: [...SUPPORTED_VECTORS] }),
          public_key_pem: { description: 'RSA public key, 2048 bits or more, PEM' },
          jwks_uri: { format: 'uri' },
        }),
        ChecklistItem: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            title: { type: 'string' },
            done: { type: 'boolean' },
            evidence: { type: 'array', items: { type: 'object' } },
          },
        },
        TraceRow: {
          type: 'object',
          properties: {
            at: { type: 'integer' },
            kind: { type: 'string' },
            outcome: { type: 'string' },
            error: { type: ['string', 'null'] },
            cause: { type: ['string', 'null'] },
            reason: { type: ['string', 'null'] },
            detail: { type: ['string', 'null'] },
            fix: { type: ['string', 'null'] },
          },
        },
        Application: documented(BODIES.application, {
          eligibility: {
            additionalProperties: { ...BODIES.application.properties.eligibility.additionalProperties, enum: ['yes', 'no'] },
            description: 'One answer per eligibility criterion',
          },
          sponsor: { description: 'Commissioning or sponsoring NHS body or local authority' },
          vectors: items(BODIES.application.properties.vectors, { enum: [...SUPPORTED_VECTORS] }),
          scopes: items(BODIES.application.properties.scopes, { enum: SCOPES.filter((x) => x !== 'openid') }),
        }),
        Document: documented(BODIES.document, {
          kind: { enum: Object.keys(DOCUMENT_KINDS) },
          content_base64: { description: 'PDF, .docx, .xlsx, .odt or .ods; at most 10 MB' },
        }),
        TestUser: documented(BODIES.testUser, {
          env: { enum: [...TEST_USER_ENVS], description: 'Where the user signs in; default integration' },
          nhs_number: { description: 'A test PDS record (see the portal), or with your own demographics any valid NHS number starting 9' },
          level: { enum: ['P0', 'P5', 'P9'] },
          birthdate: { description: 'YYYY-MM-DD' }, phone_number: { description: 'A UK mobile number, +44 or 07' },
          email: { description: 'Default: one derived from the NHS number' },
          gp_linkage: { description: 'GP IM1 details for the stand-in GP system (needs gp_ods_code)' },
        }),
        ...FAULT_SCHEMAS,
      },
    },
    paths: {
      '/organisation': {
        get: {
          summary: 'The organisation this token acts for, and your role in it',
          responses: { 200: json({ type: 'object' }), 401: errorResponse('No valid token') },
        },
        patch: {
          summary: 'Change its name or ODS code (partner admins)',
          requestBody: body(BODIES.organisation),
          responses: { ...done, 400: errorResponse('A value is not valid'), 403: errorResponse('Partner admins only') },
        },
      },
      '/members': { get: { summary: 'Members and pending invitations', responses: { 200: json({ type: 'object' }) } } },
      '/invitations': {
        post: {
          summary: 'Invite someone by email (partner admins)',
          requestBody: body(documented(BODIES.invitation, { role: { enum: ['partner_admin', 'developer'] } })),
          responses: {
            ...done,
            400: errorResponse('invalid_email, or invalid_role'),
            403: ADMINS_ONLY,
            409: errorResponse('email_taken: already a member'),
            429: errorResponse('rate_limited: 20 invitations in 15 minutes'),
          },
        },
      },
      '/members/{userId}': {
        delete: {
          summary: 'Remove a member (partner admins; the last admin stays)',
          parameters: [pathParam('userId')],
          responses: { ...done, 403: ADMINS_ONLY, 404: errorResponse('No such member'), 409: LAST_ADMIN },
        },
        patch: {
          summary: "Change a member's role (partner admins; the last admin stays)",
          parameters: [pathParam('userId')],
          requestBody: body(documented(BODIES.role, { role: { enum: ['partner_admin', 'developer'] } })),
          responses: {
            ...done,
            400: errorResponse('invalid_role'),
            403: ADMINS_ONLY,
            404: errorResponse('No such member'),
            409: LAST_ADMIN,
          },
        },
      },
      '/invitations/{id}': {
        delete: {
          summary: 'Withdraw a pending invitation (partner admins)',
          parameters: [pathParam('id')],
          responses: { ...done, 404: errorResponse('No such pending invitation') },
        },
      },
      '/messages': {
        get: {
          summary: 'The conversation with the NHS login team',
          responses: { 200: json({ type: 'array', items: { type: 'object' } }) },
        },
        post: {
          summary: 'Write to the NHS login team (they are emailed)',
          requestBody: body(BODIES.message),
          responses: {
            204: { description: 'Sent' },
            400: errorResponse('invalid_text: empty or too long'),
            429: errorResponse('rate_limited: 30 messages in 15 minutes'),
          },
        },
      },
      '/application': {
        get: { summary: 'Your application to integrate and its status', responses: { 200: json({ type: 'object' }) } },
        put: {
          summary: 'Save the application as a draft',
          requestBody: body({ $ref: '#/components/schemas/Application' }),
          responses: { 200: json({ type: 'object' }), 409: errorResponse('already_submitted') },
        },
      },
      '/application/submit': {
        post: {
          summary: "Submit the application for the team's review (every problem is listed at once)",
          requestBody: body({ $ref: '#/components/schemas/Application' }),
          responses: { 200: json({ type: 'object' }), 400: errorResponse('application_incomplete, with problems[] by field') },
        },
      },
      '/documents': {
        get: { summary: 'Your documents, every version', responses: { 200: json({ type: 'array', items: { type: 'object' } }) } },
        post: {
          summary: 'Upload a document (a new version of its kind)',
          requestBody: body({ $ref: '#/components/schemas/Document' }),
          responses: {
            201: json({ type: 'object' }, 'Stored'),
            400: errorResponse('file_missing (empty), invalid_file_type, or invalid_choice (the kind)'),
            413: errorResponse('file_too_large: over 10 MB'),
          },
        },
      },
      '/documents/{id}': {
        get: {
          summary: 'Download one document version',
          parameters: [pathParam('id')],
          responses: { 200: { description: 'The file' }, 404: errorResponse('No such document') },
        },
      },
      '/test-users': {
        get: { summary: 'Your sandpit and integration test users', responses: { 200: json({ type: 'array', items: { type: 'object' } }) } },
        post: {
          summary: 'Create a sandpit or integration test user: a test PDS record, or your own demographics (a name or birth date given)',
          requestBody: body({ $ref: '#/components/schemas/TestUser' }),
          responses: {
            201: json({ type: 'object' }, 'Created'),
            400: errorResponse('invalid_choice: not an environment, not a test PDS record, not a level, or 100 users already; '
              + 'invalid_test_user: your own demographics (field)'),
            409: errorResponse('email_taken: a test user for that record exists'),
          },
        },
      },
      '/test-users/{id}': {
        patch: {
          summary: "Change a test user's level and switches",
          parameters: [pathParam('id')],
          requestBody: body(documented(BODIES.testUserChange, { level: { enum: ['P0', 'P5', 'P9'] } })),
          responses: { ...done, 404: errorResponse('No such test user') },
        },
        delete: {
          summary: 'Delete a test user (with its proxy links and passkeys)',
          parameters: [pathParam('id')],
          responses: { ...done, 404: errorResponse('No such test user') },
        },
      },
      '/test-users/{id}/gp-state': {
        put: {
          summary: "Put a test user's GP credentials into a state (the stand-in GP system then answers accordingly)",
          parameters: [pathParam('id')],
          requestBody: body(documented(BODIES.gpState, {
            state: { enum: ['current', 'moved_practice', 'system_changed', 'merged', 'revoked', 'restricted'] },
          })),
          responses: {
            ...done,
            400: errorResponse('invalid_choice: not a state, or the user has no GP linkage'),
            404: errorResponse('No such test user'),
          },
        },
      },
      '/test-users/{id}/manages-for/{patientId}': {
        put: {
          summary: 'Let a test user manage health services for another of yours (proxy access in the stand-in NHS App)',
          parameters: [pathParam('id'), pathParam('patientId')],
          responses: {
            ...done,
            400: errorResponse('invalid_choice: the patient is not one of your test users, is the user, or one too many (5 at most)'),
            404: errorResponse('No such test user'),
          },
        },
        delete: {
          summary: 'End a proxy link between two of your test users',
          parameters: [pathParam('id'), pathParam('patientId')],
          responses: { ...done, 400: errorResponse('invalid_choice: not one of your test users'), 404: errorResponse('No such test user') },
        },
      },
      '/environment-requests': {
        get: {
          summary: 'Your requests for the next environment, and what integration still needs',
          responses: { 200: json({ type: 'object' }) },
        },
        post: {
          summary: 'Request the integration environment, or to go live',
          requestBody: body(documented(BODIES.environmentRequest, { env: { enum: ['integration', 'live'] } })),
          responses: { 201: json({ type: 'object' }, 'Requested'), 409: errorResponse('not_ready: the message lists what is missing') },
        },
      },
      '/clients': {
        get: {
          summary: 'List your sandpit clients',
          responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/Client' } }), 401: errorResponse('No valid token') },
        },
        post: {
          summary: 'Register a client (sandpit, or integration/live once approved)',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewClient' } } } },
          responses: {
            201: json({ $ref: '#/components/schemas/Client' }, 'Registered'),
            400: errorResponse('A rule was broken: error names it, field says where'),
            401: errorResponse('No valid token'),
          },
        },
      },
      '/clients/{clientId}': {
        get: {
          summary: 'One client',
          parameters: [clientId],
          responses: { 200: json({ $ref: '#/components/schemas/Client' }), 404: errorResponse('No such client in your organisation') },
        },
      },
      '/clients/{clientId}/checklist': {
        get: {
          summary: 'The journey checklist, ticked by your sandpit traffic',
          parameters: [clientId],
          responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/ChecklistItem' } }) },
        },
      },
      '/clients/{clientId}/trace': {
        get: {
          summary: 'The latest protocol exchanges, with what to change for failures',
          parameters: [clientId],
          responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/TraceRow' } }) },
        },
      },
      '/clients/{clientId}/events/{eventId}': {
        get: {
          summary: 'One protocol event of the client, with its details',
          parameters: [clientId, pathParam('eventId')],
          responses: { 200: json({ type: 'object' }), 404: errorResponse('No such event for this client') },
        },
      },
      '/clients/{clientId}/conformance-runs': {
        post: {
          summary: 'Start a conformance run: a real browser tests your service against the NHS scenarios and negative cases',
          parameters: [clientId],
          requestBody: body(
            documented(BODIES.conformanceRun, {
              start_url: { format: 'uri', description: 'The page with your NHS login button' },
              start_urls: {
                description: 'By test id, the start page of your service configured with that test\'s issuer (the client\'s '
                  + '`test_issuers`); those tests run only when given one',
                examples: [{ 'jwks-unparseable-key': 'https://test-issuer-1.your-service.example/' }],
              },
            }),
          ),
          responses: {
            202: json({ type: 'object' }, 'Started: poll the run'),
            400: errorResponse('invalid_start_url, unknown_test or live_not_allowed'),
            409: errorResponse('A run is in progress'),
          },
        },
      },
      '/conformance-runs/{id}': {
        get: {
          summary: "A run's status and results (tests stream in as they complete)",
          parameters: [pathParam('id')],
          responses: { 200: json({ type: 'object' }), 404: errorResponse('No such run') },
        },
      },
      '/conformance-runs/{id}/report.jws': {
        get: {
          summary: 'The signed report (compact JWS over the JSON report; verify with /conformance/jwks.json)',
          parameters: [pathParam('id')],
          responses: { 200: { description: 'application/jose' }, 404: errorResponse('Not finished') },
        },
      },
      '/conformance-runs/{id}/report.xml': {
        get: {
          summary: 'The report as JUnit XML, for CI systems',
          parameters: [pathParam('id')],
          responses: { 200: { description: 'application/xml' }, 404: errorResponse('Not finished') },
        },
      },
      '/conformance/jwks.json': {
        get: { summary: 'The public keys that verify conformance reports', security: [], responses: { 200: json({ type: 'object' }) } },
      },
      '/clients/{clientId}/key': {
        put: {
          summary: "Replace the client's public key (the old one stops working at once)",
          parameters: [clientId],
          requestBody: body(documented(BODIES.key, { jwks_uri: { format: 'uri' } })),
          responses: { 204: { description: 'Replaced' }, 400: errorResponse('The key is not usable') },
        },
      },
      ...faultPaths(clientId),
      '/clients/{clientId}/session-rules': {
        put: {
          summary: 'Set session limits on a sandpit client, in minutes (null: none, the 30-day refresh token)',
          parameters: [clientId],
          requestBody: body(BODIES.sessionRules),
          responses: { 204: { description: 'Set' }, 400: errorResponse('Out of range, the wrong shape, or not a sandpit client') },
        },
      },
      '/clients/{clientId}/nhs-app': {
        put: {
          summary: 'Set the page of the service the stand-in NHS App opens with ?assertedLoginIdentity= (null: remove it)',
          parameters: [clientId],
          requestBody: body(BODIES.nhsApp),
          responses: { 204: { description: 'Set' }, 400: errorResponse('invalid_nhs_app_url: not https (localhost: sandpit), or live') },
        },
      },
    },
  };
}
