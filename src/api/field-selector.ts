import { errors } from './status.js';

/**
 * Field selectors (`?fieldSelector=`): `f=v`, `f==v`, `f!=v` joined by commas; in values `\,`, `\=`
 * and `\\` escape, other backslashes and unescaped `,`/`=` are errors. Only fields the resource declares
 * may be used (kube-api-contract.md §4). A missing field reads as "".
 */
export interface FieldTerm {
  readonly field: string;
  readonly operator: '=' | '==' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly terms: readonly FieldTerm[];
  readonly empty: boolean;
  matches(get: (field: string) => string | undefined): boolean;
  /** The value a `field=value` (or `==`) term pins, so callers can narrow by metadata.name/namespace. */
  requiresExactMatch(field: string): string | undefined;
  toString(): string;
}

const OPERATORS = ['!=', '==', '='] as const;

/** Splits on commas that are not escaped; the escapes stay in the terms. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

function unescapeValue(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] ?? '';
    if (ch === '\\') {
      const next = raw[++i];
      if (next !== '\\' && next !== ',' && next !== '=') throw errors.badRequest(`invalid field selector: invalid escape sequence: \\${next ?? ''}`);
      out += next;
    } else if (ch === ',' || ch === '=') {
      throw errors.badRequest(`invalid field selector: unescaped character in value: ${ch.codePointAt(0)}`);
    } else {
      out += ch;
    }
  }
  return out;
}

const escapeValue = (value: string) => value.replace(/[\\,=]/g, (c) => `\\${c}`);

/** The field is everything before the first operator (fields have no escapes). */
function parseTerm(selector: string, term: string): FieldTerm {
  for (let i = 0; i < term.length; i++) {
    const operator = OPERATORS.find((op) => term.startsWith(op, i));
    if (operator) return { field: term.slice(0, i), operator, value: unescapeValue(term.slice(i + operator.length)) };
  }
  throw errors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
}

export function parseFieldSelector(text: string, known: ReadonlySet<string>): FieldSelector {
  const terms = splitTerms(text)
    .sort()
    .filter((term) => term !== '')
    .map((term) => parseTerm(text, term));
  for (const { field } of terms) {
    if (!known.has(field)) {
      throw errors.badRequest(`${JSON.stringify(field)} is not a known field selector: only ${[...known].map((f) => JSON.stringify(f)).join(', ')}`);
    }
  }
  return {
    terms,
    empty: terms.length === 0,
    matches: (get) => terms.every((t) => ((get(t.field) ?? '') === t.value) !== (t.operator === '!=')),
    requiresExactMatch: (field) => terms.find((t) => t.field === field && t.operator !== '!=')?.value,
    toString: () => terms.map((t) => `${t.field}${t.operator === '!=' ? '!=' : '='}${escapeValue(t.value)}`).join(','),
  };
}
