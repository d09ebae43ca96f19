import { isPlainObject } from '../../api/object.js';
import type { PrinterColumn } from '../../registry/resource.js';

/**
 * The subset of kube's JSONPath (client-go util/jsonpath, missing keys allowed) that CRD
 * additionalPrinterColumns use: `.a.b`, `['key.with.dots']`, `.a\.b`, `[0]`, `[-1]`, `[1:3]`,
 * `[*]`, `.*`, `..a`, and filters `[?(@.type=="Ready")]` / `[?(@.ready)]`, optionally wrapped in
 * `{}` and rooted at `$`. Not supported: unions (`[0,1]`), `range`/`end`, text outside the braces.
 */
type Literal = string | number | boolean;
type Operand = { readonly path: readonly Step[] } | { readonly literal: Literal };
type Operator = '==' | '!=' | '<=' | '>=' | '<' | '>';
type Step =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'wildcard' }
  | { readonly kind: 'recursive' }
  | { readonly kind: 'index'; readonly at: number }
  | { readonly kind: 'slice'; readonly start?: number; readonly end?: number; readonly step?: number }
  | { readonly kind: 'filter'; readonly left: Operand; readonly op?: Operator; readonly right?: Operand };

export interface JsonPath {
  readonly source: string;
  readonly steps: readonly Step[];
}

/** A syntax error (from parseJsonPath) or an evaluation error kube reports (index out of range, …). */
export class JsonPathError extends Error {}

export function parseJsonPath(source: string): JsonPath {
  let text = source.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  const parser = new Parser(text);
  const steps = parser.path();
  if (!parser.done()) throw parser.error('unexpected character');
  return { source, steps };
}

/** Every value the path matches, in order; [] when nothing matches or kube's evaluation would fail. */
export function evaluate(path: JsonPath | string, data: unknown): unknown[] {
  const { steps } = typeof path === 'string' ? parseJsonPath(path) : path;
  try {
    return walk([data], steps);
  } catch (error) {
    if (error instanceof JsonPathError) return [];
    throw error;
  }
}

/**
 * A CRD column's cell from the matched values, as kube renders it: the first match; `string`
 * columns print it (objects and arrays as Go-style JSON, JSON null as "<no value>"), other types
 * keep it only when it has that JSON type (integers truncated), `date` keeps the raw timestamp
 * string (the printer turns it into an age). No match → null.
 */
export function cellValue(values: readonly unknown[], type: PrinterColumn['type']): unknown {
  if (values.length === 0) return null;
  const value = values[0];
  if (type === 'string') return value === null ? '<no value>' : printText(value);
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? value : null;
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function walk(input: readonly unknown[], steps: readonly Step[]): unknown[] {
  let values = [...input];
  for (const step of steps) values = values.flatMap((value) => apply(value, step));
  return values;
}

function apply(value: unknown, step: Step): unknown[] {
  switch (step.kind) {
    case 'field':
      return isPlainObject(value) && Object.hasOwn(value, step.name) ? [value[step.name]] : [];
    case 'wildcard':
      return children(value);
    case 'recursive':
      return descendants(value);
    case 'index':
    case 'slice':
      return value === null ? [] : slice(value, step);
    case 'filter':
      return filter(value, step);
  }
}

/** Array elements, or object values by sorted key (Go's map order is random; ours is stable). */
function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value)) return Object.keys(value).sort().map((key) => value[key]);
  return [];
}

/** `..`: every non-empty object or array at or below value, parents first (leaves are not included). */
function descendants(value: unknown): unknown[] {
  const below = children(value);
  return below.length === 0 ? [] : [value, ...below.flatMap(descendants)];
}

function slice(value: unknown, step: Extract<Step, { kind: 'index' | 'slice' }>): unknown[] {
  if (!Array.isArray(value)) throw new JsonPathError(`${typeof value} is not array or slice`);
  const length = value.length;
  if (step.kind === 'index') {
    const at = step.at < 0 ? step.at + length : step.at;
    if (at < 0 || at >= length) throw new JsonPathError(`array index out of bounds: index ${step.at}, length ${length}`);
    return [value[at]];
  }
  const start = relative(step.start ?? 0, length);
  const end = relative(step.end ?? length, length);
  if (start === end) return [];
  if (start < 0 || start >= length || end < 0 || end > length || start > end) {
    throw new JsonPathError(`array slice out of bounds: [${start}:${end}], length ${length}`);
  }
  const stride = step.step ?? 1;
  if (stride <= 0) throw new JsonPathError('step must be > 0');
  return value.slice(start, end).filter((_, i) => i % stride === 0);
}

function relative(index: number, length: number): number {
  return index < 0 ? index + length : index;
}

function filter(value: unknown, step: Extract<Step, { kind: 'filter' }>): unknown[] {
  if (!Array.isArray(value)) throw new JsonPathError(`${String(value)} is not array or slice and cannot be filtered`);
  return value.filter((element) => {
    const lefts = operand(step.left, element);
    if (step.op === undefined || step.right === undefined) return lefts.length > 0;
    const rights = operand(step.right, element);
    if (lefts.length !== 1 || rights.length !== 1) throw new JsonPathError('can only compare one element at a time');
    return compare(lefts[0], rights[0], step.op);
  });
}

function operand(op: Operand, element: unknown): unknown[] {
  return 'literal' in op ? [op.literal] : walk([element], op.path);
}

