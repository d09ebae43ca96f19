import { errors } from './status.js';

/**
 * Label selectors: kube's string syntax (`?labelSelector=`) and metav1.LabelSelector objects
 * (`spec.selector` of workloads), both turned into one matcher (kube-api-contract.md §4).
 */
export type LabelOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  /** Sorted by key, as kube keeps them. */
  readonly requirements: readonly LabelRequirement[];
  /** True when the selector selects everything. */
  readonly empty: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** The value a `key=v`, `key==v` or `key in (v)` requirement pins, e.g. to narrow a list. */
  requiresExactMatch(key: string): string | undefined;
  /** The canonical string form, e.g. `app=nginx,tier in (back,front)`. */
  toString(): string;
}

/** metav1.LabelSelector. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] | null }[] | null;
}

// ---- validation (label keys are qualified names, values are label values) ----

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const ALNUM_RULE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

const regexError = (message: string, format: string, ...examples: string[]) =>
  `${message} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${format}')`;
const tooLong = (max: number) => `must be no more than ${max} characters`;

function qualifiedNameErrors(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) {
    return [`a qualified name ${regexError(ALNUM_RULE, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const errs: string[] = [];
  const name = parts.at(-1) ?? '';
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix === '') errs.push('prefix part must be non-empty');
    else {
      if (prefix.length > 253) errs.push(`prefix part ${tooLong(253)}`);
      if (!DNS1123_SUBDOMAIN.test(prefix)) {
        errs.push(`prefix part ${regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", DNS1123_SUBDOMAIN_FMT, 'example.com')}`);
      }
    }
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push(`name part ${tooLong(63)}`);
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${regexError(ALNUM_RULE, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(tooLong(63));
  if (!LABEL_VALUE.test(value)) errs.push(regexError(`a valid label must be an empty string or ${ALNUM_RULE}`, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

const invalid = (field: string, value: unknown, detail: string) => `${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
const INT64 = /^[+-]?\d+$/;
const parseInt64 = (s: string): bigint | undefined => {
  if (!INT64.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
};

/** kube's NewRequirement: a validated requirement, or the aggregated field errors as one message. */
function requirement(key: string, operator: LabelOperator, values: readonly string[]): LabelRequirement {
  const errs: string[] = [];
  const keyErrs = qualifiedNameErrors(key);
  if (keyErrs.length > 0) errs.push(invalid('key', key, keyErrs.join('; ')));
  if ((operator === 'in' || operator === 'notin') && values.length === 0) errs.push(invalid('values', values, "for 'in', 'notin' operators, values set can't be empty"));
  if ((operator === '=' || operator === '==' || operator === '!=') && values.length !== 1) errs.push(invalid('values', values, 'exact-match compatibility requires one single value'));
  if ((operator === 'exists' || operator === '!') && values.length !== 0) errs.push(invalid('values', values, 'values set must be empty for exists and does not exist'));
  if (operator === 'gt' || operator === 'lt') {
    if (values.length !== 1) errs.push(invalid('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"));
    values.forEach((v, i) => {
      if (parseInt64(v) === undefined) errs.push(invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
    });
  }
  values.forEach((v, i) => {
    const valueErrs = labelValueErrors(v);
    if (valueErrs.length > 0) errs.push(invalid(`values[${i}][${key}]`, v, valueErrs.join('; ')));
  });
  if (errs.length > 0) throw new Error(errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
  return { key, operator, values };
}

// ---- matching and printing ----

function requirementMatches(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return has && r.values.includes(value ?? '');
    case '!=':
    case 'notin':
      return !has || !r.values.includes(value ?? '');
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      const actual = has ? parseInt64(value ?? '') : undefined;
      const bound = r.values.length === 1 ? parseInt64(r.values[0] ?? '') : undefined;
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  const values = [...r.values].sort().join(',');
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

function selector(requirements: LabelRequirement[]): LabelSelector {
  const sorted = requirements
    .map((r, i) => [r, i] as const)
    .sort(([a, i], [b, j]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : i - j))
    .map(([r]) => r);
  return {
    requirements: sorted,
    empty: sorted.length === 0,
    matches: (labels) => sorted.every((r) => requirementMatches(r, labels ?? {})),
    requiresExactMatch(key) {
      const r = sorted.find((x) => x.key === key);
      return r && (r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1 ? r.values[0] : undefined;
    },
    toString: () => sorted.map(requirementString).join(','),
  };
}

/** Matches nothing (a nil metav1.LabelSelector); prints as "". */
export const NOTHING: LabelSelector = {
  requirements: [],
  empty: false,
  matches: () => false,
  requiresExactMatch: () => undefined,
  toString: () => '',
};

// ---- the string syntax ----

type TokenKind = 'id' | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
}

const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (WHITESPACE.has(ch)) {
      i++;
    } else if (SPECIAL.has(ch)) {
      const two = text.slice(i, i + 2);
      const kind: TokenKind = two === '==' || two === '!=' ? two : (ch as TokenKind);
      tokens.push({ kind, text: kind });
      i += kind.length;
    } else {
      let j = i;
      while (j < text.length && !WHITESPACE.has(text[j] ?? '') && !SPECIAL.has(text[j] ?? '')) j++;
      tokens.push({ kind: 'id', text: text.slice(i, j) });
      i = j;
    }
  }
  tokens.push({ kind: 'end', text: '' });
  return tokens;
}

const OPERATORS: ReadonlyMap<string, LabelOperator> = new Map([['in', 'in'], ['notin', 'notin'], ['=', '='], ['==', '=='], ['!=', '!='], ['>', 'gt'], ['<', 'lt']]);

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos] ?? { kind: 'end', text: '' };
  }

  private next(): Token {
    const token = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return token;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const head = this.peek();
      if (head.kind === 'end') return requirements;
      if (head.kind !== 'id' && head.kind !== '!') throw new Error(`found '${head.text}', expected: !, identifier, or 'end of string'`);
      try {
        requirements.push(this.requirement());
      } catch (err) {
        throw new Error(`unable to parse requirement: ${(err as Error).message}`);
      }
      const sep = this.next();
      if (sep.kind === 'end') return requirements;
      if (sep.kind !== ',') throw new Error(`found '${sep.text}', expected: ',' or 'end of string'`);
      const after = this.peek();
      if (after.kind !== 'id' && after.kind !== '!') throw new Error(`found '${after.text}', expected: identifier after ','`);
    }
  }

  private requirement(): LabelRequirement {
    let token = this.next();
    const negated = token.kind === '!';
    if (negated) token = this.next();
    if (token.kind !== 'id') throw new Error(`found '${token.text}', expected: identifier`);
    const key = token.text;
    const keyErrs = qualifiedNameErrors(key);
    if (keyErrs.length > 0) throw new Error(invalid('<nil>', key, keyErrs.join('; ')));
    const ahead = this.peek().kind;
    if (negated) return requirement(key, '!', []);
    if (ahead === 'end' || ahead === ',') return requirement(key, 'exists', []);
    const opToken = this.next();
    const operator = OPERATORS.get(opToken.text);
    if (!operator) throw new Error(`found '${opToken.text}', expected: in, notin, =, ==, !=, gt, lt`);
    return requirement(key, operator, operator === 'in' || operator === 'notin' ? this.valueSet() : [this.exactValue()]);
  }

  /** `(a,b,…)`: items may be empty; a set, returned sorted. */
  private valueSet(): string[] {
    const open = this.next();
    if (open.kind !== '(') throw new Error(`found '${open.text}', expected: '('`);
    const first = this.peek();
    if (first.kind !== 'id' && first.kind !== ',' && first.kind !== ')') throw new Error(`found '${first.text}', expected: ',', ')' or identifier`);
    const values = new Set<string>();
    for (;;) {
      values.add(this.peek().kind === 'id' ? this.next().text : '');
      const sep = this.next();
      if (sep.kind === ')') return [...values].sort();
      if (sep.kind !== ',') throw new Error(`found '${sep.text}', expected: ',' or ')'`);
    }
  }

  private exactValue(): string {
    const ahead = this.peek();
    if (ahead.kind === 'end' || ahead.kind === ',') return '';
    const token = this.next();
    if (token.kind !== 'id') throw new Error(`found '${token.text}', expected: identifier`);
    return token.text;
  }
}

