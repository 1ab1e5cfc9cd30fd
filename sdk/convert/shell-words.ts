// A command written as one string (`command: redis-server --appendonly yes`) split into an argv as a
// POSIX shell would split it, without running a shell: quotes and backslashes, nothing expanded.

/** The words of `text`, or undefined when a quote is not closed. */
export function shellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return undefined;
  if (inWord) words.push(word);
  return words;
}

/** True when `text` needs a shell to mean what it says (pipes, `&&`, redirections, variables, globs). */
export function needsShell(text: string): boolean {
  return /[|&;<>()$`*?[\]{}~]|\n/.test(text.replace(/'[^']*'/g, "''"));
}
