/**
 * The `filter` query parameter of Users Endpoint V2 (its interface specification v1.1, "U": §3.3.1, §3.3.1.1 T6,
 * §3.3.1.2 T7, §3.3.1.3; RFC 7644 §3.4.2.2), parsed into disjunctive normal form. Pure: no I/O.
 *
 *   filter     = expression *( 1*WSP logical 1*WSP expression )   ; at most 5 expressions (U§3.3.1.3)
 *   expression = attribute 1*WSP "eq" 1*WSP value
 *   attribute  = "nhsnumber" / "email"                             ; U§3.3.1.1 T6
 *   logical    = "and" / "or"                                      ; "and" binds tighter (U§3.3.1.3)
 *   value      = JSON string in U+0022 double quotes               ; RFC 7644 compValue
 *
 * The checks run in a fixed order and the first failing step wins (implementation brief §2, steps 1–7), so one
 * filter always gets one answer. Each failure carries `detail`, naming the token or character and its position
 * (1-based, in the decoded filter), for the partner's protocol record; the response itself carries only the
 * specification's text (FILTER_ERROR_TEXT).
 */
import { isEmailAddress } from '../../security/email.ts';

export type FilterError =
  | 'filter_missing'
  | 'invalid_syntax'
  | 'too_many_expressions'
  | 'invalid_operator'
  | 'unsupported_attribute'
  | 'invalid_attribute'
  | 'invalid_nhs_number'
  | 'invalid_email';

/** The specification's exact description for each (U§3.3.3 T10). */
export const FILTER_ERROR_TEXT: Record<FilterError, string> = {
  filter_missing: 'Query string "filter" not present',
  invalid_syntax: 'Invalid syntax',
  too_many_expressions: 'More than 5 expressions provided',
  invalid_operator: 'Invalid operator',
  unsupported_attribute: 'Either one of "nhsnumber" or "email" must be used for each query',
  invalid_attribute: 'Invalid attribute',
  invalid_nhs_number: 'Invalid NHS number',
  invalid_email: 'Invalid email',
};

export interface Predicate {
  attribute: 'nhsnumber' | 'email';
  /** An email is lower-cased: the people's emails are stored so, and RFC 7643 §4.1.2 `emails` is caseExact=false. */
  value: string;
}

/** Disjunctive normal form: OR of AND-groups ("and" binds tighter than "or"). */
export type ParsedFilter =
  | { ok: true; groups: Predicate[][]; expressions: number }
  | { ok: false; error: FilterError; detail: string };

/** U§3.3.1.3 (v1.1): "There is an upper limit of 5, of these filter expressions". */
export const MAX_EXPRESSIONS = 5;
/** Brief §2: the decoded filter is capped, so a hostile one costs little; five long emails fit well within it. */
export const MAX_FILTER_LENGTH = 2000;

interface Token {
  kind: 'word' | 'string';
  /** As written (a string with its quotes and escapes). */
  raw: string;
  /** A word as written; a string's decoded value. */
  text: string;
  /** 1-based position of its first character. */
  at: number;
}

type Failure = { ok: false; error: FilterError; detail: string };
const fail = (error: FilterError, detail: string): Failure => ({ ok: false, error, detail });

/** Only spaces and tabs separate tokens (brief §2 "Whitespace"). */
const isSeparator = (c: string): boolean => c === ' ' || c === '\t';

/** How a character is named in a detail: printable ASCII as itself, anything else with its code point too. */
function describe(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return cp >= 0x21 && cp <= 0x7e ? `'${c}'` : cp > 0x7e && !/\s/.test(c) ? `'${c}' (${hex})` : hex;
}

/** A token's text for a detail (a word in single quotes, a value as written), shortened so one cannot flood the trace. */
function show(t: Token): string {
  const raw = t.raw.length > 60 ? `${t.raw.slice(0, 57)}...` : t.raw;
  return t.kind === 'word' ? `'${raw}'` : raw;
}

/**
 * Why a character may not stand outside a quoted value, or undefined if it may. Grouping and value paths
 * (RFC 7644 §3.4.2.2 "( )", "[ ]") are not supported: T7 lists eq/and/or only. Typographic quotes are word
 * processor artefacts of the specification's own examples (U§3.3.1.3 T8, `“johny@email.com”`).
 */
function forbidden(c: string): string | undefined {
  if ('()[]'.includes(c)) return `${describe(c)}: grouping and value paths are not supported (U§3.3.1.2 lists eq, and, or only)`;
  if (/[\u2018-\u201f\u00ab\u00bb\u2032\u2033]/.test(c)) {
    return `typographic quote ${describe(c)}: values must be in straight double quotes '"' (U+0022)`;
  }
  if (/[\s\p{Cc}]/u.test(c)) return `${describe(c)}: tokens must be separated by spaces or tabs only`;
  return undefined;
}