/** Parses `?labelSelector=`; "" (or only whitespace) selects everything. Errors are 400 BadRequest. */
export function parseLabelSelector(text: string): LabelSelector {
  try {
    return selector(new Parser(lex(text)).parse());
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
}

const EXPRESSION_OPERATORS: ReadonlyMap<string, LabelOperator> = new Map([['In', 'in'], ['NotIn', 'notin'], ['Exists', 'exists'], ['DoesNotExist', '!']]);

/**
 * metav1.LabelSelectorAsSelector: null/undefined selects nothing, `{}` selects everything,
 * otherwise matchLabels (as `k=v`) AND matchExpressions. Invalid content is 400 BadRequest.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined): LabelSelector {
  if (sel === null || sel === undefined) return NOTHING;
  try {
    const requirements = Object.entries(sel.matchLabels ?? {}).map(([key, value]) => requirement(key, '=', [value]));
    for (const expr of sel.matchExpressions ?? []) {
      const operator = EXPRESSION_OPERATORS.get(expr.operator);
      if (!operator) throw new Error(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
      requirements.push(requirement(expr.key, operator, [...(expr.values ?? [])]));
    }
    return selector(requirements);
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
}

/** The canonical string of a selector (e.g. a Scale's `status.selector`: `app=nginx`). */
export function formatLabelSelector(sel: LabelSelector | LabelSelectorObject | null | undefined): string {
  if (sel && 'matches' in sel && typeof sel.matches === 'function') return sel.toString();
  return labelSelectorFromObject(sel as LabelSelectorObject | null | undefined).toString();
}
