#!/usr/bin/env node
// A native-solc stand-in for py-solc-x / ape-solidity / slither, backed by the npm `solc`
// package (the official compiler built to WebAssembly). It answers the two calls those tools
// make: `--version`, and `--standard-json [--base-path DIR] [--allow-paths ...]` with the JSON
// input on stdin. Imports are resolved from the base path and from <root>/node_modules.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(path.dirname(fs.realpathSync(__filename)), '..');
const solc = require(path.join(root, 'node_modules', 'solc'));

function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv.includes('--version')) {
  // Same two-line shape as native solc, which py-solc-x parses.
  process.stdout.write('solc, the solidity compiler commandline interface\n');
  process.stdout.write(`Version: ${solc.version().replace('.Emscripten.clang', '.Linux.g++')}\n`);
  process.exit(0);
}

if (!process.argv.includes('--standard-json')) {
  process.stderr.write('tools/solc.js: only --version and --standard-json are supported\n');
  process.exit(2);
}

const basePath = arg('--base-path') || process.cwd();
const searchRoots = [basePath, process.cwd(), path.join(root, 'node_modules'), root];

function findImport(importPath) {
  for (const dir of searchRoots) {
    const candidate = path.resolve(dir, importPath);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImport }));
