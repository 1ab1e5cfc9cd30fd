// Whether a Ctrl-C on our terminal reached our children as well: the kernel sends it to the whole
// foreground process group of the terminal, so passing it on again would deliver it twice.
import { readFileSync } from 'node:fs';

/** This process has a controlling terminal and is in its foreground process group. */
export function inTerminalForeground(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // After "pid (comm) ": state ppid pgrp session tty_nr tpgid ...
    const [, , pgrp, , ttyNr, tpgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return ttyNr !== 0 && pgrp !== undefined && pgrp === tpgid;
  } catch {
    return false;
  }
}
