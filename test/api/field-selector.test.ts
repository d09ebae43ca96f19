import t from 'tap';
import { parseFieldSelector } from '../../src/api/field-selector.js';
import { throwsApi } from '../helpers/throws-api.js';

const known = new Set(['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase']);

const pod = (fields: Record<string, string>) => (field: string) => fields[field];
const web = pod({ 'metadata.name': 'web', 'metadata.namespace': 'default', 'spec.nodeName': 'node-1', 'status.phase': 'Running' });
const pending = pod({ 'metadata.name': 'job', 'metadata.namespace': 'batch', 'status.phase': 'Pending' });
const odd = pod({ 'metadata.name': 'a,b=c\\d', 'metadata.namespace': 'default' });

t.test('parse and match', async (t) => {
  const cases: { selector: string; matches: ((f: string) => string | undefined)[]; rejects: ((f: string) => string | undefined)[]; text: string }[] = [
    { selector: '', matches: [web, pending], rejects: [], text: '' },
    { selector: 'metadata.name=web', matches: [web], rejects: [pending], text: 'metadata.name=web' },
    { selector: 'metadata.name==web', matches: [web], rejects: [pending], text: 'metadata.name=web' },
    { selector: 'metadata.name!=web', matches: [pending], rejects: [web], text: 'metadata.name!=web' },
    { selector: 'metadata.namespace=default,status.phase!=Pending', matches: [web], rejects: [pending], text: 'metadata.namespace=default,status.phase!=Pending' },
    { selector: 'spec.nodeName=', matches: [pending], rejects: [web], text: 'spec.nodeName=' },
    { selector: 'spec.nodeName!=', matches: [web], rejects: [pending], text: 'spec.nodeName!=' },
    { selector: 'metadata.name=a\\,b\\=c\\\\d', matches: [odd], rejects: [web], text: 'metadata.name=a\\,b\\=c\\\\d' },
    { selector: 'metadata.name=web,', matches: [web], rejects: [pending], text: 'metadata.name=web' },
  ];
  for (const c of cases) {
    const sel = parseFieldSelector(c.selector, known);
    for (const get of c.matches) t.ok(sel.matches(get), `${c.selector} matches`);
    for (const get of c.rejects) t.notOk(sel.matches(get), `${c.selector} rejects`);
    t.equal(sel.toString(), c.text);
    t.equal(sel.empty, c.text === '');
  }
});

t.test('requiresExactMatch narrows by name/namespace', async (t) => {
  const sel = parseFieldSelector('metadata.namespace=default,metadata.name==web,status.phase!=Failed', known);
  t.equal(sel.requiresExactMatch('metadata.name'), 'web');
  t.equal(sel.requiresExactMatch('metadata.namespace'), 'default');
  t.equal(sel.requiresExactMatch('status.phase'), undefined, '!= pins nothing');
  t.equal(sel.requiresExactMatch('spec.nodeName'), undefined);
  t.same(
    sel.terms.map((x) => x.field),
    ['metadata.name', 'metadata.namespace', 'status.phase'],
  );
});

t.test('errors are 400 BadRequest', async (t) => {
  const only = new Set(['metadata.name', 'metadata.namespace']);
  throwsApi(t, () => parseFieldSelector('spec.foo=bar', only), 400, /^"spec\.foo" is not a known field selector: only "metadata\.name", "metadata\.namespace"$/);
  throwsApi(t, () => parseFieldSelector('=x', only), 400, /^"" is not a known field selector/);
  throwsApi(t, () => parseFieldSelector('metadata.name', only), 400, /^invalid selector: 'metadata\.name'; can't understand 'metadata\.name'$/);
  throwsApi(t, () => parseFieldSelector('metadata.name=a=b', only), 400, /unescaped character in value/);
  throwsApi(t, () => parseFieldSelector('metadata.name=a\\x', only), 400, /invalid escape sequence: \\x/);
  throwsApi(t, () => parseFieldSelector('metadata.name=a\\', only), 400, /invalid escape sequence/);
});
