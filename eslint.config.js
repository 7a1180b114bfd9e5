// Folder boundaries are enforced here, not by hope (docs: DESIGN "Conventions").
// One table, AREAS, says what each folder may reach; every rule below is derived from it.
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

const ELECTRON_MESSAGE =
  'Only electron/main and electron/preload may import Electron; the agent, relay, CLI and UI must run without it.';
const NODE_MESSAGE = 'This folder runs outside Node (the renderer, or anywhere for shared/): no Node built-ins.';

/** Bare module names an area may not import, for no-restricted-imports and for the dynamic forms it misses. */
const ELECTRON_MODULES = { names: ['electron'], regex: '^electron/', message: ELECTRON_MESSAGE };
const NODE_MODULES = {
  names: builtinModules.filter((name) => !name.startsWith('node:')),
  // Every node: specifier, including node:-only modules (node:test, node:sea) that builtinModules leaves out.
  regex: '^node:',
  message: NODE_MESSAGE,
};

/**
 * `only`: the folders relative imports may land in. `deny`: folders they must not land in.
 * Folder names are repo-relative; a folder covers everything below it.
 */
const AREAS = {
  shared: {
    files: ['shared/**'],
    only: ['shared'],
    modules: [ELECTRON_MODULES, NODE_MODULES],
    why: 'shared/ holds contracts every process loads, so it depends on nothing outside itself',
  },
  renderer: {
    files: ['renderer/**'],
    // The Vite config is build tooling that runs in Node, not code shipped in the UI.
    ignores: ['renderer/vite.config.ts'],
    only: ['renderer', 'shared'],
    modules: [ELECTRON_MODULES, NODE_MODULES],
    why: 'the UI talks to the connector only through the ConnectorApi contract in shared/',
  },
  agent: {
    files: ['electron/agent/**'],
    deny: ['relay', 'cli', 'renderer', 'electron/main', 'electron/preload'],
    modules: [ELECTRON_MODULES],
    why: 'the agent is pure Node and also runs headless, without the shell, relay or UI',
  },
  relay: {
    files: ['relay/**'],
    deny: ['electron', 'cli', 'renderer'],
    modules: [ELECTRON_MODULES],
    why: 'the relay runs in the cloud, apart from the connector and its UI',
  },
  cli: {
    files: ['cli/**'],
    deny: ['electron/main', 'electron/preload', 'renderer'],
    modules: [ELECTRON_MODULES],
    why: 'the CLI runs on servers without Electron',
  },
};

const SHELL_FILES = ['electron/main/**', 'electron/preload/**'];

/**
 * Browser-only globals, plus Node's own, which shared/ may not touch. Web-platform APIs that
 * Node also has (URL, TextEncoder, fetch, crypto, AbortController…) stay allowed, except
 * storage and navigator, which Node only fakes.
 */
const NODE_ONLY_GLOBALS = ['process', 'Buffer', 'global', '__dirname', '__filename', 'require', 'module', 'exports', 'setImmediate', 'clearImmediate'];
const SHARED_FORBIDDEN_GLOBALS = [
  ...new Set([
    ...Object.keys(globals.browser).filter((name) => !(name in globals.node) && !(name in globals.es2021)),
    'localStorage',
    'sessionStorage',
    'navigator',
    ...NODE_ONLY_GLOBALS,
  ]),
].map((name) => ({ name, message: 'shared/ is environment-neutral: no DOM or Node-only globals.' }));

function restrictedImports(modules) {
  return [
    'error',
    {
      paths: modules.flatMap((m) => m.names.map((name) => ({ name, message: m.message }))),
      patterns: modules.map((m) => ({ regex: m.regex, message: m.message })),
    },
  ];
}

function toPosix(p) {
  return p.split(path.sep).join('/');
}

function isUnder(target, folder) {
  return target === folder || target.startsWith(`${folder}/`);
}

/**
 * no-restricted-imports matches import strings, so it cannot tell where `../../relay/x.js` lands,
 * and it ignores import() and require(). This rule resolves relative specifiers against the file
 * and checks the folder they reach; for bare specifiers it covers only the dynamic forms.
 */
const importBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep each folder inside the boundaries set in eslint.config.js AREAS.' },
    schema: [{ enum: Object.keys(AREAS) }],
    messages: {
      folder: "'{{source}}' reaches {{target}}, which {{area}} code may not import: {{why}}.",
      module: "'{{source}}' may not be loaded here. {{message}}",
    },
  },
  create(context) {
    const areaName = context.options[0];
    const area = AREAS[areaName];
    const fileDir = path.dirname(context.filename);

    function checkRelative(node, source) {
      const target = toPosix(path.relative(ROOT, path.resolve(fileDir, source)));
      const outside = target.startsWith('../') || target === '..' || path.isAbsolute(target);
      const allowed = area.only
        ? !outside && area.only.some((folder) => isUnder(target, folder))
        : !(area.deny ?? []).some((folder) => isUnder(target, folder));
      if (!allowed) {
        context.report({
          node,
          messageId: 'folder',
          data: { source, target: outside ? 'a path outside the project' : target, area: areaName, why: area.why },
        });
      }
    }

    function checkBare(node, source) {
      for (const m of area.modules) {
        if (m.names.includes(source) || new RegExp(m.regex).test(source)) {
          context.report({ node, messageId: 'module', data: { source, message: m.message } });
          return;
        }
      }
    }

    function check(node, sourceNode, dynamic) {
      if (!sourceNode || sourceNode.type !== 'Literal' || typeof sourceNode.value !== 'string') return;
      const source = sourceNode.value;
      if (source.startsWith('.') || source.startsWith('/')) checkRelative(node, source);
      else if (dynamic) checkBare(node, source);
    }

    return {
      ImportDeclaration: (node) => check(node, node.source, false),
      ExportNamedDeclaration: (node) => check(node, node.source, false),
      ExportAllDeclaration: (node) => check(node, node.source, false),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' && check(node, node.moduleReference.expression, false),
      ImportExpression: (node) => check(node, node.source, true),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length === 1) {
          check(node, node.arguments[0], true);
        }
      },
    };
  },
};

const skybridge = { meta: { name: 'skybridge-boundaries' }, rules: { 'import-boundaries': importBoundaries } };

const CODE_FILES = ['**/*.{ts,tsx,cts,mts,js,jsx,mjs,cjs}'];

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'release/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: CODE_FILES,
    plugins: { skybridge },
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/no-restricted-imports': restrictedImports([ELECTRON_MODULES]),
    },
  },
  { files: CODE_FILES, ignores: ['renderer/**'], languageOptions: { globals: globals.node } },
  { files: SHELL_FILES, rules: { '@typescript-eslint/no-restricted-imports': 'off' } },
  ...Object.entries(AREAS).map(([name, area]) => ({
    files: area.files,
    ignores: area.ignores ?? [],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrictedImports(area.modules),
      'skybridge/import-boundaries': ['error', name],
    },
  })),
  { files: ['shared/**'], rules: { 'no-restricted-globals': ['error', ...SHARED_FORBIDDEN_GLOBALS] } },
  { files: ['renderer/**'], languageOptions: { globals: globals.browser } },
);
