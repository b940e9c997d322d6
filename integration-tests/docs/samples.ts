/**
 * Finds the fenced code samples of the repository's Markdown (README.md, docs/**\/*.md,
 * packages/*\/README.md) for samples.test.ts. The conventions are documented there and in
 * docs/README.md.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** One fenced block: where it is, its info string split into language and attributes, its text. */
export interface Sample {
  /** Repo-relative path of the Markdown file, with forward slashes. */
  file: string;
  /** 1-based line of the opening fence; the sample's first line is `line + 1`. */
  line: number;
  /** First word of the info string, lower-cased ('' for a bare fence). */
  lang: string;
  /** Further words of the info string (`fragment`, `no-run`). */
  attrs: string[];
  code: string;
}

/** The Markdown files whose samples are checked; new packages and new pages are picked up by themselves. */
export function markdownFiles(repoRoot: string): string[] {
  const files = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory() && entry.name !== 'api' && entry.name !== 'node_modules') walk(rel);
      else if (entry.isFile() && entry.name.endsWith('.md')) files.push(rel);
    }
  };
  walk('docs');
  for (const pkg of readdirSync(path.join(repoRoot, 'packages')).sort()) {
    if (existsSync(path.join(repoRoot, 'packages', pkg, 'README.md'))) files.push(`packages/${pkg}/README.md`);
  }
  return files;
}

/** The fenced blocks of one Markdown text (``` or ~~~ fences, any indentation, CommonMark closing rules). */
export function extractSamples(file: string, text: string): Sample[] {
  const lines = text.split('\n');
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length) break;
      // Content of an indented fence (e.g. inside a list item) loses that indentation.
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    }
    const [lang = '', ...attrs] = info.trim().split(/\s+/).filter(Boolean);
    samples.push({ file, line: i + 1, lang: lang.toLowerCase(), attrs, code: `${body.join('\n')}\n` });
    i = j;
  }
  return samples;
}

/** Every sample of every checked file. */
export function allSamples(repoRoot: string): Sample[] {
  return markdownFiles(repoRoot).flatMap((f) => extractSamples(f, readFileSync(path.join(repoRoot, f), 'utf8')));
}

/** `file:line` of a sample's opening fence, the way an editor wants it. */
export function where(s: Sample, offset = 0): string {
  return `${s.file}:${s.line + offset}`;
}
