import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { parse as parseYaml } from 'yaml';
import { manifestFile, startServer } from './harness.js';
import type { KubectlResult, RunningServer } from './harness.js';

/**
 * Real `kubectl explain` (1.29, 1.31: OpenAPI v3) against a real `flotilla serve`: it must resolve
 * field paths through our /openapi/v3 documents and print our own descriptions (read here from the
 * schema sources in openapi/). Plus kubectl's field validation: `--validate=strict` makes kubectl
 * send `fieldValidation=Strict` and the server must reject a misspelled field; `--validate=false`
 * sends `fieldValidation=Ignore` and the server drops it; `--validate=warn` gets a warning.
 */
const MINORS = ['1.29', '1.31'];
const OPENAPI_DIR = fileURLToPath(new URL('../openapi/', import.meta.url));

interface Schema {
  description?: string;
  type?: string;
  $ref?: string;
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
}

async function loadSchemas(): Promise<Map<string, Schema>> {
  const schemas = new Map<string, Schema>();
  for (const file of (await readdir(OPENAPI_DIR)).filter((f) => f.endsWith('.yaml'))) {
    const doc = parseYaml(await readFile(`${OPENAPI_DIR}${file}`, 'utf8')) as { components?: { schemas?: Record<string, Schema> } };
    for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) schemas.set(name, schema);
  }
  return schemas;
}

/** Follows `$ref` / single-`allOf` wrappers (how the schema sources reference other types). */
function deref(schemas: Map<string, Schema>, schema: Schema): Schema {
  for (let i = 0; i < 10; i++) {
    const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined);
    if (!ref) return schema;
    const target = schemas.get(ref.replace('#/components/schemas/', ''));
    if (!target) throw new Error(`unresolved ${ref}`);
    schema = target;
  }
  throw new Error('$ref chain too long');
}

/** What `kubectl explain <root>.<path>` should show: the field's and its type's descriptions, and its fields. */
function expected(schemas: Map<string, Schema>, root: string, path: string[]): { fieldDescription?: string; typeDescription?: string; fields: [string, string][] } {
  let schema = deref(schemas, schemas.get(root) ?? {});
  let fieldDescription: string | undefined;
  for (const segment of path) {
    const property = schema.properties?.[segment];
    if (!property) throw new Error(`${root} has no field ${path.join('.')}`);
    fieldDescription = property.description;
    schema = deref(schemas, property.type === 'array' && property.items ? property.items : property);
  }
  const fields = Object.entries(schema.properties ?? {}).map(([name, p]) => [name, p.description ?? ''] as [string, string]);
  return { ...(fieldDescription !== undefined ? { fieldDescription } : {}), ...(schema.description !== undefined ? { typeDescription: schema.description } : {}), fields };
}

const flat = (text: string): string => text.replace(/\s+/g, ' ').trim();

function ok(t: Test, result: KubectlResult, what: string): string {
  t.equal(result.code, 0, what, { stderr: result.stderr });
  return result.stdout;
}

const typoDeployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replica: 2
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: main
        image: nginx:1.27