/** Reads the JSON string starting at s[start] (a '"'), checking each escape, as RFC 7644 compValue requires. */
function readString(s: string, start: number): { end: number; token: Token } | Failure {
  for (let j = start + 1; j < s.length; j++) {
    const c = s[j]!;
    if (c === '"') {
      const raw = s.slice(start, j + 1);
      return { end: j + 1, token: { kind: 'string', raw, text: JSON.parse(raw) as string, at: start + 1 } };
    }
    if (c === '\\') {
      const e = s[j + 1];
      if (e === undefined) break;
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(j + 2, j + 6))) j += 5;
      else if ('"\\/bfnrt'.includes(e)) j += 1;
      else return fail('invalid_syntax', `invalid escape '\\${e}' at character ${j + 1} in the value starting at character ${start + 1}`);
    } else if (c.charCodeAt(0) < 0x20) {
      return fail('invalid_syntax', `control character ${describe(c)} at character ${j + 1} inside a value; escape it`);
    }
  }
  return fail('invalid_syntax', `the value starting at character ${start + 1} has no closing double quote`);
}

/** Step 2a: words and quoted strings, each followed by a separator or the end. */
function tokenise(s: string): Token[] | Failure {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (isSeparator(c)) {
      i++;
      continue;
    }
    const bad = forbidden(c);
    if (bad) return fail('invalid_syntax', `character ${i + 1} is ${bad}`);
    let token: Token;
    if (c === '"') {
      const read = readString(s, i);
      if ('ok' in read) return read;
      token = read.token;
      i = read.end;
    } else {
      let j = i;
      while (j < s.length && !isSeparator(s[j]!) && s[j] !== '"' && !forbidden(s[j]!)) j++;
      token = { kind: 'word', raw: s.slice(i, j), text: s.slice(i, j), at: i + 1 };
      i = j;
    }
    tokens.push(token);
    // U§3.3.1.3 T8's `"johny@email.com"or`: tokens run together. A forbidden character is named on the next turn.
    if (i < s.length && !isSeparator(s[i]!) && !forbidden(s[i]!)) {
      const next = s[i] === '"' ? describe('"') : `'${/^[^\s"]{1,20}/.exec(s.slice(i))![0]}'`;
      return fail('invalid_syntax', `no space between ${show(token)} and ${next} at character ${i + 1}`);
    }
  }
  return tokens;
}

const logicalOf = (t: Token): 'and' | 'or' | undefined => {
  const w = t.kind === 'word' ? t.text.toLowerCase() : '';
  return w === 'and' || w === 'or' ? w : undefined;
};

/** Why an expression is not `attribute eq "value"` (step 4), as precisely as its shape allows. */
function shapeProblem(e: Token[]): Failure {
  const [a, op, v] = e as [Token, Token | undefined, Token | undefined];
  const where = `the expression at character ${a.at}`;
  if (a.kind === 'string') return fail('invalid_syntax', `${where} starts with the value ${show(a)}; expected an attribute name`);
  if (a.text.toLowerCase() === 'not') return fail('invalid_syntax', `'not' at character ${a.at} is not supported (U§3.3.1.2)`);
  if (op === undefined) return fail('invalid_syntax', `${where} is only ${show(a)}; expected <attribute> eq "<value>"`);
  if (op.kind === 'string') {
    return fail('invalid_syntax', `the value ${show(op)} at character ${op.at} follows ${show(a)} without an operator`);
  }
  if (op.text.toLowerCase() === 'pr' && v === undefined) {
    return fail('invalid_operator', `'${op.text}' (present) at character ${op.at} is not supported; only eq is (U§3.3.1.2)`);
  }
  if (v === undefined) return fail('invalid_syntax', `${where} has no value after ${show(op)}; expected "<value>" in double quotes`);
  if (v.kind === 'word') {
    return fail('invalid_syntax', `the value ${show(v)} at character ${v.at} is not in double quotes (U§3.3.1.3)`);
  }
  const extra = e[3]!;
  return fail('invalid_syntax', `unexpected ${show(extra)} at character ${extra.at} after the value ${show(v)}; expected and/or`);
}

const NHS_NUMBER = /^\d{10}$/;

/**
 * `filter` as the query string gave it: undefined, a string, or an array (the parameter repeated).
 */
