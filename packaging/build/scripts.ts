import { readFileSync } from 'node:fs';

import { MAIN_UNIT, units } from './payload.ts';
import { PACKAGING } from './project.ts';

/**
 * A maintainer script: the shared systemd helpers (packaging/scripts/systemd.sh)
 * followed by the deb- or rpm-specific part, e.g. 'deb/postinst'.
 */
export function maintainerScript(part: string): string {
  const shipped = units();
  const enabled = shipped.filter((unit) => unit.installable).map((unit) => unit.name);
  const helpers = readFileSync(`${PACKAGING}scripts/systemd.sh`, 'utf8')
    .replace('@MAIN_UNIT@', MAIN_UNIT)
    .replace('@UNITS@', enabled.join(' '))
    .replace('@SHIPPED_UNITS@', shipped.map((unit) => unit.name).join(' '));
  // The directive applies to the whole script (it comes before the first command): not every script calls
  // every shared helper.
  const lint = '# shellcheck disable=SC2317 # shared helpers, not all of them called here\n';
  return `#!/bin/sh\n${lint}set -e\n\n${helpers}\n${readFileSync(`${PACKAGING}${part}`, 'utf8')}`;
}
