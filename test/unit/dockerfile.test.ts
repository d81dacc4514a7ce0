/**
 * What can be read off the Dockerfile without a Docker daemon: two stages, native modules built
 * once in the first, a runtime stage on a Node LTS with no compiler and no development tools,
 * run as a non-root user with its state on a volume, tini as PID 1, and a health check.
 * test/integration/docker-image.test.ts builds and runs the image where a daemon is reachable.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCommandLine } from '../../src/cliArgs.ts';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped, by stage. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest.replace(/\s+/g, ' ') };
    if (instruction.keyword === 'FROM') {
      const [from = '', , name] = instruction.args.split(' ');
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [key = '', value = ''] = instruction.args.split('=');
      args.set(key, value);
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'));
const build = dockerfile.stages.find((s) => s.name === 'build');
const runtime = dockerfile.stages.at(-1);

function all(stage: Stage | undefined, keyword: string): string[] {
  return (stage?.instructions ?? []).filter((i) => i.keyword === keyword).map((i) => i.args);
}

function imageOf(stage: Stage | undefined): string {
  return (stage?.from ?? '').replace(/\$\{(\w+)\}/g, (_, name: string) => dockerfile.args.get(name) ?? `\${${name}}`);
}

/** Runs written in exec form, `["a", "b"]`, as their words. */
function execForm(args: string): string[] {
  return JSON.parse(args.replace(/^--\S+ /, '')) as string[];
}

describe('the Dockerfile', () => {
  it('has a build stage and a separate runtime stage, both on a Node LTS of 22 or later', () => {
    assert.ok(build, 'a stage named build');
    assert.ok(runtime && runtime !== build, 'the last stage is not the build stage');
    for (const stage of [build, runtime]) {
      const image = imageOf(stage);
      const major = Number(/^node:(\d+)/.exec(image)?.[1]);
      assert.ok(major >= 22 && major % 2 === 0, `${image}: an even (LTS) Node release, 22 or later`);
    }
    assert.equal(imageOf(build).split(':')[1]?.replace(/^\d+/, ''), imageOf(runtime).split(':')[1]?.replace(/^\d+/, ''), 'one Debian');
    assert.equal(imageOf(build).split(':')[1]?.split('-')[0], imageOf(runtime).split(':')[1]?.split('-')[0], 'one Node');
  });

  it('builds better-sqlite3 from source in the build stage, with Node’s own headers, then prunes to production', () => {
    const runs = all(build, 'RUN').join('\n');
    const env = all(build, 'ENV').join(' ');
    assert.match(runs, /apt-get install [^\n]*\bpython3\b/);
    assert.match(runs, /apt-get install [^\n]*\bg\+\+/);
    assert.match(runs, /apt-get install [^\n]*\bmake\b/);
    assert.match(env, /npm_config_build_from_source=true/);
    assert.match(env, /npm_config_nodedir=\/usr\/local/, 'no header download from nodejs.org');
    assert.match(runs, /npm ci\b/);
    assert.match(runs, /npm rebuild better-sqlite3/);
    assert.match(runs, /npm run build/);
    assert.match(runs, /npm prune --omit=dev/);
  });

  it('copies the pruned node_modules and dist/ into a runtime stage that installs nothing from npm and has no compiler', () => {
    const copies = all(runtime, 'COPY');
    assert.ok(copies.includes('--from=build /app/node_modules ./node_modules'), copies.join('\n'));
    assert.ok(copies.includes('--from=build /app/dist ./dist'), copies.join('\n'));
    assert.ok(
      copies.some((c) => /package\.json/.test(c)),
      'package.json, which makes dist/ ES modules',
    );
    const runs = all(runtime, 'RUN').join('\n');
    assert.doesNotMatch(runs, /\bnpm (ci|install|i|rebuild)\b/);
    assert.doesNotMatch(runs, /\b(g\+\+|gcc|make|python3?|build-essential)\b/);
    assert.doesNotMatch(runs, /\btsx\b|\besbuild\b/);
  });

  it('runs as a non-root user, by number', () => {
    const users = all(runtime, 'USER');
    assert.equal(users.length, 1);
    const [user = ''] = users[0]!.split(':');
    assert.match(user, /^\d+$/, 'numeric, so runAsNonRoot can check it');
    assert.notEqual(Number(user), 0);
  });

  it('keeps the state on a volume at /var/lib/sesame that the user owns', () => {
    assert.ok(all(runtime, 'VOLUME').some((v) => v.includes('/var/lib/sesame')));
    assert.match(all(runtime, 'ENV').join(' '), /SESAME_STATE=\/var\/lib\/sesame\/[\w.-]+/);
    assert.match(all(runtime, 'RUN').join('\n'), /chown node:node \/var\/lib\/sesame/);
    const runIndex = runtime!.instructions.findIndex((i) => i.keyword === 'RUN' && i.args.includes('/var/lib/sesame'));
    const volumeIndex = runtime!.instructions.findIndex((i) => i.keyword === 'VOLUME');
    assert.ok(runIndex >= 0 && runIndex < volumeIndex, 'the folder is made before VOLUME, so a new volume copies its owner');
  });

  it('runs the compiled CLI under tini, which hands signals to it, with start as the default command', () => {
    assert.match(all(runtime, 'RUN').join('\n'), /apt-get install [^\n]*\btini\b/);
    const entrypoint = execForm(all(runtime, 'ENTRYPOINT')[0] ?? '[]');
    assert.deepEqual(entrypoint, ['/usr/bin/tini', '--', 'node', 'dist/cli.js']);
    const command = execForm(all(runtime, 'CMD')[0] ?? '[]');
    assert.deepEqual(command, ['start']);
    assert.equal((parseCommandLine(command) as { run?: string }).run, 'start', 'a command the CLI runs');
  });

  it('checks /healthz on $PORT with Node, the slim image having no curl', () => {
    const healthcheck = all(runtime, 'HEALTHCHECK')[0] ?? '';
    assert.match(healthcheck, /CMD \["node", "-e", .*\/healthz/);
    assert.match(healthcheck, /process\.env\.PORT/);
    assert.match(all(runtime, 'EXPOSE').join(' '), /\b3000\b/);
  });

  it('leaves tsx and esbuild to development installs', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
      engines: { node: string };
    };
    assert.equal(pkg.dependencies.tsx, undefined);
    assert.ok(pkg.devDependencies.tsx);
    assert.match(pkg.engines.node, /^>=20\.10/);
    const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    for (const name of ['node_modules/tsx', 'node_modules/esbuild', 'node_modules/typescript']) {
      assert.equal(lock.packages[name]?.dev, true, `${name} is a development dependency`);
    }
  });

  it('sends the build everything the Dockerfile copies', () => {
    const ignored = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src']) {
      assert.ok(!ignored.includes(path), `${path} is not in .dockerignore`);
    }
  });
});