/** Go template comparison: same basic kind only; booleans only for (in)equality. */
function compare(left: unknown, right: unknown, op: Operator): boolean {
  const kind = (v: unknown) => (['string', 'number', 'boolean'].includes(typeof v) ? typeof v : undefined);
  if (kind(left) === undefined || kind(right) === undefined) throw new JsonPathError('invalid type for comparison');
  if (kind(left) !== kind(right)) throw new JsonPathError('incompatible types for comparison');
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  if (typeof left === 'boolean') throw new JsonPathError('invalid type for comparison');
  const [a, b] = [left as string | number, right as string | number];
  return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
}

// ---------------------------------------------------------------------------------------------
// Printing (fmt.Fprint for scalars, encoding/json for objects and arrays)

function printText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goFloat(value);
  if (typeof value === 'boolean') return String(value);
  return goJson(value);
}

/** Go's %v for float64 switches to exponent form below 1e-4 (JS only below 1e-6), with 2+ exponent digits. */
function goFloat(n: number): string {
  if (n === 0 || Number.isInteger(n) || Math.abs(n) >= 1e-4) return String(n);
  return n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
}

/** encoding/json: object keys sorted, <, > and & escaped. */
function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value).sort().map((key) => `${goJson(key)}:${goJson(value[key])}`).join(',')}}`;
  }
  const json = JSON.stringify(value) ?? 'null';
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// ---------------------------------------------------------------------------------------------
// Parsing

const NAME_END = new Set([...' \t\n.[](),=!<>{}\'"']);
const OPERATORS: readonly Operator[] = ['==', '!=', '<=', '>=', '<', '>'];

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.pos >= this.text.length;
  }

  error(message: string): JsonPathError {
    return new JsonPathError(`invalid JSONPath ${JSON.stringify(this.text)} at ${this.pos}: ${message}`);
  }

  /** Steps up to the first character that cannot continue a path (callers check what follows). */
  path(): Step[] {
    const steps: Step[] = [];
    if (this.peek() === '$' || this.peek() === '@') this.pos++;
    for (;;) {
      if (this.eat('..')) {
        steps.push({ kind: 'recursive' });
        steps.push(this.peek() === '[' ? this.bracket() : this.member());
      } else if (this.eat('.')) steps.push(this.member());
      else if (this.peek() === '[') steps.push(this.bracket());
      else return steps;
    }
  }

  private member(): Step {
    if (this.eat('*')) return { kind: 'wildcard' };
    let name = '';
    while (!this.done() && !NAME_END.has(this.peek())) {
      if (this.peek() === '\\') this.pos++;
      name += this.text[this.pos++] ?? '';
    }
    if (name === '') throw this.error('expected a field name');
    return { kind: 'field', name };
  }

  private bracket(): Step {
    this.expect('[');
    this.skipSpace();
    let step: Step;
    if (this.eat('*')) step = { kind: 'wildcard' };
    else if (this.eat('?')) step = this.filter();
    else if (this.peek() === "'" || this.peek() === '"') step = { kind: 'field', name: this.quoted() };
    else step = this.indexOrSlice();
    this.skipSpace();
    this.expect(']');
    return step;
  }

  private indexOrSlice(): Step {
    const end = this.text.indexOf(']', this.pos);
    if (end < 0) throw this.error('unterminated [');
    const parts = this.text.slice(this.pos, end).split(':').map((part) => part.trim());
    this.pos = end;
    if (parts.length > 3 || parts.some((part) => part !== '' && !/^-?\d+$/.test(part))) throw this.error('invalid array index');
    const [start, stop, stride] = parts.map((part) => (part === '' ? undefined : Number(part)));
    if (parts.length === 1) {
      if (start === undefined) throw this.error('empty array index');
      return { kind: 'index', at: start };
    }
    return { kind: 'slice', ...(start !== undefined && { start }), ...(stop !== undefined && { end: stop }), ...(stride !== undefined && { step: stride }) };
  }

  private filter(): Step {
    this.skipSpace();
    this.expect('(');
    const left = this.operand();
    this.skipSpace();
    const op = OPERATORS.find((candidate) => this.eat(candidate));
    const right = op === undefined ? undefined : this.operand();
    this.skipSpace();
    this.expect(')');
    return { kind: 'filter', left, ...(op !== undefined && right !== undefined && { op, right }) };
  }

  private operand(): Operand {
    this.skipSpace();
    const c = this.peek();
    if (c === '@' || c === '$') return { path: this.path() };
    if (c === "'" || c === '"') return { literal: this.quoted() };
    const word = /^(true|false|-?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(this.text.slice(this.pos))?.[0];
    if (word === undefined) throw this.error('expected @path, a quoted string, a number or a boolean');
    this.pos += word.length;
    return { literal: word === 'true' ? true : word === 'false' ? false : Number(word) };
  }

  private quoted(): string {
    const quote = this.text[this.pos++];
    let value = '';
    while (!this.done() && this.peek() !== quote) {
      if (this.peek() === '\\') this.pos++;
      value += this.text[this.pos++] ?? '';
    }
    this.expect(quote ?? '');
    return value;
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private eat(token: string): boolean {
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.eat(token)) throw this.error(`expected ${token}`);
  }

  private skipSpace(): void {
    while (/\s/.test(this.peek())) this.pos++;
  }
}
