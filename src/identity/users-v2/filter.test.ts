/** Users Endpoint V2's filter (U§3.3.1): grammar, case, values, the limits and the order of the checks (brief §2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILTER_ERROR_TEXT, parseFilter, type FilterError, type ParsedFilter } from './filter.ts';

const A = 'email eq "a@b.co"';

function refused(filter: unknown, error: FilterError): string {
  const got = parseFilter(filter);
  assert.equal(got.ok, false, `${JSON.stringify(filter)} was accepted`);
  const { error: e, detail } = got as Extract<ParsedFilter, { ok: false }>;
  assert.equal(e, error, detail);
  return detail;
}

function accepted(filter: string): Extract<ParsedFilter, { ok: true }> {
  const got = parseFilter(filter);
  assert.ok(got.ok, got.ok ? '' : `${got.error}: ${got.detail}`);
  return got;
}

test("each error's text is the specification's, word for word (U§3.3.3 T10)", () => {
  assert.deepEqual(FILTER_ERROR_TEXT, {
    filter_missing: 'Query string "filter" not present',
    invalid_syntax: 'Invalid syntax',
    too_many_expressions: 'More than 5 expressions provided',
    invalid_operator: 'Invalid operator',
    unsupported_attribute: 'Either one of "nhsnumber" or "email" must be used for each query',
    invalid_attribute: 'Invalid attribute',
    invalid_nhs_number: 'Invalid NHS number',
    invalid_email: 'Invalid email',
  });
});

test('an NHS number alone is one group of one predicate', () => {
  assert.deepEqual(accepted('nhsnumber eq "9686368973"'), {
    ok: true, groups: [[{ attribute: 'nhsnumber', value: '9686368973' }]], expressions: 1,
  });
});

test('an email is lower-cased, so it matches the stored address whatever its case', () => {
  const got = accepted('email eq "TestUserLive+P5@Demo.signin.nhs.uk"');
  assert.deepEqual(got.groups, [[{ attribute: 'email', value: 'testuserlive+p5@demo.signin.nhs.uk' }]]);
});

test('an NHS number value is kept as written', () => {
  assert.equal(accepted('nhsnumber eq "0000000000"').groups[0]![0]!.value, '0000000000');
});

test('"and" binds tighter than "or": A and B or C is two groups (U§3.3.1.3)', () => {
  const got = accepted('nhsnumber eq "9686360018" and email eq "a@b.co" or nhsnumber eq "9686368906"');
  assert.deepEqual(got.groups, [
    [{ attribute: 'nhsnumber', value: '9686360018' }, { attribute: 'email', value: 'a@b.co' }],
    [{ attribute: 'nhsnumber', value: '9686368906' }],
  ]);
  assert.equal(got.expressions, 3);
});

test('A or B and C and D or E: the and-run stays together between the ors', () => {
  const n = (d: string) => `nhsnumber eq "968636897${d}"`;
  const got = accepted(`${n('1')} or ${n('2')} and ${n('3')} and ${n('4')} or ${n('5')}`);
  assert.deepEqual(got.groups.map((g) => g.map((p) => p.value.at(-1))), [['1'], ['2', '3', '4'], ['5']]);
});

test('attribute names, the operator and the logical words are case-insensitive (RFC 7644 §3.4.2.2)', () => {
  const got = accepted('nhsNumber EQ "9686368973" And EMAIL Eq "a@b.co" OR Email eq "c@d.ef"');
  assert.deepEqual(got.groups.map((g) => g.map((p) => p.attribute)), [['nhsnumber', 'email'], ['email']]);
});

test('escaped quotes and backslashes in a value are decoded as JSON (RFC 7644 compValue)', () => {
  assert.equal(accepted('email eq "o\\"neil\\\\x@b.co"').groups[0]![0]!.value, 'o"neil\\x@b.co');
});

test('a \\u escape is decoded', () => {
  assert.equal(accepted('email eq "a\\u002eb@c.de"').groups[0]![0]!.value, 'a.b@c.de');
});

test('several spaces or tabs between tokens, and around the filter, are accepted', () => {
  assert.equal(accepted(`  email \t eq    "a@b.co"\t or\tnhsnumber eq "9686368973" `).expressions, 2);
});

test('no filter parameter: "filter" not present', () => {
  refused(undefined, 'filter_missing');
});

test('an empty filter: "filter" not present', () => {
  refused('', 'filter_missing');
});

test('a filter of spaces only: "filter" not present', () => {
  refused('   \t ', 'filter_missing');
});

test('the filter parameter repeated: invalid syntax, saying how many times', () => {
  assert.match(refused([A, A], 'invalid_syntax'), /2 times/);
});

test('a filter that is neither a string nor a list: invalid syntax', () => {
  refused({ email: 'a@b.co' }, 'invalid_syntax');
});

test('a filter over 2,000 characters: invalid syntax; 2,000 are accepted', () => {
  const padded = (n: number) => `${A}${' '.repeat(n - A.length)}`;
  accepted(padded(2000));
  assert.match(refused(padded(2001), 'invalid_syntax'), /2001 characters/);
});

test('five expressions are accepted (U§3.3.1.3, v1.1)', () => {
  assert.equal(accepted(Array(5).fill(A).join(' or ')).expressions, 5);
});

test('six expressions: more than 5 expressions provided', () => {
  assert.match(refused(Array(6).fill(A).join(' and '), 'too_many_expressions'), /6 expressions/);
});

test('curly quotes (the specification\'s own examples): invalid syntax naming the character', () => {
  assert.match(refused('email eq “a@b.c”', 'invalid_syntax'), /character 10 .*U\+201C/);
});

test('a value without quotes: invalid syntax', () => {
  assert.match(refused('email eq a@b.c', 'invalid_syntax'), /'a@b\.c' at character 10 is not in double quotes/);
});

test('a value run into the next word (`"…"or`, the specification\'s example): invalid syntax', () => {
  assert.match(refused('email eq "johny@email.com"or nhsnumber eq "9686368973"', 'invalid_syntax'), /no space .* 'or' at character 27/);
});

test('an operator run into its value (`eq"…"`): invalid syntax', () => {
  assert.match(refused('email eq"a@b.co"', 'invalid_syntax'), /no space between 'eq'/);
});

test('an unterminated value: invalid syntax', () => {
  assert.match(refused('email eq "a@b.co', 'invalid_syntax'), /no closing double quote/);
});

test('an escape JSON does not have: invalid syntax', () => {
  assert.match(refused('email eq "a\\x@b.co"', 'invalid_syntax'), /invalid escape '\\x'/);
});

test('a \\u escape without four hex digits: invalid syntax', () => {
  assert.match(refused('email eq "a\\u00zzb@c.de"', 'invalid_syntax'), /invalid escape '\\u'/);
});

test('a raw control character inside a value: invalid syntax', () => {
  assert.match(refused('email eq "a\u0001b@c.de"', 'invalid_syntax'), /control character U\+0001/);
});

test('parentheses: invalid syntax', () => {
  assert.match(refused(`(${A})`, 'invalid_syntax'), /'\('/);
});

test('a value path `emails[type eq "home"]`: invalid syntax', () => {
  assert.match(refused('emails[type eq "home"]', 'invalid_syntax'), /'\['/);
});

test('a newline between tokens: invalid syntax (spaces and tabs only)', () => {
  assert.match(refused(`${A}\nor ${A}`, 'invalid_syntax'), /U\+000A/);
});

test('a no-break space between tokens: invalid syntax', () => {
  assert.match(refused('email\u00a0eq "a@b.co"', 'invalid_syntax'), /U\+00A0/);
});

test('a logical word first: invalid syntax', () => {
  assert.match(refused(`and ${A}`, 'invalid_syntax'), /starts with 'and'/);
});

test('a logical word last: invalid syntax', () => {
  assert.match(refused(`${A} or`, 'invalid_syntax'), /ends with 'or'/);
});

test('two logical words in a row: invalid syntax', () => {
  refused(`${A} and or ${A}`, 'invalid_syntax');
});

test('two expressions without a logical word: invalid syntax', () => {
  refused(`${A} ${A}`, 'invalid_syntax');
});

test('"not": invalid syntax', () => {
  assert.match(refused(`not ${A}`, 'invalid_syntax'), /'not'/);
});

test('an attribute alone, or without a value: invalid syntax', () => {
  refused('email', 'invalid_syntax');
  refused('email eq', 'invalid_syntax');
});

test('`email pr`: invalid operator', () => {
  assert.match(refused('email pr', 'invalid_operator'), /'pr'/);
});

test('`email co "a"`: invalid operator', () => {
  assert.match(refused('email co "a"', 'invalid_operator'), /'co' at character 7/);
});

test('every other comparison operator: invalid operator', () => {
  for (const op of ['ne', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', '=', '==']) refused(`email ${op} "a@b.co"`, 'invalid_operator');
});

test('`userName eq "x"`: no supported attribute, "Either one of nhsnumber or email"', () => {
  assert.match(refused('userName eq "x"', 'unsupported_attribute'), /'userName'/);
});

test('`email eq "a@b.c" and userName eq "x"`: a supported one with a stray one, invalid attribute', () => {
  assert.match(refused('email eq "a@b.c" and userName eq "x"', 'invalid_attribute'), /'userName' at character 22/);
});

test('a sub-attribute or a URN path: invalid attribute', () => {
  refused(`${A} or emails.value eq "a@b.co"`, 'invalid_attribute');
  refused(`${A} or urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a@b.co"`, 'invalid_attribute');
});

test('`nhsnumber eq "123456789"` (nine digits, the specification\'s example): invalid NHS number', () => {
  refused('nhsnumber eq "123456789"', 'invalid_nhs_number');
});

test('an NHS number with a space, a letter or eleven digits: invalid NHS number', () => {
  const notTenDigits = ['968 636 8973', '968636897X', '96863689730', '９６８６３６８９７３'];
  for (const v of notTenDigits) refused(`nhsnumber eq "${v}"`, 'invalid_nhs_number');
});

test('no Modulus 11 check: a 10-digit number with a wrong check digit is accepted (brief §2 ASSUMPTION)', () => {
  accepted('nhsnumber eq "9686368974"');
});

test('`email eq "a@b"`: invalid email', () => {
  refused('email eq "a@b"', 'invalid_email');
});

test('an NHS number given for email, or an email for nhsnumber, fails that attribute\'s rule', () => {
  refused('email eq "9686368973"', 'invalid_email');
  refused('nhsnumber eq "a@b.co"', 'invalid_nhs_number');
});

// The order (brief §2): the first failing step wins.
test('order: syntax (step 2) before the expression count (step 3)', () => {
  refused(`${Array(6).fill(A).join(' or ')} or`, 'invalid_syntax');
});

test('order: the expression count (step 3) before the shape (step 4)', () => {
  refused(`${Array(5).fill(A).join(' or ')} or email pr`, 'too_many_expressions');
});

test('order: the shape (step 4) before the attributes (step 5)', () => {
  refused('userName eq x', 'invalid_syntax');
  refused('userName pr', 'invalid_operator');
});

test('order: attributes (step 5) before operators (step 6)', () => {
  refused('email co "a@b.co" and userName eq "x"', 'invalid_attribute');
});

test('order: operators (step 6) before values (step 7)', () => {
  refused('email eq "a@b" and nhsnumber ne "9686368973"', 'invalid_operator');
});

test('order: values left to right (step 7)', () => {
  refused('email eq "a@b" or nhsnumber eq "1"', 'invalid_email');
  refused('nhsnumber eq "1" or email eq "a@b"', 'invalid_nhs_number');
});
