import { join } from 'node:path'
import ts from 'typescript'
import type { Snippet } from './markdown-snippets.js'

/*
 * Type-checks Markdown snippets the way a user's project would compile them:
 * each block its own ES module (NodeNext, strict, decorators, top-level
 * await), importing the package by its public names, which a paths mapping
 * points at this repository's entry points. One program for every block.
 */

export interface SnippetFailure {
  snippet: Snippet
  /** `file:line:column TS1234 message`, the line and column in the Markdown file */
  text: string
}

const ENTRY_POINTS: Record<string, string> = {
  'fastify-pachinko': 'lib/index.ts',
  'fastify-pachinko/testing': 'lib/testing/index.ts',
  'fastify-pachinko/client': 'lib/client/index.ts'
}

function compilerOptions (repo: string): ts.CompilerOptions {
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    baseUrl: repo,
    paths: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([name, path]) => [name, [path]]))
  }
}

/** Where a snippet lives in the program: beside the repository's package.json, so it is ESM and sees node_modules. */
function virtualPath (repo: string, snippet: Snippet, index: number): string {
  return join(repo, '.snippets', `${snippet.file.replace(/[/\\.]/g, '_')}_L${snippet.line}_${index}.ts`)
}

/** Every diagnostic of every snippet, located in its Markdown file; an empty list when all compile. */
export function checkSnippets (repo: string, snippets: Snippet[]): SnippetFailure[] {
  const options = compilerOptions(repo)
  const byPath = new Map(snippets.map((snippet, index) => [virtualPath(repo, snippet, index), snippet]))
  const host = ts.createCompilerHost(options, true)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = (path) => byPath.has(path) || fileExists.call(host, path)
  host.readFile = (path) => byPath.get(path)?.code ?? readFile.call(host, path)
  host.getSourceFile = (path, language, onError, create) => {
    const snippet = byPath.get(path)
    if (snippet === undefined) return getSourceFile.call(host, path, language, onError, create)
    return ts.createSourceFile(path, snippet.code, language, true)
  }
  const program = ts.createProgram({ rootNames: [...byPath.keys()], options, host })
  const failures: SnippetFailure[] = []
  // only the snippets' own diagnostics: the library is type-checked by the build
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...[...byPath.keys()].flatMap((path) => {
      const file = program.getSourceFile(path)
      return file === undefined ? [] : [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]
    })
  ]
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    const snippet = diagnostic.file === undefined ? undefined : byPath.get(diagnostic.file.fileName)
    if (snippet === undefined || diagnostic.file === undefined || diagnostic.start === undefined) {
      // a problem outside the snippets (the library, a missing type package) fails them all
      const where = diagnostic.file === undefined ? 'the program' : diagnostic.file.fileName
      failures.push({ snippet: snippets[0], text: `${where}: TS${diagnostic.code} ${message}` })
      continue
    }
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
    failures.push({ snippet, text: `${snippet.file}:${snippet.line + line}:${character + 1} TS${diagnostic.code} ${message}` })
  }
  return failures
}
