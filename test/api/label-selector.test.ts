import t from 'tap';
import { formatLabelSelector, labelSelectorFromObject, NOTHING, parseLabelSelector } from '../../src/api/label-selector.js';
import { throwsApi } from '../helpers/throws-api.js';

const nginx = { app: 'nginx', tier: 'front', replicas: '3' };
const db = { app: 'db', tier: 'back' };
const bare = {};

t.test('parse and match', async (t) => {
  const cases: { selector: string; matches: Record<string, string>[]; rejects: (Record<string, string> | undefined)[]; text: string }[] = [
    { selector: '', matches: [nginx, db, bare], rejects: [], text: '' },
    { selector: '   ', matches: [nginx, bare], rejects: [], text: '' },
    { selector: 'app=nginx', matches: [nginx], rejects: [db, bare, undefined], text: 'app=nginx' },
    { selector: 'app==nginx', matches: [nginx], rejects: [db, bare], text: 'app==nginx' },
    { selector: 'app!=nginx', matches: [db, bare], rejects: [nginx], text: 'app!=nginx' },
    { selector: 'app in (nginx,db)', matches: [nginx, db], rejects: [bare], text: 'app in (db,nginx)' },
    { selector: 'app notin (nginx)', matches: [db, bare], rejects: [nginx], text: 'app notin (nginx)' },
    { selector: 'tier', matches: [nginx, db], rejects: [bare], text: 'tier' },
    { selector: '!tier', matches: [bare], rejects: [nginx, db], text: '!tier' },
    { selector: 'tier, app=db', matches: [db], rejects: [nginx, bare], text: 'app=db,tier' },
    { selector: ' app = nginx ,\ttier in ( front , back ) ', matches: [nginx], rejects: [db], text: 'app=nginx,tier in (back,front)' },
    { selector: 'replicas>2', matches: [nginx], rejects: [db, bare], text: 'replicas>2' },
    { selector: 'replicas<3', matches: [], rejects: [nginx, db], text: 'replicas<3' },
    { selector: 'app=', matches: [{ app: '' }], rejects: [nginx, bare], text: 'app=' },
    { selector: 'app in ()', matches: [{ app: '' }], rejects: [nginx, bare], text: 'app in ()' },
    { selector: 'app in (,nginx)', matches: [{ app: '' }, nginx], rejects: [db], text: 'app in (,nginx)' },
    { selector: 'in in (in,notin)', matches: [{ in: 'notin' }], rejects: [nginx], text: 'in in (in,notin)' },
    { selector: 'example.com/role=web', matches: [{ 'example.com/role': 'web' }], rejects: [nginx], text: 'example.com/role=web' },
  ];
  for (const c of cases) {
    const sel = parseLabelSelector(c.selector);
    for (const labels of c.matches) t.ok(sel.matches(labels), `${c.selector} matches ${JSON.stringify(labels)}`);
    for (const labels of c.rejects) t.notOk(sel.matches(labels), `${c.selector} rejects ${JSON.stringify(labels)}`);
    t.equal(sel.toString(), c.text, `${c.selector} prints canonically`);
    t.equal(formatLabelSelector(sel), c.text);
    t.equal(sel.empty, c.text === '');
  }
});

t.test('requirements are sorted by key and requiresExactMatch finds pinned values', async (t) => {
  const sel = parseLabelSelector('z=1,a in (x),m!=2');
  t.same(sel.requirements.map((r) => [r.key, r.operator, r.values]), [
    ['a', 'in', ['x']],
    ['m', '!=', ['2']],
    ['z', '=', ['1']],
  ]);
  t.equal(sel.requiresExactMatch('a'), 'x');
  t.equal(sel.requiresExactMatch('z'), '1');
  t.equal(sel.requiresExactMatch('m'), undefined);
  t.equal(sel.requiresExactMatch('nope'), undefined);
});

t.test('syntax and validation errors are 400 BadRequest with kube wording', async (t) => {
  const cases: [string, RegExp][] = [
    ['app in', /^unable to parse requirement: found '', expected: '\('$/],
    ['app in (a', /^unable to parse requirement: found '', expected: ',' or '\)'$/],
    ['app in (a b)', /found 'b', expected: ',' or '\)'/],
    ['app ~ x', /^unable to parse requirement: found '~', expected: in, notin, =, ==, !=, gt, lt$/],
    ['a=b c', /^found 'c', expected: ',' or 'end of string'$/],
    ['a=b,', /^found '', expected: identifier after ','$/],
    [',a', /^found ',', expected: !, identifier, or 'end of string'$/],
    ['!a=b', /^found '=', expected: ',' or 'end of string'$/],
    ['a==(b)', /found '\(', expected: identifier/],
    ['a b', /found 'b', expected: in, notin/],
    ['-app=x', /^unable to parse requirement: <nil>: Invalid value: "-app": name part must consist of alphanumeric characters/],
    ['a/b/c', /a qualified name must consist of/],
    ['/a', /prefix part must be non-empty/],
    ['Example.com/a', /prefix part a lowercase RFC 1123 subdomain/],
    [`${'k'.repeat(64)}=v`, /name part must be no more than 63 characters/],
    ['app=-x', /^unable to parse requirement: values\[0\]\[app\]: Invalid value: "-x": a valid label must be an empty string/],
    [`app=${'v'.repeat(64)}`, /must be no more than 63 characters/],
    ['n>x', /for 'Gt', 'Lt' operators, the value must be an integer/],
  ];
  for (const [selector, message] of cases) {
    throwsApi(t, () => parseLabelSelector(selector), 400, message, selector);
  }
});

t.test('labelSelectorFromObject (metav1.LabelSelector)', async (t) => {
  t.equal(labelSelectorFromObject(undefined), NOTHING, 'nil selects nothing');
  t.notOk(labelSelectorFromObject(null).matches({}));
  t.equal(labelSelectorFromObject(null).toString(), '');
  const everything = labelSelectorFromObject({});
  t.ok(everything.empty);
  t.ok(everything.matches(undefined));
  const sel = labelSelectorFromObject({
    matchLabels: { app: 'nginx' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['front', 'edge'] },
      { key: 'legacy', operator: 'DoesNotExist' },
      { key: 'env', operator: 'NotIn', values: ['dev'] },
      { key: 'team', operator: 'Exists' },
    ],
  });
  t.equal(sel.toString(), 'app=nginx,env notin (dev),!legacy,team,tier in (edge,front)');
  t.ok(sel.matches({ app: 'nginx', tier: 'front', team: 'a' }));
  t.notOk(sel.matches({ app: 'nginx', tier: 'front', team: 'a', legacy: 'y' }));
  t.notOk(sel.matches({ app: 'nginx', tier: 'front', team: 'a', env: 'dev' }));
  t.equal(formatLabelSelector({ matchLabels: { app: 'nginx' } }), 'app=nginx', 'Scale status.selector');
  t.equal(formatLabelSelector({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2');

  const bad: [unknown, RegExp][] = [
    [{ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }, /"Equals" is not a valid label selector operator/],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, /values: Invalid value: \[\]: for 'in', 'notin' operators, values set can't be empty/],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, /values set must be empty for exists and does not exist/],
    [{ matchLabels: { 'bad key': 'x' } }, /^key: Invalid value: "bad key"/],
  ];
  for (const [obj, message] of bad) {
    throwsApi(t, () => labelSelectorFromObject(obj as never), 400, message);
  }
});
