import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** One fenced code block of a Markdown file. */
export interface Snippet {
  /** the Markdown file, relative to the repository */
  file: string
  /** the line of the block's first code line (1-based) */
  line: number
  /** the fence's info string: `ts`, `sh`, … */
  lang: string
  code: string
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/

/** Every fenced block of one Markdown text, with the line its code starts on. */
export function fencedBlocks (file: string, text: string): Snippet[] {
  const lines = text.split(/\r?\n/)
  const blocks: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i])
    if (open === null) continue
    const [, indent, fence, lang] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const line = lines[j]
      const trimmed = line.trim()
      if (trimmed.length >= fence.length && trimmed === fence[0].repeat(trimmed.length)) break
      // a block indented under a list item: drop the list's indentation
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart())
    }
    blocks.push({ file, line: i + 2, lang, code: body.join('\n') })
    i = j
  }
  return blocks
}

/** README.md and every Markdown file under docs/, in a stable order. */
export function markdownFiles (repo: string): string[] {
  const found = [join(repo, 'README.md')]
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.md')) found.push(path)
    }
  }
  walk(join(repo, 'docs'))
  return found
}

/** Every ```ts block of the repository's Markdown. */
export function typeScriptSnippets (repo: string): Snippet[] {
  return markdownFiles(repo).flatMap((path) =>
    fencedBlocks(relative(repo, path), readFileSync(path, 'utf8')).filter((block) => block.lang === 'ts' || block.lang === 'typescript'))
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function headingAnchor (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')
}

/** Every relative link of a Markdown text (outside code), with its line: `[text](target)`. */
export function relativeLinks (text: string): Array<{ line: number, target: string }> {
  const links: Array<{ line: number, target: string }> = []
  let fence: string | undefined
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const open = /^\s*(`{3,}|~{3,})/.exec(line)
    if (open !== null) {
      if (fence === undefined) fence = open[1]
      else if (line.trim() === fence[0].repeat(line.trim().length) && line.trim().length >= fence.length) fence = undefined
      continue
    }
    if (fence !== undefined) continue
    for (const match of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!/^[a-z]+:/i.test(match[1])) links.push({ line: index + 1, target: match[1] })
    }
  }
  return links
}

/** The anchors of a Markdown text's headings. */
export function anchorsOf (text: string): Set<string> {
  const anchors = new Set<string>()
  let inFence = false
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence
    const heading = /^#{1,6}\s+(.*)$/.exec(line)
    if (!inFence && heading !== null) anchors.add(headingAnchor(heading[1]))
  }
  return anchors
}