export function parseFilter(filter: unknown): ParsedFilter {
  // Step 1: no filter, or nothing in it (brief §2: `filter=` or only spaces).
  if (filter === undefined || filter === null) return fail('filter_missing', 'the query string has no "filter" parameter');
  if (Array.isArray(filter)) return fail('invalid_syntax', `the "filter" parameter is given ${filter.length} times; give it once`);
  if (typeof filter !== 'string') return fail('invalid_syntax', 'the "filter" parameter is not a plain string');
  if (filter.trim() === '') {
    return fail('filter_missing', filter === '' ? 'the "filter" parameter is empty' : 'the "filter" parameter is only whitespace');
  }
  if (filter.length > MAX_FILTER_LENGTH) {
    return fail('invalid_syntax', `the filter is ${filter.length} characters long; at most ${MAX_FILTER_LENGTH} are accepted`);
  }

  // Step 2: tokens, and the logical words between expressions.
  const tokens = tokenise(filter);
  if ('ok' in tokens) return tokens;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (!logicalOf(t)) continue;
    if (k === 0) return fail('invalid_syntax', `the filter starts with '${t.text}'; expected an expression first`);
    if (k === tokens.length - 1) {
      return fail('invalid_syntax', `the filter ends with '${t.text}' at character ${t.at}; expected an expression after it`);
    }
    const next = tokens[k + 1]!;
    if (logicalOf(next)) return fail('invalid_syntax', `'${next.text}' at character ${next.at} directly follows '${t.text}'`);
  }

  // Step 3: split into expressions, OR of AND-groups (U§3.3.1.3: "A and B or C and D will be (A and B) or (C and D)").
  const groups: Token[][][] = [[[]]];
  for (const t of tokens) {
    const logical = logicalOf(t);
    if (logical === 'or') groups.push([[]]);
    else if (logical === 'and') groups.at(-1)!.push([]);
    else groups.at(-1)!.at(-1)!.push(t);
  }
  const expressions = groups.flat();
  if (expressions.length > MAX_EXPRESSIONS) {
    const count = `the filter has ${expressions.length} expressions`;
    return fail('too_many_expressions', `${count}; at most ${MAX_EXPRESSIONS} are accepted (U§3.3.1.3)`);
  }

  // Step 4: each is `attribute operator "value"`; `attr pr` has an operator but no value (RFC 7644 "present").
  for (const e of expressions) {
    if (e.length !== 3 || e[0]!.kind !== 'word' || e[1]!.kind !== 'word' || e[2]!.kind !== 'string') return shapeProblem(e);
  }

  // Step 5: attributes, case-insensitive (RFC 7644 §3.4.2.2). T10 has two rows for a wrong attribute; when none of
  // the expressions names a supported one it is "Either one of…", otherwise the stray one is "Invalid attribute".
  const attribute = (e: Token[]) => e[0]!.text.toLowerCase();
  const supported = (e: Token[]) => attribute(e) === 'nhsnumber' || attribute(e) === 'email';
  const stray = expressions.find((e) => !supported(e));
  if (stray) {
    const name = `${show(stray[0]!)} at character ${stray[0]!.at}`;
    return expressions.some(supported)
      ? fail('invalid_attribute', `${name} is not a supported attribute; use nhsnumber or email (U§3.3.1.1)`)
      : fail('unsupported_attribute', `no expression uses nhsnumber or email; found ${name} (U§3.3.1.1)`);
  }

  // Step 6: operators, case-insensitive; only eq (U§3.3.1.2 T7).
  const wrongOp = expressions.find((e) => e[1]!.text.toLowerCase() !== 'eq');
  if (wrongOp) {
    const op = wrongOp[1]!;
    return fail('invalid_operator', `${show(op)} at character ${op.at} is not a supported operator; only eq is (U§3.3.1.2)`);
  }

  // Step 7: values left to right (U§3.3.1.1 T6). The NHS number is "numeric and have 10 digits", nothing more:
  // no Modulus 11 check (brief §2 ASSUMPTION). The email "in the format a@b.c", by the toolkit's one check.
  for (const e of expressions) {
    const v = e[2]!;
    if (attribute(e) === 'nhsnumber') {
      if (!NHS_NUMBER.test(v.text)) {
        return fail('invalid_nhs_number', `the NHS number ${show(v)} at character ${v.at} is not exactly 10 digits 0-9`);
      }
    } else if (!isEmailAddress(v.text)) {
      return fail('invalid_email', `the email ${show(v)} at character ${v.at} is not an address in the form a@b.c`);
    }
  }

  const predicate = (e: Token[]): Predicate =>
    attribute(e) === 'nhsnumber' ? { attribute: 'nhsnumber', value: e[2]!.text } : { attribute: 'email', value: e[2]!.text.toLowerCase() };
  return { ok: true, groups: groups.map((g) => g.map(predicate)), expressions: expressions.length };
}

