// The `image` service option and env(name, { images }): recorded by the builder, validated with the
// recipe line, and invisible to everything that runs locally (the plan is the same).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { env, validate } from '../../dsl/index.ts';
import { imageProblem } from '../../dsl/image.ts';
import { plan } from '../../sdk/plan/plan.ts';
import { parseCidr } from '../../sdk/plan/subnet.ts';

const source = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
const lineOf = (marker: string) => source.findIndex((line) => line.includes(`// @${marker}`)) + 1;

test('well-formed references pass, as the OCI distribution grammar has them', () => {
  const good = ['nginx', 'nginx:1.25', 'docker.io/library/nginx:1.25-alpine', 'localhost:5000/team/api:v2', 'registry.example.com/a/b/c:1.0_rc.1',
    `registry.example.com/user@sha256:${'0'.repeat(64)}`, `user:1@sha256:${'f'.repeat(64)}`, 'a/b_c__d-e---f:latest', '10.0.0.1:5000/x'];
  for (const ref of good) assert.is(imageProblem(ref), undefined, ref);
});

test('malformed references are refused, injection attempts included', () => {
  const bad = ['', 'Nginx', 'nginx:', ':tag', 'a//b', 'a:b:c', 'nginx\n', 'nginx\nkind: Secret', 'nginx:tag with space', 'a@sha256:abc', '-a', 'a/', '/a',
    `a:${'t'.repeat(129)}`, `${'a'.repeat(256)}:1`, 'nginx;rm -rf /', '$(id)', '"quoted"', 'nginx:1.0#x'];
  for (const ref of bad) assert.type(imageProblem(ref), 'string', JSON.stringify(ref));
  assert.match(imageProblem(42)!, /must be a string/);
});

test('.service(…, { image }) is recorded; a malformed one is an issue at its line', () => {
  const spec = env('img')
    .namespace('a').veth().service(['/bin/a'], { image: 'registry.example.com/a:1' })
    .namespace('b').veth().service(['/bin/b'], { image: 'Not An Image' }) // @bad-image
    .spec;
  assert.is(spec.services[0]!.image, 'registry.example.com/a:1');
  const issues = validate(spec);
  assert.is(issues.length, 1, JSON.stringify(issues));
  assert.is(issues[0]!.path, 'services[1].image');
  assert.match(issues[0]!.message, /service 'b': image "Not An Image" is not an image reference/);
  assert.is(issues[0]!.loc?.line, lineOf('bad-image'));
  assert.not.ok('image' in env('x').namespace('a').service(['/bin/a']).spec.services[0]!, 'no image key when none is given (specs round-trip through JSON as before)');
});

test('.task(…, { image }) is recorded and checked the same way', () => {
  const spec = env('img')
    .namespace('a').veth()
    .task('migrate', ['/app/migrate'], { image: 'registry.example.com/migrate:1' })
    .task('seed', ['/app/seed'], { image: 'bad image' }) // @bad-task-image
    .service(['/bin/a'], { dependsOn: ['migrate', 'seed'] })
    .spec;
  assert.is(spec.tasks?.[0]?.image, 'registry.example.com/migrate:1');
  const issues = validate(spec).filter((i) => i.path.endsWith('.image'));
  assert.equal(issues.map((i) => [i.path, i.loc?.line]), [['tasks[1].image', lineOf('bad-task-image')]]);
  assert.match(issues[0]!.message, /task 'seed': image "bad image" is not an image reference/);
});

test('env(name, { images }) must map known services to well-formed references', () => {
  const spec = env('img', { images: { a: 'registry.example.com/a:1', ghost: 'registry.example.com/g:1', b: 'bad ref' } }) // @images
    .namespace('a').veth().service(['/bin/a'])
    .namespace('b').veth().service(['/bin/b'])
    .spec;
  const issues = validate(spec);
  assert.equal(issues.map((i) => i.path), ['options.images.ghost', 'options.images.b']);
  assert.match(issues[0]!.message, /unknown service "ghost"/);
  assert.ok(issues.every((i) => i.loc?.line === lineOf('images')));
  const wrongType = validate(env('img', { images: ['a'] as never }).namespace('a').service(['/bin/a']).spec);
  assert.match(wrongType[0]?.message ?? '', /images must be an object/);
});

test('the builder copies the images map: the caller\'s object stays unfrozen, the spec\'s is frozen', () => {
  const images: Record<string, string> = { a: 'registry.example.com/a:1' };
  const builder = env('img', { images }).namespace('a').service(['/bin/a']);
  assert.not.ok(Object.isFrozen(images));
  images.a = 'changed.example.com/a:2';
  assert.is(builder.spec.options.images?.a, 'registry.example.com/a:1');
  assert.ok(Object.isFrozen(builder.spec.options.images));
});

test('images change nothing of what runs locally: the plan is the same', () => {
  const base = env('same').namespace('a').veth().service(['/bin/a'], 80);
  const withImages = env('same', { images: { a: 'registry.example.com/a:1' } }).namespace('a').veth().service(['/bin/a'], 80, { image: 'registry.example.com/a:0' });
  const planOf = (spec: typeof base.spec) =>
    JSON.stringify(plan({ spec, instance: 'i', subnet: parseCidr('10.213.9.0/24'), instanceDir: '/s', resolveCommand: () => ['/bin/a'], hiddenPaths: [] }), (key, value) => (key === 'loc' ? undefined : value));
  assert.is(planOf(withImages.spec), planOf(base.spec));
});

test.run();
