/**
 * The package as a user installs it: packed from a clean copy of the repository (no `dist/`, so the
 * `prepare` script must build it), installed as a tarball into a new project, and used there from
 * CommonJS, ESM and TypeScript, with the installed `tessera` binary.
 *
 * The store clients a user would install (redis, better-sqlite3, express-session) are linked from
 * this repository's node_modules rather than downloaded again, so the test runs offline but for
 * Tessera's own runtime dependencies, which npm takes from its cache.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const PEERS = [
  'redis',
  'better-sqlite3',
  'express-session',
  '@types/express-session',
  '@types/node',
];
const ENTRIES = Object.keys(
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: object }).exports,
).filter((e) => e !== './package.json');

let work: string;
let app: string;
let files: string[];

/** The user's environment, minus the `npm_*` variables `npm test` sets that npm and npx would inherit. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key];
  return env;
}

function npm(args: string[], cwd: string) {
  return run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: userEnv(),
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tessera-packed-'));
  // A clean copy of the working tree: what git tracks or would track, without dist/ or node_modules.
  const clone = join(work, 'clone');
  const { stdout } = await run(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  for (const file of stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(root, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    copyFileSync(join(root, file), join(clone, file));
  }
  assert.ok(!existsSync(join(clone, 'dist')));
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const packed = await npm(['pack', '--json', '--pack-destination', work], clone);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  assert.ok(info);
  files = info.files.map((f) => f.path);

  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  await npm(['install', '--prefer-offline', join(work, info.filename)], app);
  for (const peer of PEERS) {
    mkdirSync(dirname(join(app, 'node_modules', peer)), { recursive: true });
    symlinkSync(join(root, 'node_modules', peer), join(app, 'node_modules', peer), 'dir');
  }
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function node(file: string, env: Record<string, string> = {}) {
  return run(process.execPath, [file], {
    cwd: app,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

describe('the packed package, installed into a new project', () => {
  it('ships the build, the SQL files and the README picture, and no source maps', () => {
    assert.ok(files.includes('dist/index.js'), 'dist/index.js');
    assert.ok(files.includes('dist/index.d.ts'), 'dist/index.d.ts');
    assert.ok(files.includes('dist/cli/index.js'), 'dist/cli/index.js');
    assert.ok(files.includes('docs/admin.png'), 'the README links docs/admin.png');
    assert.ok(
      files.some((f) => f.startsWith('sql/')),
      'sql/',
    );
    assert.deepEqual(
      files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/')),
      [],
    );
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const [, target] of readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) {
      if (!/^https?:/.test(target!)) assert.ok(files.includes(target!), `README image ${target}`);
    }
  });

  it('every entry loads with require() and import(), and each factory works', async () => {
    copyFileSync(join(root, 'test/package/consumer-smoke.cjs'), join(app, 'smoke.cjs'));
    writeFileSync(
      join(app, 'require.cjs'),
      "require('./smoke.cjs').smoke(async (name) => require(name)).catch((e) => { console.error(e); process.exit(1); });\n",
    );
    writeFileSync(
      join(app, 'import.mjs'),
      "import { createRequire } from 'node:module';\nconst { smoke } = createRequire(import.meta.url)('./smoke.cjs');\nawait smoke((name) => import(name));\n",
    );
    const expected = [
      'tessera-session',
      ...ENTRIES.filter((e) => e !== '.').map((e) => e.slice(2)),
    ];
    for (const file of ['require.cjs', 'import.mjs']) {
      const { stdout } = await node(file);
      const called = JSON.parse(stdout.trim().split('\n').pop()!) as string[];
      assert.deepEqual([...called].sort(), [...expected].sort(), file);
    }
  });

  it('runs the Quick start as .mjs, .cjs and .ts (tsc --strict with nodenext and with bundler)', async () => {
    const quickstart = readFileSync(join(root, 'examples/quickstart.ts'), 'utf8');
    writeFileSync(join(app, 'quickstart.mjs'), quickstart);
    copyFileSync(join(root, 'examples/quickstart.cjs'), join(app, 'quickstart.cjs'));
    for (const file of ['quickstart.mjs', 'quickstart.cjs']) {
      const { stdout } = await node(file);
      assert.equal(stdout.trim(), 'hello alice true', file);
    }
    for (const [module, moduleResolution] of [
      ['nodenext', 'nodenext'],
      ['preserve', 'bundler'],
    ] as const) {
      const dir = join(app, `ts-${moduleResolution}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'quickstart.ts'), quickstart);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            target: 'ES2022',
            module,
            moduleResolution,
            types: ['node'],
            outDir: 'out',
          },
          files: ['quickstart.ts'],
        }),
      );
      await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 120_000 }).catch(
        (err: { stdout?: string }) => assert.fail(`tsc ${moduleResolution}: ${err.stdout}`),
      );
      if (moduleResolution === 'nodenext') {
        const { stdout } = await node(join(dir, 'out', 'quickstart.js'));
        assert.equal(stdout.trim(), 'hello alice true');
      }
    }
  }, 300_000);

  it('a CommonJS TypeScript file types its require() of the package (TypeScript 5.8+, nodenext)', async () => {
    const dir = join(app, 'ts-cjs');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'app.cts'),
      "import { createSessionManager, type SessionManager } from 'tessera-session';\nimport { TesseraStore } from 'tessera-session/express-session';\nconst m: SessionManager = createSessionManager();\nconst s = new TesseraStore({ store: require('tessera-session').createMemoryStore() });\nvoid m.close();\nvoid s;\n",
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', types: ['node'], noEmit: true },
        files: ['app.cts'],
      }),
    );
    await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 120_000 }).catch(
      (err: { stdout?: string }) => assert.fail(`tsc: ${err.stdout}`),
    );
  }, 120_000);

  it('in this repository, after its set-up command, npx tessera runs the CLI', async () => {
    const { stdout } = await run('npx', ['--no-install', 'tessera', '--help'], {
      cwd: root,
      env: userEnv(),
      timeout: 120_000,
    });
    assert.match(stdout, /doctor/);
  }, 150_000);

  it('the installed tessera binary answers --help and runs doctor on SQLite', async () => {
    const bin = join(app, 'node_modules', '.bin', 'tessera');
    const help = await run(bin, ['--help'], { cwd: app, timeout: 30_000 });
    assert.match(help.stdout, /doctor/);
    const env = {
      ...process.env,
      SESSION_STORAGE: 'sqlite',
      DATABASE_URL: `sqlite:${join(app, 'sessions.sqlite')}`,
    };
    await run(bin, ['migrate'], { cwd: app, env, timeout: 30_000 });
    const doctor = await run(bin, ['doctor'], { cwd: app, env, timeout: 30_000 });
    assert.match(doctor.stdout, /Healthy/);
  });
});