`;

const EXPLAINED = [
  { target: 'deployment.spec.template.spec.containers', kind: 'Deployment', group: 'apps', root: 'io.k8s.api.apps.v1.Deployment', path: ['spec', 'template', 'spec', 'containers'] },
  { target: 'configmap', kind: 'ConfigMap', group: '', root: 'io.k8s.api.core.v1.ConfigMap', path: [] },
  { target: 'pods.spec.containers.ports', kind: 'Pod', group: '', root: 'io.k8s.api.core.v1.Pod', path: ['spec', 'containers', 'ports'] },
];

t.test('kubectl explain and field validation', async (t) => {
  const schemas = await loadSchemas();
  const server: RunningServer = await startServer();
  t.teardown(() => server.stop());

  for (const minor of MINORS) {
    t.test(`kubectl ${minor}`, async (t) => {
      const k = (args: string[]) => server.kubectl(minor, args);

      for (const e of EXPLAINED) {
        t.test(`explain ${e.target}`, async (t) => {
          const out = ok(t, await k(['explain', e.target]), `explain ${e.target} exits 0`);
          const text = flat(out);
          t.match(out, new RegExp(`^KIND:\\s+${e.kind}$`, 'm'));
          t.match(out, /^VERSION:\s+v1$/m);
          if (e.group) t.match(out, new RegExp(`^GROUP:\\s+${e.group}$`, 'm'));
          const want = expected(schemas, e.root, e.path);
          const last = e.path.at(-1);
          if (last !== undefined) t.match(out, new RegExp(`^FIELD:\\s+${last} <`, 'm'), 'FIELD: names the field and its type');
          t.match(out, /^FIELDS:$/m, 'FIELDS: lists the fields');
          t.match(out, /^DESCRIPTION:$/m);
          if (want.fieldDescription) t.ok(text.includes(flat(want.fieldDescription)), `the field's description: "${want.fieldDescription}"`);
          if (want.typeDescription) t.ok(text.includes(flat(want.typeDescription)), `the type's description: "${want.typeDescription}"`);
          t.ok(want.fields.length > 3, 'the schema has fields to list');
          for (const [name, description] of want.fields) {
            t.match(out, new RegExp(`^  ${name}\\t<`, 'm'), `field ${name} is listed with its type`);
            if (description) t.ok(text.includes(flat(description)), `field ${name}: "${description}"`);
          }
        });
      }

      t.test('explain of a field that does not exist fails', async (t) => {
        const result = await k(['explain', 'configmap.spec.nothing']);
        t.not(result.code, 0);
        t.match(result.stderr, /field "spec" does not exist|does not exist/);
      });

      t.test('create --validate=strict rejects a misspelled field, --validate=false drops it', async (t) => {
        const name = `typo-${minor.replace('.', '')}`;
        const file = await manifestFile(server, `${name}.yaml`, typoDeployment(name));
        const strict = await k(['create', '-f', file, '--validate=strict', '-v=6']);
        t.equal(strict.code, 1, '--validate=strict fails');
        t.match(strict.stderr, 'unknown field "spec.replica"', 'naming the field');
        t.match(strict.stderr, /Error from server \(BadRequest\)/, 'as the server\'s BadRequest');
        t.match(strict.stderr, /POST \S+\/deployments\?\S*fieldValidation=Strict/, 'kubectl left the check to the server (fieldValidation=Strict)');
        t.equal((await k(['get', 'deploy', name])).code, 1, 'nothing was created');

        const warned = await k(['create', '-f', file, '--validate=warn']);
        t.equal(warned.code, 0, '--validate=warn succeeds', { stderr: warned.stderr });
        t.match(warned.stderr, 'Warning: unknown field "spec.replica"', 'with the server\'s warning');
        ok(t, await k(['delete', 'deploy', name]), 'delete');

        const lax = await k(['create', '-f', file, '--validate=false', '-v=6']);
        t.equal(lax.code, 0, '--validate=false succeeds', { stderr: lax.stderr });
        t.match(lax.stdout, `deployment.apps/${name} created`);
        t.match(lax.stderr, /POST \S+\/deployments\?\S*fieldValidation=Ignore/, 'kubectl sends fieldValidation=Ignore');
        t.notMatch(lax.stderr, /Warning: unknown field/, 'and gets no warning');
        const live = JSON.parse(ok(t, await k(['get', 'deploy', name, '-o', 'json']), 'get')) as { spec: Record<string, unknown> };
        t.equal(live.spec['replica'], undefined, 'the unknown field was dropped');
        t.equal(live.spec['replicas'], 1, 'replicas took its default');
        ok(t, await k(['delete', 'deploy', name]), 'delete');
      });
    });
  }
});
