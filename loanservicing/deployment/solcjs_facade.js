#!/usr/bin/env node
// A stand-in for the native `solc` binary, backed by solc-js from the repo's node_modules.
//
// Supports the two interfaces py-solc-x and ape-solidity use:
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths a,b]
//        [prefix=target ...] [-]            (standard JSON on stdin, output JSON on stdout)
// Imports not given inline in the input are read from disk by an import callback that
// resolves them (after command-line remappings) against the base path, the include paths,
// the current directory and the repo's node_modules.
"use strict";

const fs = require("fs");
const path = require("path");

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const NODE_MODULES = path.join(REPO_ROOT, "node_modules");
const solc = require(path.join(NODE_MODULES, "solc"));

function fail(message) {
  process.stderr.write(message + "\n");
  process.exit(1);
}

function nativeLongVersion() {
  // solc-js reports e.g. 0.8.28+commit.7893614a.Emscripten.clang; the native Linux build
  // reports the same version and commit with a .Linux.g++ platform suffix.
  const match = /^(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?\+commit\.[0-9a-f]+)/.exec(solc.version());
  if (!match) fail("Error: cannot parse solc-js version " + solc.version());
  return match[1] + ".Linux.g++";
}

function parseArgs(argv) {
  const options = {
    version: false,
    standardJson: false,
    basePath: null,
    includePaths: [],
    allowPaths: [],
    remappings: [],
  };
  const valued = new Set(["--base-path", "--include-path", "--allow-paths"]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith("--") && arg.includes("=")) {
      const eq = arg.indexOf("=");
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (valued.has(arg) && value === null) {
      if (i + 1 >= argv.length) fail("Error: option '" + arg + "' requires an argument");
      value = argv[++i];
    }
    switch (arg) {
      case "--version":
        options.version = true;
        break;
      case "--standard-json":
        options.standardJson = true;
        break;
      case "--base-path":
        options.basePath = value;
        break;
      case "--include-path":
        options.includePaths.push(value);
        break;
      case "--allow-paths":
        options.allowPaths.push(...value.split(",").filter((p) => p !== ""));
        break;
      case "-":
        break; // read from stdin, which standard JSON mode does anyway
      default:
        if (arg.startsWith("-")) fail("unrecognised option '" + arg + "'");
        if (arg.includes("=")) {
          options.remappings.push(parseRemapping(arg));
        } else {
          fail("Error: source files on the command line are not supported by the solc-js " +
            "facade in --standard-json mode: " + arg);
        }
    }
  }
  return options;
}

function parseRemapping(text) {
  // [context:]prefix=target
  const eq = text.indexOf("=");
  let left = text.slice(0, eq);
  const target = text.slice(eq + 1);
  let context = "";
  const colon = left.indexOf(":");
  if (colon !== -1) {
    context = left.slice(0, colon);
    left = left.slice(colon + 1);
  }
  return { context, prefix: left, target };
}

function applyRemappings(remappings, importPath) {
  let best = null;
  for (const r of remappings) {
    if (importPath.startsWith(r.prefix) && (best === null || r.prefix.length > best.prefix.length)) {
      best = r;
    }
  }
  return best === null ? importPath : best.target + importPath.slice(best.prefix.length);
}

function isInside(file, dir) {
  const rel = path.relative(dir, file);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function makeImportCallback(options) {
  const cwd = process.cwd();
  const basePath = options.basePath ? path.resolve(cwd, options.basePath) : cwd;
  const includePaths = options.includePaths.map((p) => path.resolve(cwd, p));
  const roots = [basePath, ...includePaths, cwd];
  const allowed = [...roots, NODE_MODULES, ...options.allowPaths.map((p) => path.resolve(cwd, p))];

  return function importCallback(sourceUnitName) {
    const remapped = applyRemappings(options.remappings, sourceUnitName);
    const candidates = [];
    if (path.isAbsolute(remapped)) {
      candidates.push(remapped);
    } else {
      for (const root of roots) candidates.push(path.resolve(root, remapped));
      // Packages such as @openzeppelin/contracts live in the repo's node_modules.
      candidates.push(path.resolve(NODE_MODULES, remapped));
    }
    for (const candidate of candidates) {
      if (!fs.existsSync(candidate) || !fs.statSync(candidate).isFile()) continue;
      const real = fs.realpathSync(candidate);
      if (!allowed.some((dir) => isInside(candidate, dir) || isInside(real, dir))) {
        return { error: "File outside of allowed directories: " + candidate };
      }
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
    return { error: "File not found. Searched the following locations: " + candidates.join(", ") };
  };
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.version) {
    process.stdout.write(
      "solc, the solidity compiler commandline interface\nVersion: " + nativeLongVersion() + "\n",
    );
    return;
  }
  if (!options.standardJson) {
    fail("Error: the solc-js facade only supports --version and --standard-json");
  }
  const input = fs.readFileSync(0, "utf8");
  const output = solc.compile(input, { import: makeImportCallback(options) });
  process.stdout.write(output + "\n");
}

main();
